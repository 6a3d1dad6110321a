"""explorer.graph.items: a box paints from a cached picture yet shows a changed mark (selection,
breakpoint) at once; level of detail (far out a flat rectangle, at every readable scale its labels, a long
scalar name keeping both ends at 10 px or more); a scalar box reads name | op | data | grad in cells of
their own; with a head open, the edges that do not touch it are paler (EdgeItem.fade)."""

from types import SimpleNamespace

from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from engine.graph.geometry import SCALAR_DATA, SCALAR_GRAD, SCALAR_WIDTH, box_size, scalar_cells
from engine.graph.keys import node_key
from explorer.graph.items import LABEL_PX, BoxItem, paints_text
from explorer.graph.navigation import MIN_LABEL_PX

HEAD = 'pos 2 / layer 0 / attention / head 1'


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


def text_pixels(item, scale):
    """Paint `item` alone at `scale` onto white; the number of pixels dark enough to be text (every fill and
    border of a box is lighter)."""
    rect = item.boundingRect()
    image = QImage(int(rect.width() * scale) + 4, int(rect.height() * scale) + 4, QImage.Format_ARGB32)
    image.fill(0xffffffff)
    painter = QPainter(image)
    painter.setTransform(QTransform.fromScale(scale, scale).translate(2, 2))
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if QColor(image.pixel(x, y)).lightness() < 125)


def test_labels_are_painted_at_every_readable_scale_and_not_when_far_out(window, qtbot):
    view = window.graph
    readable = view.readable_scale()
    assert paints_text(readable) and paints_text(readable * 1.5)
    assert not paints_text(0.1)
    box = next(item for item in view.items_by_key.values()
               if isinstance(item, BoxItem) and item.box.node < 0 and not view.is_param_box(item.box))
    assert text_pixels(box, readable) > 20     # the title and detail lines
    assert text_pixels(box, 0.1) == 0          # a flat rectangle
    view._set_scale(readable)
    view.centerOn(box)
    assert view.smallest_label_px() >= MIN_LABEL_PX
    view._set_scale(0.1)
    assert view.smallest_label_px() == 0.0


def test_a_label_is_dropped_only_below_4_px():
    assert paints_text(4 / LABEL_PX)
    assert not paints_text(3.9 / LABEL_PX)


def test_a_long_scalar_name_keeps_both_ends_at_10_px(window):
    view = window.graph
    box = SimpleNamespace(key='n1', node=1, scope=0, title='attn_weights[2]·values[2][5]', detail='0.1234', op='*')
    item = BoxItem(view, box, (0, 0, *box_size(box)))
    (_, font, name), (_, _, op), (_, _, data) = item.scalar_labels()
    assert font.pixelSize() >= 10
    assert name.startswith('attn') and name.endswith('[5]') and '…' in name
    assert data == '0.1234' and op == '*'
    short_box = SimpleNamespace(key='n2', node=2, scope=0, title='q[3]', detail='1.0', op='+')
    short = BoxItem(view, short_box, (0, 0, *box_size(short_box)))
    assert short.scalar_labels()[0][2] == 'q[3]' and short.scalar_labels()[0][1] == view.bold_font


def test_dot_product_terms_and_every_op_are_whole_at_10_px(window, qtbot):
    s = window.session
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    head = 'pos 4 / layer 0 / attention / head 3 / scores / q·k[4]'
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.open_group(s.trace.scope_id(head), to_scalars=True)
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    items = [window.graph.items_by_key[node_key(b.node)] for b in s.visible.boxes
             if b.node >= 0 and s.trace.scopes[b.scope].path.startswith(head)]
    products = [i for i in items if '·keys[' in i.box.title]
    assert len(products) == 4 and products[-1].box.title == 'q[15]·keys[4][15]'
    for item in products:
        (_, font, name), (_, op_font, op), (_, _, data) = item.scalar_labels()
        assert name == item.box.title and font.pixelSize() >= 10
        assert op == '*' and op_font.pixelSize() >= 10 and data == item.box.detail
    for op in sorted(set(s.trace.op)):
        node = s.trace.op.index(op)
        box = SimpleNamespace(key=node_key(node), node=node, scope=0, title='x', detail='-12.3456', op=op)
        item = BoxItem(window.graph, box, (0, 0, *box_size(box)))
        assert [label for *_, label in item.scalar_labels()] == ['x', op, '-12.3456'], op


def test_a_scalar_box_is_as_wide_as_its_cells_need():
    short = SimpleNamespace(title='loss', op='*', node=1, key='n1')
    long = SimpleNamespace(title='q[15]·keys[4][15]', op='**-0.5', node=2, key='n2')
    assert box_size(short)[0] == SCALAR_WIDTH  # the loss box keeps the overview narrow
    assert box_size(long)[0] > SCALAR_WIDTH
    op_x, data_x, grad_x = scalar_cells(long)
    assert box_size(long)[0] - grad_x == SCALAR_GRAD and grad_x - data_x == SCALAR_DATA


def test_edges_that_do_not_touch_the_open_head_are_paler(window, qtbot):
    s, view = window.session, window.graph
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    assert not any(e.faded for e in view.edges_by_key.values())
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id(HEAD))
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    inside = {b.key for b in s.visible.boxes
              if s.trace.scopes[b.scope].path == HEAD or s.trace.scopes[b.scope].path.startswith(HEAD + ' / ')}
    touching = [e for (a, b), e in view.edges_by_key.items() if a in inside or b in inside]
    others = [e for (a, b), e in view.edges_by_key.items() if a not in inside and b not in inside]
    assert len(touching) >= 10 and others
    assert not any(e.faded for e in touching) and all(e.faded for e in others)
    edge, background = QColor(view.colors['edge']), QColor(view.colors['background'])
    for e in others:  # mixed towards the background, and opaque (translucent curves slow panning down)
        c = e.pen().color()
        assert c.alphaF() == 1.0 and abs(c.lightness() - background.lightness()) < abs(edge.lightness() - background.lightness())


def test_a_position_opened_whole_fades_nothing(window, qtbot):
    s, view = window.session, window.graph
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id('pos 1 / layer 0 / attention'), to_scalars=True)  # every head open
    qtbot.waitUntil(lambda: not view.building(), timeout=30000)
    assert not any(e.faded for e in view.edges_by_key.values())
