"""Hermetic test setup: Qt offscreen, settings and caches in temp folders, names.txt found or skipped;
the run's peak memory in the summary."""

import os
import resource
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


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Keep each test's caches and settings out of the real home folder."""
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    monkeypatch.setenv('XDG_CONFIG_HOME', str(tmp_path / 'config'))


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
