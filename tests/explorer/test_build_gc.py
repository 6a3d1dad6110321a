"""While the graph makes thousands of items, the garbage collector waits (its full collections found
nothing to free and stalled the window); it is back when the build ends, is replaced, or the window
closes half-way."""

import gc

from PySide6.QtCore import QSettings

from explorer.main_window import MainWindow
from explorer.session import Session


def open_pos2_to_scalars(window, qtbot):
    s = window.session
    with qtbot.waitSignal(s.view_changed, timeout=60000):
        s.open_group(s.trace.scope_id('pos 2'), to_scalars=True)


def test_the_collector_waits_for_a_big_build_and_comes_back(window, qtbot):
    assert gc.isenabled()
    open_pos2_to_scalars(window, qtbot)
    assert window.graph.building() and not gc.isenabled()
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=60000)
    assert gc.isenabled()


def test_a_window_closed_mid_build_leaves_the_collector_on(qtbot, tmp_path):
    session = Session()
    win = MainWindow(session, QSettings(str(tmp_path / 'w.ini'), QSettings.IniFormat))
    assert session.load_checkpoint()
    win.show()
    with qtbot.waitSignal(session.view_changed, timeout=20000):
        session.record('emma')
    qtbot.waitUntil(lambda: not win.graph.building(), timeout=20000)
    open_pos2_to_scalars(win, qtbot)
    assert win.graph.building() and not gc.isenabled()
    session.unsaved = False
    win.close()
    assert gc.isenabled()
    session.worker.wait()
