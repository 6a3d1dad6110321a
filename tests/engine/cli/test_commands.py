"""engine.cli.commands: the headless commands as a user types them, through main.py.

Bad input gives one line on stderr and exit code 2. Never freeze, never crash, never lose a file: one
test per item B1–B16 of that issue, each running the command as a user types it (in-process through
engine.cli.commands.main, or as a process where the behaviour needs one) and checking the exit code, the
one sentence on stderr and what is on disk after.
"""

import functools
import hashlib
import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import main as main_py
from engine import checkpoint as ckpt_io
from engine import data as data_mod
from engine import files
from engine import presets
from engine.cli import commands as cli
from engine.cli import training_data
from engine.cli.commands import main
from engine.data import load_docs
from engine.errors import CheckpointError, OutputError
from engine.model import GPTConfig, Model
from engine.optim import TrainConfig
from engine.paths import DEFAULT_CHECKPOINT
from engine.train import Trainer, estimate_cost

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


# vocabulary a e i l m o v + BOS (8), n_embd 8: wte, wpe (16 rows), lm_head, and per rung what it adds
RUNG_PARAMS = {'bigram': 8 * 8, 'mlp': 8 * 8 + 16 * 8 + 8 * 8 + 2 * 32 * 8, 'average': 1024 - 2 * 8 * 8,
               'microgpt': 1024 + 6 * 8,  # microgpt here with GELU and LayerNorm: three norms' gains and biases
               'mini-gpt': 1024 - 8 * 8 + 6 * 8 + 8 + 4 * 8 + 32 + 8,  # no lm_head (tied), LayerNorm, a bias per output
               'llama-style': 1024 - 16 * 8 + 32 * 8}  # no wpe (RoPE), fc3
BLOCK_WORDS = {'microgpt': ', gelu, layernorm', 'mini-gpt': ', gelu-erf, layernorm, bias, tied, no embedding norm, final norm', 'llama-style': ', swiglu, rope'}


@pytest.mark.parametrize('preset', RUNG_PARAMS)
def test_train_a_preset_prints_its_parameters_and_its_checkpoint_opens_everywhere(tmp_path, tiny_data, preset):
    out = tmp_path / f'{preset}.json'
    proc = run('train', '--data', str(tiny_data), '--steps', '5', '--n-embd', '8', '--n-head', '2', '--num-samples', '2',
               '--preset', preset, '--optimizer', 'sgd', '--lr', '0.5', '--history-every', '2', '--out', str(out),
               *(['--activation', 'gelu', '--norm', 'layer'] if preset == 'microgpt' else []))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[2].startswith(f'preset: {preset} (') and lines[2].endswith(f'){BLOCK_WORDS.get(preset, "")}, optimizer sgd')
    assert lines[3] == f'num params: {RUNG_PARAMS[preset]}'
    saved = ckpt_io.load(out)
    assert presets.preset_of(saved.model.config) == preset and saved.train_config.optimizer == 'sgd'
    assert saved.model.config.activation == {'microgpt': 'gelu', 'mini-gpt': 'gelu-erf', 'llama-style': 'swiglu'}.get(preset, 'relu')
    assert saved.model.config.norm == ('layer' if preset in ('microgpt', 'mini-gpt') else 'rms')
    sampled = run('sample', '--checkpoint', str(out), '--num-samples', '2')
    assert sampled.returncode == 0 and sampled.stdout.splitlines() == lines[-2:]
    graph = run('graph', '--checkpoint', str(out), '--doc', 'emma', '-o', str(tmp_path / 'g.svg'))
    svg = (tmp_path / 'g.svg').read_text()
    assert graph.returncode == 0 and '<svg' in svg and '>pos 4<' in svg and '>softmax<' in svg
    assert ('>attention<' in svg) == (preset in ('average', 'microgpt', 'mini-gpt', 'llama-style')) and ('>mlp<' in svg) == (preset != 'bigram')
    param = 'wte[1][2]' if preset == 'bigram' else 'layer0.mlp_fc1[1][2]'  # the history replays with SGD, checked
    history = run('history', str(out), '--param', param, '--json', str(tmp_path / 'h.json'))
    assert history.returncode == 0, history.stderr
    rows = json.loads((tmp_path / 'h.json').read_text())['steps']
    assert [r['m'] for r in rows] == [0.0] * 5 and any(r['grad'] for r in rows)
    assert [r['update'] for r in rows] == pytest.approx([r['lr'] * r['grad'] for r in rows], rel=1e-9, abs=1e-18)


@pytest.mark.slow
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


@pytest.mark.slow
def test_trace_of_an_over_long_document_says_it_was_cut(tmp_path):
    proc = run('trace', '--doc', 'a' * 20, '--json', str(tmp_path / 't.json'))
    assert proc.returncode == 0 and 'first 16 positions' in proc.stderr


BAD_CASES = ['unknown character', 'missing dataset', 'empty dataset', 'binary dataset', 'not UTF-8',
             'heads do not divide', 'zero layers', 'negative block', 'zero steps', 'negative lr', 'not a number',
             'zero temperature', 'negative samples', 'corrupt checkpoint', 'missing checkpoint', 'unknown command',
             'unwritable output', 'prompt outside vocabulary', 'prompt too long', 'top-p zero', 'top-p above one',
             'top-k zero', 'greedy with top-k', 'unknown preset', 'bigram with layers', 'unknown optimizer',
             'unknown activation', 'unknown norm', 'odd head size for rope', 'unknown position', 'bigram with bias']


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
        'prompt outside vocabulary': (['sample', '--checkpoint', ckpt, '--prompt', 'emZa'], "has 'Z', which is not in the vocabulary"),
        'prompt too long': (['sample', '--checkpoint', ckpt, '--prompt', 'a' * 16], 'shorten it to 15 or fewer'),
        'top-p zero': (['sample', '--checkpoint', ckpt, '--top-p', '0'], 'top-p must be a probability above 0 and at most 1'),
        'top-p above one': (['sample', '--checkpoint', ckpt, '--top-p', '1.01'], 'not 1.01.'),
        'top-k zero': (['sample', '--checkpoint', ckpt, '--top-k', '0'], 'top-k must be a whole number of tokens, 1 or more'),
        'greedy with top-k': (['sample', '--checkpoint', ckpt, '--greedy', '--top-k', '3'], 'use greedy alone'),
        'unknown preset': (['train', '--preset', 'gpt2', '--out', str(tmp_path / 'x.json')],
                           "There is no preset 'gpt2': choose one of bigram, mlp, average, one-head, microgpt, mini-gpt, llama-style, large."),
        'bigram with layers': (['train', '--preset', 'bigram', '--n-layer', '2', '--out', str(tmp_path / 'x.json')],
                               'The bigram model has no layers: n_layer must be 0, not 2.'),
        'unknown optimizer': (['train', '--optimizer', 'rmsprop', '--out', str(tmp_path / 'x.json')],
                              'The optimizer must be adam or sgd'),
        'unknown activation': (['train', '--activation', 'swish', '--out', str(tmp_path / 'x.json')],
                               "activation must be one of relu, gelu, gelu-erf, swiglu, not 'swish'."),
        'unknown norm': (['train', '--norm', 'batch', '--out', str(tmp_path / 'x.json')], "norm must be one of rms, layer, not 'batch'."),
        'odd head size for rope': (['train', '--preset', 'llama-style', '--n-embd', '12', '--out', str(tmp_path / 'x.json')],
                                   "RoPE rotates pairs of a head's numbers, so the head size (n_embd / n_head = 3) must be even."),
        'unknown position': (['train', '--position', 'alibi', '--out', str(tmp_path / 'x.json')],
                             "position must be one of learned, rope, not 'alibi'."),
        'bigram with bias': (['train', '--preset', 'bigram', '--bias', '--out', str(tmp_path / 'x.json')],
                             'The bigram model is one table: biases, tied weights, RoPE and norms do not apply to it.'),
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


def test_without_data_it_uses_the_cache_or_says_pass_data(monkeypatch, capsys):
    monkeypatch.delenv(data_mod.NAMES_ENV, raising=False)

    def offline(*args, **kwargs):
        raise urllib.error.URLError('no network')
    monkeypatch.setattr(urllib.request, 'urlopen', offline)
    assert main(['train', '--steps', '1']) == 2
    assert 'pass --data FILE' in capsys.readouterr().err


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
@pytest.mark.slow
def test_graph_export_headless(tmp_path, fmt, magic):
    out = tmp_path / f'emma.{fmt}'
    proc = run_as_readme('graph', '--doc', 'emma', '--open', 'pos 2 / layer 0 / attention', '-o', str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(magic)
    if fmt == 'dot':
        assert 'cluster_' in out.read_text() and 'head 1' in out.read_text()


@pytest.mark.slow
def test_graph_export_unknown_scope_and_format(tmp_path):
    bad_scope = run_as_readme('graph', '--doc', 'emma', '--open', 'pos 9', '-o', str(tmp_path / 'x.svg'))
    assert bad_scope.returncode == 2 and "no scope 'pos 9'" in bad_scope.stderr
    bad_fmt = run_as_readme('graph', '--doc', 'emma', '-o', 'x.gif')
    assert bad_fmt.returncode == 2 and '.svg, .png or .dot' in bad_fmt.stderr


BASE_PYTHON = getattr(sys, '_base_executable', sys.executable)


def run_cli(*args, capsys):
    """engine.cli.commands.main in-process: (exit code, stdout, stderr)."""
    out = io.StringIO()
    code = main(list(args), out)
    return code, out.getvalue(), capsys.readouterr().err


def one_sentence(err):
    return err.count('\n') == 1 and err.startswith('error: ') and 'Traceback' not in err


@pytest.fixture
def plain_data(tmp_path):
    path = tmp_path / 'tiny.txt'
    path.write_text('emma\nava\nolivia\nmia\n')
    return path


def checkpoint_with(tmp_path, change):
    """The default checkpoint's JSON, changed by change(obj), written to tmp_path/bad.json."""
    obj = json.loads(DEFAULT_CHECKPOINT.read_text())
    change(obj)
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(obj))
    return path


# B1: every README command works as typed; only what needs Graphviz goes through .venv.

def test_b1_graph_is_a_venv_command_and_train_sample_trace_are_not(bootstrapped):
    assert main_py.COMMANDS['graph'][0] is True
    assert [main_py.COMMANDS[c][0] for c in ('train', 'sample', 'trace')] == [False, False, False]
    assert main_py.main(['graph', '--doc', 'emma', '-o', 'g.dot']) == 0
    assert bootstrapped == [['graph', '--doc', 'emma', '-o', 'g.dot']]


def test_b1_trace_runs_with_a_python_that_has_no_packages(tmp_path):
    out = tmp_path / 'a.json'
    proc = subprocess.run([BASE_PYTHON, '-S', str(ROOT / 'main.py'), 'trace', '--doc', 'a', '--json', str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())['doc'] == 'a'


def test_b1_graph_with_a_python_that_has_no_graphviz_goes_through_the_venv(tmp_path):
    stamp = ROOT / '.venv' / '.installed'
    want = hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == want):
        pytest.skip('.venv is not set up for this pyproject.toml; this test must not build one')
    proc = subprocess.run([BASE_PYTHON, '-S', str(ROOT / 'main.py'), 'graph', '--doc', 'emma', '-o', 'g.dot'],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'ModuleNotFoundError' not in proc.stderr
    assert (tmp_path / 'g.dot').read_text().startswith('digraph')  # relative to where the user typed it


def test_b1_help_lists_every_command_from_the_one_table(capsys):
    assert main_py.main(['--help']) == 0
    text = capsys.readouterr().out
    for name, (needs_venv, _, help_text) in main_py.COMMANDS.items():
        line = next(line for line in text.splitlines() if help_text in line)
        assert (name or '(none)') in line and ('.venv' in line) == needs_venv


# B2: a config that does not match its state_dict is refused before anything is built.

def test_b2_config_claiming_a_billion_layers_is_refused_before_allocating(tmp_path, monkeypatch, capsys):
    path = checkpoint_with(tmp_path, lambda o: o['config'].update(n_layer=10**9))
    real_shapes = ckpt_io.param_shapes

    def shapes(config, vocab_size):
        assert config.n_layer < 1000, 'param_shapes was asked for 10**9 layers: the config was not checked first'
        return real_shapes(config, vocab_size)
    monkeypatch.setattr(ckpt_io, 'param_shapes', shapes)
    for command in (['sample', '--checkpoint', str(path)],
                    ['trace', '--doc', 'a', '--checkpoint', str(path), '--json', str(tmp_path / 't.json')]):
        code, out, err = run_cli(*command, capsys=capsys)
        assert code == 2 and one_sentence(err) and out == ''
        assert 'n_layer 1000000000' in err and 'holds 1 layer' in err
    assert not (tmp_path / 't.json').exists()


# B3: sizes that cannot be trained here are refused with the reason.

@pytest.mark.parametrize('args', [['--n-layer', '1000000000'], ['--n-embd', '1000000000', '--n-head', '1'],
                                  ['--block-size', '1000000000']])
def test_b3_sizes_that_cannot_be_trained_are_refused_with_the_reason(plain_data, monkeypatch, capsys, args):
    def init(*a, **k):
        raise AssertionError('Model.init ran: the size was not checked first')
    monkeypatch.setattr(Model, 'init', init)
    code, out, err = run_cli('train', '--data', str(plain_data), *args, capsys=capsys)
    assert code == 2 and one_sentence(err) and out == ''
    assert 'cannot be trained here' in err and 'parameters need about' in err and 'this machine has' in err


def test_b3_an_impossible_size_is_refused_before_any_dataset_is_fetched(monkeypatch, capsys):
    """Without --data and without names.txt on the machine, the size is still what gets reported."""
    monkeypatch.delenv(data_mod.NAMES_ENV, raising=False)

    def download(*a, **k):
        raise AssertionError('names.txt was fetched before the size was checked')
    monkeypatch.setattr(data_mod, 'download_names', download)
    monkeypatch.setattr(training_data, 'default_names_path', lambda: data_mod.find_names() or data_mod.download_names())
    code, out, err = run_cli('train', '--n-layer', '1000000000', capsys=capsys)
    assert code == 2 and one_sentence(err) and 'cannot be trained here' in err


# B4: weights of a diverged run: one sentence saying what happened, no "math domain error".

def test_b4_diverged_weights_say_why_they_cannot_be_evaluated(tmp_path, plain_data, capsys):
    kept = tmp_path / 'div.json'
    code, _, err = run_cli('train', '--data', str(plain_data), '--steps', '20', '--lr', '1e6', '--out', str(kept),
                           capsys=capsys)
    assert code == 2 and 'diverged' in err and kept.exists()
    code, out, err = run_cli('trace', '--doc', 'emma', '--checkpoint', str(kept), '--json', str(tmp_path / 't.json'),
                             capsys=capsys)
    assert code == 2 and one_sentence(err) and 'math domain error' not in err
    assert "The probability of 'e' at position 0 of 'emma' is 0: these weights cannot be evaluated." in err
    code, out, err = run_cli('graph', '--doc', 'emma', '--checkpoint', str(kept), '-o', str(tmp_path / 'g.dot'),
                             capsys=capsys)
    assert code == 2 and one_sentence(err) and 'cannot be evaluated' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['div.json', 'tiny.txt']


# B5: a temperature whose inverse overflows is refused by the check, not by an OverflowError later.

def test_b5_a_temperature_too_small_to_invert_is_refused(capsys):
    code, out, err = run_cli('sample', '--checkpoint', str(DEFAULT_CHECKPOINT), '--temperature', '1e-320',
                             capsys=capsys)
    assert code == 2 and one_sentence(err) and out == ''
    assert 'temperature 1e-320 is too small' in err


# B6: a symlink is written through to its target; FIFOs, devices and sockets are refused, untouched.

def test_b6_symlink_is_written_through_and_special_files_are_refused(tmp_path, capsys):
    target = tmp_path / 'real.json'
    target.write_text('old')
    link = tmp_path / 'link.json'
    link.symlink_to(target)
    code, _, err = run_cli('trace', '--doc', 'a', '--json', str(link), capsys=capsys)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target) and json.loads(target.read_text())['doc'] == 'a'

    fifo = tmp_path / 'pipe'
    os.mkfifo(fifo)
    code, out, err = run_cli('trace', '--doc', 'a', '--json', str(fifo), capsys=capsys)
    assert code == 2 and one_sentence(err) and 'named pipe (FIFO), not a regular file' in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)

    sock_path = tmp_path / 'sock'
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        code, out, err = run_cli('trace', '--doc', 'a', '--json', str(sock_path), capsys=capsys)
    assert code == 2 and 'a socket, not a regular file' in err and stat.S_ISSOCK(os.lstat(sock_path).st_mode)

    with pytest.raises(OutputError, match='it is a device, not a regular file'):
        files.check_output('/dev/full')  # checked, never written: the test must not risk a real device
    dev_link = tmp_path / 'dev-link'
    dev_link.symlink_to('/dev/null')
    with pytest.raises(OutputError, match='it is a device'):
        files.check_output(dev_link)


# B7: messages name the user's path and what is wrong, never the hidden temp file.

def test_b7_messages_name_the_users_path_not_the_temp_file(tmp_path, monkeypatch, capsys):
    code, out, err = run_cli('trace', '--doc', 'a', '--json', '', capsys=capsys)
    assert code == 2 and one_sentence(err) and 'the path is empty' in err and 'busy' not in err

    def busy(src, dst):
        raise OSError(16, 'Device or resource busy', src, None, dst)
    monkeypatch.setattr(os, 'replace', busy)
    out_path = tmp_path / 'out.json'
    code, out, err = run_cli('trace', '--doc', 'a', '--json', str(out_path), capsys=capsys)
    assert code == 2 and one_sentence(err)
    assert err == f'error: Cannot write {out_path}: device or resource busy.\n' and '.tmp' not in err
    assert list(tmp_path.iterdir()) == []  # and the temp file is gone


# B8: outputs are checked before the work starts.

def test_b8_train_checks_out_before_training(tmp_path, plain_data, capsys):
    code, out, err = run_cli('train', '--data', str(plain_data), '--steps', '3',
                             '--out', str(tmp_path / 'missing' / 'dir' / 'x.json'), capsys=capsys)
    assert code == 2 and one_sentence(err) and out == ''  # not one step printed
    assert f"the folder {tmp_path / 'missing' / 'dir'} does not exist" in err


# B9: temp files of saves that were killed mid-write are removed by the next save.

def test_b9_stale_temp_files_of_our_own_naming_are_cleaned_up(tmp_path, capsys):
    gone = subprocess.Popen([sys.executable, '-c', 'pass'])
    gone.wait()
    stale = tmp_path / f'.out.json.{gone.pid}.k1ll3d00.tmp'
    live = tmp_path / f'.out.json.{os.getpid()}.w0rk1ng0.tmp'  # a save still running (this process)
    legacy_old, legacy_new = tmp_path / '.out.json.9gum9te0.tmp', tmp_path / '.out.json.abcdefgh.tmp'
    other = tmp_path / '.other.json.1.abcdefgh.tmp'  # another file's: not ours to judge here
    for p in (stale, live, legacy_old, legacy_new, other):
        p.write_bytes(b'half a checkpoint')
    an_hour_ago = time.time() - 2 * files.LEGACY_TEMP_AGE
    os.utime(legacy_old, (an_hour_ago, an_hour_ago))
    code, _, err = run_cli('trace', '--doc', 'a', '--json', str(tmp_path / 'out.json'), capsys=capsys)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, legacy_new, other)) + ['out.json']


# B10: CR-only line endings split documents as microgpt's text-mode open does.

def test_b10_cr_only_and_crlf_line_endings_are_lines(tmp_path, capsys):
    path = tmp_path / 'cr.txt'
    path.write_bytes(b'emma\rava\r\rmia\r')
    assert load_docs(path) == ['emma', 'ava', 'mia']
    mixed = tmp_path / 'mixed.txt'
    mixed.write_bytes(b'emma\r\nava\n\rmia')
    assert load_docs(mixed) == ['emma', 'ava', 'mia']
    code, out, err = run_cli('train', '--data', str(path), '--steps', '1', '--num-samples', '0', capsys=capsys)
    assert code == 0 and out.startswith('num docs: 3\nvocab size: 6\n')


# B11: what training costs, before it starts (estimate_cost itself: test_train.py).

def test_b11_a_large_vocabulary_costs_more_and_train_says_so_first(plain_data, monkeypatch, capsys):
    small, large = estimate_cost(GPTConfig(), 27), estimate_cost(GPTConfig(), 100_001)
    assert large.params == 3_203_360 and large.seconds_per_step > 100 * small.seconds_per_step
    assert large.describe(1000).startswith('3,203,360 parameters, about ')
    code, out, err = run_cli('train', '--data', str(plain_data), '--steps', '2', capsys=capsys)
    assert code == 0 and err == ''  # a small run: exactly microgpt's output, no note
    monkeypatch.setattr(cli, 'WARN_SECONDS', 0)
    code, out, err = run_cli('train', '--data', str(plain_data), '--steps', '2', capsys=capsys)
    assert code == 0 and err.startswith('note: 3,584 parameters, about ') and 'for 2 steps' in err
    code, out, err = run_cli('train', '--data', str(plain_data), '--steps', '2', '--backend', 'numpy', capsys=capsys)
    assert code == 0 and err.startswith('note: with the scalar engine, 3,584 parameters, about ')  # not numpy's time
    assert err.endswith('; numpy takes a hundred times less time or better.\n')


# B12: traces of extreme weights are standard JSON.

@pytest.mark.slow
def test_b12_non_finite_numbers_are_written_as_strings(tmp_path, capsys):
    path = checkpoint_with(tmp_path, lambda o: o['state_dict'].update(wte=[[1e200] * 16] * 27))
    out_path = tmp_path / 'x.json'
    code, _, err = run_cli('trace', '--doc', 'emma', '--checkpoint', str(path), '--json', str(out_path),
                           capsys=capsys)
    assert code == 0, err

    def refuse(constant):
        raise AssertionError(f'{constant} is not JSON')
    trace = json.loads(out_path.read_text(), parse_constant=refuse)
    assert 'Infinity' in [n['data'] for n in trace['nodes']] and 'NaN' in [n['grad'] for n in trace['nodes']]


# B13: the notice says exactly what block_size cut.

@pytest.mark.slow  # a recording of 16 positions
def test_b13_the_truncation_note_says_what_is_cut(tmp_path, capsys):
    code, _, err = run_cli('trace', '--doc', 'abcdefghijklmnop', '--json', str(tmp_path / 't.json'), capsys=capsys)
    assert code == 0
    assert err == ("note: block_size 16 cuts 'abcdefghijklmnop' (16 characters): recorded its first 16 positions, "
                   'as microgpt trains it; not predicted: the end of the document.\n')
    code, _, err = run_cli('trace', '--doc', 'abcdefghijklmnopqrst', '--json', str(tmp_path / 't.json'), capsys=capsys)
    assert "(20 characters)" in err and "not predicted: 'qrst' and the end of the document." in err


# B14: a bad train section gets a sentence, not Python's TypeError text.

@pytest.mark.parametrize('field,value,says', [('learning_rate', 'fast', 'the learning rate must be a positive number'),
                                               ('beta1', None, 'beta1 must be a number in [0, 1)'),
                                               ('num_steps', 2.5, 'steps must be a positive whole number'),
                                               ('eps', [1], 'eps must be a positive number')])
def test_b14_bad_train_settings_are_explained(tmp_path, field, value, says):
    path = checkpoint_with(tmp_path, lambda o: o['train'].update({field: value}))
    with pytest.raises(CheckpointError) as e:
        ckpt_io.load(path)
    assert f'bad.json is not a valid checkpoint: in its train settings, {says}' in str(e.value)
    assert 'must be real number' not in str(e.value) and "'<'" not in str(e.value)


# B15: a step count no run can reach is refused at load.

def test_b15_a_step_beyond_the_run_is_refused(tmp_path):
    path = checkpoint_with(tmp_path, lambda o: o.update(step=10**400))
    with pytest.raises(CheckpointError, match=r'its step is more than its num_steps \(1,000\)'):
        ckpt_io.load(path)
    path = checkpoint_with(tmp_path, lambda o: (o.update(step=10**400), o.pop('train')))
    with pytest.raises(CheckpointError, match='the most steps a run can have'):
        ckpt_io.load(path)
    with pytest.raises(Exception, match='up to 1,000,000,000'):
        TrainConfig(num_steps=10**400)
    ckpt = ckpt_io.load(checkpoint_with(tmp_path, lambda o: o.update(step=1000)))  # the end of the run: fine
    assert ckpt.adam_preview('wte', 0, 0, 0.5).lr_t == 0


# B16: a closed pipe ends the command quietly.

def test_b16_a_closed_pipe_exits_quietly(tmp_path):
    proc = subprocess.Popen([sys.executable, str(ROOT / 'main.py'), 'sample', '--checkpoint', str(DEFAULT_CHECKPOINT),
                             '--num-samples', '100000'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does after its line
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=300) == 141
    assert first.startswith(b'sample  1: ') and err == b''


def test_house_shared_names_have_homes_of_their_own():
    from engine import paths
    from engine.cli import parsing as cli_parsing
    assert cli.Parser is cli_parsing.Parser and cli_parsing.DEFAULT_CHECKPOINT is paths.DEFAULT_CHECKPOINT
    assert not hasattr(cli, 'ASSETS')  # engine.cli.commands keeps only what it uses


# Issue 20, item 9: a negative number is a value wherever an option takes one; step numbers are plain digits;
# user text is cut in a message.

@pytest.mark.parametrize('steps, says', [
    ('-3:2', 'error: The steps must lie in 1:1000 with the first not after the last, not -3:2.\n'),  # not "expected one argument"
    ('1_0:2_0', "error: --steps must be A:B, two step numbers in plain digits (e.g. 1:1000), not '1_0:2_0'.\n"),
    ('٣:5', "error: --steps must be A:B, two step numbers in plain digits (e.g. 1:1000), not '٣:5'.\n"),
    (' 3:5', "error: --steps must be A:B, two step numbers in plain digits (e.g. 1:1000), not ' 3:5'.\n"),
    ('1:' + '9' * 5000, "error: --steps '1:99999999999999999999999999999999999999999999999999999999999999999999999999"
                        "9…' (5,002 characters) is outside the run: its steps are 1 to 1000.\n"),
    ('x' * 100_000, "error: --steps must be A:B, two step numbers in plain digits (e.g. 1:1000), not '" + 'x' * 77
                    + "…' (100,000 characters).\n"),
])
def test_history_steps_are_plain_digits_and_a_negative_one_is_a_value(tmp_path, capsys, steps, says):
    out = tmp_path / 'h.json'
    code, _, err = run_cli('history', str(DEFAULT_CHECKPOINT), '--param', 'wte[4][3]', '--steps', steps,
                           '--json', str(out), capsys=capsys)
    assert code == 2 and err == says and not out.exists()


@pytest.mark.parametrize('param', ['wte[4][3]]]]', 'wte[1_0][3]', 'wte[٤][3]'])
def test_history_param_names_are_read_strictly(tmp_path, capsys, param):
    code, _, err = run_cli('history', str(DEFAULT_CHECKPOINT), '--param', param, '--steps', '1:2',
                           '--json', str(tmp_path / 'h.json'), capsys=capsys)
    assert code == 2 and one_sentence(err) and f'{param!r} is not a parameter name like wte[4][3]' in err


def test_history_steps_still_read_a_range_and_its_open_ends(tmp_path, capsys):
    out = tmp_path / 'h.json'
    code, text, _ = run_cli('history', str(DEFAULT_CHECKPOINT), '--param', 'wte[4][3]', '--steps', '998:',
                            '--json', str(out), capsys=capsys)
    assert code == 0 and [r['step'] for r in json.loads(out.read_text())['steps']] == [998, 999, 1000]


def test_a_negative_number_is_a_value_of_any_option(capsys):
    assert cli.build_parser().parse_args(['nudge', '--doc', 'a', '--node', '-1', '--by', '-1e-4', '--json', 'x']).by == -1e-4
    assert cli.build_parser().parse_args(['train', '--lr', '-.5e-3', '--seed', '-7']).lr == -0.0005
    code, _, err = run_cli('train', '--lr', '-1e-3', capsys=capsys)
    assert code == 2 and err == 'error: The learning rate must be a positive number, not -0.001.\n'


def test_long_user_text_is_cut_in_the_message(tmp_path, capsys):
    long = 'x' * 100_000
    code, _, err = run_cli('graph', '--doc', 'emma', '--open', long, '-o', str(tmp_path / 'g.json'), capsys=capsys)
    assert code == 2 and one_sentence(err) and len(err) < 300 and '…\' (100,000 characters)' in err
    code, _, err = run_cli('graph', '--doc', 'emma', '-o', str(tmp_path / ('g' * 200 + '.txt')), capsys=capsys)
    assert code == 2 and one_sentence(err) and len(err) < 300


def test_sample_continues_a_prompt_with_top_k_top_p_or_greedy(capsys):
    """`sample` as the README types it: a prompt's documents start with it, greedy repeats the one most likely
    document, and top-k/top-p that keep every token print microgpt's own samples."""
    ckpt = str(DEFAULT_CHECKPOINT)
    code, out, err = run_cli('sample', '--checkpoint', ckpt, '--prompt', 'em', '--top-k', '5', '--top-p', '0.9',
                             '--num-samples', '5', capsys=capsys)
    names = [line.split(': ', 1)[1] for line in out.splitlines()]
    assert code == 0 and err == '' and len(names) == 5 and all(n.startswith('em') and len(n) > 2 for n in names)
    code, out, _ = run_cli('sample', '--checkpoint', ckpt, '--greedy', '--num-samples', '3', capsys=capsys)
    assert code == 0 and len(set(line.split(': ')[1] for line in out.splitlines())) == 1
    plain = run_cli('sample', '--checkpoint', ckpt, '--num-samples', '5', capsys=capsys)[1]
    assert run_cli('sample', '--checkpoint', ckpt, '--num-samples', '5', '--top-k', '27', '--top-p', '1',
                   capsys=capsys)[1] == plain
    assert run_cli('sample', '--checkpoint', ckpt, '--num-samples', '5', '--top-k', '2', capsys=capsys)[1] != plain
