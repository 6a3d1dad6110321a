"""explorer/history/timeline_panel.py: the training timeline in the window. The slider shows the shipped
run at any step with the same layout; the loss curve's click shows the document trained there; the plots
read the history. Moving along the timeline keeps the panel steady (the line about the step wraps to
different lengths, the chart below it does not move) and changes only the numbers: the graph's view stays
exactly still (scale, scroll), as iongraph's pass slider does, whatever group is open and box selected."""

import gc

import pytest
from PySide6.QtCore import Qt

from engine import history as history_io
from engine.numbers import shown
from engine.trace import record


pytestmark = pytest.mark.fresh_window  # each test reads the history as a new window first does


def open_timeline(window, qtbot):
    timeline = window.timeline
    assert timeline.history is None  # not read at start: only when a panel that needs it is shown
    with qtbot.waitSignal(timeline.loaded, timeout=30000):
        window.docks['timeline_dock'].raise_()
    return timeline


def go(window, qtbot, step):
    with qtbot.waitSignal(window.session.view_changed, timeout=30000):
        window.timeline_panel.set_step(step)
    assert window.timeline.step == step


def geometry(session):
    lay = session.layout
    return dict(lay.boxes), lay.width, lay.height, session.opened


@pytest.mark.slow  # records at several steps
def test_the_slider_shows_the_run_at_that_step_and_keeps_the_layout(window, qtbot):
    session = window.session
    with qtbot.waitSignal(session.view_changed, timeout=30000):  # a view the learner opened, not the overview
        session.open_group(session.trace.scope_id('pos 2 / layer 0 / attention'))
    final_loss, before = session.trace.loss, geometry(session)
    assert before[3] != session.current.hierarchy.overview() | {0}
    history = open_timeline(window, qtbot).history
    assert history.step == 1000 and window.timeline_panel.slider.maximum() == 1000
    for step in (100, 1, 637):
        go(window, qtbot, step)
        expected = record(history.model_at(step), 'emma').loss
        assert session.trace.loss == expected != final_loss
        assert window.timeline_panel.probe_loss.text() == f'loss <b>{shown(expected)}</b>'  # the graph's, beside the probe
        assert geometry(session) == before  # same boxes, same places: only the numbers changed
        assert session.checkpoint.step == step and session.checkpoint_path.name == 'microgpt-names.json'
    # the inspector's "next update" is this run's real update after step 637, not the 0 of step 1000
    name, row, col = 'layer0.attn_wq', 3, 5
    preview = session.checkpoint.adam_preview(name, row, col, 0.01)
    assert preview.lr_t == pytest.approx(0.01 * (1 - 637 / 1000)) and preview.delta != 0
    go(window, qtbot, 1000)
    assert session.trace.loss == final_loss and session.checkpoint is window.timeline.run


def test_a_click_on_the_loss_curve_shows_the_document_trained_there(window, qtbot):
    session = window.session
    history = open_timeline(window, qtbot).history
    doc = history.docs[41]  # step 42
    with qtbot.waitSignal(session.view_changed, timeout=30000):
        with qtbot.waitSignal(window.timeline.step_changed, timeout=30000):
            window.timeline_panel.go_to_trained(42)
    qtbot.waitUntil(lambda: session.recording is None and session.doc == doc and window.timeline.step == 41,
                    timeout=30000)
    qtbot.waitUntil(lambda: session.trace.doc == doc and session.checkpoint.step == 41, timeout=30000)
    qtbot.wait(200)
    # the graph's loss is the curve's point: the document of step 42 on the weights it was trained from
    assert session.trace.loss == pytest.approx(history.losses[41], rel=1e-12)
    assert doc in window.timeline_panel.step_info.text()


def test_a_step_asked_for_elsewhere_moves_the_slider_and_the_box_to_it(window, qtbot):
    """A tour, or anything else that asks the timeline for a step: once it is shown, the slider and the box say
    that step (they said 1,000 beside a graph of step 500)."""
    panel, timeline = window.timeline_panel, open_timeline(window, qtbot)
    with qtbot.waitSignal(window.session.view_changed, timeout=30000):
        timeline.go_to(500)
    qtbot.waitUntil(lambda: timeline.step == 500, timeout=30000)
    assert panel.slider.value() == panel.spin.value() == 500 and 'after step 500' in panel.step_info.text()


def test_a_checkpoint_without_history_says_so_in_the_panel(window, qtbot, tmp_path):
    path = tmp_path / 'plain.json'
    window.session.save_checkpoint(path)
    named = history_io.history_path(path, window.session.checkpoint)
    assert named.is_file() and named.name.startswith('plain.history.')  # the run's history travels with a copy
    named.write_text('{"format": "something else"}')
    with qtbot.waitSignal(window.timeline.unavailable, timeout=30000, check_params_cb=lambda why: bool(why)):
        window.session.load_checkpoint(path)
        window.docks['timeline_dock'].raise_()
        window.timeline.ensure_loaded()
    assert 'was changed after it was saved' in window.timeline_panel.status.text()
    assert not window.timeline_panel.slider.isEnabled() and window.session.checkpoint_path == path


def test_matrix_update_sizes_and_the_embedding_trajectories(window, qtbot):
    timeline = open_timeline(window, qtbot)
    window.docks['adam_plot_dock'].raise_()
    window.adam_plot.show_param('layer0.mlp_fc1')
    points = window.adam_plot.update_series['update'].points()
    assert len(points) == 1000 and points[0].y() == timeline.history.update_norms['layer0.mlp_fc1'][0] > 0
    window.adam_plot.show_param('wq[3][5]')
    assert "There is no matrix 'wq'" in window.adam_plot.message.text()
    window.docks['embedding_dock'].raise_()
    qtbot.waitUntil(lambda: len(window.embedding_plot.canvas.paths) == 27, timeout=10000)
    canvas = window.embedding_plot.canvas
    assert canvas.labels[-1] == 'BOS' and len(canvas.paths[0]) == 126  # steps 0, 8, …, 1000
    final = list(canvas.current)
    assert final == [(x, y) for _, x, y in (path[-1] for path in canvas.paths)]
    go(window, qtbot, 200)
    assert canvas.current == [(x, y) for _, x, y in (path[25] for path in canvas.paths)] != final


def test_a_run_in_the_window_keeps_its_history_and_saving_puts_it_beside_the_checkpoint(window, qtbot, tmp_path):
    data = tmp_path / 'names.txt'
    data.write_text('emma\nolivia\nava\nisabella\nsophia\nmia\n')
    panel = window.training
    assert panel.set_dataset(str(data))
    panel.fields['steps'].setValue(12)
    with qtbot.waitSignal(window.session.view_changed, timeout=60000):
        panel.start()
        qtbot.waitUntil(lambda: panel.run is None, timeout=60000)
    ckpt = window.session.checkpoint
    history = history_io.load(ckpt.history_file, ckpt)  # checked against the trained weights
    assert history.step == 12 and history.docs[0] in data.read_text().split()
    out = tmp_path / 'trained.json'
    window.session.save_checkpoint(out)
    assert history_io.load_for(out, ckpt).losses == history.losses


@pytest.mark.slow
def test_play_shows_every_step_to_the_end_and_stops(window, qtbot):
    open_timeline(window, qtbot)
    go(window, qtbot, 985)
    shown, losses = [], []
    window.timeline.settled.connect(shown.append)
    window.timeline.settled.connect(lambda step: losses.append(window.session.trace.loss))
    collecting = []  # whether the cycle collector runs, at each step Play shows
    window.timeline.settled.connect(lambda step: collecting.append(gc.isenabled()))
    panel, boxes = window.timeline_panel, []  # what the slider and the box say while the next step is on its way
    window.timeline.seeking.connect(lambda step: boxes.append((panel.slider.value(), panel.spin.value(), step - 1)))
    window.timeline_panel.play_button.setChecked(True)
    qtbot.waitUntil(lambda: not window.timeline_panel.play_button.isChecked(), timeout=60000)
    assert shown == list(range(986, 1001)) and window.session.checkpoint is window.timeline.run
    assert boxes and all(a == b == shown_step for a, b, shown_step in boxes)  # the step shown, never one ahead
    assert (panel.slider.value(), panel.spin.value()) == (1000, 1000)
    assert not any(collecting[:-1]) and gc.isenabled()  # held while it plays (a third of a step's time), back at the end
    history = window.timeline.history
    assert losses[-2] == record(history.model_at(999), 'emma').loss  # each frame the recording of its step


@pytest.mark.slow  # records at four steps of the run
def test_the_chart_stays_put_from_step_to_step(window, qtbot):
    """The step's line keeps the room of its longest text at the panel's width: never less (the chart would
    jump), and in a wide panel (the Learn workspace) not the four lines a narrow one needs."""
    open_timeline(window, qtbot)
    panel = window.timeline_panel
    line = panel.step_info.fontMetrics().lineSpacing()
    dock = window.docks['timeline_dock']
    for width in (330, 600):
        window.resizeDocks([dock], [width], Qt.Horizontal)
        qtbot.waitUntil(lambda: abs(dock.width() - width) <= 2, timeout=2000)
        tops = set()
        for step in (0, 637, 1000, 1):
            go(window, qtbot, step)
            qtbot.wait(10)
            tops.add(panel.step_info.height())
            assert panel.step_info.heightForWidth(panel.step_info.width()) <= panel.step_info.height()
        assert len(tops) == 1, f'the step line changed height: {sorted(tops)}'
    assert panel.step_info.height() <= 3 * line + 4  # two or three lines at 600 px, not four


def view_state(view):
    t = view.transform()
    return (t.m11(), t.m22(), t.dx(), t.dy(), view.horizontalScrollBar().value(), view.verticalScrollBar().value())


@pytest.mark.slow  # records at several steps of the run
def test_a_timeline_step_keeps_the_view_exactly_still(window, qtbot):
    s, view = window.session, window.graph
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.open_group(s.trace.scope_id('pos 2 / layer 0 / attention'))  # the focus a relayout keeps in place
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 37)  # the learner scrolled away
    view.verticalScrollBar().setValue(view.verticalScrollBar().value() - 23)
    view.scale(1.13, 1.13)                                                        # and zoomed
    with qtbot.waitSignal(window.timeline.loaded, timeout=30000):
        window.docks['timeline_dock'].raise_()
        window.timeline.ensure_loaded()
    before = view_state(view)
    for step in (100, 1, 1000):
        with qtbot.waitSignal(s.view_changed, timeout=30000):
            window.timeline_panel.set_step(step)
        qtbot.waitUntil(lambda: not view.building(), timeout=20000)
        qtbot.wait(20)
        assert view_state(view) == before, step
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())  # the selected box out of sight
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    assert s.selected in view.items_by_key
    before = view_state(view)
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        window.timeline_panel.set_step(300)
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    qtbot.wait(20)
    assert view_state(view) == before  # not scrolled back to the selection


def test_a_step_on_its_way_moves_nothing_above_the_chart(window, qtbot):
    """Play asks for a step every few tens of milliseconds: the Play button must stay under the mouse, so a
    step on its way says so in its own line (after SLOW_MS), never in a line shown above the controls."""
    timeline, panel = open_timeline(window, qtbot), window.timeline_panel
    go(window, qtbot, 5)
    qtbot.wait(50)  # the loading line above is gone for good once a step is shown
    where = panel.play_button.mapTo(panel, panel.play_button.rect().topLeft())
    timeline.history.forget()
    panel.set_step(700)
    assert panel.status.isHidden() and timeline.busy
    panel._on_slow()  # what the timer does if the step is not in after SLOW_MS
    assert panel.step_info.text() == 'Going to step 700…'
    qtbot.waitUntil(lambda: timeline.step == 700 and not timeline.busy, timeout=30000)
    assert panel.status.isHidden() and panel.step_info.text().startswith('Weights after step 700,')
    qtbot.wait(50)
    assert panel.play_button.mapTo(panel, panel.play_button.rect().topLeft()) == where


KEYS = (Qt.Key_Right, Qt.Key_Left, Qt.Key_PageUp, Qt.Key_PageDown, Qt.Key_Home)


def scrub(window, qtbot, rng):
    """One random burst of what a learner does to the slider, each action a few milliseconds after the last,
    so that seeks and recordings are still on their way when the next comes: drags of 12-20 moves, keys,
    Play (and a pause), End; the last comes right after the one before. Returns the actions, for the
    failure message."""
    panel, slider, done = window.timeline_panel, window.timeline_panel.slider, []
    if rng.random() < 0.7:
        window.timeline.history.forget()  # the next seeks replay from their snapshot: slow enough to overlap
    kinds = [rng.choice(('drag', 'keys', 'keys', 'play', 'end')) for _ in range(rng.randint(2, 6))]
    slider.setFocus()  # the learner clicked the handle: keys go to the slider
    for i, kind in enumerate(kinds + [rng.choice(('end', 'end', 'keys', 'drag'))]):
        pause = 40 if i < len(kinds) - 1 else 5
        if kind == 'drag':
            slider.setSliderDown(True)
            for v in sorted(rng.sample(range(slider.maximum() + 1), rng.randint(12, 20)), reverse=rng.random() < 0.3):
                slider.setSliderPosition(v)
                qtbot.wait(rng.randint(0, 25))
            slider.setSliderDown(False)
        elif kind == 'keys':
            assert slider.hasFocus()
            for key in rng.choices(KEYS, k=rng.randint(1, 6)):
                qtbot.keyClick(slider, key)
                qtbot.wait(rng.randint(0, 30))
        elif kind == 'play':
            panel.play_button.click()
            qtbot.wait(rng.randint(0, 400))
            if panel.play_button.isChecked() and rng.random() < 0.7:
                panel.play_button.click()
        else:
            qtbot.keyClick(slider, Qt.Key_End)
        done.append(kind)
        qtbot.wait(rng.randint(0, pause))
    if panel.play_button.isChecked():
        panel.play_button.click()  # paused: the step the slider shows is the last one asked for
        done.append('pause')
    return done


def shown_state(window):
    """Which step each part of the window shows: timeline, slider, session, marker and line, graph."""
    panel, session, view = window.timeline_panel, window.session, window.graph
    marker = [(p.x(), p.y()) for p in panel.marker.points()]
    items = {key: item.box for key, item in view.items_by_key.items() if hasattr(item, 'box')}
    return (window.timeline.step, panel.slider.value(), session.checkpoint.step, marker, panel.step_info.text(),
            session.trace.loss, items == {b.key: b for b in session.visible.boxes if b.key in items})


def test_the_last_step_asked_for_is_the_one_shown_whatever_order_results_arrive_in(window, qtbot):
    """Issue 21: random bursts of drags, keys, Play and End; once the window is idle, the timeline, the
    slider, the weights in use, the curve's marker, the line about the step and the graph all show the
    last step asked for, and the graph's loss is that step's, bit for bit (a recording made afresh)."""
    import random
    from engine.graph.grouping import Hierarchy
    from engine.numbers import shown
    history = open_timeline(window, qtbot).history
    timeline, session, panel = window.timeline, window.session, window.timeline_panel
    for seed in range(10):
        rng = random.Random(seed)
        actions = scrub(window, qtbot, rng)
        step = panel.slider.value()
        qtbot.waitUntil(lambda: timeline.step == step and not timeline.busy and not window.graph.building(),
                        timeout=30000)
        qtbot.wait(600)  # anything still on its way has arrived: it must not change what is shown
        state = shown_state(window)
        truth = record(history.model_at(step), 'emma')
        assert state[:3] == (step, step, step), (seed, actions, state[:3])
        assert state[3] == ([(step, history.losses[step - 1])] if step else []), (seed, actions)
        assert (f'Weights after step {step:,},' if step else 'Step 0:') in state[4], (seed, actions)
        if step:
            assert shown(history.losses[step - 1]) in state[4]
        assert state[5] == truth.loss, (seed, actions, step)  # the graph's loss: exactly that step's
        assert state[6], (seed, actions, step)                 # every box shows the numbers of the view in use
        assert session.visible == Hierarchy(truth).visible(session.visible.open, session.visible.show_constants)


def test_the_controls_stay_under_the_mouse_when_the_first_step_is_shown(window, qtbot):
    """The line that says the history is being read or checked goes at the first step shown: the controls
    above it do not move (with that line above them they jumped up 34 px, and a click meant for the step
    box typed into the probe)."""
    open_timeline(window, qtbot)
    panel = window.timeline_panel
    qtbot.wait(20)
    assert panel.status.isVisible()

    def places():
        return [w.mapTo(panel, w.rect().topLeft()) for w in (panel.play_button, panel.slider, panel.spin, panel.probe)]
    before = places()
    go(window, qtbot, 5)
    qtbot.wait(20)
    assert panel.status.isHidden() and places() == before


def test_the_validation_loss_is_drawn_beside_the_training_loss_when_the_run_has_one(window, qtbot, tmp_path):
    from engine.cli.commands import main
    timeline = open_timeline(window, qtbot)  # the shipped run held nothing out: no validation points, no legend entry
    panel = window.timeline_panel
    legend = panel.chart.chart().legend()
    assert panel.validation.count() == 0 and not legend.markers(panel.validation)[0].isVisible()
    text = tmp_path / 'text.txt'
    text.write_text('emma and olivia met ava, mia and isabella by the sea.\n' * 6)
    out = tmp_path / 'text.json'
    assert main(['train', '--text', str(text), '--steps', '8', '--eval-every', '4', '--num-samples', '0', '--n-embd',
                 '8', '--n-head', '2', '--block-size', '8', '--history-every', '4', '--out', str(out)]) == 0
    with qtbot.waitSignal(timeline.loaded, timeout=30000):
        window.session.load_checkpoint(out)
        timeline.ensure_loaded()
    history = timeline.history
    assert sorted(history.val_losses) == [4, 8]
    assert [(p.x(), p.y()) for p in panel.validation.points()] == sorted(history.val_losses.items())
    assert legend.markers(panel.validation)[0].isVisible() and panel.validation.pointsVisible()
    assert panel.y_axis.max() >= max(history.val_losses.values())


def test_a_step_play_asked_for_that_lands_after_pause_moves_the_slider_too(window, qtbot):
    """Pause pressed while the step Play asked for is on its way: when it lands, the slider and the box say it
    (they said the step before, so a key then moved from the wrong step)."""
    timeline, panel = open_timeline(window, qtbot), window.timeline_panel
    panel.set_step(5)
    qtbot.waitUntil(lambda: timeline.step == 5 and not timeline.busy, timeout=30000)
    timeline.history.forget()  # step 6 replays from the snapshot of step 0: on its way a while
    panel.play_button.click()
    qtbot.waitUntil(lambda: timeline.target == 6, timeout=30000)
    panel.play_button.click()  # paused before step 6 is shown
    qtbot.waitUntil(lambda: not timeline.busy and timeline.step == timeline.target, timeout=30000)
    assert panel.slider.value() == panel.spin.value() == timeline.step >= 6


def test_a_step_of_a_batched_run_says_its_batch_and_its_first_document():
    from types import SimpleNamespace
    from explorer.history.timeline_panel import TimelinePanel
    scalar, numpy_run = SimpleNamespace(docs=['emma', 'ava'], batch=1), SimpleNamespace(docs=['emma', 'a<b'], batch=32)
    assert TimelinePanel._trained(scalar, 2) == '<b>ava</b>'
    assert TimelinePanel._trained(numpy_run, 2) == 'a batch of 32 (the first <b>a&lt;b</b>; the loss is their mean)'
