"""The headless commands as a user types them; bad input gives one line on stderr and exit code 2."""

import functools
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from engine import checkpoint as ckpt_io
from engine import data as data_mod
from engine.cli.commands import main
from engine.paths import DEFAULT_CHECKPOINT
from engine.errors import DataError, TrainingDiverged
from engine.model import GPTConfig
from engine.optim import TrainConfig
from engine.train import Trainer

ROOT = Path(__file__).resolve().parents[3]  # the project folder


def run(*args, timeout=120):
    return subprocess.run([sys.executable, str(ROOT / 'main.py'), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


@pytest.fixture
def tiny_data(tmp_path):
    path = tmp_path / 'tiny.txt'
    path.write_text('emma\n\n  ava \nolivia\nmia\n')
    return path


def test_train_short_run_writes_a_checkpoint_that_samples_the_same(tmp_path, tiny_data):
    out = tmp_path / 'model.json'
    proc = run('train', '--data', str(tiny_data), '--steps', '5', '--n-embd', '8', '--n-head', '2',
               '--num-samples', '3', '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # vocabulary a e i l m o v + BOS; 8*8 wte + 16*8 wpe + 8*8 lm_head + 4*8*8 attention + 2*32*8 mlp
    assert lines[:3] == ['num docs: 4', 'vocab size: 8', 'num params: 1024']
    assert [line[:16] for line in lines[3:8]] == [f'step {i:4d} /    5' for i in range(1, 6)]
    sampled = run('sample', '--checkpoint', str(out), '--num-samples', '3')
    assert sampled.stdout.splitlines() == lines[-3:]


def test_trace_exports_graph_grads_and_attention(tmp_path):
    out = tmp_path / 'emma.json'
    proc = run('trace', '--doc', 'emma', '--json', str(out))
    assert proc.returncode == 0, proc.stderr
    trace = json.loads(out.read_text())
    # 43,091: the nodes the original microgpt.py's own Value builds for 'emma' (see test_trace.py)
    assert len(trace['nodes']) == 43091 and trace['loss'] == trace['nodes'][trace['loss_id']]['data']
    assert set(trace['param_grads']) == {'wte', 'wpe', 'lm_head', 'layer0.attn_wq', 'layer0.attn_wk',
                                         'layer0.attn_wv', 'layer0.attn_wo', 'layer0.mlp_fc1', 'layer0.mlp_fc2'}
    assert trace['param_grads']['wte'][1] == [0.0] * 16  # 'b' is not in emma
    node = next(n for n in trace['nodes'] if n.get('param') == 'layer0.attn_wq[3][5]')
    assert trace['param_grads']['layer0.attn_wq'][3][5] == node['grad'] != 0
    assert trace['scopes'][node['scope']]['path'] == 'params / layer0.attn_wq / layer0.attn_wq[3]'
    assert len(trace['attention'][0][2][4]) == 5


def test_trace_of_an_over_long_document_says_it_was_cut(tmp_path):
    proc = run('trace', '--doc', 'a' * 20, '--json', str(tmp_path / 't.json'))
    assert proc.returncode == 0 and 'first 16 positions' in proc.stderr


BAD_CASES = ['unknown character', 'missing dataset', 'empty dataset', 'binary dataset', 'not UTF-8',
             'heads do not divide', 'zero layers', 'negative block', 'zero steps', 'negative lr', 'not a number',
             'zero temperature', 'negative samples', 'corrupt checkpoint', 'missing checkpoint', 'unknown command',
             'unwritable output']


def bad_cases(tmp_path):
    """Each case's arguments and what stderr must say; makes the bad files it needs in tmp_path."""
    binary = tmp_path / 'data.bin'
    binary.write_bytes(b'\x00\x01\x02abc')
    latin = tmp_path / 'latin.txt'
    latin.write_bytes('zoë\n'.encode('latin-1'))
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n \n')
    corrupt = tmp_path / 'corrupt.json'
    corrupt.write_text('{"format": "microgpt-explorer checkpoint"')
    ckpt = str(DEFAULT_CHECKPOINT)
    return {
        'unknown character': (['trace', '--doc', 'zoë', '--json', str(tmp_path / 'x.json')], "'ë' is not in the vocabulary"),
        'missing dataset': (['train', '--data', str(tmp_path / 'none.txt')], 'does not exist'),
        'empty dataset': (['train', '--data', str(empty)], 'no documents'),
        'binary dataset': (['train', '--data', str(binary)], 'binary file'),
        'not UTF-8': (['train', '--data', str(latin)], 'not UTF-8'),
        'heads do not divide': (['train', '--n-embd', '10', '--n-head', '4'], 'divisible'),
        'zero layers': (['train', '--n-layer', '0'], 'n_layer must be a positive'),
        'negative block': (['train', '--block-size', '-3'], 'block_size'),
        'zero steps': (['train', '--steps', '0'], 'steps'),
        'negative lr': (['train', '--lr', '-1'], 'learning rate'),
        'not a number': (['train', '--steps', 'ten'], "invalid int value: 'ten'"),
        'zero temperature': (['sample', '--checkpoint', ckpt, '--temperature', '0'], 'temperature'),
        'negative samples': (['sample', '--checkpoint', ckpt, '--num-samples', '-1'], '--num-samples'),
        'corrupt checkpoint': (['sample', '--checkpoint', str(corrupt)], 'not valid JSON'),
        'missing checkpoint': (['trace', '--doc', 'a', '--checkpoint', str(tmp_path / 'no.json'), '--json', 'x'], 'does not exist'),
        'unknown command': (['fly'], "unknown command 'fly'"),
        'unwritable output': (['trace', '--doc', 'a', '--json', str(tmp_path / 'no' / 'dir' / 'x.json')], 'folder'),
    }


def test_bad_case_list_is_complete(tmp_path):
    assert list(bad_cases(tmp_path)) == BAD_CASES


@pytest.mark.parametrize('case', BAD_CASES)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, case):
    args, expected = bad_cases(tmp_path)[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = run(*args)
    assert proc.returncode == 2
    assert expected in proc.stderr and proc.stderr.count('\n') == 1 and 'Traceback' not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# Two ways a run diverges: with --lr 1e6 the step-2 forward pass overflows (nothing was updated yet);
# with --lr 1e200 the step-2 forward pass is still finite but Adam's update makes weights infinite,
# so the weights and Adam's m and v must be put back as they were before that step.
DIVERGENCES = {'1e6': 'a probability fell to 0', '1e200': 'a weight stopped being a finite number'}


@pytest.mark.parametrize('lr', DIVERGENCES)
def test_divergence_stops_and_keeps_the_last_good_weights(tmp_path, tiny_data, lr):
    out = tmp_path / 'kept.json'
    proc = run('train', '--data', str(tiny_data), '--steps', '20', '--lr', lr, '--out', str(out))
    assert proc.returncode == 2 and 'diverged at step 2' in proc.stderr and 'lower learning rate' in proc.stderr
    assert DIVERGENCES[lr] in proc.stderr and proc.stderr.count('\n') == 1
    assert f'weights of step 1 were kept in {out}' in proc.stderr
    kept = ckpt_io.load(out)  # a checkpoint that loads: every weight and moment finite
    # The last finite weights are those of a run that stops after step 1, bit for bit, with its Adam state.
    good = Trainer(data_mod.load_docs(tiny_data), GPTConfig(), TrainConfig(num_steps=20, learning_rate=float(lr)))
    good.train_step()
    assert kept.step == good.step == 1
    assert kept.model.floats() == good.model.floats()
    assert (kept.adam_m, kept.adam_v) == (good.optimizer.m, good.optimizer.v)
    assert kept.rng_state == good.rng.getstate()


def test_a_diverged_step_restores_the_weights_and_adams_moments():
    """Adam's update makes weights infinite: the step is undone bit for bit and nothing counts it."""
    trainer = Trainer(['emma', 'ava', 'olivia', 'mia'], GPTConfig(n_embd=8, n_head=2, block_size=8),
                      TrainConfig(num_steps=20, learning_rate=1e200))
    trainer.train_step()  # weights near 1e200, still finite; m and v no longer 0
    weights, m, v = trainer.model.floats(), list(trainer.optimizer.m), list(trainer.optimizer.v)
    assert any(m) and any(v)
    with pytest.raises(TrainingDiverged, match='step 2: a weight stopped being a finite number'):
        trainer.train_step()
    assert trainer.step == 1
    assert trainer.model.floats() == weights
    assert trainer.optimizer.m == m and trainer.optimizer.v == v


def test_without_data_it_uses_the_cache_or_says_pass_data(monkeypatch, capsys):
    monkeypatch.delenv(data_mod.NAMES_ENV, raising=False)

    def offline(*args, **kwargs):
        raise urllib.error.URLError('no network')
    monkeypatch.setattr(urllib.request, 'urlopen', offline)
    assert main(['train', '--steps', '1']) == 2
    assert 'pass --data FILE' in capsys.readouterr().err


def test_download_goes_to_the_cache_once(monkeypatch, tmp_path):
    monkeypatch.delenv(data_mod.NAMES_ENV, raising=False)
    calls = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            pass

        def read(self):
            return b'emma\nava\n'

    def fake(url, timeout):
        calls.append(url)
        return Response()
    monkeypatch.setattr(urllib.request, 'urlopen', fake)
    first = data_mod.default_names_path()
    second = data_mod.default_names_path()
    assert first == second == data_mod.cached_names_path() and calls == [data_mod.NAMES_URL]
    assert data_mod.load_docs(first) == ['emma', 'ava']


def test_docs_are_split_as_microgpt_splits_them(tmp_path):
    path = tmp_path / 'd.txt'
    path.write_text('\n\n a b \r\nc\n\n\t\nd')
    assert data_mod.load_docs(path) == ['a b', 'c', 'd']
    with pytest.raises(DataError, match='folder'):
        data_mod.load_docs(tmp_path)


@functools.cache
def plain_python3():
    """The `python3` the README's commands are typed with: found on PATH with .venv's folders left out,
    and checked not to be .venv's interpreter (which has Graphviz; the plain one usually has not)."""
    venv = (ROOT / '.venv').resolve()
    path = os.pathsep.join(d for d in os.environ.get('PATH', '').split(os.pathsep)
                           if d and not Path(d).resolve().is_relative_to(venv))
    exe = shutil.which('python3', path=path)
    if exe is None:
        pytest.skip('no python3 on PATH')
    prefix = subprocess.run([exe, '-c', 'import sys; print(sys.prefix)'], capture_output=True, text=True,
                            env=plain_env()).stdout.strip()
    assert Path(prefix).resolve() != venv, f'{exe} is the .venv interpreter'
    return exe


def plain_env():
    return {k: v for k, v in os.environ.items() if k not in ('VIRTUAL_ENV', 'PYTHONHOME', 'PYTHONPATH')}


def run_as_readme(*args, timeout=300):
    """`python3 main.py ARGS` with the plain interpreter, as the README shows it."""
    proc = subprocess.run([plain_python3(), str(ROOT / 'main.py'), *args], capture_output=True, text=True,
                          cwd=ROOT, env=plain_env(), timeout=timeout)
    return proc


@pytest.mark.parametrize('fmt,magic', [('svg', b'<?xml'), ('png', b'\x89PNG'), ('dot', b'digraph')])
def test_graph_export_headless(tmp_path, fmt, magic):
    out = tmp_path / f'emma.{fmt}'
    proc = run_as_readme('graph', '--doc', 'emma', '--open', 'pos 2 / layer 0 / attention', '-o', str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(magic)
    if fmt == 'dot':
        assert 'cluster_' in out.read_text() and 'head 1' in out.read_text()


def test_graph_export_unknown_scope_and_format(tmp_path):
    bad_scope = run_as_readme('graph', '--doc', 'emma', '--open', 'pos 9', '-o', str(tmp_path / 'x.svg'))
    assert bad_scope.returncode == 2 and "no scope 'pos 9'" in bad_scope.stderr
    bad_fmt = run_as_readme('graph', '--doc', 'emma', '-o', 'x.gif')
    assert bad_fmt.returncode == 2 and '.svg, .png or .dot' in bad_fmt.stderr
