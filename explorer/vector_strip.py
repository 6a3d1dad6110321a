"""The vector level drawn as cells, like llm-viz: a closed group's output vector as a strip under its
two lines, and a vector box (q, the keys and values of the KV cache, shown in the head that reads them)
as a grid of cells. A cell is coloured by its value (purple negative, orange positive, scaled to the
largest in its vector) until backprop reaches it, then by its gradient on the graph's grad scale.

The geometry (which cell is where) and the text of a cell's tooltip are plain functions, so tests can
ask them without painting."""

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen

from engine.layout import GROUP_HEIGHT, STRIP_HEIGHT, VECTOR_CELL, VECTOR_TEXT

from .theme import grad_color

STRIP_INSET = 8.0  # the strip's margin from the box's sides
MAX_STRIP_CELL = 14.0  # the widest cell of a strip


def cell_rects(box, width):
    """The cells of a box (x, y, w, h) in its own coordinates, in index order (row by row for a vector
    box); [] for a box without cells."""
    n = len(box.cells)
    if not n:
        return []
    if box.is_vector:
        rows = max(1, box.rows)
        cols = max(1, n // rows)
        cw, ch = VECTOR_CELL
        left = (width - cols * cw) / 2
        return [(left + (i % cols) * cw, VECTOR_TEXT + (i // cols) * ch, cw, ch) for i in range(n)]
    cw = min(MAX_STRIP_CELL, (width - 2 * STRIP_INSET) / n)
    left = (width - n * cw) / 2  # centred: a short vector is a few cells, not a bar
    return [(left + i * cw, GROUP_HEIGHT - 2, cw, STRIP_HEIGHT) for i in range(n)]


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
        return (f'{name} = {data!r}\nnot in the recorded graph: the loss does not depend on it '
                '(only probs[target] is), so its grad is 0')
    if backprop.reached(node):
        got, needed = backprop.arrived(node)
        grad = f'grad {backprop.grads[node]!r} ({got} of {needed} contributions in)'
    else:
        grad = 'grad not reached yet'
    return f'{name} — {trace.scope_path(node)}\ndata {data!r}\n{grad}\nclick to select it'


def value_color(value, largest, colors):
    """The value scale: the cell background mixed towards purple (negative) or orange (positive), by
    |value| / |largest value in the vector|."""
    base = QColor(colors['scalar'])
    end = QColor(colors['value_negative' if value < 0 else 'value_positive'])
    t = 0.85 * min(1.0, abs(value) / largest) if largest else 0.0
    return QColor.fromRgbF(base.redF() + (end.redF() - base.redF()) * t,
                           base.greenF() + (end.greenF() - base.greenF()) * t,
                           base.blueF() + (end.blueF() - base.blueF()) * t)


def cell_color(cell, largest, backprop, colors):
    node, _, data = cell
    if node >= 0 and backprop.reached(node) and backprop.grads[node] != 0:
        return grad_color(backprop.grads[node], colors)
    return value_color(data, largest, colors)


def paint_cells(painter, box, width, backprop, colors):
    """The box's cells: a strip under a group's lines, or a vector box's grid with its row labels."""
    rects = cell_rects(box, width)
    if not rects:
        return
    largest = max(abs(d) for _, _, d in box.cells)
    thin = rects[0][2] < 5  # many narrow cells: no lines between them, they would hide the colours
    painter.setPen(Qt.NoPen if thin else QPen(QColor(colors['scalar_border']), 0.6))
    for cell, r in zip(box.cells, rects):
        painter.setBrush(cell_color(cell, largest, backprop, colors))
        painter.drawRect(QRectF(*r))
    x0, y0 = rects[0][:2]
    x1, y1 = rects[-1][0] + rects[-1][2], rects[-1][1] + rects[-1][3]
    painter.setPen(QPen(QColor(colors['scalar_border']), 0.8))
    painter.setBrush(Qt.NoBrush)
    painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
