"""On a big screen the first window takes a good share of it; on a small one it is as before; saved geometry wins."""

import pytest
from PySide6.QtCore import QRect, QSettings

from explorer import main_window
from explorer.dock_column import first_geometry, first_size
from explorer.main_window import MainWindow
from explorer.state.session import Session


def test_a_big_screen_gets_a_bigger_first_window():
    for w, h in ((2560, 1440), (1920, 1080), (3840, 2160)):
        screen = QRect(0, 0, w, h)
        rect = first_geometry(screen, first_size(screen))
        assert screen.contains(rect) and rect.height() + 32 <= h
        assert rect.width() >= 0.8 * w and rect.height() >= 0.8 * h - 32


def test_small_screens_keep_the_old_first_window():
    for w, h in ((1280, 720), (1366, 768), (1440, 900), (1600, 1000)):
        screen = QRect(0, 0, w, h)
        assert first_geometry(screen, first_size(screen)) == first_geometry(screen)


class FakeScreen:
    def __init__(self, rect):
        self.rect = rect

    def availableGeometry(self):
        return self.rect


@pytest.fixture
def big_screen(monkeypatch):
    """The window believes it opens on a 2560×1440 screen (the offscreen platform's own screen is small)."""
    monkeypatch.setattr(main_window.MainWindow, 'screen', lambda self: FakeScreen(QRect(0, 0, 2560, 1440)))


def make(tmp_path, name='settings.ini'):
    session = Session()
    return MainWindow(session, QSettings(str(tmp_path / name), QSettings.IniFormat)), session


def close(win, session):
    session.unsaved = False
    win.close()
    session.worker.wait()


def test_the_first_window_on_a_2560_by_1440_screen_is_larger_than_1400_by_900(big_screen, qtbot, tmp_path):
    win, session = make(tmp_path)
    size = win.size()
    close(win, session)
    assert size.width() > 1400 and size.height() > 900
    assert QRect(0, 0, 2560, 1440).contains(win.geometry())


def test_saved_geometry_wins_over_the_first_size(big_screen, qtbot, tmp_path):
    win, session = make(tmp_path)
    win.resize(1100, 700)
    close(win, session)  # closing saves the geometry
    again, session = make(tmp_path)
    size = again.size()
    close(again, session)
    assert size.height() == 700 and size.width() <= 1100  # (restoring fits it to the real offscreen screen)
