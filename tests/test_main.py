"""main.py, the launcher: Ctrl-C (SIGINT) and SIGTERM end every command the same way, exit code 130 or
143, no traceback, at most the one line 'interrupted', no file left half-written or written after; through
the .venv launcher the signals reach the child, the launcher exits with the child's code and never leaves
the child behind, even when the launcher itself is killed.

The commands run as real processes, and each signal is sent once the command has started (its first
line of output), not after a guessed sleep."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import main as main_py
from engine import files

ROOT = Path(__file__).resolve().parent.parent
BASE_PYTHON = getattr(sys, '_base_executable', sys.executable)  # the python3 a user types, outside .venv
# The launcher as `python3 main.py` runs it, with `train` taken as a command that needs .venv, so that a slow
# command that prints at once goes through _bootstrap's child.
LAUNCHER = ('import sys; sys.path.insert(0, sys.argv.pop(1)); import main; '
            "main.COMMANDS['train'] = (True, *main.COMMANDS['train'][1:]); sys.exit(main.main(sys.argv[1:]))")


@pytest.fixture
def long_run(tmp_path):
    """`train` arguments for a run of minutes on a small dataset, writing tmp_path/out/model.json."""
    data = tmp_path / 'tiny.txt'
    data.write_text('emma\nava\nolivia\nmia\n')
    (tmp_path / 'out').mkdir()
    return ['train', '--data', str(data), '--steps', '5000', '--out', str(tmp_path / 'out' / 'model.json')]


def start(cmd, **kwargs):
    """A process in a session of its own (so a signal to its group is the terminal's Ctrl-C), output unbuffered."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', **kwargs.pop('env', {}))
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
                            start_new_session=True, **kwargs)


def wait_for_line(proc, starts):
    """Read stdout until a line starting with `starts` (the command is running); the lines read."""
    lines = []
    while not lines or not lines[-1].startswith(starts):
        line = proc.stdout.readline()
        assert line, f'the command ended before printing {starts!r}: {proc.stderr.read()}'
        lines.append(line)
    return lines


def finish(proc, timeout=60):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError('the command did not end on the signal') from None
    return proc.returncode, out, err


def children(pid):
    """The processes `pid` started that are still there."""
    found = []
    for task in Path(f'/proc/{pid}/task').glob('*'):
        try:
            found += [int(c) for c in (task / 'children').read_text().split()]
        except OSError:
            pass
    return found


def gone(pid, timeout=10):
    """Whether process `pid` ended (an unreaped zombie counts as ended) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] in ('Z', 'X'):
                return True
        except OSError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def venv_ready():
    stamp = ROOT / '.venv' / '.installed'
    want = hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == want):
        pytest.skip('.venv is not set up for this pyproject.toml; this test must not build one')


@pytest.mark.parametrize('name', list(main_py.COMMANDS))
@pytest.mark.parametrize('signum, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_every_command_ends_on_a_signal_with_its_code_and_no_traceback(monkeypatch, capsys, name, signum, code):
    def command(argv):
        os.kill(os.getpid(), signum)  # arrives while the command works
        time.sleep(3)
        return 0
    monkeypatch.setattr(main_py, '_function', lambda target: command)
    monkeypatch.setattr(main_py, '_in_venv', lambda: True)

    def test_process_handler(signum, frame):  # in case main installs none: this test fails, pytest goes on
        pass
    before = signal.signal(signum, test_process_handler)
    try:
        assert main_py.main([name] if name else []) == code
        assert capsys.readouterr().err == ('interrupted\n' if signum == signal.SIGINT else '')
        assert signal.getsignal(signum) is test_process_handler  # imported, main puts the caller's handlers back
    finally:
        signal.signal(signum, before)


def test_sigterm_during_a_save_leaves_neither_the_file_nor_its_temp_file(tmp_path, monkeypatch):
    target = tmp_path / 'model.json'
    monkeypatch.setattr(os, 'fsync', lambda fd: os.kill(os.getpid(), signal.SIGTERM))  # mid-write
    before = signal.signal(signal.SIGTERM, lambda signum, frame: None)  # in case main installs none
    try:
        assert main_py._stoppable(lambda: files.write_atomic(target, 'x' * 100_000)) == 143
    finally:
        signal.signal(signal.SIGTERM, before)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('signum, code, says', [(signal.SIGINT, 130, 'interrupted\n'), (signal.SIGTERM, 143, '')])
def test_a_training_run_stopped_by_a_signal_writes_nothing(tmp_path, long_run, signum, code, says):
    proc = start([sys.executable, str(ROOT / 'main.py'), *long_run])
    wait_for_line(proc, 'step ')
    os.killpg(proc.pid, signum)  # Ctrl-C goes to the whole group; SIGTERM here too
    returncode, out, err = finish(proc)
    assert (returncode, err) == (code, says)
    assert 'saved' not in out and 'sample' not in out
    assert list((tmp_path / 'out').iterdir()) == []


def test_the_launcher_passes_sigterm_on_and_exits_with_the_childs_code(tmp_path, long_run):
    venv_ready()
    launcher = start([BASE_PYTHON, '-c', LAUNCHER, str(ROOT), *long_run])
    wait_for_line(launcher, 'step ')
    [child] = children(launcher.pid)
    os.kill(launcher.pid, signal.SIGTERM)  # the launcher alone, as `kill PID` does
    returncode, out, err = finish(launcher)
    assert (returncode, err) == (143, '') and gone(child, timeout=0)
    assert list((tmp_path / 'out').iterdir()) == []


def test_ctrl_c_through_the_launcher_is_one_line(tmp_path, long_run):
    venv_ready()
    launcher = start([BASE_PYTHON, '-c', LAUNCHER, str(ROOT), *long_run])
    wait_for_line(launcher, 'step ')
    os.killpg(launcher.pid, signal.SIGINT)  # the terminal's Ctrl-C reaches both; the launcher passes it on too
    assert finish(launcher)[0::2] == (130, 'interrupted\n')
    assert list((tmp_path / 'out').iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='PR_SET_PDEATHSIG is Linux only')
def test_a_killed_launcher_takes_its_child_with_it(tmp_path, long_run):
    venv_ready()
    launcher = start([BASE_PYTHON, '-c', LAUNCHER, str(ROOT), *long_run])
    wait_for_line(launcher, 'step ')
    [child] = children(launcher.pid)
    os.kill(launcher.pid, signal.SIGKILL)
    launcher.wait()
    assert gone(child)
    finish(launcher)
    assert list((tmp_path / 'out').iterdir()) == []


@pytest.mark.slow  # the window starts, records and lays out
@pytest.mark.parametrize('signum, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_the_app_ends_on_a_signal_with_its_code_and_its_children(tmp_path, signum, code):
    report = tmp_path / 'painted'
    app = start([sys.executable, str(ROOT / 'main.py'), '--doc', 'emma'],
                env={'QT_QPA_PLATFORM': 'offscreen', 'MICROGPT_BENCH_REPORT': str(report)})
    deadline = time.monotonic() + 120
    while not report.exists() and app.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    kids = children(app.pid)
    assert report.exists() and kids  # the first paint, and the layout process
    os.killpg(app.pid, signum) if signum == signal.SIGINT else os.kill(app.pid, signum)
    returncode, _, err = finish(app)
    assert returncode == code and 'Traceback' not in err
    assert all(gone(k) for k in kids)


def test_the_launcher_looks_whether_qt_loads_once_per_install(tmp_path, monkeypatch):
    """Looking takes ~0.3 s, at every start it held the window back (issue 21 item 10); a command that fails
    as a missing library could make it fail has the next start look again."""
    venv = tmp_path / '.venv'
    (venv / 'bin').mkdir(parents=True)
    (venv / 'bin' / 'python').touch()
    (venv / '.installed').write_text(hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest())
    monkeypatch.setattr(main_py, 'VENV', venv)
    monkeypatch.setattr(main_py, 'QT_CHECKED', venv / '.qt-loads')
    monkeypatch.setattr(main_py.sys, 'platform', 'linux')
    looks, codes = [], [0]
    monkeypatch.setattr(main_py, '_qt_loads', lambda python: looks.append(python) or True)
    monkeypatch.setattr(main_py, '_run_child', lambda cmd: codes[-1])
    assert main_py._bootstrap([]) == 0 and main_py._bootstrap([]) == 0 and len(looks) == 1
    codes.append(128 + signal.SIGTERM)  # stopped: says nothing about Qt
    assert main_py._bootstrap([]) == 143 and len(looks) == 1
    codes.append(134)  # Qt could not load its window plugin: abort()
    assert main_py._bootstrap([]) == 134 and len(looks) == 1
    codes.append(0)
    assert main_py._bootstrap([]) == 0 and main_py._bootstrap([]) == 0 and len(looks) == 2
