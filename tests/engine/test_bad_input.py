"""Never freeze, never crash, never lose a file: one test per item B1–B16 of that issue.

Each runs the command as a user types it (in-process through engine.cli.commands.main, or as a process where the
behaviour needs one) and checks the exit code, the one sentence on stderr and what is on disk after.
"""

import hashlib
import io
import json
import os
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
from engine import files
from engine.cli import commands as cli
from engine import data as data_mod
from engine.cli.commands import main
from engine.data import load_docs
from engine.errors import CheckpointError, OutputError
from engine.model import GPTConfig, Model
from engine.paths import DEFAULT_CHECKPOINT
from engine.tokenizer import Tokenizer
from engine.optim import TrainConfig
from engine.train import estimate_cost

ROOT = Path(__file__).resolve().parents[2]  # the project folder

BASE_PYTHON = getattr(sys, '_base_executable', sys.executable)


def run_cli(*args, capsys):
    """engine.cli.commands.main in-process: (exit code, stdout, stderr)."""
    out = io.StringIO()
    code = main(list(args), out)
    return code, out.getvalue(), capsys.readouterr().err


def one_sentence(err):
    return err.count('\n') == 1 and err.startswith('error: ') and 'Traceback' not in err


@pytest.fixture
def tiny_data(tmp_path):
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

def test_b1_graph_is_a_venv_command_and_train_sample_trace_are_not(monkeypatch):
    assert main_py.COMMANDS['graph'][0] is True
    assert [main_py.COMMANDS[c][0] for c in ('train', 'sample', 'trace')] == [False, False, False]
    bootstrapped = []
    monkeypatch.setattr(main_py, '_in_venv', lambda: False)
    monkeypatch.setattr(main_py, '_bootstrap', lambda argv: bootstrapped.append(argv) or 0)
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
def test_b3_sizes_that_cannot_be_trained_are_refused_with_the_reason(tiny_data, monkeypatch, capsys, args):
    def init(*a, **k):
        raise AssertionError('Model.init ran: the size was not checked first')
    monkeypatch.setattr(Model, 'init', init)
    code, out, err = run_cli('train', '--data', str(tiny_data), *args, capsys=capsys)
    assert code == 2 and one_sentence(err) and out == ''
    assert 'cannot be trained here' in err and 'parameters need about' in err and 'this machine has' in err


def test_b3_an_impossible_size_is_refused_before_any_dataset_is_fetched(monkeypatch, capsys):
    """Without --data and without names.txt on the machine, the size is still what gets reported."""
    monkeypatch.delenv(data_mod.NAMES_ENV, raising=False)

    def download(*a, **k):
        raise AssertionError('names.txt was fetched before the size was checked')
    monkeypatch.setattr(data_mod, 'download_names', download)
    monkeypatch.setattr(cli, 'default_names_path', lambda: data_mod.find_names() or data_mod.download_names())
    code, out, err = run_cli('train', '--n-layer', '1000000000', capsys=capsys)
    assert code == 2 and one_sentence(err) and 'cannot be trained here' in err


@pytest.mark.parametrize('error,words', [
    (urllib.error.URLError(socket.gaierror(-2, 'Name or service not known')), 'cannot reach the internet'),
    (urllib.error.URLError(TimeoutError('timed out')), 'did not answer in time'),
    (urllib.error.HTTPError(data_mod.NAMES_URL, 404, 'Not Found', {}, None), 'answered 404 Not Found'),
])
def test_a_failed_download_says_why_in_words(monkeypatch, error, words):
    def urlopen(*a, **k):
        raise error
    monkeypatch.setattr(urllib.request, 'urlopen', urlopen)
    with pytest.raises(data_mod.DownloadFailed) as failed:
        data_mod.download_names()
    assert words in str(failed.value) and 'Errno' not in str(failed.value)


def test_b3_the_apps_training_process_refuses_them_too(tiny_data, monkeypatch):
    import queue
    import threading
    from engine.job import train_process

    def init(*a, **k):
        raise AssertionError('Model.init ran: the size was not checked first')
    monkeypatch.setattr(Model, 'init', init)
    messages = queue.Queue()
    train_process(str(tiny_data), {'n_layer': 10**9}, {}, messages, threading.Event(), threading.Event())
    kind, sentence = messages.get_nowait()
    assert kind == 'failed' and sentence.startswith('This model cannot be trained here: 3,072,000,000,')


# B4: weights of a diverged run: one sentence saying what happened, no "math domain error".

def test_b4_diverged_weights_say_why_they_cannot_be_evaluated(tmp_path, tiny_data, capsys):
    kept = tmp_path / 'div.json'
    code, _, err = run_cli('train', '--data', str(tiny_data), '--steps', '20', '--lr', '1e6', '--out', str(kept),
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

def test_b8_train_checks_out_before_training(tmp_path, tiny_data, capsys):
    code, out, err = run_cli('train', '--data', str(tiny_data), '--steps', '3',
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


# B11: what training costs, before it starts.

@pytest.mark.parametrize('config,vocab', [(GPTConfig(), 27), (GPTConfig(n_layer=3, n_embd=8, n_head=2), 5),
                                          (GPTConfig(block_size=4, n_embd=12, n_head=3), 100)])
def test_b11_estimate_counts_exactly_the_parameters(config, vocab):
    import random
    cost = estimate_cost(config, vocab)
    model = Model.init(config, Tokenizer([chr(0x4e00 + i) for i in range(vocab - 1)]), random.Random(0))
    assert cost.params == len(model.params)
    assert cost.bytes > 0 and cost.seconds_per_step > 0


def test_b11_a_large_vocabulary_costs_more_and_train_says_so_first(tiny_data, monkeypatch, capsys):
    small, large = estimate_cost(GPTConfig(), 27), estimate_cost(GPTConfig(), 100_001)
    assert large.params == 3_203_360 and large.seconds_per_step > 100 * small.seconds_per_step
    assert large.describe(1000).startswith('3,203,360 parameters, about ')
    code, out, err = run_cli('train', '--data', str(tiny_data), '--steps', '2', capsys=capsys)
    assert code == 0 and err == ''  # a small run: exactly microgpt's output, no note
    monkeypatch.setattr(cli, 'WARN_SECONDS', 0)
    code, out, err = run_cli('train', '--data', str(tiny_data), '--steps', '2', capsys=capsys)
    assert code == 0 and err.startswith('note: 3,584 parameters, about ') and 'for 2 steps' in err


# B12: traces of extreme weights are standard JSON.

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
