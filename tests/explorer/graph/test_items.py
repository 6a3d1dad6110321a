"""Boxes are painted from a cached picture while the view pans: a mark that changes on a box (selection,
breakpoint) must still show at once."""

from PySide6.QtGui import QColor

from explorer.graph.items import BoxItem


def colour_count(view, item, colour):
    """Pixels of `colour` on screen within the box's bounds."""
    image = view.viewport().grab().toImage()
    rect = view.mapFromScene(item.sceneBoundingRect()).boundingRect().intersected(image.rect())
    want = QColor(colour).rgb()
    return sum(1 for y in range(rect.top(), rect.bottom() + 1) for x in range(rect.left(), rect.right() + 1)
               if image.pixel(x, y) == want)


def shown_box(window, qtbot):
    view = window.graph
    qtbot.waitUntil(lambda: not view.building())
    item = next(i for i in view.items_by_key.values() if isinstance(i, BoxItem) and i.box.title == 'softmax')
    view._set_scale(view.readable_scale())
    view.centerOn(item)
    colour_count(view, item, '#000000')  # painted (and cached) once before the change
    return view, item


def test_selecting_a_box_shows_its_ring_at_once(window, qtbot):
    view, item = shown_box(window, qtbot)
    selection = view.colors['selection']
    assert colour_count(view, item, selection) == 0
    window.session.select(item.box.key)
    assert colour_count(view, item, selection) > 50
    window.session.select(None)
    assert colour_count(view, item, selection) == 0


def test_a_breakpoint_shows_at_once(window, qtbot):
    view, item = shown_box(window, qtbot)
    mark = view.colors['breakpoint']
    assert colour_count(view, item, mark) == 0
    window.session.backprop.toggle_breakpoint(item.box.key)
    assert colour_count(view, item, mark) > 10
