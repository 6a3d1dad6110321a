"""The explorer window, offscreen, recorded on 'emma' with the trained checkpoint."""

import pytest
from PySide6.QtCore import QSettings

from explorer.main_window import MainWindow
from explorer.session import Session


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

