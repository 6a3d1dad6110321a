"""engine.cli.torch_train: `train --backend torch` prints what numpy prints, writes a checkpoint every K steps,
resumes from one bit for bit; its options alone, a bad one, or PyTorch missing: one sentence, exit 2, nothing
written. The tests that train skip, saying why, where PyTorch is not installed."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import checkpoint as ckpt_io
from engine.cli import commands
from engine.cli.commands import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope='module')
def names(names_file):
    return str(names_file)


@pytest.fixture(scope='module')
def torch():
    return pytest.importorskip('torch', reason="the torch backend's tests need PyTorch: .venv/bin/pip install -e '.[torch]'")


SMALL = ['--n-layer', '2', '--n-embd', '8', '--n-head', '2', '--block-size', '8', '--num-samples', '3']


@pytest.mark.parametrize('args, says', [
    (['--accumulate', '2'], '--accumulate needs --backend torch.'),
    (['--backend', 'numpy', '--resume', 'x.json'], '--resume needs --backend torch.'),
    (['--backend', 'torch', '--accumulate', '0'], '--accumulate must be a positive whole number of parts, not 0.'),
    (['--backend', 'torch', '--save-every', '0'], '--save-every must be a positive whole number of steps, not 0.'),
    (['--backend', 'torch', '--history-every', '2'], '--history-every needs --backend scalar'),
])
def test_bad_torch_options_are_one_sentence_exit_2_nothing_written(tmp_path, names, capsys, args, says):
    out = tmp_path / 'run.json'
    assert main(['train', '--data', names, '--steps', '2', *args, '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count('\n') == 1
    assert list(tmp_path.iterdir()) == []


def test_without_pytorch_the_torch_backend_says_how_to_install_it(tmp_path, names):
    """In a Python where `import torch` fails (as without the extra) the engine's torch modules still import, and
    --backend torch is one sentence, exit 2, nothing written."""
    code = ('import sys; sys.modules["torch"] = None; import engine.torch_backend, engine.torch_train; '
            'from engine.cli.commands import main; '
            f'sys.exit(main(["train", "--data", {names!r}, "--steps", "2", "--backend", "torch", "--out", "x.json"]))')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path,
                          env={'PYTHONPATH': str(ROOT), 'PATH': '/usr/bin:/bin'})
    assert proc.returncode == 2
    assert proc.stderr == "error: The torch backend needs PyTorch: .venv/bin/pip install -e '.[torch]' (the optional extra).\n"
    assert list(tmp_path.iterdir()) == []


def test_train_backend_torch_prints_what_numpy_prints(torch, names, capsys):
    args = ['train', '--data', names, '--steps', '5', '--batch', '3', '--preset', 'average', '--val-fraction', '0.01',
            '--eval-every', '2', *SMALL]
    assert main([*args, '--backend', 'numpy']) == 0
    numpy_out = capsys.readouterr().out
    assert main([*args, '--backend', 'torch', '--device', 'cpu']) == 0
    assert capsys.readouterr().out == numpy_out and 'step    4 /    5 | loss' in numpy_out and 'val loss' in numpy_out


def test_a_run_resumed_from_a_checkpoint_written_on_the_way_ends_bit_for_bit_where_the_whole_run_ends(
        torch, names, tmp_path, monkeypatch, capsys):
    real_save, saved = commands._save, []

    def save_and_keep(path, trainer):
        real_save(path, trainer)
        saved.append(trainer.step)
        shutil.copy(path, tmp_path / f'at{trainer.step}.json')
    monkeypatch.setattr(commands, '_save', save_and_keep)
    run = ['train', '--data', names, '--steps', '6', '--batch', '2', '--backend', 'torch', *SMALL]
    assert main([*run, '--save-every', '4', '--out', str(tmp_path / 'whole.json')]) == 0
    assert saved == [4, 6]  # every 4 steps, and at the end
    whole_out = capsys.readouterr().out
    assert main([*run, '--resume', str(tmp_path / 'at4.json'), '--out', str(tmp_path / 'at4.json')]) == 0
    resumed_out = capsys.readouterr().out
    assert 'step    4 /' not in resumed_out and resumed_out.split('step    5')[1] == whole_out.split('step    5')[1]
    whole, resumed = ckpt_io.load(tmp_path / 'whole.json'), ckpt_io.load(tmp_path / 'at4.json')
    assert resumed.step == 6 and resumed.model.floats() == whole.model.floats() and resumed.adam_v == whole.adam_v


def test_resuming_another_runs_checkpoint_is_one_sentence_nothing_written(torch, names, tmp_path, capsys):
    run = ['train', '--data', names, '--steps', '3', '--backend', 'torch', *SMALL]
    assert main([*run, '--out', str(tmp_path / 'done.json')]) == 0
    capsys.readouterr()
    assert main([*run, '--lr', '0.02', '--resume', str(tmp_path / 'done.json'), '--out', str(tmp_path / 'new.json')]) == 2
    err = capsys.readouterr().err
    assert err == ('error: done.json is not a checkpoint of this run: its training settings (steps, learning rate, seed, '
                   'optimizer) are others; give the command it was trained with.\n')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['done.json']


def test_train_backend_torch_goes_to_the_venv_where_the_extra_is(bootstrapped):
    import main as main_py
    for argv in (['train', '--backend', 'torch'], ['train', '--backend=torch', '--steps', '3']):
        assert main_py.main(argv) == 0
    assert bootstrapped == [['train', '--backend', 'torch'], ['train', '--backend=torch', '--steps', '3']]
    assert not main_py._needs_numpy('train', ['train', '--resume', 'torch'])


def test_under_torchrun_only_the_torch_backend_trains(tmp_path, names, capsys, monkeypatch):
    monkeypatch.setenv('WORLD_SIZE', '2')
    assert main(['train', '--data', names, '--steps', '2', '--backend', 'numpy', '--out', str(tmp_path / 'x.json')]) == 2
    assert capsys.readouterr().err == ('error: Under torchrun, train needs --backend torch: the numpy backend trains in '
                                       'one process.\n')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('device, says', [('tpu', "--device must be auto, cpu or cuda, not 'tpu'."),
                                          ('cuda', '--device cuda needs a GPU PyTorch can use, and there is none here.')])
def test_a_device_there_is_not_is_one_sentence(torch, tmp_path, names, capsys, device, says):
    if device == 'cuda' and torch.cuda.is_available():
        pytest.skip('this machine has a GPU')
    assert main(['train', '--data', names, '--steps', '2', '--backend', 'torch', '--device', device,
                 '--out', str(tmp_path / 'x.json')]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count('\n') == 1
    assert list(tmp_path.iterdir()) == []
