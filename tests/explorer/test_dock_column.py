"""explorer/dock_column.py: where the window and its panels go. The first window fits the screen it opens
on (on a big screen it takes a good share of it, on a small one it is as before, saved geometry wins) and can
be made small without losing a control; the panels' tabs are named in full in a narrow column (a row too
wide scrolls), also after a panel is floated and docked again."""

import pytest
from PySide6.QtCore import QRect, QSettings, QSize, Qt
from PySide6.QtWidgets import QTabBar

from explorer import main_window
from explorer.dock_column import first_geometry, first_size, in_front
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


def test_first_window_fits_the_available_screen(window):
    screen = window.screen().availableGeometry()
    assert screen.contains(window.geometry())
    assert window.height() <= screen.height() - 32  # and room for a title bar


def test_minimum_is_at_most_1024_by_640(window):
    hint = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert hint.width() <= 1024 and hint.height() <= 640


def test_first_geometry_on_common_screens():
    for w, h in ((1280, 720), (1600, 1000), (1366, 768), (2560, 1440)):
        screen = QRect(0, 0, w, h)
        rect = first_geometry(screen)
        assert screen.contains(rect) and rect.height() + 32 <= h
    assert first_geometry(QRect(0, 0, 2560, 1440)).size() == QSize(1400, 900)


def test_at_1280_by_720_every_control_is_on_screen(window, qtbot):
    window.resize(1280, 720 - 32)
    qtbot.wait(10)
    assert window.size() == QSize(1280, 720 - 32)
    for field in (window.document.field, window.search_field):
        assert field.isVisible()


def dock_tab_bars(win):
    return [bar for bar in win.findChildren(QTabBar) if bar.parent() is win and bar.count() > 1]


def test_every_panel_tab_shows_its_whole_name(qtbot, tmp_path):
    win = MainWindow(Session(), QSettings(str(tmp_path / 'w.ini'), QSettings.IniFormat))
    win.resize(1280, 720)
    win.show()
    qtbot.waitExposed(win)
    try:
        bars = dock_tab_bars(win)
        assert len(bars) >= 2  # the upper and the lower group of tabs
        assert all(bar.elideMode() == Qt.ElideNone and bar.usesScrollButtons() for bar in bars)
        names = {bar.tabText(i) for bar in bars for i in range(bar.count())}
        assert {'Inspector', 'Chain rule', 'Attention', 'Backprop'} <= names
        win.inspector_dock.setFloating(True)
        qtbot.wait(20)
        win.inspector_dock.setFloating(False)
        qtbot.waitUntil(lambda: all(bar.elideMode() == Qt.ElideNone for bar in dock_tab_bars(win)), timeout=2000)
    finally:
        win.close()
        win.session.worker.wait()


def test_stepping_raises_chain_rule_but_never_over_a_tab_the_learner_chose(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.tabs.chosen.clear()
    window.tabs.raise_(window.attention_dock)       # the window's own choice (as at the start)
    window.step_act.trigger()
    assert in_front(window.chain_rule_dock)         # stepping shows the chain rule over it
    window.attention_dock.raise_()                  # the learner clicks the Attention tab
    assert window.attention_dock in window.tabs.chosen
    for _ in range(3):
        window.step_act.trigger()
    window.end_act.trigger()
    assert in_front(window.attention_dock) and not in_front(window.chain_rule_dock)


def test_end_and_reset_leave_the_attention_panel_in_front(window, qtbot):
    """Issue 21: End swapped the Attention tab (in front from the start) for Chain rule. A jump has no step for
    the chain rule to write out; the tab in front stays, chosen or not."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.tabs.chosen.clear()
    window.tabs.raise_(window.attention_dock)       # as at the start: the window's own choice
    window.end_act.trigger()
    assert window.session.backprop.stepper.at_end
    assert in_front(window.attention_dock) and not in_front(window.chain_rule_dock)
    window.reset_act.trigger()
    assert in_front(window.attention_dock)
    window.step_act.trigger()                       # a step is written out: Chain rule comes forward
    assert in_front(window.chain_rule_dock)


def test_a_click_on_the_tab_already_in_front_counts_as_the_learners_choice(window, qtbot):
    """The reviewer clicked Attention, in front from the start, then →: Chain rule covered it. That click showed
    nothing new, so only the tab bar says it was the learner's."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabBar
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.tabs.chosen.clear()
    window.tabs.raise_(window.attention_dock)       # the window's own choice, in front
    bar = next(b for b in window.findChildren(QTabBar) if b.parent() is window and
               any(b.tabText(i) == 'Attention' for i in range(b.count())))
    index = next(i for i in range(bar.count()) if bar.tabText(i) == 'Attention')
    qtbot.mouseClick(bar, Qt.LeftButton, pos=bar.tabRect(index).center())
    assert window.attention_dock in window.tabs.chosen
    window.step_act.trigger()
    assert in_front(window.attention_dock) and not in_front(window.chain_rule_dock)
