"""explorer.graph.navigation, where the graph view looks: the graph is the main thing on screen, readable
from the first view, and the view goes where the learner goes (opening, Z, following backprop); an opened
head comes into view with the q, k and v linears that feed it when the window has room for both.
Offscreen, pytest-qt; sizes in device pixels."""

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSettings, Qt
from PySide6.QtWidgets import QDockWidget

from engine.graph.keys import group_key
from explorer.graph.items import BoxItem, ClusterItem, paints_text
from explorer.graph.navigation import MIN_LABEL_PX
from explorer.theme import DARK, LIGHT

HEAD = 'pos 2 / layer 0 / attention / head 1'


def graph_fraction(win):
    viewport = win.graph.viewport()
    return viewport.width() * viewport.height() / (win.width() * win.height())


def on_screen(view, scene_rect):
    """The part of the viewport a scene rectangle covers, in viewport pixels."""
    return view.mapFromScene(scene_rect).boundingRect()


def in_viewport(view, scene_rect):
    return view.viewport().rect().contains(on_screen(view, scene_rect))


def put_at(view, scene_point, viewport_point):
    """Scroll so that scene_point shows at viewport_point."""
    scale = view.transform().m11()
    centre = QPointF(view.viewport().rect().center())
    view.centerOn(scene_point - (viewport_point - centre) / scale)


def loss_item(view):
    s = view.session
    return view.items_by_key[s.visible.key_of[s.trace.loss_id]]


def cluster_titles(view):
    return [(item.title, item.title_rect().translated(item.pos())) for item in view.items_by_key.values()
            if isinstance(item, ClusterItem)]


# The graph's share of the window

@pytest.mark.parametrize('width, height, share', [(1400, 900, 0.6), (1280, 720, 0.55)])
def test_the_graph_gets_most_of_the_window(make_window, width, height, share):
    win = make_window(width, height, record=False)
    assert graph_fraction(win) >= share, f'{graph_fraction(win):.3f} of {width}×{height}'
    docks = [d for d in win.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()]
    assert {win.dockWidgetArea(d) for d in docks} == {Qt.RightDockWidgetArea}  # one column, tabbed


def test_a_state_saved_by_the_old_wide_arrangement_is_not_restored(make_window, tmp_path):
    settings = QSettings(str(tmp_path / 'old.ini'), QSettings.IniFormat)
    old = make_window(1280, 720, settings, record=False)
    for dock in old.findChildren(QDockWidget):  # docks left and right, wide, as the first version had them
        old.addDockWidget(Qt.LeftDockWidgetArea if 'scope' in dock.objectName() else Qt.RightDockWidgetArea, dock)
    old.resizeDocks([old.findChild(QDockWidget, 'scopes_dock')], [300], Qt.Horizontal)
    settings.setValue('window_state', old.saveState())  # version 0
    settings.setValue('geometry', old.saveGeometry())
    again = make_window(1280, 720, settings, record=False)
    assert graph_fraction(again) >= 0.55


# The first view

def test_first_view_labels_are_readable_and_the_loss_is_in_view(make_window):
    view = make_window(1400, 900).graph
    assert view.smallest_label_px() >= MIN_LABEL_PX
    assert in_viewport(view, loss_item(view).sceneBoundingRect())


@pytest.mark.parametrize('width, height', [(1280, 720), (1400, 900)])
def test_first_view_shows_the_whole_overview_with_every_frame_titled(make_window, width, height):
    view = make_window(width, height).graph
    assert view.smallest_label_px() >= MIN_LABEL_PX
    assert in_viewport(view, loss_item(view).sceneBoundingRect())
    cut = [title for title, rect in cluster_titles(view) if not in_viewport(view, rect)]
    assert not cut, f'frame titles off screen: {cut}'
    shown = [item for item in view.items_by_key.values() if in_viewport(view, item.sceneBoundingRect())]
    assert len(shown) == len(view.items_by_key)  # every box and frame, weights and loss included
    minimap = view.minimap.geometry() if view.minimap.isVisible() else None
    assert minimap is None or not any(minimap.intersects(on_screen(view, item.sceneBoundingRect()).toRect())
                                      for item in shown), 'the minimap covers part of the graph'


def test_first_view_fits_the_whole_graph_when_it_is_readable_so(make_window):
    """Whatever the arrangement: given a graph area the overview fits at the readable scale, the first view
    shows all of it, every title and the loss, with labels of 10 px or more."""
    win = make_window(1400, 900)
    view = win.graph
    lay = view.session.layout
    need_w = (lay.width + 100) * view.readable_scale() - view.viewport().width()
    need_h = (lay.height + 100) * view.readable_scale() - view.viewport().height()
    win.resize(win.width() + max(0, int(need_w)), win.height() + max(0, int(need_h)))
    view.first_view()
    assert view.smallest_label_px() >= MIN_LABEL_PX
    assert in_viewport(view, loss_item(view).sceneBoundingRect())
    assert all(in_viewport(view, rect) for _, rect in cluster_titles(view))
    assert all(in_viewport(view, item.sceneBoundingRect()) for item in view.items_by_key.values()
               if isinstance(item, BoxItem))


# Z, opening, following

def test_z_on_a_small_box_zooms_to_a_readable_scale(make_window):
    view = make_window(1280, 720).graph
    view.session.select(view.session.visible.key_of[view.session.trace.loss_id])
    view.zoom(0.2)
    assert view.smallest_label_px() < MIN_LABEL_PX
    view.zoom_to_selection()
    assert view.transform().m11() >= view.readable_scale()
    assert view.smallest_label_px() >= MIN_LABEL_PX
    rect = on_screen(view, loss_item(view).sceneBoundingRect())
    assert view.viewport().rect().contains(rect)
    assert abs(rect.center().x() - view.viewport().rect().center().x()) <= 2  # centred


def test_z_on_a_frame_larger_than_the_window_shows_its_title_readably(make_window, qtbot):
    win = make_window(1280, 720)
    view, s = win.graph, win.session
    pos0 = s.trace.scope_id('pos 0')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id('pos 0 / layer 0 / attention'))
    s.select(group_key(pos0))
    view.zoom(0.3)
    view.zoom_to_selection()
    assert view.smallest_label_px() >= MIN_LABEL_PX
    frame = view.items_by_key[group_key(pos0)]
    assert in_viewport(view, frame.title_rect().translated(frame.pos()))


def test_z_on_a_parameter_shows_its_cell_in_the_grid_large_enough_to_see(make_window):
    """A parameter is drawn as a cell of its matrix's grid, not as a box: Z used to do nothing with it."""
    from explorer.graph.navigation import LANDED_CELL_PX, LANDED_MAX
    view = make_window(1280, 720).graph
    s = view.session
    [wte] = s.search('wte[4][3]')
    s.select(wte)
    view.zoom(0.2)
    view.zoom_to_selection()
    cell = on_screen(view, view.param_cell_rect(wte))
    assert view.viewport().rect().contains(cell) and view.transform().m11() >= view.readable_scale()
    assert cell.width() >= min(LANDED_CELL_PX, LANDED_MAX * view.readable_scale() * view.param_cell_rect(wte).width()) - 1


@pytest.mark.parametrize('path', ['pos 2 / layer 0 / attention', 'pos 3 / layer 0 / mlp', 'pos 0 / lm_head'])
def test_after_opening_a_group_it_is_in_view_at_a_readable_scale(make_window, qtbot, path):
    win = make_window(1280, 720)
    view, s = win.graph, win.session
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)  # built in slices: on a busy machine, not yet
    scope = s.trace.scope_id(path)
    box = view.items_by_key[group_key(scope)]
    view.zoom(1.6)  # closer than the first view, so the minimap shows, and the box under it
    put_at(view, box.sceneBoundingRect().center(), QPointF(view.minimap.geometry().center()))
    assert view.minimap.isVisible()
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(scope)
    frame = view.items_by_key[group_key(scope)]
    assert isinstance(frame, ClusterItem)
    assert view.transform().m11() >= view.readable_scale()
    assert view.smallest_label_px() >= MIN_LABEL_PX
    rect = frame.sceneBoundingRect()
    if on_screen(view, rect).size().boundedTo(view.viewport().size()) == on_screen(view, rect).size():
        assert in_viewport(view, rect)  # it fits: all of it
    else:
        assert in_viewport(view, frame.title_rect().translated(frame.pos()))
    if view.minimap.isVisible():
        assert not view.minimap.geometry().intersects(on_screen(view, frame.title_rect().translated(frame.pos())))


def test_follow_keeps_the_last_step_clear_of_the_minimap(make_window, qtbot):
    win = make_window(1280, 720)
    view, bp = win.graph, win.session.backprop
    view.zoom(1.6)  # the whole graph does not fit: the minimap shows
    bp.step()
    first = view.focus_key
    while view.focus_key in (None, first):  # the step that first moves to another box
        bp.step()
    target = view.items_by_key[view.focus_key]
    bp.back()
    assert view.focus_key != target.box.key
    assert view.minimap.isVisible()
    m, port = view.minimap, view.viewport()
    corner = QRect(port.width() - m.width() - 8, port.height() - m.height() - 8, m.width(), m.height())
    put_at(view, target.sceneBoundingRect().center(), QPointF(corner.center()))  # where the minimap stands first
    assert corner.intersects(on_screen(view, target.sceneBoundingRect()))
    bp.step()
    assert view.focus_key == target.box.key
    shown = on_screen(view, target.sceneBoundingRect())
    assert view.viewport().rect().contains(shown) and not view.minimap.geometry().intersects(shown)


# Panels raised when needed

def test_a_click_in_the_graph_raises_the_inspector_and_a_step_the_chain_rule(make_window, qtbot):
    win = make_window(1280, 720)
    loss_key = win.session.visible.key_of[win.session.trace.loss_id]
    win.graph.box_clicked.emit(loss_key)
    qtbot.wait(10)
    assert not win.inspector.visibleRegion().isEmpty()
    win.step_act.trigger()
    qtbot.wait(10)
    assert not win.chain_rule.visibleRegion().isEmpty()


# Colours

def contrast(a, b):
    def lum(hex_color):
        c = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize('colors', [LIGHT, DARK], ids=['light', 'dark'])
def test_label_colours_have_contrast_on_their_fills(colors):
    pairs = [('text', f) for f in ('group', 'param', 'scalar', 'cluster', 'progress', 'unreached')]
    pairs += [('muted', f) for f in ('group', 'param', 'cluster', 'progress')] + [('unreached_text', 'unreached')]
    low = {(t, f): round(contrast(colors[t], colors[f]), 2) for t, f in pairs
           if contrast(colors[t], colors[f]) < 4.5}
    assert not low, f'below 4.5:1: {low}'



def test_panels_hide_and_come_back(make_window, qtbot):
    win = make_window(1280, 720, record=False)
    shown = [d for d in win.findChildren(QDockWidget) if d.isVisible()]
    win.panels_act.trigger()
    qtbot.wait(10)
    assert not any(d.isVisible() for d in shown) and graph_fraction(win) > 0.8
    assert 'Show' in win.panels_act.text()
    win.panels_act.trigger()
    assert all(d.isVisible() for d in shown) and 'Hide' in win.panels_act.text()


def test_follow_brings_the_first_steps_box_into_view(make_window, qtbot):
    """The loss box is the focus before any step (the build marks it): the first step still moves to it."""
    win = make_window(1280, 720)
    s, view = win.session, win.graph
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id('pos 0 / layer 0 / attention / head 1'))
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    loss = view.items_by_key[s.visible.key_of[s.trace.loss_id]]
    assert not view.viewport().rect().intersects(on_screen(view, loss.sceneBoundingRect()))
    win.step_act.trigger()
    assert view.focus_key == loss.box.key
    assert view.viewport().rect().contains(on_screen(view, loss.sceneBoundingRect()))


def opened_head(make_window, qtbot, width, height):
    win = make_window(width, height)
    session = win.session
    with qtbot.waitSignal(session.view_changed, timeout=20000):
        session.open_group(session.trace.scope_id(HEAD))
    qtbot.waitUntil(lambda: not win.graph.building(), timeout=20000)
    return win


def in_view(view, key):
    rect = view.mapFromScene(view.items_by_key[key].sceneBoundingRect()).boundingRect()
    return view.viewport().rect().contains(rect)


@pytest.mark.slow  # two new windows, one opened head each
@pytest.mark.parametrize('width, height, with_inputs', [(2000, 1200, True), (1280, 720, False)])
def test_an_opened_head_shows_with_what_feeds_it_when_there_is_room(make_window, qtbot, width, height,
                                                                    with_inputs):
    win = opened_head(make_window, qtbot, width, height)
    view, trace = win.graph, win.session.trace
    assert in_view(view, group_key(trace.scope_id(HEAD)))  # what was opened: always whole
    linears = [group_key(trace.scope_id(f'pos 2 / layer 0 / attention / {n}')) for n in 'qkv']
    assert all(in_view(view, k) for k in linears) == with_inputs


# F and Collapse all: never a view without readable text

def settle(win, qtbot):
    s, view = win.session, win.graph
    qtbot.waitUntil(lambda: not s.layout_pending and not view.building(), timeout=20000)


def text_in_view_is_readable(view):
    """Every box in view is painted with its labels (its level of detail at this scale draws text) and the
    smallest of them is MIN_LABEL_PX device pixels high or more."""
    scale = view.transform().m11()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    boxes = [item for item in view.scene().items(shown) if isinstance(item, BoxItem)]
    return bool(boxes) and paints_text(scale) and view.smallest_label_px() >= MIN_LABEL_PX


def test_f_with_a_head_open_leaves_every_box_in_view_with_readable_text(make_window, qtbot):
    """The open head makes the graph far wider than the window at a readable scale: F used to fit it whole at
    a scale that draws boxes as flat rectangles. Now F stops at the readable scale, brings the selection (the
    head's softmax) back to the middle of the view, shows graph (no blank) to the edges, and the status bar
    says why the whole is not shown."""
    win = make_window(1280, 720)
    view, s = win.graph, win.session
    s.open_group(s.trace.scope_id(HEAD))
    settle(win, qtbot)
    softmax = group_key(s.trace.scope_id(HEAD + ' / softmax'))
    s.select(softmax)
    view.zoom(2.0)
    view.centerOn(QPointF(0, 0))  # the weights, away from the head
    box = view.items_by_key[softmax]
    assert not in_viewport(view, box.sceneBoundingRect())
    win.fit_act.trigger()
    assert abs(view.transform().m11() - view.readable_scale()) < 1e-9
    assert text_in_view_is_readable(view)
    assert in_viewport(view, box.sceneBoundingRect())
    middle = view.viewport().rect().adjusted(view.viewport().width() // 4, 0, -view.viewport().width() // 4, 0)
    assert middle.contains(on_screen(view, box.sceneBoundingRect()).center())  # around it, not at an edge
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    content = QRectF(0, 0, s.layout.width, s.layout.height)
    assert content.intersected(shown).width() >= shown.width() - 60  # graph across the window, not margin
    assert 'minimap' in win.statusBar().currentMessage()


def test_f_on_the_overview_fits_it_whole_as_the_first_view(make_window, qtbot):
    win = make_window(1600, 1000)
    view = win.graph
    first = view.transform().m11()
    view.zoom(0.3)
    win.fit_act.trigger()
    assert abs(view.transform().m11() - first) < 1e-9 and text_in_view_is_readable(view)
    assert all(in_viewport(view, item.sceneBoundingRect()) for item in view.items_by_key.values())


def test_collapse_all_after_f_or_far_out_shows_the_overview_readable(make_window, qtbot):
    """Collapse all after F with a head open, or after zooming far out by hand, is the overview as first
    shown: every frame titled, in view, readable (it used to keep the tiny scale: boxes without text)."""
    win = make_window(1280, 720)
    view, s = win.graph, win.session
    s.open_group(s.trace.scope_id(HEAD))
    settle(win, qtbot)
    win.fit_act.trigger()
    for far_out in (False, True):
        if far_out:
            view.zoom(0.2)
            assert not text_in_view_is_readable(view)
        win.collapse_act.trigger()
        settle(win, qtbot)
        assert text_in_view_is_readable(view)
        assert all(in_viewport(view, rect) for _, rect in cluster_titles(view))
        assert 'too large' not in win.statusBar().currentMessage()  # what F said is no longer so
    view.zoom(0.2)
    s.collapse_all()  # from anywhere else (a reset): no view is placed below the readable scale
    settle(win, qtbot)
    assert text_in_view_is_readable(view)


def test_zoom_from_the_keyboard_keeps_the_selection_where_it_is_on_screen(window, qtbot):
    """Ctrl+- zoomed about wherever the mouse happened to rest (a corner of the graph: the view jumped there
    and the selection left it). From the keyboard it zooms about the selection, or the middle of the view."""
    from PySide6.QtGui import QCursor
    view, s = window.graph, window.session
    qtbot.waitUntil(lambda: not view.building(), timeout=60000)
    QCursor.setPos(view.viewport().mapToGlobal(QPoint(5, 5)))  # resting over the graph's top-left corner
    qtbot.mouseMove(view.viewport(), QPoint(5, 5))
    key = next(k for k in view.items_by_key if k.startswith('g') and view.items_by_key[k].isVisible())
    s.select(key)
    view._set_scale(view.readable_scale() * 2)
    view.centerOn(view.items_by_key[key].sceneBoundingRect().center())
    before = view.mapFromScene(view.items_by_key[key].sceneBoundingRect().center())
    window.zoom_out_act.trigger()
    after = view.mapFromScene(view.items_by_key[key].sceneBoundingRect().center())
    assert abs(view.transform().m11() - view.readable_scale() * 1.6) < 1e-9
    assert (after - before).manhattanLength() <= 2


def test_a_tour_lands_on_a_box_in_the_middle_of_the_view_where_find_moves_as_little_as_needed(make_window):
    """The fresh-eyes reviewer of the tours: their targets sat at the view's edge (tour 2 step 6's residual)."""
    view = make_window(1280, 720).graph
    s = view.session
    key = group_key(s.trace.scope_id('pos 1 / layer 0 / mlp'))
    box = view.items_by_key[key].sceneBoundingRect()
    put_at(view, box.center(), QPointF(view.viewport().width() + 400, view.viewport().height() // 2))  # off to the right
    view.land(key)  # Find: the least move, so it comes in at the edge
    edge = on_screen(view, box)
    assert view.viewport().rect().contains(edge)
    assert abs(edge.center().x() - view.viewport().rect().center().x()) > view.viewport().width() / 4
    put_at(view, box.center(), QPointF(view.viewport().width() + 400, view.viewport().height() // 2))
    view.land(key, centre=True)
    middle = on_screen(view, box)
    assert view.viewport().rect().contains(middle)
    assert abs(middle.center().x() - view.viewport().rect().center().x()) <= 2
    assert abs(middle.center().y() - view.viewport().rect().center().y()) <= 2
