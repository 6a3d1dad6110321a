"""engine.history_files: a history of either backend is read by its "backend" field; the scalar engine's
(the shipped one) exactly as engine.history reads it, without importing numpy."""

import json
import subprocess
import sys

import pytest

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine import history_files
from engine.history import HistoryError
from engine.paths import DEFAULT_CHECKPOINT


def test_the_shipped_history_reads_as_engine_history_reads_it():
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    ours, theirs = history_files.load_for(DEFAULT_CHECKPOINT, ckpt), history_io.load_for(DEFAULT_CHECKPOINT, ckpt)
    assert type(ours) is history_io.History and ours.to_json() == theirs.to_json()
    assert ours.sha256 == theirs.sha256 and ours.bound == theirs.bound


def test_reading_a_scalar_history_does_not_import_numpy():
    code = ('import sys; from engine import history_files, checkpoint; from engine.paths import DEFAULT_CHECKPOINT; '
            'h = history_files.load_for(DEFAULT_CHECKPOINT, checkpoint.load(DEFAULT_CHECKPOINT)); '
            'print(h.step, "numpy" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ['1000', 'False']


def test_a_numpy_history_is_read_by_engine_history_numpy(names_file, tmp_path):
    from engine.cli.commands import main
    out = tmp_path / 'run.json'
    assert main(['train', '--data', str(names_file), '--steps', '4', '--backend', 'numpy', '--batch', '2',
                 '--history-every', '2', '--num-samples', '0', '--out', str(out)]) == 0
    history = history_files.load_for(out, ckpt_io.load(out))
    assert type(history).__name__ == 'NumpyHistory' and history.step == 4 and history.bound


def test_a_file_naming_another_backend_is_one_sentence(tmp_path):
    obj = json.loads(history_io.history_path(DEFAULT_CHECKPOINT).read_text())
    obj['backend'] = 'torch'
    path = tmp_path / 'odd.history.json'
    path.write_text(json.dumps(obj))
    with pytest.raises(HistoryError, match=r'^The training history odd.history.json is not valid: it was recorded by '
                                           r'another backend than the scalar engine\.$'):
        history_files.load(path)
