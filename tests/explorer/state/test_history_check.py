"""explorer.state.history_check: a history its checkpoint does not name by content is replayed whole in a
child process once per file (the files checked are remembered in the settings); the timeline then trusts
every interval, and a file that disagrees with its replay is refused in one sentence."""

from PySide6.QtCore import QSettings

from engine import checkpoint as ckpt_io
from engine.history import history_path, save
from engine.model import GPTConfig
from engine.optim import TrainConfig
from engine.train import Trainer
from explorer.state.history_check import KEY
from explorer.state.timeline import Timeline

from tests.explorer.state.test_timeline import FakeSession


def test_an_older_history_is_replayed_whole_once_per_file_in_a_child(qtbot, tmp_path):
    trainer = Trainer(['emma', 'olivia', 'ava', 'mia'],
                      GPTConfig(n_embd=8, n_head=2), TrainConfig(num_steps=12), history_every=4)
    list(trainer.run())
    out = tmp_path / 'run.json'
    ckpt_io.save(out, ckpt_io.from_trainer(trainer))
    save(history_path(out), trainer.finished_history())
    settings = QSettings(str(tmp_path / 's.ini'), QSettings.IniFormat)
    for replayed in (True, False):
        ckpt = ckpt_io.load(out)
        ckpt.history_file = history_path(out)
        timeline = Timeline(FakeSession(ckpt), settings=settings)
        progress = []
        timeline.checking.connect(progress.append)
        with qtbot.waitSignal(timeline.checked, timeout=60000):
            timeline.ensure_loaded()
        assert (progress[-1:] == [1.0]) == replayed and not timeline.check.running
        assert settings.value(KEY, type=list) == [timeline.history.sha256]
        assert timeline.history.checked_until(5) == 5  # every interval known: a seek replays only what it needs
    history = trainer.finished_history()
    history.losses[6] += 1e-9                       # another file: checked again, and refused
    save(history_path(out), history)
    ckpt.history_file = history_path(out)
    timeline = Timeline(FakeSession(ckpt), settings=settings)
    with qtbot.waitSignal(timeline.unavailable, timeout=60000, check_params_cb=lambda why: 'step 7' in why):
        timeline.ensure_loaded()
    assert timeline.history is None and not timeline.check.running
