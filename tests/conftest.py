"""Hermetic test setup: Qt offscreen, settings and caches in temp folders, names.txt found or skipped;
the run's peak memory in the summary."""

import os
import subprocess
import tempfile
import resource
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ['QT_QPA_PLATFORM'] = 'offscreen'

from engine.data import NAMES_ENV, cached_names_path  # noqa: E402

SHARED_NAMES = ROOT.parent / 'shared' / 'data' / 'names.txt'


def find_names_file():
    """names.txt from $MICROGPT_NAMES, ../shared/data/names.txt or the download cache, else None."""
    for candidate in (os.environ.get(NAMES_ENV), SHARED_NAMES, cached_names_path()):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope='session')
def names_file():
    path = find_names_file()
    if path is None:
        pytest.skip(f'names.txt not found: set {NAMES_ENV}=PATH or put it at {SHARED_NAMES} '
                    'to check the published microgpt figures')
    return path


@pytest.fixture
def bootstrapped(monkeypatch):
    """main.py outside .venv, its set-up step replaced by a list of the argv it would have run in .venv."""
    import main as main_py
    argvs = []
    monkeypatch.setattr(main_py, '_in_venv', lambda: False)
    monkeypatch.setattr(main_py, '_bootstrap', lambda argv: argvs.append(argv) or 0)
    return argvs


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Keep each test's caches and settings out of the real home folder."""
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    monkeypatch.setenv('XDG_CONFIG_HOME', str(tmp_path / 'config'))


FULL_RUN = {}  # 'run': (Popen, checkpoint path) of the 1000-step training run the published figures need


def start_full_run(names):
    """Start `python main.py train` with the defaults, and the shipped history's snapshot interval, in a process
    of its own (~35 s of the other core)."""
    out = Path(tempfile.mkdtemp(prefix='microgpt-train-')) / 'trained.json'
    proc = subprocess.Popen([sys.executable, str(ROOT / 'main.py'), 'train', '--data', str(names), '--history-every', '8',
                             '--out', str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    FULL_RUN['run'] = (proc, out)


def pytest_collection_finish(session):
    """The full training run takes half a minute of one core; when a selected test needs it, start it now
    so that it runs beside the other tests instead of before the one that waits for it."""
    if os.environ.get('PYTEST_XDIST_WORKER'):
        return  # every worker collects every test: the one that runs full_run's test starts it (test_model.py)
    names = find_names_file()
    if names is not None and any('full_run' in getattr(item, 'fixturenames', ()) for item in session.items):
        start_full_run(names)


def pytest_sessionfinish(session):
    run = FULL_RUN.pop('run', None)
    if run is not None:
        if run[0].poll() is None:
            run[0].kill()
        run[0].communicate()
        shutil.rmtree(run[1].parent, ignore_errors=True)


WINDOW_FIXTURES = {'window', 'make_window'}  # tests/explorer/conftest.py: the main window, recorded


def pytest_collection_modifyitems(items):
    """Mark every test that builds the main window `window`, so the quick run can leave them out."""
    for item in items:
        if WINDOW_FIXTURES & set(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.window)


def pytest_terminal_summary(terminalreporter):
    """The test process's peak resident memory: a suite that leaks windows or traces shows here."""
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    terminalreporter.write_line(f'peak RSS of the test process: {peak_mb:,.0f} MB')
