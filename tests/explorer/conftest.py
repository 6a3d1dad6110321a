"""The explorer window, offscreen, recorded on 'emma' with the trained checkpoint."""

import pytest
from PySide6.QtCore import QSettings

from explorer.main_window import MainWindow
from explorer.state.session import Session


@pytest.fixture
def window(qtbot, tmp_path):
    session = Session()
    win = MainWindow(session, QSettings(str(tmp_path / 'settings.ini'), QSettings.IniFormat))
    assert session.load_checkpoint()
    win.show()
    with qtbot.waitSignal(session.view_changed, timeout=20000):
        session.record('emma')
    yield win
    if win.training.run is not None:  # a test left a run going: stop it without asking
        win.training.run.wait()
    session.unsaved = False           # closing must not wait on a "save the trained weights?" box
    win.close()                       # here, not in pytest-qt's teardown, which would come first
    session.worker.wait()


@pytest.fixture
def make_window(qtbot, tmp_path):
    """make_window(w, h, settings=None, record=True): a window of that size on fresh settings."""
    made = []

    def make(width, height, settings=None, record=True):
        session = Session()
        win = MainWindow(session, settings or QSettings(str(tmp_path / f'{len(made)}.ini'), QSettings.IniFormat))
        made.append(win)
        win.resize(width, height)
        assert session.load_checkpoint()
        win.show()
        if record:
            with qtbot.waitSignal(session.view_changed, timeout=20000):
                session.record('emma')
        else:
            qtbot.wait(20)
        assert win.size().toTuple() == (width, height)
        return win
    yield make
    for win in made:
        win.session.unsaved = False
        win.close()
        win.session.worker.wait()
