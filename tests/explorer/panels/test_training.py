"""explorer/panels/training.py: training in the window is exact, off the UI thread, stoppable, and loses
nothing on close; the panel finds names.txt where the CLI does, remembers the file chosen, words failures
for the window, and stops saying "unsaved" once saved."""

import io
import re
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from engine import checkpoint as ckpt_io
from engine.cli.commands import main as cli_main
from engine.data import DownloadFailed
from explorer.host import Host
from explorer.panels.training import TrainingPanel


NAMES = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'mia', 'charlotte', 'amelia', 'harper', 'evelyn',
         'abigail', 'emily', 'elizabeth', 'mila', 'ella', 'avery', 'sofia', 'camila', 'aria', 'scarlett']


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / 'names.txt'
    path.write_text('\n'.join(NAMES) + '\n')
    return path


def train_in_window(window, qtbot, dataset, steps):
    panel = window.training
    assert panel.set_dataset(str(dataset))
    panel.fields['steps'].setValue(steps)
    losses = []
    panel.start()
    panel.run.step.connect(lambda step, n, loss, doc: losses.append(loss))
    return panel, losses


@pytest.mark.slow  # trains, and runs the train command
def test_training_in_the_app_equals_the_train_command(window, qtbot, dataset, tmp_path):
    panel, losses = train_in_window(window, qtbot, dataset, 30)
    with qtbot.waitSignal(window.session.view_changed, timeout=60000):  # the new weights are recorded
        qtbot.waitUntil(lambda: panel.run is None, timeout=60000)
    out = io.StringIO()
    assert cli_main(['train', '--data', str(dataset), '--steps', '30', '--num-samples', '0',
                     '--out', str(tmp_path / 'cli.json')], out) == 0
    printed = [float(x) for x in re.findall(r'loss (\d+\.\d+)', out.getvalue())]
    assert [round(x, 4) for x in losses] == printed and len(printed) == 30
    assert ckpt_io.to_json(window.session.checkpoint) == (tmp_path / 'cli.json').read_text()
    assert window.session.unsaved and 'unsaved' in window.model_label.text()
    assert panel.raw.count() == 30 and panel.progress.value() == 30
    assert window.session.trace.doc == 'emma' and window.session.backprop.position == 0
    trained = window.runs.runs[-1]  # listed in Compare runs, with its parameter count and every loss
    assert trained.name.startswith('trained here') and list(trained.losses) == losses
    assert trained.params == len(window.session.model.params) and trained.key == window.session.checkpoint.history_sha256


def test_stop_keeps_the_weights_reached(window, qtbot, dataset, tmp_path, monkeypatch):
    panel, losses = train_in_window(window, qtbot, dataset, 100000)
    qtbot.waitUntil(lambda: len(losses) >= 3, timeout=60000)
    panel.stop()
    qtbot.waitUntil(lambda: panel.run is None, timeout=60000)
    ckpt = window.session.checkpoint
    assert 3 <= ckpt.step < 100000 and ckpt.step == len(losses)
    assert 'Stopped at step' in panel.status.text()
    path = tmp_path / 'kept.json'
    monkeypatch.setattr('explorer.checkpoint_files.QFileDialog.getSaveFileName', lambda *a, **k: (str(path), ''))
    assert window.files.save()
    assert ckpt_io.load(path).step == ckpt.step and not window.session.unsaved
    assert str(path) in window.settings.value('recent', [], type=list)


def test_closing_while_training_asks_and_keeps_nothing_half_done(window, qtbot, dataset, monkeypatch):
    panel, losses = train_in_window(window, qtbot, dataset, 100000)
    qtbot.waitUntil(lambda: len(losses) >= 2, timeout=60000)
    answers = [QMessageBox.Cancel]
    monkeypatch.setattr('explorer.main_window.QMessageBox.question', lambda *a, **k: answers.pop(0))
    assert not window.close()  # cancelled: still training
    assert panel.run is not None and window.isVisible()
    answers[:] = [QMessageBox.Yes, QMessageBox.Discard]  # stop, then do not save the weights
    assert window.close()
    assert panel.run is None and not answers


def test_bad_hyperparameters_and_datasets_are_refused_next_to_the_fields(window, tmp_path):
    panel = window.training
    panel.fields['n_embd'].setValue(10)
    assert 'divisible by n_head' in panel.problem.text() and not panel.start_button.isEnabled()
    panel.fields['n_embd'].setValue(16)
    assert panel.problem.text() == '' and panel.start_button.isEnabled()
    binary = tmp_path / 'data.bin'
    binary.write_bytes(b'\x00\x01\x02')
    before = panel.data_path
    assert not panel.set_dataset(str(binary))
    assert 'binary file' in panel.problem.text() and panel.data_path == before
    assert not panel.set_dataset(str(tmp_path / 'missing.txt'))
    assert 'does not exist' in panel.problem.text()


def host(tmp_path, messages=None):
    return Host(last_dir=lambda: tmp_path, show_message=(messages if messages is not None else []).append,
                maybe_save=lambda: True)


def test_the_file_chosen_is_remembered(window, tmp_path, monkeypatch):
    data = tmp_path / 'pets.txt'
    data.write_text('rex\nfido\n')
    monkeypatch.setattr('explorer.panels.training.QFileDialog.getOpenFileName', lambda *a, **k: (str(data), ''))
    window.training.choose_dataset()
    assert window.settings.value('dataset') == str(data)
    again = TrainingPanel(window.session, host(tmp_path), window.settings.value('dataset'))
    assert again.data_path == data and 'pets.txt' in again.dataset.text()


def test_names_from_the_environment_as_the_cli_finds_it(window, tmp_path, monkeypatch):
    data = tmp_path / 'names.txt'
    data.write_text('emma\nava\n')
    monkeypatch.setenv('MICROGPT_NAMES', str(data))
    assert TrainingPanel(window.session, host(tmp_path)).data_path == data
    gone = tmp_path / 'moved.txt'  # a remembered file that is no longer there
    assert TrainingPanel(window.session, host(tmp_path), str(gone)).data_path == data


def test_offline_start_says_what_to_do_in_the_window(window, qtbot, monkeypatch):
    panel = window.training
    panel.data_path = None
    threads = []

    def offline():
        threads.append(threading.current_thread())
        raise DownloadFailed('no network')
    monkeypatch.setattr('explorer.panels.training.download_names', offline)
    panel.start()
    qtbot.waitUntil(lambda: panel.fetch is None, timeout=20000)
    text = panel.problem.text()
    assert 'no network' in text and 'choose a file with Dataset…' in text and '--data' not in text
    assert threads and threads[0] is not threading.main_thread()
    assert panel.run is None and panel.start_button.isEnabled()


def test_after_saving_the_panel_no_longer_says_unsaved(window, qtbot, tmp_path, monkeypatch):
    panel = window.training
    data = tmp_path / 'names.txt'
    data.write_text('emma\nolivia\nava\nmia\n')
    assert panel.set_dataset(str(data))
    panel.fields['steps'].setValue(3)
    with qtbot.waitSignal(window.session.view_changed, timeout=60000):
        panel.start()
        qtbot.waitUntil(lambda: panel.run is None, timeout=60000)
    assert 'unsaved' in panel.status.text()
    out = tmp_path / 'kept.json'
    monkeypatch.setattr('explorer.checkpoint_files.QFileDialog.getSaveFileName', lambda *a, **k: (str(out), ''))
    qtbot.keyClick(window, 'S', modifier=Qt.ControlModifier)
    assert out.exists()
    assert 'unsaved' not in panel.status.text() and 'saved as kept.json' in panel.status.text()


def test_what_start_will_cost_is_said_before_it_is_pressed(window):
    panel = window.training
    panel.fields['steps'].setValue(1000)
    assert panel.estimate.text().startswith('Start trains 4,192 parameters, about ')
    assert 'for 1000 steps' in panel.estimate.text()
    panel.fields['n_embd'].setValue(32)   # a bigger model: more parameters, said at once
    assert panel.estimate.text().startswith('Start trains 14,')
    panel.fields['n_embd'].setValue(10)   # not a model: no estimate, the reason instead
    assert panel.estimate.text() == '' and 'divisible by n_head' in panel.problem.text()
    panel.fields['n_embd'].setValue(16)


def test_a_step_that_lands_after_pause_says_paused_not_time_left(window):
    panel = window.training

    class Paused:
        paused = True
    panel.run = Paused()
    try:
        panel._on_step(7, 1000, 3.1, 'emma')
        assert panel.status.text() == 'Paused at step 7 · loss 3.100.' and 'left' not in panel.status.text()
    finally:
        panel.run = None


def test_numpy_in_the_panel_trains_fast_draws_every_step_and_keeps_its_history(window, qtbot, dataset):
    from explorer.history.charts import smoothed
    panel = window.training
    panel.backend.setCurrentIndex(panel.backend.findData('numpy'))
    assert 'with numpy in about' in panel.estimate.text()
    assert panel.set_dataset(str(dataset))
    panel.fields['steps'].setValue(300)
    panel.start()
    assert not panel.backend.isEnabled()  # not changed under a run
    qtbot.waitUntil(lambda: panel.run is None, timeout=60000)
    ckpt = window.session.checkpoint
    assert ckpt.step == 300 and ckpt.history_file is not None and 'history' not in panel.status.text()
    run = window.runs.runs[-1]
    assert run.name.endswith('numpy)') and len(run.losses) == 300
    assert panel.raw.count() == 300  # every step's loss, though numpy told only some of them as it went
    assert panel.smooth.points()[-1].y() == pytest.approx(smoothed(run.losses)[-1])
    assert panel.backend.isEnabled()
    panel.backend.setCurrentIndex(0)
    window.timeline.ensure_loaded()  # the Timeline scrubs it, replayed with numpy
    qtbot.waitUntil(lambda: window.timeline.history is not None, timeout=30000)
    assert type(window.timeline.history).__name__ == 'NumpyHistory' and window.timeline.history.every == 3


def test_a_rung_of_the_ladder_trains_in_the_panel_and_joins_compare_runs(window, qtbot, dataset):
    """The preset sets its own fields (bigram: no layers; one-head: one head) and gives them back after; the
    run is the rung's, with its parameter count, trained with the optimizer chosen."""
    from engine.presets import preset_of
    panel = window.training
    panel.preset.setCurrentIndex(panel.preset.findData('one-head'))
    assert panel.fields['n_head'].value() == 1 and not panel.fields['n_head'].isEnabled()
    panel.preset.setCurrentIndex(panel.preset.findData('bigram'))
    assert panel.fields['n_head'].value() == 4 and panel.fields['n_head'].isEnabled()  # given back
    assert panel.fields['n_layer'].value() == 0 and not panel.fields['n_layer'].isEnabled()
    model, train = panel.configs()
    assert preset_of(model) == 'bigram'
    panel.optimizer.setCurrentIndex(panel.optimizer.findData('sgd'))
    panel.backend.setCurrentIndex(panel.backend.findData('numpy'))
    assert panel.set_dataset(str(dataset))
    panel.fields['steps'].setValue(50)
    panel.start()
    qtbot.waitUntil(lambda: panel.run is None, timeout=60000)
    ckpt = window.session.checkpoint
    assert preset_of(ckpt.model.config) == 'bigram' and ckpt.train_config.optimizer == 'sgd'
    run = window.runs.runs[-1]
    vocab = ckpt.model.tokenizer.vocab_size
    assert run.name.startswith('trained here (bigram') and run.params == vocab * vocab == len(ckpt.model.params)
    for box, value in ((panel.preset, 'microgpt'), (panel.optimizer, 'adam'), (panel.backend, 'scalar')):
        box.setCurrentIndex(box.findData(value))
    assert panel.fields['n_layer'].value() == 1 and panel.fields['n_layer'].isEnabled()


def test_opening_a_rung_sets_the_panel_to_train_that_rung(window, qtbot):
    """Issue 23's reviewer: the panel showed microgpt's settings while the bigram rung was open."""
    from engine.presets import shipped_checkpoint
    panel, s = window.training, window.session
    with qtbot.waitSignal(s.recorded, timeout=30000):
        assert s.load_checkpoint(shipped_checkpoint('one-head'))
    assert panel.preset.currentData() == 'one-head' and panel.fields['n_head'].value() == 1
    with qtbot.waitSignal(s.recorded, timeout=30000):
        assert s.load_checkpoint(shipped_checkpoint('bigram'))
    assert panel.preset.currentData() == 'bigram' and panel.fields['n_layer'].value() == 0
    assert panel.configs()[0].arch == 'bigram'
    with qtbot.waitSignal(s.recorded, timeout=30000):
        assert s.load_checkpoint()
    assert panel.preset.currentData() == 'microgpt' and panel.configs()[0] == s.model.config
