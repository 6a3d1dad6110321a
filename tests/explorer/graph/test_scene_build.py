"""explorer.graph.scene_build: while the graph makes thousands of items, the garbage collector waits (its full
collections found nothing to free and stalled the window); it is back when the build ends, is replaced, or
the window closes half-way; the first view is placed with its scroll bars in place."""

import gc

import pytest

SLOW = pytest.mark.slow  # builds ~7,700 boxes, twice


def open_pos2_to_scalars(window, qtbot):
    s = window.session
    with qtbot.waitSignal(s.view_changed, timeout=60000):
        s.open_group(s.trace.scope_id('pos 2'), to_scalars=True)


@SLOW
def test_the_collector_waits_for_a_big_build_and_comes_back(window, qtbot):
    assert gc.isenabled()
    open_pos2_to_scalars(window, qtbot)
    assert window.graph.building() and not gc.isenabled()
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=60000)
    assert gc.isenabled()


@SLOW
def test_a_window_closed_mid_build_leaves_the_collector_on(make_window, qtbot):
    win = make_window(1280, 720)
    qtbot.waitUntil(lambda: not win.graph.building(), timeout=20000)
    open_pos2_to_scalars(win, qtbot)
    assert win.graph.building() and not gc.isenabled()
    win.session.unsaved = False
    win.close()
    assert gc.isenabled()


def test_the_first_view_is_placed_with_the_scroll_bars_it_will_have(make_window, qtbot):
    """The scroll bars came a layout pass after the first view was placed, and the view then moved by half a
    bar: a jump right after the first paint, now that the graph can be ready when the window shows."""
    window = make_window(1280, 720, record=False)
    view, s = window.graph, window.session
    placed = []
    s.view_changed.connect(lambda: placed.append((view.horizontalScrollBar().isVisibleTo(view),
                                                  view.verticalScrollBar().isVisibleTo(view),
                                                  view.mapToScene(view.viewport().rect().center()))))
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.record('emma')
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    qtbot.wait(50)  # every layout pass the window had waiting
    (h, v, centre), = placed
    assert (h, v) == (True, True) and view.horizontalScrollBar().isVisibleTo(view)
    assert view.mapToScene(view.viewport().rect().center()) == centre
