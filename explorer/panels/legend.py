"""The Legend panel: every mark the graph paints while stepping backprop (LEGEND), drawn as a swatch beside
what it means (GradLegend), with the grad colour scale on top."""

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from explorer.theme import GRAD_DECADES, grad_color, value_color


# Every mark the graph paints, as (what is drawn, the theme colours it uses, what it means). The legend
# draws one swatch per entry; tests check that every colour graph_view paints with is named here.
LEGEND = (
    ('fill', ('unreached', 'unreached_text'), 'not reached yet (grey)', 'not reached yet: no gradient has arrived'),
    ('hatched', ('scalar', 'unreached_text'), 'grad exactly 0 (hatched)',
     'grad exactly 0: hatched, so it never passes for a tiny gradient'),
    ('frame', ('current',), 'last step applied (violet)', 'the node the last step applied: a violet frame'),
    ('done', ('group', 'progress'), 'group: part done (green)',
     'a group fills green from the left as its scalars are done'),
    ('counter', ('current', 'muted'), 'contributions in / needed',
     '3/5: the contributions a grad has received of those it is the sum of'),
    ('flow', ('flow',), '∂ 0.01: gradient just sent',
     '∂ 0.012: the gradient the last step sent along an edge, with an arrow into the child; on the edges out of '
     'a closed group backprop is stepping through, what the group has sent back along each so far: ‖∂‖ 0.03, '
     'the size (Euclidean norm) of that gradient vector, or ∂ and the number where it reaches one scalar'),
    ('lit', ('tint', 'tint_source'), 'lit by a panel (amber, teal)',
     'amber: the nodes a panel lights (what a code line made, what a nudge changed: the thicker and deeper the '
     'ring, the more it changed); a cone lights what the node depends on in teal and what depends on it in amber; '
     'Gradient › Clear the lit nodes'),
    ('dot', ('breakpoint',), 'breakpoint (F9)', 'breakpoint (F9): Play stops when the gradient first reaches it'),
    ('outline', ('selection',), 'selected', 'the selected box (dashed when it is also the last step)'),
    ('fill', ('scalar', 'scalar_border'), 'scalar: name | op | data | grad',
     "a scalar: its name in the code, the op that made it, data and grad, as micrograd's draw_dot shows them"),
    ('fill', ('group', 'group_border'), 'closed group', 'a closed group: its name, what it computes, scalars done'),
    ('fill', ('param', 'param_border'), 'weight (parameter)', 'a weight (a parameter) or a group of them'),
    ('grid', ('value_negative', 'value_positive'), 'weight grid: value, then grad',
     'a weight matrix as a grid, a cell per parameter: its value (purple −, orange +, scaled to the matrix), '
     'then its grad (the scale above) once backprop reaches it; hover a cell for wq[3][5], click to inspect it'),
    ('badge', ('param', 'param_border'), 'wq wk: weights a box reads',
     'a badge names the weight matrices a box reads (the weight edges are off: View › Weight edges, W); '
     'hover a grid or a name to outline every box that reads it'),
    ('fill', ('cluster', 'cluster_border'), 'open group (frame)',
     'an open group: a frame with its name; double-click the name to close it'),
    ('edge', ('edge',), 'edge: a value flows in',
     "an edge: a value flows into the box it points to (weights' paler; with a head open, every edge that "
     'does not touch it is paler)'),
    ('kv', ('kv',), 'KV cache: keys/values (dashed)',
     'a dashed teal edge: keys and values of an earlier position flowing into a later position\'s attention '
     '(the KV cache)'),
    ('strip', ('value_negative', 'value_positive'), 'cells: value (purple −, orange +)',
     "cells: a closed group's output vector (a strip) or a vector (q, keys, values); purple negative, orange "
     'positive, by value; blue/red by grad once backprop reaches it; hover a cell for its name'),
    ('fill', ('zero_grad', 'scalar_border'), 'cell: grad exactly 0 (grey)',
     'a grid or strip cell backprop has reached whose grad is exactly 0: grey (a cell is too small to hatch)'),
    ('vector', ('scalar', 'group_border'), 'vector read from elsewhere',
     "a dashed box in an open head: a vector made elsewhere that the head reads (its q; the keys and values "
     'of positions so far, teal: from the KV cache)'),
)
GRAD_SCALE = ('negative', 'positive', 'scalar')  # the bar at the top of the legend


def legend_texts():
    """What the legend says, one line per mark, the grad scale first."""
    return ['grad: blue negative, red positive, log scale from 1e-6 to 1'] + [text for *_, text in LEGEND]


def legend_colors():
    """Every theme colour the legend explains."""
    return set(GRAD_SCALE) | {key for _, keys, *_ in LEGEND for key in keys}


class GradLegend(QWidget):
    """What every colour, fill and mark on the graph means: the diverging grad scale, then one row per mark."""

    ROW = 17
    TOP = 46

    def __init__(self, colors, parent=None):
        super().__init__(parent)
        self.colors = colors  # the graph's, which follow the theme
        height = self.TOP + self.ROW * len(LEGEND) + 4
        self.setMinimumHeight(height)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip('\n'.join(legend_texts()))  # the long form of each row

    def sizeHint(self):
        return QSize(300, self.minimumHeight())

    def paintEvent(self, event):
        c = self.colors
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        font = self.font()
        font.setPointSizeF(max(7.5, font.pointSizeF() - 1))
        p.setFont(font)
        text_color = self.palette().windowText().color()
        w = self.width() - 16
        bar = QRectF(8, 4, w, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        steps = 2 * GRAD_DECADES
        for i in range(steps + 1):  # -1 .. -1e-6, then 1e-6 .. 1, on the log scale the boxes use
            k = i - GRAD_DECADES
            if k:
                g = (-1 if k < 0 else 1) * 10.0 ** (-(GRAD_DECADES - abs(k)))
                gradient.setColorAt(i / steps, grad_color(g, c))
            else:
                gradient.setColorAt(0.5, QColor(c['scalar']))
        p.setPen(QPen(QColor(c['scalar_border']), 1))
        p.setBrush(QBrush(gradient))
        p.drawRect(bar)
        p.setPen(text_color)
        for frac, text in ((0, '−1'), (0.25, '−1e-3'), (0.5, '0'), (0.75, '1e-3'), (1, '1')):
            x = bar.left() + frac * bar.width()
            p.drawText(QRectF(x - 24, bar.bottom() + 1, 48, 12), Qt.AlignCenter, text)
        p.drawText(QRectF(8, 29, w, 14), Qt.AlignLeft, 'grad: blue −, red +, log scale')
        for row, (kind, keys, text, _) in enumerate(LEGEND):
            y = self.TOP + row * self.ROW
            self._swatch(p, kind, keys, QRectF(8, y, 26, 13))
            p.setPen(text_color)
            p.drawText(QRectF(42, y - 1, w - 34, self.ROW), Qt.AlignLeft | Qt.AlignVCenter, text)
        p.end()

    def _swatch(self, p, kind, keys, r):
        """One swatch of LEGEND: drawn by _swatch_<kind> with the theme colours named in keys."""
        p.save()
        getattr(self, f'_swatch_{kind}')(p, self.colors, [QColor(self.colors[k]) for k in keys], r)
        p.restore()

    def _swatch_fill(self, p, c, col, r):
        p.setPen(QPen(col[1], 1))
        p.setBrush(col[0])
        p.drawRoundedRect(r, 3, 3)

    def _swatch_hatched(self, p, c, col, r):
        p.setPen(QPen(QColor(c['scalar_border']), 1))
        p.setBrush(col[0])
        p.drawRoundedRect(r, 3, 3)
        p.setBrush(QBrush(col[1], Qt.BDiagPattern))
        p.drawRoundedRect(r, 3, 3)

    def _swatch_frame(self, p, c, col, r):
        p.setPen(QPen(col[0], 2.5))
        p.setBrush(QColor(c['scalar']))
        p.drawRoundedRect(r.adjusted(1, 1, -1, -1), 3, 3)

    def _swatch_done(self, p, c, col, r):
        p.setPen(QPen(QColor(c['group_border']), 1))
        p.setBrush(col[0])
        p.drawRoundedRect(r, 3, 3)
        p.setClipRect(QRectF(r.left(), r.top(), r.width() * 0.6, r.height()))
        p.setBrush(col[1])
        p.drawRoundedRect(r, 3, 3)

    def _swatch_counter(self, p, c, col, r):
        p.setPen(col[0])
        p.drawText(r, Qt.AlignCenter, '3/5')

    def _swatch_flow(self, p, c, col, r):
        p.setPen(QPen(col[0], 2.6))
        p.drawLine(QPointF(r.left() + 6, r.center().y()), QPointF(r.right(), r.center().y()))
        p.setBrush(col[0])
        y = r.center().y()
        p.drawPolygon([QPointF(r.left(), y), QPointF(r.left() + 7, y - 4), QPointF(r.left() + 7, y + 4)])

    def _swatch_dot(self, p, c, col, r):
        p.setPen(QPen(QColor(c['group_border']), 1))
        p.setBrush(QColor(c['group']))
        p.drawRoundedRect(r, 3, 3)
        p.setPen(Qt.NoPen)
        p.setBrush(col[0])
        p.drawEllipse(QPointF(r.left() + 5, r.top() + 5), 4, 4)

    def _swatch_lit(self, p, c, col, r):
        """Three rings, faint and thin to deep and thick (amber), and a teal one: the strengths and the cone."""
        w = r.width() / 4
        for i, (color, strength) in enumerate(((col[0], 0.1), (col[0], 0.5), (col[0], 1.0), (col[1], 1.0))):
            color = QColor(color)
            color.setAlphaF(0.25 + 0.75 * strength)
            p.setPen(QPen(color, 1.0 + 2.0 * strength))
            p.setBrush(QColor(color.red(), color.green(), color.blue(), int(15 + 70 * strength)))
            p.drawRoundedRect(QRectF(r.left() + i * w + 1.5, r.top() + 2, w - 3, r.height() - 4), 2, 2)

    def _swatch_outline(self, p, c, col, r):
        p.setPen(QPen(col[0], 2.2))
        p.setBrush(QColor(c['group']))
        p.drawRoundedRect(r.adjusted(1, 1, -1, -1), 3, 3)

    def _swatch_grid(self, p, c, col, r):
        cells = 6
        for i in range(cells):  # value, purple to orange, then the same cells reached: grad colours
            v = (i - (cells - 1) / 2) / ((cells - 1) / 2)
            color = value_color(v, 1.0, c) if i < 4 else grad_color(10 ** -3 * (1 if i == 5 else -1), c)
            p.fillRect(QRectF(r.left() + i * r.width() / cells, r.top(), r.width() / cells, r.height()), color)
        p.setPen(QPen(QColor(c['param_border']), 1))
        p.setBrush(Qt.NoBrush)
        p.drawRect(r)

    def _swatch_badge(self, p, c, col, r):
        p.setPen(QPen(col[1], 1))
        p.setBrush(col[0])
        p.drawRoundedRect(r, 4, 4)
        font = p.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() - 1.5))
        p.setFont(font)
        p.setPen(QColor(c['text']))
        p.drawText(r, Qt.AlignCenter, 'wq')

    def _swatch_kv(self, p, c, col, r):
        p.setPen(QPen(col[0], 1.6, Qt.DashLine))
        y = r.center().y()
        p.drawLine(QPointF(r.left(), y), QPointF(r.right() - 2, y))

    def _swatch_strip(self, p, c, col, r):
        for i in range(6):
            p.setPen(Qt.NoPen)
            p.setBrush(col[0] if i < 3 else col[1])
            p.setOpacity(0.35 + 0.2 * abs(i - 2.5))
            p.drawRect(QRectF(r.left() + i * r.width() / 6, r.top() + 2, r.width() / 6, r.height() - 4))

    def _swatch_vector(self, p, c, col, r):
        p.setPen(QPen(col[1], 1.2, Qt.DashLine))
        p.setBrush(col[0])
        p.drawRoundedRect(r, 3, 3)

    def _swatch_edge(self, p, c, col, r):
        p.setPen(QPen(col[0], 1.2))
        y = r.center().y()
        p.drawLine(QPointF(r.left(), y), QPointF(r.right() - 2, y))
        p.setBrush(col[0])
        p.drawPolygon([QPointF(r.right(), y), QPointF(r.right() - 6, y - 3), QPointF(r.right() - 6, y + 3)])
