"""explorer.graph.vector_strip, the vector level in the window: a closed group's strip of cells (hover: name,
data, grad; click: that scalar selected, opening what hides it; a cell whose grad is exactly 0 is grey), an
open head's vector boxes, KV-cache edges drawn dashed teal with what they carry, and the legend naming them."""

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsSceneHoverEvent

from engine.graph.keys import group_key, node_key, vector_key
from engine.numbers import shown
from explorer.graph.items import BoxItem, EdgeItem
from explorer.graph.vector_strip import cell_at, cell_rects, cell_tooltip, paint_cells
from explorer.panels.legend import legend_texts
from tests.explorer.conftest import long_numbers

ATTENTION = 'pos 2 / layer 0 / attention'
HEAD = f'{ATTENTION} / head 1'


def item_for(window, path):
    s = window.session
    return window.graph.items_by_key[group_key(s.trace.scope_id(path))]


def wait_built(window, qtbot):
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)


def test_a_cell_tooltip_gives_name_data_and_grad(window, qtbot):
    s = window.session
    wait_built(window, qtbot)
    box = item_for(window, ATTENTION).box
    node, name, data = box.cells[7]
    assert name == 'x[7]' and data == s.trace.data[node]
    tip = cell_tooltip(s.trace, s.backprop, box.cells[7])
    assert tip.startswith(f'x[7] — {ATTENTION} / residual') and f'data {shown(data)}' in tip
    assert 'grad not reached yet' in tip
    s.backprop.seek(len(s.trace))  # backprop done: the grad is in
    tip = cell_tooltip(s.trace, s.backprop, box.cells[7])
    assert f'grad {shown(s.backprop.grads[node])}' in tip and 'not reached' not in tip
    assert long_numbers(tip) == []  # every digit is the Inspector's
    softmax = item_for(window, 'pos 2 / softmax').box
    unrecorded = next(c for c in softmax.cells if c[0] < 0)
    assert 'not in the recorded graph' in cell_tooltip(s.trace, s.backprop, unrecorded)


def test_hovering_a_cell_shows_that_scalar(window, qtbot):
    wait_built(window, qtbot)
    item = item_for(window, ATTENTION)
    rects = cell_rects(item.box, item.rect.width())
    assert len(rects) == 16 and [r[0] for r in rects] == sorted(r[0] for r in rects)  # index order, left to right
    x, y, w, h = rects[3]
    assert cell_at(item.box, item.rect.width(), x + w / 2, y + h / 2) == 3
    event = QGraphicsSceneHoverEvent(QEvent.GraphicsSceneHoverMove)
    event.setPos(QPointF(x + w / 2, y + h / 2))
    item.hoverMoveEvent(event)
    assert item.toolTip().startswith('x[3] — ')
    event.setPos(QPointF(item.rect.width() / 2, 6))  # the title: the group's own tooltip
    item.hoverMoveEvent(event)
    assert item.toolTip().startswith(ATTENTION)


def test_clicking_a_cell_selects_its_scalar(window, qtbot):
    s, view = window.session, window.graph
    wait_built(window, qtbot)
    item = item_for(window, ATTENTION)
    x, y, w, h = cell_rects(item.box, item.rect.width())[5]
    node = item.box.cells[5][0]
    view.centerOn(item)
    at = view.mapFromScene(item.mapToScene(QPointF(x + w / 2, y + h / 2)))
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=at)
    assert s.selected == node_key(node)
    assert node_key(node) in s.layout.boxes  # what hid it is open now


def test_an_open_head_draws_its_vector_boxes_and_kv_edges(window, qtbot):
    s, view = window.session, window.graph
    head = s.trace.scope_id(HEAD)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(head)
    wait_built(window, qtbot)
    keys = view.items_by_key[vector_key(head, 'keys')]
    assert isinstance(keys, BoxItem) and keys.box.rows == 3 and len(keys.box.cells) == 12
    image = QImage(400, 200, QImage.Format_ARGB32)
    painter = QPainter(image)
    view.scene().render(painter, source=keys.sceneBoundingRect())  # paints without error
    painter.end()
    kv = [e for e in view.edges_by_key.values() if isinstance(e, EdgeItem) and e.kv]
    assert kv and all(e.key in s.visible.kv_edges for e in kv)
    into_keys = [e for e in kv if e.key[1] == keys.box.key]
    assert into_keys and all(e.pen().style() == Qt.DashLine for e in into_keys)
    assert all(e.pen().color().name() == view.colors['kv'] for e in into_keys)
    tips = {e.toolTip().split(' (')[0] for e in into_keys}
    assert tips == {'keys/values of pos 0 → attention of pos 2', 'keys/values of pos 1 → attention of pos 2'}
    plain = [e for e in view.edges_by_key.values() if not e.kv]
    assert plain and all(e.pen().style() == Qt.SolidLine for e in plain)


def test_a_vector_box_key_reveals_and_closes_its_head(window, qtbot):
    s = window.session
    head = s.trace.scope_id(HEAD)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(vector_key(head, 'q'))
    assert head in s.opened and s.selected == vector_key(head, 'q')
    assert s.backprop.describe(vector_key(head, 'q')) == f'{HEAD} / q'
    text = window.inspector.toPlainText()  # the inspector lists its cells
    assert 'vector\nq\n' in text and f'made in\n{ATTENTION} / q' in text
    assert all(f'q[{j}]\ndata ' in text for j in range(4, 8))
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        window._close_selected()  # Backspace on a vector box closes the head it stands in
    assert head not in s.opened


def test_the_legend_explains_strips_vector_boxes_and_kv_edges():
    text = '\n'.join(legend_texts())
    assert 'KV cache' in text and 'dashed teal' in text
    assert "closed group's output vector" in text and 'purple negative, orange positive' in text
    assert 'vector made elsewhere' in text


def test_gradient_sent_through_a_vector_box_is_drawn_on_its_edges(window, qtbot):
    s, view = window.session, window.graph
    head = s.trace.scope_id(HEAD)
    scores = s.trace.scope_id(f'{HEAD} / scores')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(scores)
    wait_built(window, qtbot)
    trace = s.trace
    product = next(b.node for b in s.visible.boxes if b.node >= 0 and b.title == 'q[5]·keys[1][5]')
    order = trace.backward_order
    s.backprop.seek(order.index(product) + 2)  # the seed is a step of its own
    record = s.backprop.stepper.last_record()
    assert record.node == product
    q5 = trace.children[product][0]
    q_box = vector_key(head, 'q')
    assert (q_box, node_key(product)) in view.flows and (s.visible.key_of[q5], q_box) in view.flows
    total, count = view.flows[(q_box, node_key(product))]
    assert count == 1 and total == next(c.contribution for c in record.contributions if c.child == q5)


def test_a_strip_cell_with_grad_exactly_zero_is_grey(window, qtbot):
    s = window.session
    with qtbot.waitSignal(s.view_changed, timeout=20000):  # its fc1 strip: relu stops the grads of x < 0
        s.open_group(s.trace.scope_id('pos 2 / layer 0 / mlp'))
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    view, bp = window.graph, s.backprop
    bp.seek(bp.total)
    found = None
    for item in view.items_by_key.values():
        box = getattr(item, 'box', None)
        for i, (node, _, _) in enumerate(getattr(box, 'cells', None) or ()):
            if node >= 0 and bp.reached(node) and bp.grads[node] == 0:
                found = box, item.rect, i
                break
        if found:
            break
    assert found, 'no strip shows a reached cell whose grad is exactly 0'
    box, rect, i = found
    image = QImage(int(rect.width()) + 2, int(rect.height()) + 2, QImage.Format_RGB32)
    image.fill(QColor(view.colors['background']))
    painter = QPainter(image)
    paint_cells(painter, box, rect.width(), bp, view.colors, {})
    painter.end()
    r = cell_rects(box, rect.width())[i]
    assert QColor(image.pixel(int(r[0] + r[2] / 2), int(r[1] + r[3] / 2))) == QColor(view.colors['zero_grad'])


def strip_colors(view, item, bp):
    """The colour of each cell of a box's strip, as paint_cells draws it."""
    rect, box = item.rect, item.box
    image = QImage(int(rect.width()) + 2, int(rect.height()) + 2, QImage.Format_RGB32)
    image.fill(QColor(view.colors['background']))
    painter = QPainter(image)
    paint_cells(painter, box, rect.width(), bp, view.colors, {})
    painter.end()
    return [QColor(image.pixel(int(x + w / 2), int(y + h / 2))) for x, y, w, h in cell_rects(box, rect.width())]


def test_a_finished_softmax_strip_is_in_grad_colours(window, qtbot):
    """Issue 21: once backprop passed a softmax, its strip still showed the probabilities the loss does not
    read (not recorded) in value colours; their grad is exactly 0, so they turn grey with the rest."""
    view, bp = window.graph, window.session.backprop
    wait_built(window, qtbot)
    item = item_for(window, 'pos 2 / softmax')
    unrecorded = [i for i, (node, _, _) in enumerate(item.box.cells) if node < 0]
    assert unrecorded and len(unrecorded) < len(item.box.cells)
    before = strip_colors(view, item, bp)
    assert any(before[i] != QColor(view.colors['zero_grad']) for i in unrecorded)  # values, not reached yet
    bp.seek(bp.total)
    after = strip_colors(view, item, bp)
    assert all(after[i] == QColor(view.colors['zero_grad']) for i in unrecorded)
    target = next(i for i, (node, _, _) in enumerate(item.box.cells) if node >= 0)
    assert after[target] != before[target] and after[target] != QColor(view.colors['zero_grad'])
