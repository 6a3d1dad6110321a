"""The panels' tabs are named in full in a narrow column (a row too wide scrolls), also after a panel
is floated and docked again."""

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTabBar

from explorer.main_window import MainWindow
from explorer.state.session import Session


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
