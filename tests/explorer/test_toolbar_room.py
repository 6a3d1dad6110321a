"""On a window too narrow for every toolbar in one row, the Backprop toolbar (the same buttons as the
Backprop panel) is not a second row taking the graph's room; hiding the panels brings it back, since
then it is the only place those buttons are, and showing them hides it again."""

from explorer.main_window import MainWindow
from explorer.state.session import Session
from PySide6.QtCore import QSettings


def make(qtbot, tmp_path, width, height):
    session = Session()
    win = MainWindow(session, QSettings(str(tmp_path / 'w.ini'), QSettings.IniFormat))
    win.resize(width, height)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_the_backprop_toolbar_gives_its_row_to_the_graph_and_comes_back_with_the_panels_hidden(qtbot, tmp_path):
    win = make(qtbot, tmp_path, 1100, 720)  # offscreen fonts are narrower: 1100 is what 1280 is on a screen
    try:
        bar = win.backprop_bar
        assert bar.isHidden() and win.docks['backprop_dock'].isVisible()
        graph_height = win.graph.height()
        assert bar.toggleViewAction() in win.toolbars_menu.actions()  # View › Toolbars brings it back by hand
        win.toggle_panels()
        qtbot.wait(20)
        assert not bar.isHidden() and not win.docks['backprop_dock'].isVisible()
        win.toggle_panels()
        qtbot.wait(20)
        assert bar.isHidden() and win.docks['backprop_dock'].isVisible()
        assert win.graph.height() == graph_height
    finally:
        win.close()
        win.session.worker.wait()


def test_a_window_wide_enough_for_one_row_keeps_the_backprop_toolbar(qtbot, tmp_path):
    win = make(qtbot, tmp_path, 2400, 1000)
    try:
        assert not win.backprop_bar.isHidden()
    finally:
        win.close()
        win.session.worker.wait()
