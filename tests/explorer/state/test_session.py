"""explorer.state.session, the session as Qt sees it: a layout never holds the window (Graphviz runs in a
child process that Esc kills), a failed layout is one sentence, recording reports progress and a new one
abandons the one running (pytest-qt)."""

import pytest
from PySide6.QtCore import QSettings, QTimer

from engine.graph.layout_process import LayoutClient
from engine.paths import DEFAULT_CHECKPOINT
from explorer.main_window import MainWindow
from explorer.state.session import Session
from tests.engine.graph import layout_faults


def test_opening_a_position_to_scalars_keeps_the_window_answering_and_esc_keeps_the_view(window, qtbot):
    s = window.session
    shown, opened = s.visible, s.opened
    items = dict(window.graph.items_by_key)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(s.layout_pending))
    timer.start(5)
    s.open_group(s.trace.scope_id('pos 2'), to_scalars=True)  # ~7,700 boxes: a second or more of small dot runs
    assert s.layout_pending
    qtbot.waitUntil(lambda: ticks.count(True) >= 40, timeout=20000)  # the event loop runs meanwhile
    child = s.layouter._child.process
    assert child.is_alive()
    window.cancel_layout_act.trigger()  # Esc
    assert not s.layout_pending and 'cancelled' in window.statusBar().currentMessage()
    ticks.clear()
    qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=5000)
    timer.stop()
    child.join(10)
    assert child.exitcode is not None  # killed: it would have run on, holding memory
    assert s.visible is shown and s.opened == opened and window.graph.items_by_key.keys() == items.keys()
    head = s.trace.scope_id('pos 2 / layer 0 / attention / head 1')
    with qtbot.waitSignal(s.view_changed, timeout=30000):  # a fresh layout process takes the next view
        s.open_group(head)
    assert head in s.layout.clusters and f'g{head}' in window.graph.items_by_key


@pytest.mark.slow  # ~7,700 boxes
def test_thousands_of_boxes_are_drawn_in_slices_while_the_window_answers(window, qtbot):
    """pos 2 to scalars, laid out to the end: its items are made a slice per turn of the event loop,
    and in the end every frame, box and edge of the layout has its item."""
    s, graph = window.session, window.graph
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(graph.building()))
    timer.start(1)
    with qtbot.waitSignal(s.view_changed, timeout=60000):
        s.open_group(s.trace.scope_id('pos 2'), to_scalars=True)
    assert graph.building()  # the first slice is in; the rest comes after the window's next turns
    qtbot.waitUntil(lambda: not graph.building(), timeout=30000)
    timer.stop()
    assert ticks.count(True) >= 3  # the timer fired between slices
    lay = s.layout
    assert len(lay.boxes) > 5000
    assert graph.items_by_key.keys() == set(lay.boxes) | {f'g{c}' for c in lay.clusters}
    assert len(graph.edges_by_key) == len({(e[0], e[1]) for e in lay.edges})


def test_an_opened_head_is_laid_out_and_drawn(window, qtbot):
    s = window.session
    head = s.trace.scope_id('pos 2 / layer 0 / attention / head 1')
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.open_group(head)
    inside = {b.title for b in s.visible.boxes if b.node < 0 and s.trace.scopes[b.scope].parent == head}
    assert inside == {'scores', 'softmax', 'weighted sum'}
    assert set(s.layout.boxes) == {b.key for b in s.visible.boxes}
    assert window.graph.items_by_key.keys() >= set(s.layout.boxes) | {f'g{head}'}
    assert f'{len(s.layout.boxes)} boxes' in window.stats_label.text()


@pytest.fixture
def failing_window(qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr('explorer.main_window.QMessageBox.warning', lambda *a: shown.append(a[2]))
    session = Session(layouter=LayoutClient(layout_fn=layout_faults.graphviz_error))
    win = MainWindow(session, QSettings(str(tmp_path / 'settings.ini'), QSettings.IniFormat))
    assert session.load_checkpoint()
    win.show()
    win.shown_messages = shown
    yield win
    win.close()
    session.worker.wait()


@pytest.mark.slow
def test_a_graphviz_failure_is_one_sentence_and_nothing_changes(failing_window, qtbot, capfd):
    s = failing_window.session
    with qtbot.waitSignal(s.error, timeout=30000) as failed:
        s.record('emma')
    [sentence] = failed.args
    assert sentence.startswith('Graphviz could not lay out these ') and 'syntax error' in sentence
    assert '\n' not in sentence and failing_window.shown_messages == [sentence]
    assert 'syntax error' not in capfd.readouterr().err  # Graphviz's own output stays off the terminal
    assert not s.layout_pending


def test_recording_reports_progress_and_esc_drops_it(window, qtbot):
    s = window.session
    before = s.trace
    progress = []
    s.recording_progress.connect(progress.append)
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.record('isabella')
    assert progress and progress[-1].startswith("Recording 'isabella'… 100%")
    s.record('abcdefghijklmno')
    with qtbot.waitSignal(s.recording_cancelled, timeout=5000):
        window.cancel_layout_act.trigger()  # Esc
    s.worker.wait()
    qtbot.wait(50)  # whatever the abandoned job sent is delivered, and ignored
    assert s.trace.doc == 'isabella' and s.trace is not before and not s.layout_pending
    assert 'Recording stopped' in window.statusBar().currentMessage()


def test_a_new_recording_abandons_the_one_running(window, qtbot):
    s = window.session
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.record('abcdefghijklmno')
        s.record('ava')
    s.worker.wait()
    qtbot.wait(50)
    assert s.trace.doc == 'ava'


@pytest.fixture
def fresh_session(qtbot):
    """A session whose layout process was asked to record 'emma' before the session existed (as the app does)."""
    layouter = LayoutClient()
    layouter.record(DEFAULT_CHECKPOINT, 'emma')
    session = Session(layouter=layouter)
    assert session.load_checkpoint()
    yield session
    session.worker.wait()
    session.close()


def test_a_recording_the_layout_process_made_is_used_without_recording_again(fresh_session, qtbot):
    """The app's first recording is made in the layout process while the window is built (issue 21 item
    10): the session takes it, records nothing itself, and the overview comes back laid out."""
    s = fresh_session
    with qtbot.waitSignal(s.view_changed, timeout=60000):
        assert s.record('emma') and not s.worker.pending('record')
    assert s.trace is s.layouter._made and s.trace.doc == 'emma' and s.recording is None
    assert set(s.layout.boxes) == {b.key for b in s.visible.boxes}


def test_a_recording_made_with_other_weights_is_recorded_again_here(fresh_session, qtbot, monkeypatch):
    s = fresh_session
    monkeypatch.setattr('explorer.state.session.made_by', lambda trace, model, doc: False)
    with qtbot.waitSignal(s.view_changed, timeout=60000):
        s.record('emma')
    assert s.trace is not s.layouter._made and s.trace.doc == 'emma'


def test_esc_stops_a_recording_the_layout_process_makes(fresh_session, qtbot):
    s = fresh_session
    s.record('emma')
    child = s.layouter._child.process
    with qtbot.waitSignal(s.recording_cancelled, timeout=5000):
        assert s.cancel()
    child.join(10)
    assert child.exitcode == -9 and s.trace is None and s.recording is None
    with qtbot.waitSignal(s.view_changed, timeout=60000):  # the next recording is made here, laid out there
        s.record('ava')
    assert s.trace.doc == 'ava'


def test_a_step_recorded_again_shares_the_structure_and_lets_the_steps_before_go():
    """A timeline step retraces the recording in use; Play makes a thousand of them, and each must be freed
    once the next is in (it took 3 GB before)."""
    import gc
    import weakref

    from engine import checkpoint as ckpt_io
    from engine import history as history_io
    from engine.paths import DEFAULT_CHECKPOINT
    from engine.trace import record
    from explorer.state.session import Recorded
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    history = history_io.load_for(DEFAULT_CHECKPOINT, ckpt)
    history.mark_checked()
    first = Recorded(record(ckpt.model, 'a'))
    second = first.retraced(history.model_at(3))
    assert second.retraced_from(first) and not first.retraced_from(second)
    assert second.schedule is first.schedule and second.trace.children is first.trace.children
    assert second.trace.loss == record(history.model_at(3), 'a').loss != first.trace.loss
    gone, rec = weakref.ref(second), second
    del second
    for step in (4, 5, 6):
        rec = rec.retraced(history.model_at(step))
    gc.collect()
    assert gone() is None


def test_a_step_shown_at_once_drops_an_earlier_steps_recording_still_on_its_way(window, qtbot):
    """The timeline's End re-records in the background while the next step's seek brings its recording made
    already: that one is shown, and the End's, landing after it, is dropped. Esc does not drop a step's
    re-recording (the graph would stay at another step than the timeline)."""
    from engine import history as history_io
    from engine.paths import DEFAULT_CHECKPOINT
    s = window.session
    history = history_io.load_for(DEFAULT_CHECKPOINT, s.checkpoint)
    history.mark_checked()
    first, then = history_io.checkpoint_at(history, 10), history_io.checkpoint_at(history, 20)
    made = s.current.retraced(then.model)
    s.show_weights(first)               # recorded again in the background ...
    assert s.recording == 'emma' and not s.cancel()
    s.show_weights(then, made)          # ... while the next step comes with its recording
    assert s.current is made and s.recording is None
    qtbot.wait(600)                     # the first step's recording has come back by now
    assert s.current is made and s.checkpoint is then and s.trace.loss == made.trace.loss


# --- a model too large to record a document whole (issue 24) ---

import engine.recording_cost as recording_cost


@pytest.fixture
def small_limit(monkeypatch):
    """The shipped model made 'too large': 'emma' (43,091 scalars) is above the limit, 'e' (2 positions) is not."""
    monkeypatch.setattr(recording_cost, 'ASK_ABOVE', 20_000)


def test_a_document_too_large_is_asked_about_first_and_recorded_in_the_part_chosen(qtbot, small_limit):
    session = Session()
    asked = []
    session.ask_part = lambda doc, model, whole: asked.append((doc, whole)) or 2
    assert session.load_checkpoint()
    with qtbot.waitSignal(session.recorded, timeout=30000):
        assert session.record('emma')
    trace = session.trace
    assert asked == [('emma', 5)] and (trace.n, trace.whole_n, session.part) == (2, 5, 2)
    view = session.current.attention_view  # every position's attention, with the first two recorded
    assert view.n == 5 and view.part is trace and view.recorded(1) and not view.recorded(2)
    assert view.attention[0][0][:2] == trace.attention[0][0]
    with qtbot.waitSignal(session.recorded, timeout=30000):
        assert session.record('e')  # small enough: recorded whole, nothing asked
    assert len(asked) == 1 and session.trace.whole_n is None and session.current.attention_view is None
    session.worker.wait()
    session.close()


def test_declining_changes_nothing_and_says_so(qtbot, small_limit):
    session = Session()
    session.ask_part = lambda doc, model, whole: 0
    assert session.load_checkpoint()
    with qtbot.waitSignal(session.recorded, timeout=30000):
        session.record('e')
    before, said = session.current, []
    session.record_failed.connect(said.append)
    assert not session.record('emma')
    assert session.current is before and session.recording is None
    assert said == ["Not recorded: you chose none of 'emma', too large to record whole through this model; press "
                    'Enter in the field to be asked again.']
    session.record('emma', positions=3)  # asked for by name: no question
    qtbot.waitUntil(lambda: session.trace.doc == 'emma', timeout=30000)
    assert session.trace.n == 3
    session.worker.wait()
    session.close()


def test_a_checkpoint_too_large_for_the_document_shown_is_not_opened_when_declined(qtbot, small_limit):
    session = Session()
    assert session.load_checkpoint()
    with qtbot.waitSignal(session.recorded, timeout=30000):
        session.record('e')
    session.ask_part = lambda doc, model, whole: 0
    model, said = session.model, []
    session.record_failed.connect(said.append)
    session.model_state.doc = 'emma'  # the document shown: too large through the next model
    assert not session.load_checkpoint()
    assert session.model is model and said and said[-1].startswith("Not opened: you chose to record none of 'emma'")
    session.worker.wait()
    session.close()


def test_file_open_reads_the_checkpoint_off_the_ui_thread_and_esc_drops_it(qtbot, tmp_path):
    import threading
    from engine import checkpoint as ckpt_io
    from engine.presets import shipped_checkpoint
    session = Session()
    assert session.load_checkpoint()
    model, said, where = session.model, [], []
    session.recording_progress.connect(said.append)
    real_load = ckpt_io.load
    gate = threading.Event()

    def slow_load(path):
        where.append(threading.current_thread() is threading.main_thread())
        gate.wait(10)
        return real_load(path)
    ckpt_io.load, saved = slow_load, ckpt_io.load
    try:
        session.open_checkpoint(shipped_checkpoint('bigram'))
        assert said == ['Opening bigram-names.json… (Esc stops)'] and session.model is model  # not yet
        assert session.cancel()
        gate.set()
        session.worker.wait()
        qtbot.wait(50)
        assert session.model is model  # dropped
        with qtbot.waitSignal(session.checkpoint_changed, timeout=30000):
            session.open_checkpoint(shipped_checkpoint('bigram'))
        assert session.model.config.arch == 'bigram' and where and not any(where)  # never on the UI thread
        session.error.connect(said.append)
        (tmp_path / 'bad.json').write_text('{')
        with qtbot.waitSignal(session.error, timeout=30000):
            session.open_checkpoint(tmp_path / 'bad.json')
        assert said[-1].startswith('bad.json') or 'JSON' in said[-1]
        assert session.model.config.arch == 'bigram'
    finally:
        ckpt_io.load = saved
        session.worker.wait()
        session.close()
