"""Drawing attention heatmaps with QPainter, for the panel and the PNG exports.

`paint_heads` draws one heatmap per (layer, head) into a rectangle and returns where each went, so
the widget can tell which cell is under the mouse. Weights use a sequential scale from 0 to 1;
gradients use the graph's diverging scale. Keys after the query are left blank (causal mask).
"""

import math
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPen

from .theme import GRAD_DECADES, LIGHT, grad_color

LABEL_W = 40     # room for the query labels ('m→a')
LABEL_H = 14     # room for the key labels
HEADER_H = 16    # 'layer 0 · head 2'
LEGEND_H = 40
GAP = 10


@dataclass(frozen=True)
class HeadBox:
    layer: int
    head: int
    header: QRectF   # the title above the heatmap (click: this head alone)
    cells: QRectF    # the n×n grid
    cell: float      # side of one cell

    def cell_at(self, point):
        """(query, key) under a point, or None (also for the masked keys after the query)."""
        if not self.cells.contains(point):
            return None
        q = int((point.y() - self.cells.top()) // self.cell)
        k = int((point.x() - self.cells.left()) // self.cell)
        return (q, k) if k <= q else None


def weight_color(w, colors):
    """0 → the background of a scalar box, 1 → deep violet; linear, as the legend shows."""
    base, end = QColor(colors['scalar']), QColor(colors['attention'])
    t = max(0.0, min(1.0, w))
    return QColor.fromRgbF(*(a + (b - a) * t for a, b in zip(base.getRgbF()[:3], end.getRgbF()[:3])))


def row_label(trace, q):
    """A query row: its input token and the token it is trained to predict ('m→a')."""
    return f'{trace.token_texts[q]}→{trace.token_texts[q + 1]}'


def arrange(rect, trace, only=None):
    """Place the heatmaps in rect: layers in rows, heads across (wrapping), the biggest cells that fit."""
    config, n = trace.config, trace.n
    heads = [only] if only else [(l, h) for l in range(config.n_layer) for h in range(config.n_head)]
    per_layer = 1 if only else config.n_head
    layers = 1 if only else config.n_layer
    best = None
    for cols in range(1, per_layer + 1):
        rows = layers * math.ceil(per_layer / cols)
        cell = min((rect.width() - cols * (LABEL_W + GAP)) / (cols * n),
                   (rect.height() - rows * (HEADER_H + LABEL_H + GAP)) / (rows * n))
        if best is None or cell > best[1]:
            best = (cols, cell)
    cols, cell = best
    cell = max(4.0, min(cell, 44.0))
    block_w, block_h = LABEL_W + n * cell + GAP, HEADER_H + LABEL_H + n * cell + GAP
    boxes = []
    for i, (l, h) in enumerate(heads):
        index = i if only else h
        row = (0 if only else l * math.ceil(per_layer / cols)) + index // cols
        x, y = rect.left() + (index % cols) * block_w, rect.top() + row * block_h
        header = QRectF(x, y, block_w - GAP, HEADER_H)
        cells = QRectF(x + LABEL_W, y + HEADER_H + LABEL_H, n * cell, n * cell)
        boxes.append(HeadBox(l, h, header, cells, cell))
    return boxes


def paint_heads(painter, rect, trace, value, colors=LIGHT, gradients=False, selected=None, only=None,
                title=None, font=None):
    """Draw the heatmaps of `trace` in rect; `value(l, h, q, k)` gives a cell's number (None: not
    reached yet). Returns the HeadBoxes, for hit-testing."""
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, False)
    font = QFont(font or painter.font())
    font.setPointSizeF(7.5)
    bold = QFont(font)
    bold.setBold(True)
    text, muted = QColor(colors['text']), QColor(colors['muted'])
    top = rect.top()
    if title:
        painter.setFont(bold)
        painter.setPen(text)
        painter.drawText(QRectF(rect.left(), top, rect.width(), HEADER_H), Qt.AlignLeft | Qt.AlignVCenter, title)
        top += HEADER_H + 2
    area = QRectF(rect.left(), top, rect.width(), rect.bottom() - top - LEGEND_H)
    boxes = arrange(area, trace, only)
    n = trace.n
    for box in boxes:
        painter.setFont(bold)
        painter.setPen(text)
        painter.drawText(box.header, Qt.AlignLeft | Qt.AlignVCenter, f'layer {box.layer} · head {box.head}')
        painter.setFont(font)
        painter.setPen(muted)
        show_labels = box.cell >= 13  # else only the first and last, which never collide
        for i in range(n):
            if show_labels or i in (0, n - 1):
                painter.drawText(QRectF(box.cells.left() + i * box.cell - 6, box.cells.top() - LABEL_H,
                                        box.cell + 12, LABEL_H), Qt.AlignCenter, trace.token_texts[i])
                painter.drawText(QRectF(box.cells.left() - LABEL_W, box.cells.top() + i * box.cell,
                                        LABEL_W - 3, box.cell), Qt.AlignRight | Qt.AlignVCenter, row_label(trace, i))
        painter.setPen(Qt.NoPen)
        for q in range(n):
            for k in range(q + 1):  # keys after the query do not exist: left blank
                v = value(box.layer, box.head, q, k)
                if v is None:
                    color = QColor(colors['unreached'])
                elif gradients:
                    color = grad_color(v, colors) if v else QColor(colors['scalar'])
                else:
                    color = weight_color(v, colors)
                painter.setBrush(color)
                cell = QRectF(box.cells.left() + k * box.cell, box.cells.top() + q * box.cell, box.cell - 1, box.cell - 1)
                painter.drawRect(cell)
                if box.cell >= 26 and v is not None and not gradients:  # big enough to read the number
                    painter.setPen(QColor('#ffffff') if color.lightnessF() < 0.5 else text)
                    painter.drawText(cell, Qt.AlignCenter, f'{v:.2f}'.lstrip('0') if v < 1 else '1')
                    painter.setPen(Qt.NoPen)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(colors['cluster_border']), 1))
        painter.drawLine(box.cells.topLeft(), box.cells.bottomLeft())  # the frame of the causal triangle
        painter.drawLine(box.cells.bottomLeft(), box.cells.bottomRight())
        if selected is not None and (selected.layer, selected.head) == (box.layer, box.head):
            painter.setPen(QPen(QColor(colors['selection']), 2))
            q, k = selected.query, selected.key
            if k >= 0:
                r = QRectF(box.cells.left() + k * box.cell, box.cells.top() + q * box.cell, box.cell - 1, box.cell - 1)
            else:
                r = QRectF(box.cells.left(), box.cells.top() + q * box.cell, (q + 1) * box.cell - 1, box.cell - 1)
            painter.drawRect(r.adjusted(-1, -1, 1, 1))
    paint_legend(painter, QRectF(rect.left() + 2, rect.bottom() - LEGEND_H + 16, min(260.0, rect.width() - 8), 10),
                 colors, gradients, font)
    painter.restore()
    return boxes


def paint_legend(painter, bar, colors, gradients, font):
    """The colour scale shared by every heatmap."""
    gradient = QLinearGradient(bar.topLeft(), bar.topRight())
    if gradients:
        steps = 2 * GRAD_DECADES
        for i in range(steps + 1):
            k = i - GRAD_DECADES
            g = 0.0 if k == 0 else (-1 if k < 0 else 1) * 10.0 ** (-(GRAD_DECADES - abs(k)))
            gradient.setColorAt(i / steps, grad_color(g, colors) if g else QColor(colors['scalar']))
        ticks = ((0, '−1'), (0.5, '0'), (1, '1'))
        label = '∂loss/∂weight, log scale; grey: not reached yet'
    else:
        for t in (0, 0.5, 1):
            gradient.setColorAt(t, weight_color(t, colors))
        ticks = ((0, '0'), (0.5, '0.5'), (1, '1'))
        label = 'attention weight (rows sum to 1)'
    painter.setPen(QPen(QColor(colors['scalar_border']), 1))
    painter.setBrush(gradient)
    painter.drawRect(bar)
    painter.setFont(font)
    painter.setPen(QColor(colors['muted']))
    for frac, tick in ticks:
        x = bar.left() + frac * bar.width()
        painter.drawText(QRectF(x - 20, bar.bottom() + 1, 40, 11), Qt.AlignCenter, tick)
    painter.drawText(QRectF(bar.left(), bar.top() - 14, bar.width() + 200, 12), Qt.AlignLeft | Qt.AlignVCenter,
                     painter.fontMetrics().elidedText(label, Qt.ElideRight, int(bar.width())))


def render(panels, width=None, colors=LIGHT, only=None):
    """An image of one or more (trace, value, title, gradients) panels side by side."""
    n = max(p[0].n for p in panels)
    heads = 1 if only else max(p[0].config.n_head * p[0].config.n_layer for p in panels)
    cols = 1 if only else min(4, panels[0][0].config.n_head)
    cell = 44 if only else max(14, min(30, 480 // max(1, n)))
    panel_w = width or cols * (LABEL_W + n * cell + GAP) + 20
    rows = math.ceil(heads / cols)
    height = HEADER_H + 2 + rows * (HEADER_H + LABEL_H + n * cell + GAP) + LEGEND_H + 20
    image = QImage(int(panel_w * len(panels)), int(height), QImage.Format_ARGB32)
    image.fill(QColor(colors['background']))
    painter = QPainter(image)
    for i, (trace, value, title, gradients) in enumerate(panels):
        paint_heads(painter, QRectF(10 + i * panel_w, 10, panel_w - 20, height - 20), trace, value, colors,
                    gradients, only=only, title=title)
    painter.end()
    return image


def weights_of(trace):
    return lambda l, h, q, k: trace.attention[l][h][q][k]
