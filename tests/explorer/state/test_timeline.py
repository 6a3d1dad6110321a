"""explorer.state.timeline: the run's history is read off the UI thread when a view first wants it (a
checkpoint without one is one sentence), and going to a step hands the session that step's weights (the
run's last step: its own checkpoint, as loaded)."""

import pytest
from PySide6.QtCore import QObject, Signal

from engine import checkpoint as ckpt_io
from engine.history import history_path
from engine.paths import DEFAULT_CHECKPOINT
from explorer.state.timeline import NO_HISTORY, Timeline


class FakeSession(QObject):
    """What the timeline reads of a Session: the checkpoint in use, and where it sends a step's weights."""
    checkpoint_changed = Signal()
    recorded = Signal()
    record_failed = Signal(str)

    def __init__(self, checkpoint):
        super().__init__()
        self.checkpoint, self.recording, self.current, self.shown = checkpoint, None, None, []

    def retracer(self):
        return None  # no document shown

    def show_weights(self, ckpt, rec=None):
        self.shown.append(ckpt)


def timeline_of(checkpoint):
    timeline = Timeline(FakeSession(checkpoint))
    timeline.said = []
    timeline.unavailable.connect(timeline.said.append)
    return timeline


@pytest.fixture(scope='module')
def shipped():
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    ckpt.history_file = history_path(DEFAULT_CHECKPOINT)
    return ckpt


def test_a_checkpoint_without_history_is_one_sentence(qapp):
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    ckpt.history_file = None
    timeline = timeline_of(ckpt)
    timeline.ensure_loaded()
    assert timeline.said == [NO_HISTORY] and timeline.history is None
    timeline.go_to(3)  # nothing to go to
    assert timeline.session.shown == [] and timeline.target is None


def test_a_step_of_the_run_is_handed_to_the_session(qtbot, shipped):
    timeline = timeline_of(shipped)
    with qtbot.waitSignal(timeline.loaded, timeout=30000):
        timeline.ensure_loaded()
    last = timeline.history.step
    with qtbot.waitSignal(timeline.step_changed, timeout=30000) as changed:
        timeline.go_to(3)
    assert changed.args == [3] and timeline.step == 3 and not timeline.busy
    ckpt = timeline.session.shown[-1]
    assert ckpt.step == 3 and [p.data for p in ckpt.model.params] != [p.data for p in shipped.model.params]
    timeline.go_to(last + 100)  # clamped to the run's last step: its own checkpoint, exactly as loaded
    assert timeline.step == last and timeline.session.shown[-1] is shipped


def test_a_new_checkpoint_forgets_the_old_run(qtbot, shipped):
    timeline = timeline_of(shipped)
    timeline.session.checkpoint_changed.emit()  # no view wants the history yet: nothing is read
    assert timeline.said == [''] and timeline.history is None and timeline.run is shipped
    assert not timeline.worker.busy()


def test_a_history_that_disagrees_with_its_replay_is_refused_and_the_checkpoint_shown(qtbot, tmp_path, names_file):
    from engine.data import load_docs
    from engine.history import save
    from engine.model import GPTConfig
    from engine.optim import TrainConfig
    from engine.train import Trainer
    trainer = Trainer(load_docs(names_file), GPTConfig(), TrainConfig(num_steps=8), history_every=4)
    list(trainer.run())
    history = trainer.finished_history()
    history.docs[5] = history.docs[5][::-1]  # a document changed inside the file: loading cannot see it
    out = tmp_path / 'run.json'
    ckpt_io.save(out, ckpt_io.from_trainer(trainer))
    save(history_path(out), history)
    ckpt = ckpt_io.load(out)
    ckpt.history_file = history_path(out)
    timeline = timeline_of(ckpt)
    with qtbot.waitSignal(timeline.loaded, timeout=30000):
        timeline.ensure_loaded()
    timeline.check.cancel()              # the seek finds it, not the check of the whole run (which could come first)
    timeline.go_to(2)                    # its interval replays as recorded
    qtbot.waitUntil(lambda: timeline.step == 2, timeout=30000)
    timeline.go_to(5)                    # the replay reaches step 6 and disagrees
    qtbot.waitUntil(lambda: timeline.history is None, timeout=30000)
    reason = timeline.said[-1]
    assert 'was changed after it was written: replaying step 6 from the snapshot of step 4' in reason
    assert timeline.history is None and timeline.step is None
    assert timeline.session.shown[-1] is ckpt     # back to the run's own checkpoint
    timeline.ensure_loaded()                      # not read again: the same sentence
    assert timeline.said[-1] == reason and not timeline.worker.pending('load')



def test_the_last_step_asked_for_is_the_one_shown_even_when_an_earlier_seek_is_on_its_way(qtbot, shipped):
    timeline = timeline_of(shipped)
    with qtbot.waitSignal(timeline.loaded, timeout=30000):
        timeline.ensure_loaded()
    last = timeline.history.step
    timeline.history.forget()
    timeline.go_to(950)                  # a replay on its way ...
    timeline.go_to(last)                 # ... then End: the run's own checkpoint, at once
    qtbot.wait(1500)                     # long enough for the replay of 950 to have come back
    assert not timeline.worker.pending('seek')
    assert timeline.step == last and timeline.session.shown[-1] is shipped


class FakeAhead:
    """What the timeline asks of its ReplayAhead, written down."""

    def __init__(self):
        self.running, self.calls = False, []

    def start(self, history, run, step):
        self.running = True
        self.calls.append(('start', step))

    def ask(self, step):
        self.calls.append(('ask', step))

    def stop(self):
        self.running = False
        self.calls.append(('stop',))


def test_play_replays_ahead_from_where_it_goes_on_once_after_a_jump(qtbot, shipped):
    timeline = timeline_of(shipped)
    with qtbot.waitSignal(timeline.loaded, timeout=30000):
        timeline.ensure_loaded()
    timeline.ahead = ahead = FakeAhead()
    with qtbot.waitSignal(timeline.settled, timeout=30000):
        timeline.go_to(40)
    timeline.play(True)
    with qtbot.waitSignal(timeline.settled, timeout=30000):
        timeline.go_to(41)                  # Play's next step: the replay ahead goes on
    for step in (300, 302, 305):            # a drag while playing
        timeline.go_to(step)
    timeline.go_to(306)                     # Play goes on from there: the replay ahead too, once
    timeline.go_to(307)
    timeline.play(False)
    assert ahead.calls == [('start', 41), ('ask', 41), ('ask', 300), ('ask', 302), ('ask', 305),
                           ('start', 307), ('ask', 306), ('ask', 307), ('stop',)]
    qtbot.waitUntil(lambda: not timeline.busy, timeout=30000)
    assert timeline.step == 307


def test_a_numpy_runs_history_is_sought_with_numpy_and_a_changed_one_refused(qtbot, tmp_path, names_file):
    """A run of `train --backend numpy --history-every K`: a step between snapshots is the trainer's weights at that
    step, replayed with numpy; a batch changed in an unbound copy of the file is refused naming its step."""
    import json
    from engine import history_numpy, pair
    from engine.data import load_docs
    from engine.model import GPTConfig
    from engine.optim import TrainConfig
    from engine.vectorized import VectorTrainer
    trainer = VectorTrainer(load_docs(names_file)[:200], GPTConfig(n_embd=8, n_head=2, block_size=8),
                            TrainConfig(num_steps=9, learning_rate=0.02), batch=3)
    history_numpy.attach(trainer, 4)
    weights = [trainer.flat.tolist()] + [(trainer.train_step(), trainer.flat.tolist())[1] for _ in range(9)]
    out = tmp_path / 'run.json'
    pair.save(out, ckpt_io.from_trainer(trainer), trainer.finished_history().to_json().encode('utf-8'))
    ckpt = ckpt_io.load(out)
    ckpt.history_file = history_path(out, ckpt)
    timeline = timeline_of(ckpt)
    with qtbot.waitSignal(timeline.loaded, timeout=30000):
        timeline.ensure_loaded()
    assert isinstance(timeline.history, history_numpy.NumpyHistory) and timeline.history.step == 9
    for step in (6, 2, 7):
        with qtbot.waitSignal(timeline.step_changed, timeout=30000):
            timeline.go_to(step)
        shown = timeline.session.shown[-1]
        assert shown.step == step and [p.data for p in shown.model.params] == weights[step]
    obj = json.loads(ckpt.history_file.read_text())
    obj['batches'][5] = obj['batches'][5][::-1][:1] + obj['batches'][4][1:]  # step 6 trains other documents
    changed = tmp_path / 'changed.history.json'
    changed.write_text(json.dumps(obj))
    old = ckpt_io.load(out)
    old.history_sha256, old.history_file = None, changed  # a history its checkpoint does not name by content
    timeline = timeline_of(old)
    with qtbot.waitSignal(timeline.loaded, timeout=30000):
        timeline.ensure_loaded()
    timeline.check.cancel()
    timeline.go_to(5)
    qtbot.waitUntil(lambda: timeline.history is None, timeout=30000)
    assert 'was changed after it was written: replaying step 6 from the snapshot of step 4' in timeline.said[-1]
