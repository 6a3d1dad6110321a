"""explorer.graph.minimap: shown only when the graph does not fit in its window (and View › Minimap is on),
drawn from the layout with the box backprop is at marked; a click in it brings that part of the graph
into the view."""

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor


def zoomed_in(window, qtbot):
    view = window.graph
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    view.fitInView(view.scene().sceneRect(), Qt.KeepAspectRatio)  # all of it (F stops at a readable size)
    view.minimap.refresh()
    assert not view.minimap.isVisible()  # the whole graph fits: nothing to find one's way in
    view._set_scale(view.readable_scale() * 3)
    view.minimap.refresh()
    return view, view.minimap


def test_it_shows_when_the_graph_does_not_fit_and_hides_when_turned_off(window, qtbot):
    view, minimap = zoomed_in(window, qtbot)
    assert minimap.isVisible() and minimap.source == view.scene().sceneRect()
    image = minimap.picture.toImage()
    current = QColor(view.colors['current']).rgb()
    assert any(image.pixel(x, y) == current for y in range(image.height()) for x in range(image.width()))
    view.set_minimap(False)
    assert not minimap.isVisible()
    view.set_minimap(True)
    assert minimap.isVisible()


def test_a_click_brings_that_part_of_the_graph_into_view(window, qtbot):
    view, minimap = zoomed_in(window, qtbot)
    scale, dx, dy = minimap._to_widget()
    for target in (minimap.source.topLeft() + QPointF(minimap.source.width() * 0.25, minimap.source.height() / 2),
                   minimap.source.center()):
        at = QPointF(target.x() * scale + dx, target.y() * scale + dy)
        qtbot.mouseClick(minimap, Qt.LeftButton, pos=at.toPoint())
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        assert abs(shown.center().x() - target.x()) < 2 / scale + 2
        assert abs(shown.center().y() - target.y()) < 2 / scale + 2 or shown.height() >= minimap.source.height()


def test_the_part_on_screen_is_a_closed_frame_even_when_the_view_is_taller_than_the_graph(window, qtbot):
    """The overview is wide and low: zoomed in, the view shows more than its height, and the frame's top and
    bottom fell outside the minimap (two lines). It is cut to the minimap: all four sides are drawn."""
    view, minimap = zoomed_in(window, qtbot)
    scene, port = view.scene().sceneRect(), view.viewport().size()
    view._set_scale(port.height() / (scene.height() + 100))  # the view taller than the whole graph
    view.centerOn(scene.center())
    minimap.refresh()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert minimap.isVisible() and shown.height() > scene.height() and shown.width() < scene.width() - 80
    frame = minimap.frame()
    image = minimap.grab().toImage()
    pen = QColor(view.colors['selection'])

    def near(x, y):  # the frame's pen (blended by the tint or the antialiasing) within a pixel of (x, y)
        return any(_close(QColor(image.pixel(x + i, y + j)), pen) for i in (-1, 0, 1) for j in (-1, 0, 1)
                   if 0 <= x + i < image.width() and 0 <= y + j < image.height())
    mid_x, mid_y = int(frame.center().x()), int(frame.center().y())
    assert frame.width() > 4 and frame.height() > 4
    for x, y in ((mid_x, int(frame.top())), (mid_x, int(frame.bottom())), (int(frame.left()), mid_y),
                 (int(frame.right()), mid_y)):
        assert near(x, y), f'no frame side at ({x}, {y}) of {frame}'


def _close(a, b, tolerance=40):
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tolerance


def test_in_a_short_graph_area_it_is_smaller_and_in_a_tiny_one_not_shown(window, qtbot):
    """A workspace with a strip along the bottom leaves the graph ~290 px high: the minimap takes at most a
    quarter of the area each way, and none when that is too small to read."""
    from PySide6.QtCore import QSize
    view, minimap = zoomed_in(window, qtbot)
    minimap.fit(QSize(800, 290))
    minimap.refresh()
    assert minimap.isVisible() and minimap.height() <= 290 // 4 and minimap.width() == 200
    minimap.fit(QSize(300, 200))
    minimap.refresh()
    assert not minimap.isVisible()
    minimap.fit(view.viewport().size())
    minimap.refresh()
    assert minimap.isVisible()


def test_it_moves_to_the_other_corner_rather_than_cover_the_loss(window, qtbot):
    """Bottom right, unless the loss box (or the selection, or the box backprop is in) would be under it."""
    view, minimap = zoomed_in(window, qtbot)
    view._set_scale(view.readable_scale() * 1.2)  # the loss box narrower than the view less the minimap
    minimap.refresh()
    s, port = window.session, view.viewport()
    loss = view.items_by_key[s.visible.key_of[s.trace.loss_id]]
    assert minimap.isVisible() and view.mapFromScene(loss.sceneBoundingRect()).boundingRect().width() < \
        port.width() - minimap.width() - 3 * 8
    scale, corner = view.transform().m11(), loss.sceneBoundingRect().bottomRight()
    view.centerOn(corner - QPointF(port.width() / 2 - 20, port.height() / 2 - 20) / scale)  # the loss bottom right
    under = view.mapFromScene(loss.sceneBoundingRect()).boundingRect()
    assert under.bottom() > port.height() - minimap.height() and under.right() > port.width() - minimap.width()
    assert minimap.x() < port.width() // 2 and not minimap.geometry().intersects(under)
    view.centerOn(view.scene().sceneRect().topLeft())  # the loss far away: back to its corner
    assert minimap.x() > port.width() // 2
