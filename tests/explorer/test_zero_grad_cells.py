"""A weight or strip cell whose grad is exactly 0 is grey, as the legend says: never white, which would
pass for a tiny gradient, and never its value colour, which would pass for 'not reached yet'."""

from PySide6.QtGui import QColor, QImage, QPainter

from explorer.graph import weight_grid
from explorer.panels.legend import legend_texts
from explorer.theme import grad_color
from explorer.graph.vector_strip import cell_rects, paint_cells


def test_a_weight_cell_with_grad_exactly_zero_is_grey(window, qtbot):
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    view, bp = window.graph, window.session.backprop
    cells, colors = view.weight_cells(), view.colors
    bp.seek(bp.total)
    zero = [(name, r, c) for name, used in cells.used.items() for r, c, n in used if bp.grads[n] == 0]
    some = [(name, r, c) for name, used in cells.used.items() for r, c, n in used if bp.grads[n] != 0]
    assert zero and some, 'this document has no parameter whose grad is exactly 0 (relu stops none)'
    for name, r, c in zero[:5]:
        assert weight_grid.cell_color(cells, name, r, c, bp, colors) == QColor(colors['zero_grad'])
    name, r, c = some[0]
    assert weight_grid.cell_color(cells, name, r, c, bp, colors) == grad_color(bp.grads[cells.nodes[name][r][c]],
                                                                               colors)
    assert any('grad is exactly 0: grey' in t for t in legend_texts())


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
