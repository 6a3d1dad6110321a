"""Drawing attention heatmaps with QPainter, for the panel and the PNG and SVG exports.

`paint_heads` draws one heatmap per (layer, head) into a rectangle and returns where each went, so
the widget can tell which cell is under the mouse. Every token is written with its position ('2 m').
Labels and cells are sized from the font: row labels as wide as the widest, column labels turned
upright when a cell is narrower than its label, only every k-th label when cells are shorter than a
line; when all heads at once would make cells too small to read, one head is shown large.
What the cells show (`quantity`) sets the colour scale: weights from 0 to 1; scores and gradients on
a diverging scale from −m to +m, m the largest magnitude shown, as the colour bar says. Numbers are
written in the cells whenever they fit. Keys after the query are left blank (causal mask).
"""

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QLinearGradient, QPainter, QPen

from engine.attention import token_label
from engine.numbers import compact

from explorer.images import png_of, svg_of
from explorer.theme import LIGHT, head_color

HEADER_H = 16    # 'layer 0 · head 2'
LEGEND_H = 40
GAP = 10
MIN_CELL = 14.0  # below this, all heads at once are unreadable: one head is shown large instead
MAX_CELL = 56.0
NUMBER_CELL = 20.0      # a cell that holds its number ('.43', '-1e-3'): a short document prefers one head
NUMBER_POSITIONS = 8    # with numbers to all its heads without (a docked panel at 1280x720: emma)
SQUEEZED = {False: '', 'layer': '(layer {layer} only: space is short; widen, or pick a head)',
            'head': '(one head: space is short; widen, or pick a head)'}
FONT_PT = 7.5

QUANTITIES = {  # quantity -> (what the colour bar says, diverging?)
    'weight': ('attention weight (rows sum to 1)', False),
    'score': ('score q·k/√d (softmax input)', True),
    'grad_weight': ('dloss/dweight', True),
    'grad_score': ('dloss/dscore', True),
    'diff_weight': ('difference of weights (this − other)', True),
    'diff_score': ('difference of scores (this − other)', True),
    'diff_grad_weight': ('difference of dloss/dweight (this − other)', True),
    'diff_grad_score': ('difference of dloss/dscore (this − other)', True),
}


@dataclass(frozen=True)
class Scale:
    """A colour scale: weights 0..1 (sequential), or −m..m (diverging, m the largest |value| shown)."""
    lo: float
    hi: float
    diverging: bool

    def color(self, v, colors):
        if self.diverging:
            m = self.hi or 1.0
            t = max(-1.0, min(1.0, v / m))
            end = QColor(colors['negative' if t < 0 else 'positive'])
            return _mix(QColor(colors['scalar']), end, abs(t) * 0.85)
        return _mix(QColor(colors['scalar']), QColor(colors['attention']), max(0.0, min(1.0, v)))

    def ticks(self):
        """(fraction along the bar, text) for both ends and the middle."""
        mid = (self.lo + self.hi) / 2
        return tuple((f, compact(v)) for f, v in ((0.0, self.lo), (0.5, mid), (1.0, self.hi)))


def _mix(a, b, t):
    return QColor.fromRgbF(*(x + (y - x) * t for x, y in zip(a.getRgbF()[:3], b.getRgbF()[:3])))


def cell_texts(v, quantity):
    """What a cell may say, longest first (the first that fits is written): weights without the leading
    0 ('.43', '1'); others as `compact`, then shorter ('-.02', '-2e-3')."""
    if quantity == 'weight':
        return ('1' if v >= 0.995 else f'{v:.2f}'.lstrip('0'),)
    if v == 0:
        return ('0',)
    short = f'{v:.0e}'.replace('e-0', 'e-').replace('e+0', 'e')
    if 0.01 <= abs(v) < 1:
        return compact(v), compact(v).replace('0.', '.', 1), short
    return compact(v), short


def scale_for(values, quantity):
    """The Scale for these values (None: not reached yet, ignored)."""
    if not QUANTITIES[quantity][1]:
        return Scale(0.0, 1.0, False)
    m = max((abs(v) for v in values if v is not None), default=0.0)
    return Scale(-m, m, True)


@dataclass(frozen=True)
class HeadBox:
    layer: int
    head: int
    header: QRectF   # the title above the heatmap (click: this head alone)
    cells: QRectF    # the n×n grid
    cell: float      # side of one cell
    n: int = 0
    row_w: float = 0.0     # width of the query labels
    col_h: float = 0.0     # height of the key labels
    upright: bool = False  # key labels turned to read bottom to top
    every: int = 1         # every k-th label is written

    def cell_at(self, point):
        """(query, key) under a point, or None (also for the masked keys after the query)."""
        if not self.cells.contains(point):
            return None
        q = int((point.y() - self.cells.top()) // self.cell)
        k = int((point.x() - self.cells.left()) // self.cell)
        return (q, k) if k <= q < self.n else None

    def row_at(self, point):
        """The query whose label is under a point, or None."""
        r = QRectF(self.cells.left() - self.row_w, self.cells.top(), self.row_w, self.cells.height())
        if not r.contains(point):
            return None
        return int((point.y() - self.cells.top()) // self.cell)

    def label_rects(self):
        """[(rect, text index, 'row'|'col')] of every label drawn, in the painter's coordinates: the
        rect a label's text takes (its line height tall, its cell's share wide, or turned upright)."""
        out = []
        for i in range(0, self.n, self.every):
            top = self.cells.top() + i * self.cell
            span = self.cell * self.every if self.every > 1 else self.cell
            out.append((QRectF(self.cells.left() - self.row_w, top + (self.cell - min(span, LINE)) / 2,
                               self.row_w - 3, min(span, LINE)), i, 'row'))
            left = self.cells.left() + i * self.cell
            if self.upright:
                out.append((QRectF(left + (self.cell - min(span, LINE)) / 2, self.cells.top() - self.col_h,
                                   min(span, LINE), self.col_h - 2), i, 'col'))
            else:
                out.append((QRectF(left, self.cells.top() - self.col_h, self.cell, self.col_h - 2), i, 'col'))
        return out


LINE = 11.0  # height of one line of 7.5 pt labels (set from the font in label_font)


def label_font(font=None):
    f = QFont(font) if font is not None else QFont()
    f.setPointSizeF(FONT_PT)
    return f


def _label_sizes(trace, font):
    fm = QFontMetricsF(label_font(font))
    widest = max(fm.horizontalAdvance(token_label(trace, i)) for i in range(trace.n))
    return widest + 6, fm.height() + 1


def minimum_size(trace, font=None, title=False):
    """(width, height) in which one head of `trace` is drawn with cells of MIN_CELL, labels, title and legend."""
    label_w, line = _label_sizes(trace, font)
    col_h = label_w if MIN_CELL < label_w else line
    return (math.ceil(label_w + trace.n * MIN_CELL + GAP + 12) + 1,
            math.ceil((2 if title else 1) * HEADER_H + 2 + col_h + trace.n * MIN_CELL + GAP + LEGEND_H + 8) + 1)


def arrange(rect, trace, only=None, fallback=(0, 0), font=None):
    """Place the heatmaps in rect: layers in rows, heads across (wrapping), the biggest cells that fit.
    If every head at once would make cells smaller than MIN_CELL, the heads of `fallback`'s layer are
    placed, or if those too would be too small, only `fallback` (large). Returns (boxes, squeezed):
    squeezed is False, 'layer' or 'head', saying what is shown because space is short."""
    global LINE
    config, n = trace.config, trace.n
    label_w, line = _label_sizes(trace, font)
    LINE = line
    squeezed = False

    def fit(heads_per_row, rows, col_h):
        return min((rect.width() - heads_per_row * (label_w + GAP)) / (heads_per_row * n),
                   (rect.height() - rows * (HEADER_H + col_h + GAP)) / (rows * n))

    def best(per_layer, layers):
        choice = None
        for cols in range(1, per_layer + 1):
            rows = layers * math.ceil(per_layer / cols)
            cell = fit(cols, rows, label_w)          # key labels upright: as tall as the widest label
            if cell >= label_w:                      # wide enough to write them across instead
                cell = max(cell, fit(cols, rows, line))
            if choice is None or cell > choice[1]:
                choice = (cols, cell)
        return choice

    heads = [only] if only else [(l, h) for l in range(config.attention_layers) for h in range(config.n_head)]
    per_layer, layers = (1, 1) if only else (config.n_head, config.attention_layers)
    cols, cell = best(per_layer, layers)
    if cell < MIN_CELL and not only and config.attention_layers > 1:  # the fallback's layer, all its heads
        cols, cell = best(config.n_head, 1)
        heads, layers, squeezed = [(fallback[0], h) for h in range(config.n_head)], 1, 'layer'
    if not only and len(heads) > 1 and MIN_CELL <= cell < NUMBER_CELL and n <= NUMBER_POSITIONS \
            and best(1, 1)[1] >= NUMBER_CELL:  # a short document: one head with its numbers, not all without
        cell = 0.0
    if cell < MIN_CELL and not only and len(heads) > 1:      # one head, large
        heads, per_layer, layers, squeezed = [fallback], 1, 1, 'head'
        cols, cell = best(1, 1)
    cell = max(4.0, min(cell, MAX_CELL))
    upright = cell < label_w
    col_h = label_w if upright else line
    every = max(1, math.ceil(line / cell))
    block_w, block_h = label_w + n * cell + GAP, HEADER_H + col_h + n * cell + GAP
    boxes = []
    for i, (l, h) in enumerate(heads):
        index = i if len(heads) == 1 else h
        row = (0 if len(heads) == 1 or layers == 1 else l * math.ceil(per_layer / cols)) + index // cols
        x, y = rect.left() + (index % cols) * block_w, rect.top() + row * block_h
        header = QRectF(x, y, max(block_w - GAP, 90.0), HEADER_H)
        cells = QRectF(x + label_w, y + HEADER_H + col_h, n * cell, n * cell)
        boxes.append(HeadBox(l, h, header, cells, cell, n, label_w, col_h, upright, every))
    return boxes, squeezed


def paint_heads(painter, rect, trace, value, colors=LIGHT, quantity='weight', selected=None, only=None,
                title=None, font=None, fallback=(0, 0), scale=None, hover=None):
    """Draw the heatmaps of `trace` in rect; `value(l, h, q, k)` gives a cell's number (None: not
    reached yet). `hover` ('q' or 'k', position, layer): a token hovered in the token lines, whose row
    (a query) or column (a key) is framed in that layer's heatmaps. Returns (HeadBoxes for hit-testing,
    squeezed, the Scale used)."""
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing, False)
    font = label_font(font or painter.font())
    bold = QFont(font)
    bold.setBold(True)
    fm = QFontMetricsF(font)
    text, muted = QColor(colors['text']), QColor(colors['muted'])
    def place(with_title):
        top = rect.top() + (HEADER_H + 2 if with_title else 0)
        area = QRectF(rect.left(), top, rect.width(), rect.bottom() - top - LEGEND_H)
        return arrange(area, trace, only, fallback, font)
    boxes, squeezed = place(bool(title))
    if title:  # with no title, a squeezed view says why in the first head's header (a line saved for cells)
        painter.setFont(bold)
        painter.setPen(text)
        line = ' · '.join(t for t in (title, SQUEEZED[squeezed].format(layer=boxes[0].layer)) if t)
        painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), HEADER_H), Qt.AlignLeft | Qt.AlignVCenter,
                         QFontMetricsF(bold).elidedText(line, Qt.ElideRight, rect.width()))
    n = trace.n
    cached = {(b.layer, b.head, q, k): value(b.layer, b.head, q, k) for b in boxes for q in range(n)
              for k in range(q + 1)}
    if scale is None:
        scale = scale_for(cached.values(), quantity)
    for box in boxes:
        painter.setFont(bold)
        painter.setPen(Qt.NoPen)
        painter.setBrush(head_color(box.head))
        painter.drawRect(QRectF(box.header.left(), box.header.top() + 3, 4, HEADER_H - 6))
        painter.setPen(text)
        head_title = f'layer {box.layer} · head {box.head}'
        painter.drawText(box.header.adjusted(7, 0, 0, 0), Qt.AlignLeft | Qt.AlignVCenter, head_title)
        if squeezed and not title and box is boxes[0]:  # why not every head: after the head's name, muted
            painter.setFont(font)
            painter.setPen(muted)
            x = box.header.left() + 7 + QFontMetricsF(bold).horizontalAdvance(head_title) + 8
            why = QRectF(x, box.header.top(), rect.right() - x, HEADER_H)
            painter.drawText(why, Qt.AlignLeft | Qt.AlignVCenter, fm.elidedText(
                SQUEEZED[squeezed].format(layer=box.layer), Qt.ElideRight, why.width()))
        painter.setFont(font)
        painter.setPen(muted)
        paint_token_labels(painter, box, trace)
        paint_head_cells(painter, box, n, lambda q, k: cached[(box.layer, box.head, q, k)], colors, scale, quantity,
                         fm)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(colors['cluster_border']), 1))
        painter.drawLine(box.cells.topLeft(), box.cells.bottomLeft())  # the frame of the causal triangle
        painter.drawLine(box.cells.bottomLeft(), box.cells.bottomRight())
        part = getattr(trace, 'part', None)  # a part recorded: where the graph's rows end and numpy's begin
        if part is not None and part.n < n:
            paint_part_line(painter, box, part.n, colors, fm)
        if hover is not None and hover[2] == box.layer and 0 <= hover[1] < n:
            painter.setPen(QPen(QColor(colors['text']), 2))
            painter.drawRect(hovered_rect(box, hover[0], hover[1]).adjusted(-1, -1, 1, 1))
        if selected is not None and (selected.layer, selected.head) == (box.layer, box.head):
            painter.setPen(QPen(QColor(colors['selection']), 2))
            q, k = selected.query, selected.key
            if k >= 0:
                r = QRectF(box.cells.left() + k * box.cell, box.cells.top() + q * box.cell, box.cell - 1, box.cell - 1)
            else:
                r = QRectF(box.cells.left(), box.cells.top() + q * box.cell, (q + 1) * box.cell - 1, box.cell - 1)
            painter.drawRect(r.adjusted(-1, -1, 1, 1))
    paint_legend(painter, legend_bar(rect), colors, quantity, scale, font)
    painter.restore()
    return boxes, squeezed, scale


def paint_part_line(painter, box, recorded, colors, fm):
    """A dashed line under the last row the graph has (a part of the document recorded), and in the blank
    corner above the diagonal to its right, what the rows on each side of it are."""
    y = box.cells.top() + recorded * box.cell - 0.5
    painter.setPen(QPen(QColor(colors['text']), 1, Qt.DashLine))
    painter.drawLine(QPointF(box.cells.left() - 4, y), QPointF(box.cells.right(), y))
    room = QRectF(box.cells.left() + recorded * box.cell + 4, y - fm.height() - 1,
                  box.cells.right() - box.cells.left() - recorded * box.cell - 4, fm.height())
    fits = [t for t in ('↑ in the graph · numpy ↓', 'graph ↑ numpy ↓', 'numpy ↓') if fm.horizontalAdvance(t) <= room.width()]
    label = fits[0] if fits else None
    if label is not None and recorded > 0:
        painter.setPen(QColor(colors['muted']))
        painter.drawText(room, Qt.AlignRight | Qt.AlignVCenter, label)


def paint_head_cells(painter, box, n, value, colors, scale, quantity, fm):
    """One head's causal triangle of cells, each in its scale's colour and, where it fits, with its number."""
    text = QColor(colors['text'])
    painter.setPen(Qt.NoPen)
    for q in range(n):
        for k in range(q + 1):  # keys after the query do not exist: left blank
            v = value(q, k)
            color = QColor(colors['unreached']) if v is None else scale.color(v, colors)
            painter.setBrush(color)
            cell = QRectF(box.cells.left() + k * box.cell, box.cells.top() + q * box.cell, box.cell - 1,
                          box.cell - 1)
            painter.drawRect(cell)
            if v is not None and box.cell >= LINE:
                label = next((t for t in cell_texts(v, quantity) if fm.horizontalAdvance(t) <= box.cell - 3), None)
                if label is not None:  # written only where it fits
                    painter.setPen(QColor(colors['text_on_strong']) if color.lightnessF() < 0.5 else text)
                    painter.drawText(cell, Qt.AlignCenter, label)
                    painter.setPen(Qt.NoPen)


def paint_token_labels(painter, box, trace):
    """The tokens along a head's rows (queries) and columns (keys), upright where the columns are narrow."""
    for r, i, kind in box.label_rects():
        label = token_label(trace, i)
        if kind == 'row':
            painter.drawText(r, Qt.AlignRight | Qt.AlignVCenter, label)
        elif box.upright:
            painter.save()
            painter.translate(r.left() + r.width() / 2, r.bottom())
            painter.rotate(-90)
            painter.drawText(QRectF(0, -r.width() / 2, r.height(), r.width()), Qt.AlignLeft | Qt.AlignVCenter,
                             label)
            painter.restore()
        else:
            painter.drawText(r, Qt.AlignCenter | Qt.AlignBottom, label)


def hovered_rect(box, side, i):
    """The cells of query i's row ('q': keys 0..i) or key i's column ('k': queries i..n-1) in a HeadBox."""
    c, left, top = box.cell, box.cells.left(), box.cells.top()
    if side == 'q':
        return QRectF(left, top + i * c, (i + 1) * c - 1, c - 1)
    return QRectF(left + i * c, top + i * c, c - 1, (box.n - i) * c - 1)


def legend_bar(rect):
    return QRectF(rect.left() + 2, rect.bottom() - LEGEND_H + 16, min(260.0, rect.width() - 24), 10)


def paint_legend(painter, bar, colors, quantity, scale, font):
    """The colour scale shared by every heatmap of one panel, its ends labelled with the values they stand for."""
    gradient = QLinearGradient(bar.topLeft(), bar.topRight())
    for i in range(11):
        gradient.setColorAt(i / 10, scale.color(scale.lo + (scale.hi - scale.lo) * i / 10, colors))
    label = QUANTITIES[quantity][0]
    if scale.diverging:
        label += ', linear; grey: not reached yet' if quantity.startswith('grad') else ', linear'
    painter.setPen(QPen(QColor(colors['scalar_border']), 1))
    painter.setBrush(gradient)
    painter.drawRect(bar)
    painter.setFont(font)
    painter.setPen(QColor(colors['muted']))
    for frac, tick in scale.ticks():  # the ends aligned inwards, so they are never cut
        x = bar.left() + frac * bar.width()
        where = QRectF(x, bar.bottom() + 1, 70, 11) if frac == 0 else (
            QRectF(x - 70, bar.bottom() + 1, 70, 11) if frac == 1 else QRectF(x - 35, bar.bottom() + 1, 70, 11))
        align = Qt.AlignLeft if frac == 0 else (Qt.AlignRight if frac == 1 else Qt.AlignHCenter)
        painter.drawText(where, align | Qt.AlignVCenter, tick)
    painter.setFont(caption_font(font))  # the caption a size larger than the cells' labels
    painter.drawText(QRectF(bar.left(), bar.top() - 16, bar.width() + 200, 15), Qt.AlignLeft | Qt.AlignVCenter,
                     label)


CAPTION_PT = 9.0  # the colour bar's caption (gradients are written dloss/dweight: '∂' reads as 'ə' at these sizes)


def caption_font(font=None):
    f = QFont(font) if font is not None else QFont()
    f.setPointSizeF(CAPTION_PT)
    return f


def export_size(panels, only=None):
    """(width, height of one panel) for an export of (trace, value, title, quantity) panels."""
    trace = panels[0][0]
    n = max(p[0].n for p in panels)
    heads = 1 if only else max(p[0].config.n_head * p[0].config.attention_layers for p in panels)
    cols = 1 if only else min(4, trace.config.n_head)
    cell = 44 if only else max(22, min(34, 480 // max(1, n)))
    label_w, line = _label_sizes(trace, None)
    col_h = line if cell >= label_w else label_w
    panel_w = max(360, cols * (label_w + n * cell + GAP) + 20)
    rows = math.ceil(heads / cols)
    height = HEADER_H + 2 + rows * (HEADER_H + col_h + n * cell + GAP) + LEGEND_H + 20
    return int(panel_w), int(height)


def paint_export(painter, panels, colors=LIGHT, only=None):
    """Paint (trace, value, title, quantity[, scale]) panels side by side, as the exports show them."""
    panel_w, height = export_size(panels, only)
    painter.fillRect(QRectF(0, 0, panel_w * len(panels), height), QColor(colors['background']))
    for i, (trace, value, title, quantity, *scale) in enumerate(panels):  # a 5th item: a shared Scale
        paint_heads(painter, QRectF(10 + i * panel_w, 10, panel_w - 20, height - 20), trace, value, colors,
                    quantity, only=only, title=title, scale=scale[0] if scale else None)


def render(panels, colors=LIGHT, only=None):
    """A QImage of one or more (trace, value, title, quantity) panels side by side."""
    panel_w, height = export_size(panels, only)
    image = QImage(panel_w * len(panels), height, QImage.Format_ARGB32)
    image.fill(QColor(colors['background']))
    painter = QPainter(image)
    try:
        paint_export(painter, panels, colors, only)
    finally:
        painter.end()  # also when Ctrl-C stops the paint: an image dropped while painted crashes Qt
    return image


def png_bytes(panels, colors=LIGHT, only=None):
    return png_of(render(panels, colors, only))


def svg_bytes(panels, colors=LIGHT, only=None, title='attention'):
    """The same picture as vector SVG (rects, paths and text, no embedded image)."""
    panel_w, height = export_size(panels, only)
    return svg_of(QSize(panel_w * len(panels), height), QRectF(0, 0, panel_w * len(panels), height), title,
                  lambda painter: paint_export(painter, panels, colors, only), resolution=96)


def weights_of(trace):
    return lambda l, h, q, k: trace.attention[l][h][q][k]
