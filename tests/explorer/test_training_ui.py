"""Training and sampling in the window: exact, off the UI thread, stoppable, nothing lost on close."""

import io
import re

import pytest
from PySide6.QtWidgets import QMessageBox

from engine import checkpoint as ckpt_io
from engine.paths import DEFAULT_CHECKPOINT
from engine.cli.commands import main as cli_main

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


def test_stop_keeps_the_weights_reached(window, qtbot, dataset, tmp_path, monkeypatch):
    panel, losses = train_in_window(window, qtbot, dataset, 100000)
    qtbot.waitUntil(lambda: len(losses) >= 3, timeout=60000)
    panel.stop()
    qtbot.waitUntil(lambda: panel.run is None, timeout=60000)
    ckpt = window.session.checkpoint
    assert 3 <= ckpt.step < 100000 and ckpt.step == len(losses)
    assert 'Stopped at step' in panel.status.text()
    path = tmp_path / 'kept.json'
    monkeypatch.setattr('explorer.main_window.QFileDialog.getSaveFileName', lambda *a, **k: (str(path), ''))
    assert window.save_checkpoint()
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


def test_sampling_reproduces_the_sample_command(window, qtbot):
    panel = window.sampling
    for seed, args in (('7', ['--seed', '7']), ('', [])):
        panel.seed.setText(seed)
        panel.count.setValue(5)
        with qtbot.waitSignal(panel.distribution_done, timeout=20000):  # the first sample's, shown once it is in
            with qtbot.waitSignal(panel.samples_done, timeout=20000):
                panel.generate()
        out = io.StringIO()
        assert cli_main(['sample', '--checkpoint', str(DEFAULT_CHECKPOINT), '--num-samples', '5', *args], out) == 0
        assert panel.names == re.findall(r'sample +\d+: (\S*)', out.getvalue())
    assert panel.list.currentRow() == 0
    text = panel.distribution.toPlainText()
    assert 'after BOS' in text and '◀' in text
    panel.seed.setText('x')
    panel.generate()
    assert 'whole number' in panel.problem.text()
    panel.seed.setText('')
    panel.list.setCurrentRow(1)
    with qtbot.waitSignal(window.session.view_changed, timeout=20000):
        panel.record_button.click()
    assert window.session.trace.doc == panel.names[1]
