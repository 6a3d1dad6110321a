"""The vector level drawn as cells, like llm-viz: a closed group's output vector as a strip under its
two lines, and a vector box (q, the keys and values of the KV cache, shown in the head that reads them)
as a grid of cells. A cell is coloured by its value (purple negative, orange positive, scaled to the
largest in its vector) until backprop reaches it, then by its gradient on the graph's grad scale.

The geometry (which cell is where) and the text of a cell's tooltip are plain functions, so tests can
ask them without painting."""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from engine.graph.geometry import STRIP_HEIGHT, STRIP_TEXT, VECTOR_CELL, VECTOR_TEXT, vector_grid
from engine.numbers import shown

from explorer.theme import grad_color, value_colors

STRIP_INSET = 8.0  # the strip's margin from the box's sides
MAX_STRIP_CELL = 14.0  # the widest cell of a strip


def cell_rects(box, width):
    """The cells of a box (x, y, w, h) in its own coordinates, in index order (row by row for a vector
    box); [] for a box without cells."""
    n = len(box.cells)
    if not n:
        return []
    if box.is_vector:
        cols, _ = vector_grid(box)
        cw, ch = VECTOR_CELL
        left = (width - cols * cw) / 2
        return [(left + (i % cols) * cw, VECTOR_TEXT + (i // cols) * ch, cw, ch) for i in range(n)]
    cw = min(MAX_STRIP_CELL, (width - 2 * STRIP_INSET) / n)
    left = (width - n * cw) / 2  # centred: a short vector is a few cells, not a bar
    return [(left + i * cw, STRIP_TEXT, cw, STRIP_HEIGHT) for i in range(n)]


def cell_at(box, width, x, y):
    """The index of the cell under point (x, y) of the box, or None."""
    for i, (cx, cy, cw, ch) in enumerate(cell_rects(box, width)):
        if cx <= x < cx + cw and cy <= y < cy + ch:
            return i
    return None


def cell_tooltip(trace, backprop, cell):
    """What hovering a cell says: the scalar's name as the graph names it, where it was made, its data
    and its grad (or that backprop has not reached it); a softmax prob the loss does not depend on (not
    recorded, node -1) says so."""
    node, name, data = cell
    if node < 0:
        return (f'{name} = {shown(data)}\nnot in the recorded graph: the loss does not depend on it '
                '(only probs[target] is), so its grad is 0')
    if backprop.reached(node):
        got, needed = backprop.arrived(node)
        grad = f'grad {shown(backprop.grads[node])} ({got} of {needed} contributions in)'
    else:
        grad = 'grad not reached yet'
    return f'{name} — {trace.scope_path(node)}\ndata {shown(data)}\n{grad}\nclick to select it (every digit: the Inspector)'


def paint_cells(painter, box, width, backprop, colors, cache):
    """The box's cells: a strip under a group's lines, or a vector box's grid. `cache` (a dict the item
    keeps) holds what does not change as backprop steps (the rectangles, the value colours), so a step
    repaints a strip in a fraction of a millisecond; a timeline step (other numbers, the same cells) only
    the value colours."""
    if cache.get('colors') is not colors:
        rects = [QRectF(*r) for r in cell_rects(box, width)]
        cache.update(colors=colors, rects=rects, cells=None,
                     outline=rects[0].united(rects[-1]) if rects else None, zero=QColor(colors['zero_grad']),
                     lines=QPen(QColor(colors['scalar_border']), 0.6), border=QPen(QColor(colors['scalar_border']), 0.8))
    if cache['cells'] is not box.cells:
        largest = max((abs(d) for _, _, d in box.cells), default=0.0)
        cache.update(cells=box.cells, values=value_colors([d for _, _, d in box.cells], largest, colors, strength=0.85))
    rects = cache['rects']
    if not rects:
        return
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, False)
    reached, grads = backprop.reached, backprop.grads
    arrived = any(node >= 0 and reached(node) for node, _, _ in box.cells)  # backprop is at this vector
    for (node, _, _), r, value in zip(box.cells, rects, cache['values']):
        if node >= 0 and reached(node):  # grad exactly 0: grey, as in the weight grids
            painter.fillRect(r, grad_color(grads[node], colors) if grads[node] != 0 else cache['zero'])
        elif node < 0 and arrived:  # a prob the loss does not read (not recorded): its grad is exactly 0
            painter.fillRect(r, cache['zero'])
        else:
            painter.fillRect(r, value)
    if rects[0].width() >= 5:  # lines between cells, unless so narrow they would hide the colours
        painter.setPen(cache['lines'])
        for r in rects[1:]:
            painter.drawLine(r.topLeft(), r.bottomLeft())
        if box.rows > 1:
            cols = len(rects) // box.rows
            for r in rects[cols::cols]:
                painter.drawLine(QPointF(cache['outline'].left(), r.top()), QPointF(cache['outline'].right(), r.top()))
    painter.setPen(cache['border'])
    painter.setBrush(Qt.NoBrush)
    painter.drawRect(cache['outline'])
    painter.restore()
