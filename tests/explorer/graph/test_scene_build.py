"""explorer.graph.scene_build: while the graph makes thousands of items, the garbage collector waits (its full
collections found nothing to free and stalled the window); it is back when the build ends, is replaced, or
the window closes half-way."""

import gc

import pytest

pytestmark = pytest.mark.slow  # builds ~7,700 boxes, twice


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


def test_a_window_closed_mid_build_leaves_the_collector_on(make_window, qtbot):
    win = make_window(1280, 720)
    qtbot.waitUntil(lambda: not win.graph.building(), timeout=20000)
    open_pos2_to_scalars(win, qtbot)
    assert win.graph.building() and not gc.isenabled()
    win.session.unsaved = False
    win.close()
    assert gc.isenabled()
