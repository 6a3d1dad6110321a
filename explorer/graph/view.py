"""The graph view: a Layout drawn as QGraphicsItems. Selecting and hovering never re-run the layout."""

import contextlib
import math
import time

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPixmap, QPolygonF,
                           QTransform)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene, QGraphicsView, QMenu, QWidget

from engine import gc_pause
from engine.graph.geometry import STRIP_TEXT, scalar_cells
from engine.graph.keys import group_key, is_group_key, is_node_key, is_weight_path, node_key, split_key

from explorer.graph import weight_grid
from explorer.theme import LIGHT, grad_color
from explorer.graph.vector_strip import cell_at, cell_rects, cell_tooltip, paint_cells
from explorer.theme import head_color


def fmt(x):
    """Four decimals, or two significant digits below 1e-4; an exact zero is '0'."""
    if x == 0:
        return '0'
    return f'{x:.4f}' if abs(x) >= 1e-4 else f'{x:.2e}'


# Text in the graph is sized in scene units, which are the layout's points (engine.graph.layout sizes a box for
# a 10 px font), so labels fit their boxes whatever the screen's DPI; what the learner sees is that size
# times the view's scale times the device pixel ratio.
LABEL_PX = 10      # data, grad, a group's detail line: the smallest text a learner reads
TITLE_PX = 11      # box and frame titles, bold
BADGE_PX = 8       # the '3/5' count in a scalar's corner, a badge beside its grad
MIN_LABEL_PX = 10  # device pixels: no navigation zooms out so far that a label is smaller than this
TEXT_LOD = 0.35    # below this scale boxes are drawn without text (the minimap, a far zoom)
PLAIN_LABEL_PX = 4  # a box whose labels would be smaller than this (logical px) is painted as a flat rectangle
EDGE_AA_SCALE = 0.5  # below this scale edges are drawn without antialiasing: many, thin, and far away
MAX_FIT = 1.5      # the first view and Z magnify no more than this (times the readable scale): context stays
EDGE_MARGIN = 24   # screen pixels kept clear around what the view brings into sight
MINIMAP_MARGIN = 8  # between the minimap and the viewport's corner
BUILD_SLICE_S = 0.025  # making items for a big layout: at most this long per turn of the event loop


def paints_text(scale):
    """Whether a box is painted with its labels at this view scale (else as a flat rectangle in its colour)."""
    return scale >= TEXT_LOD and LABEL_PX * scale >= PLAIN_LABEL_PX


class BoxItem(QGraphicsItem):
    """A group (name, shape, count) or a scalar drawn micrograd-style as name | op | data | grad."""

    label_px = LABEL_PX  # its smallest text (the badge aside), for smallest_label_px

    def __init__(self, view, box, rect):
        super().__init__()
        self.view, self.box, self.rect = view, box, QRectF(*rect)
        self.setPos(self.rect.topLeft())
        self.rect.moveTo(0, 0)
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.PointingHandCursor)
        self.setZValue(2)
        self._cells = {}  # what painting its cells keeps between steps (vector_strip.paint_cells)
        self._bounds = self.rect.adjusted(-2, -2, 2, 2)  # asked for every item near every frame: made once
        self._labels = None  # a scalar's name and data cells, laid out at its first paint
        # Painted once into a pixmap at the view's scale and copied from there while the view pans (a box
        # is exposed in several 40 px strips as it scrolls in); update() repaints it when backprop moves.
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)

    def boundingRect(self):
        return self._bounds

    def paint(self, painter, option, widget=None):
        view, box = self.view, self.box
        c = view.colors
        is_param = view.is_param_box(box)
        border = c['param_border'] if is_param else (c['scalar_border'] if box.node >= 0 else c['group_border'])
        painter.setRenderHint(QPainter.Antialiasing)
        if is_param and weight_grid.matrix_of(box):  # a weight matrix: its grid of cells
            weight_grid.paint_grid(self, painter)
        elif not is_param and not paints_text(option.levelOfDetailFromTransform(painter.worldTransform())):
            self._paint_plain(painter, c, border)  # far out: no label could be read, so none is laid out
        elif box.node >= 0:
            self._paint_scalar(painter, c, border, is_param)
        elif box.is_vector:
            self._paint_vector(painter, c)
        else:
            self._paint_group(painter, c, border, is_param)
        if box.key == view.focus_key:  # the node backprop applied last
            painter.setPen(QPen(QColor(c['current']), 3.2))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(self.rect.adjusted(-1.5, -1.5, 1.5, 1.5), 6, 6)
        if box.key in view.highlighted_readers:  # reads the weight matrix the mouse is on
            painter.setPen(QPen(QColor(c['param_border']), 3.0))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(self.rect.adjusted(-2.5, -2.5, 2.5, 2.5), 6, 6)
        if view.selected_key == box.key:
            painter.setPen(QPen(QColor(c['selection']), 2.2, Qt.DashLine if box.key == view.focus_key else Qt.SolidLine))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(self.rect, 5, 5)
        if box.key in view.session.backprop.breakpoints:
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(c['breakpoint']))
            painter.drawEllipse(QPointF(5, 5), 4, 4)

    def _paint_plain(self, painter, c, border):
        """A flat outlined rectangle in the colour the box has when painted in full: its grad's colour, or
        the share of its group backprop has done."""
        bp, node = self.view.session.backprop, self.box.node
        painter.setRenderHint(QPainter.Antialiasing, False)
        if node >= 0:
            grad = bp.grads[node]
            fill = (QColor(c['unreached']) if not bp.reached(node) else
                    QColor(c['scalar']) if grad == 0 else grad_color(grad, c))
        else:
            fill = QColor(c['group'] if bp.group_reached(self.box.scope) else c['unreached'])
        painter.setPen(QPen(QColor(border), 0))  # cosmetic: one device pixel
        painter.setBrush(fill)
        painter.drawRect(self.rect)
        if node < 0:
            done, size = bp.group_progress(self.box.scope)
            if done:
                painter.fillRect(QRectF(0, 0, self.rect.width() * done / size, self.rect.height()), QColor(c['progress']))

    def scalar_labels(self):
        """The name, op and data cells as drawn: (cell, font, text). A long name ('fc2[7][53]·x[53]') steps
        down to the 10 px font, then loses its middle ('fc2[7]…x[53]': the indices at both ends stay); its
        tooltip has it in full. The op ('+', '**-0.5') has a cell of its own, as micrograd's draw_dot gives
        it a node of its own. Worked out once: none of them changes while the view lives."""
        if self._labels is None:
            self._labels = self._lay_out_labels()
        return self._labels

    def cells_x(self):
        """Where the op, data and grad cells start (engine.graph.layout.scalar_cells), worked out with the labels."""
        self.scalar_labels()
        return self._cells_x

    def _lay_out_labels(self):
        view, w, h = self.view, self.rect.width(), self.rect.height()
        out = []
        self._cells_x = op_x, data_x, grad_x = scalar_cells(self.box, w)
        for a, b, label, fonts in ((0, op_x, self.box.title, (view.bold_font, view.small_font)),
                                   (op_x, data_x, self.box.op, (view.small_font,)),
                                   (data_x, grad_x, self.box.detail, (view.small_font,))):
            r = QRectF(a, 0, b - a, h)
            for font in fonts:
                metrics = QFontMetricsF(font)
                if metrics.horizontalAdvance(label) <= r.width() - 4:
                    break
            out.append((r, font, metrics.elidedText(label, Qt.ElideMiddle, r.width() - 4)))
        return out

    def _paint_scalar(self, painter, c, border, is_param):
        bp, node = self.view.session.backprop, self.box.node
        grad, reached = bp.grads[node], bp.reached(node)
        if not reached:
            fill, text = QColor(c['unreached']), QColor(c['unreached_text'])
        elif grad == 0:
            fill, text = QColor(c['param'] if is_param else c['scalar']), QColor(c['text'])
        else:
            fill, text = grad_color(grad, c), QColor(c['text'])
        painter.setPen(QPen(QColor(border), 1.0))
        painter.setBrush(fill)
        painter.drawRoundedRect(self.rect, 5, 5)
        if reached and grad == 0:  # exactly zero: hatched, so it never passes for a tiny gradient
            painter.setBrush(QBrush(QColor(c['unreached_text']), Qt.BDiagPattern))
            painter.drawRoundedRect(self.rect.adjusted(self.cells_x()[2], 0, 0, 0), 5, 5)
        if painter.worldTransform().m11() < TEXT_LOD:
            return
        labels, cells = self.scalar_labels(), self.cells_x()
        w, h = self.rect.width(), self.rect.height()
        gx = cells[2]
        painter.setPen(QColor(border))
        for x in cells:
            painter.drawLine(QPointF(x, 0), QPointF(x, h))
        painter.setPen(text)
        for r, font, label in labels:  # name (from the code) | op | data
            painter.setFont(font)
            painter.drawText(r, Qt.AlignCenter, label)
        r = QRectF(gx, 0, w - gx, h)  # | grad: the one label that changes
        painter.setFont(self.view.small_font)
        # the value has the cell to itself ('-0.0961' fits a 50 pt cell; 'grad -0.0961' did not) and the
        # word 'grad' goes in its corner
        painter.drawText(r.adjusted(0, 3, 0, 0), Qt.AlignCenter,
                         painter.fontMetrics().elidedText(fmt(grad), Qt.ElideRight, r.width() - 2))
        painter.setFont(self.view.tiny_font)
        painter.setPen(QColor(c['muted']))
        painter.drawText(QRectF(gx + 2, 0, w - gx, h / 2), Qt.AlignLeft | Qt.AlignTop, 'grad')
        got, needed = bp.arrived(node)
        if needed > 1:  # a grad that is a sum: how many of its terms are in
            painter.setFont(self.view.tiny_font)
            painter.setPen(QColor(c['current'] if got < needed else c['muted']))
            painter.drawText(QRectF(gx, 0, w - gx - 3, h / 2), Qt.AlignRight | Qt.AlignTop,
                             f'{got}/{needed}')

    def _paint_group(self, painter, c, border, is_param):
        bp, scope = self.view.session.backprop, self.box.scope
        done, size = bp.group_progress(scope)
        reached = bp.group_reached(scope)
        fill = c['param'] if is_param else c['group']
        painter.setPen(QPen(QColor(border), 1.0))
        painter.setBrush(QColor(fill if reached else c['unreached']))
        painter.drawRoundedRect(self.rect, 5, 5)
        if done:  # how far backprop has got through its scalars, as a fill from the left
            painter.save()
            painter.setClipRect(QRectF(0, 0, self.rect.width() * done / size, self.rect.height()))
            painter.setBrush(QColor(c['progress']))
            painter.drawRoundedRect(self.rect, 5, 5)
            painter.restore()
        if self.box.cells:  # its output vector, a strip of cells under its two lines
            paint_cells(painter, self.box, self.rect.width(), bp, c, self._cells)
        if painter.worldTransform().m11() < TEXT_LOD:
            return
        lines = STRIP_TEXT if self.box.cells else self.rect.height()  # the two lines above the strip
        top = QRectF(0, 2 if self.box.cells else 3, self.rect.width(), lines / 2)
        painter.setFont(self.view.bold_font)
        painter.setPen(QColor(c['text'] if reached else c['unreached_text']))
        painter.drawText(top, Qt.AlignCenter, self.box.title)
        painter.setFont(self.view.small_font)
        painter.setPen(QColor(c['muted'] if reached else c['unreached_text']))
        detail = self.box.detail
        if reached:
            detail = f'{detail.rsplit(" · ", 1)[0]} · {done:,}/{size:,} done'
        painter.drawText(top.translated(0, lines / 2 - (3 if self.box.cells else 5)), Qt.AlignCenter, detail)

    def _paint_vector(self, painter, c):
        """A vector made elsewhere, shown where it is read (q, the keys and values of the KV cache):
        a dashed box, like TensorBoard's auxiliary nodes, with its cells in rows (row t: position t)."""
        pen = QPen(QColor(c['kv'] if self.box.rows > 1 else c['group_border']), 1.2, Qt.DashLine)
        painter.setPen(pen)
        painter.setBrush(QColor(c['scalar']))
        painter.drawRoundedRect(self.rect, 5, 5)
        paint_cells(painter, self.box, self.rect.width(), self.view.session.backprop, c, self._cells)
        if painter.worldTransform().m11() < TEXT_LOD:
            return
        painter.setFont(self.view.bold_font)
        painter.setPen(QColor(c['text']))
        painter.drawText(QRectF(0, 2, self.rect.width(), 14), Qt.AlignCenter, self.box.title)
        painter.setFont(self.view.small_font)
        painter.setPen(QColor(c['muted']))
        painter.drawText(QRectF(0, 15, self.rect.width(), 13), Qt.AlignCenter, self.box.detail)
        if self.box.rows > 1:  # row t is position t's: name the rows
            cells = cell_rects(self.box, self.rect.width())
            cols = len(cells) // self.box.rows
            positions = [self.view.session.trace.position(node) for node, _, _ in self.box.cells[::cols]]
            for pos, (x, y, _, h) in zip(positions, cells[::cols]):
                painter.drawText(QRectF(0, y, x - 4, h), Qt.AlignRight | Qt.AlignVCenter, f'pos {pos}')

    def _cell(self, pos):
        """The cell (node, name, data) under an item point, or None."""
        i = cell_at(self.box, self.rect.width(), pos.x(), pos.y())
        return None if i is None else self.box.cells[i]

    def hoverEnterEvent(self, event):
        self.hoverMoveEvent(event)
        if self._grid_name():
            self.view.highlight_weight(self.box.title)

    def _grid_name(self):
        """The matrix's name when this box is a weight matrix drawn as a grid, else None."""
        return weight_grid.matrix_of(self.box) if self.view.is_param_box(self.box) else None

    def hoverMoveEvent(self, event):
        name = self._grid_name()
        if name:  # a cell: wq[3][5], data, grad
            cell = weight_grid.cell_at(self, name, self.view.weight_cells(), event.pos())
            tip = (weight_grid.cell_tooltip(self.view, name, *cell) if cell
                   else weight_grid.matrix_tooltip(self.view, self.box))
        else:
            cell = self._cell(event.pos()) if self.box.cells else None
            tip = cell_tooltip(self.view.session.trace, self.view.session.backprop, cell) if cell else \
                self.view.tooltip(self.box)  # grads change as backprop steps
        if tip != self.toolTip():
            self.setToolTip(tip)

    def hoverLeaveEvent(self, event):
        if weight_grid.matrix_of(self.box):
            self.view.highlight_weight(self.view.selected_matrix())  # a selected grid stays highlighted

    def mouseDoubleClickEvent(self, event):
        if self._grid_name():  # a grid is read, not opened
            return
        if self._cell(event.pos()) is None:
            self.view.activate(self.box.key)

    def mousePressEvent(self, event):
        name = self._grid_name()
        if name:
            cell = weight_grid.cell_at(self, name, self.view.weight_cells(), event.pos())
            node = self.view.weight_cells().nodes[name][cell[0]][cell[1]] if cell else None
            self.view.box_clicked.emit(node_key(node) if node is not None else self.box.key)  # a cell: that parameter
            super().mousePressEvent(event)
            return
        cell = self._cell(event.pos()) if self.box.cells else None
        if cell is not None and cell[0] >= 0 and event.button() == Qt.LeftButton:
            self.view.session.reveal(node_key(cell[0]))  # that scalar, opening what hides it (as Find does)
            event.accept()
            return
        self.view.box_clicked.emit(self.box.key)
        super().mousePressEvent(event)


class ClusterItem(QGraphicsItem):
    """An open group: a frame with its name; double-click the name to close it."""

    label_px = TITLE_PX

    def __init__(self, view, scope, rect):
        super().__init__()
        x, y, w, h, title = rect
        self.view, self.scope, self.title = view, scope, title
        self.rect = QRectF(0, 0, w, h)
        self.setPos(x, y)
        self.setZValue(0)
        self.setToolTip(f'{view.scope_path(scope)} (open) — double-click to close')
        last = view.scope_path(scope).rsplit(' / ', 1)[-1]  # 'head 2': framed in the head's colour
        self.head = int(last[5:]) if last.startswith('head ') and last[5:].isdigit() else None

    def boundingRect(self):
        return self.rect

    def paint(self, painter, option, widget=None):
        c = self.view.colors
        painter.setRenderHint(QPainter.Antialiasing)
        selected = self.view.selected_key == group_key(self.scope)
        painter.setPen(QPen(QColor(c['selection'] if selected else c['cluster_border']), 2 if selected else 1))
        if self.head is not None and not selected:  # the head's colour, as in every attention view
            painter.setPen(QPen(head_color(self.head), 2))
        painter.setBrush(QColor(c['cluster']))
        painter.drawRoundedRect(self.rect, 7, 7)
        if painter.worldTransform().m11() < TEXT_LOD:
            return
        painter.setPen(QColor(c['muted']))
        painter.setFont(self.view.title_font)
        painter.drawText(self.title_rect(), Qt.AlignLeft | Qt.AlignTop, self.title)

    def title_rect(self):
        """Where the title is drawn, in item coordinates: what must be on screen for the frame to be named."""
        width = self.view.title_metrics.horizontalAdvance(self.title) + 4
        return QRectF(8, 2, min(width, self.rect.width() - 16), TITLE_PX + 5)

    def mouseDoubleClickEvent(self, event):
        self.view.close_requested.emit(self.scope)

    def mousePressEvent(self, event):
        self.view.box_clicked.emit(group_key(self.scope))


OPEN_HEAD_Z = 1.1  # an open head's frame (and frames inside it) is opaque above the edges that only pass
                  # by (KV edges into its sibling heads), below its boxes and the edges into or out of it


class EdgeItem(QGraphicsPathItem):
    def __init__(self, view, edge):
        super().__init__()
        src, dst, count, points, tip = edge
        path = QPainterPath(QPointF(*points[0]))
        for i in range(1, len(points) - 2, 3):
            path.cubicTo(QPointF(*points[i]), QPointF(*points[i + 1]), QPointF(*points[i + 2]))
        end = QPointF(*points[-1])
        if tip is not None:  # arrow head from the spline's end to the tip
            t = QPointF(*tip)
            path.lineTo(t)
            d = t - end
            length = math.hypot(d.x(), d.y()) or 1.0
            ux, uy = d.x() / length, d.y() / length
            left = QPointF(t.x() - 6 * ux + 3 * uy, t.y() - 6 * uy - 3 * ux)
            right = QPointF(t.x() - 6 * ux - 3 * uy, t.y() - 6 * uy + 3 * ux)
            path.addPolygon(QPolygonF([t, left, right, t]))
        self.setPath(path)
        self.key = (src, dst)
        self.start, self.start_dir = QPointF(*points[0]), QPointF(*points[1]) if len(points) > 1 else None
        width = 1.0 if count == 1 else min(4.0, 0.8 + math.sqrt(count) / 4)
        color = QColor(view.colors['edge'])
        if is_group_key(src) and view.is_param_box(view.session.visible.box(src)) or \
                is_node_key(src) and split_key(src)[1] in view.session.trace.params:
            color.setAlpha(110)  # weights feed everything: lighter, so the data flow stands out
        self.kv = (src, dst) in view.session.visible.kv_edges
        self.faded = False
        if self.kv:  # the KV cache: keys and values of an earlier position read by a later one's attention
            pen = QPen(QColor(view.colors['kv']), max(1.4, width), Qt.DashLine)
            self.setToolTip(kv_tooltip(view.session.trace, src, dst, count))
        else:
            pen = QPen(color, width)
            if count > 1:
                self.setToolTip(f'{count} scalar edges')
        self.setPen(pen)
        self.setZValue(1)

    def fade(self, background):
        """Paler: an edge that does not touch the open head, so the head's own edges stand out. Mixed
        towards the background, opaque: thousands of translucent curves made panning three times slower."""
        pen = self.pen()
        color, back = pen.color(), QColor(background)
        a = color.alphaF() * 0.4
        pen.setColor(QColor.fromRgbF(*(a * x + (1 - a) * y for x, y in zip(color.getRgbF()[:3], back.getRgbF()[:3]))))
        self.setPen(pen)
        self.faded = True


def kv_tooltip(trace, src, dst, count):
    """'keys/values of pos 0 → attention of pos 2 (KV cache, 8 scalars)' for a KV-cache edge."""
    def position(key):
        kind, index = split_key(key)
        return trace.scopes[trace.scope_of[index] if kind == 'n' else index].path.split(' / ')[0]
    return (f'keys/values of {position(src)} → attention of {position(dst)} '
            f'(KV cache, {count} scalar edge{"s" * (count > 1)})')


class FlowItem(QGraphicsItem):
    """Drawn over an edge while the last step sends gradient along it: thick, an arrow into the
    child, and the amount. Separate from EdgeItem so that plain edges paint natively."""

    def __init__(self, view, edge, total, count):
        super().__init__()
        self.view, self.edge, self.total, self.count = view, edge, total, count
        self.setZValue(1.5)
        self.setAcceptedMouseButtons(Qt.NoButton)

    def boundingRect(self):
        return self.edge.path().boundingRect().adjusted(-60, -16, 60, 16)  # room for the label

    def paint(self, painter, option, widget=None):
        color = QColor(self.view.colors['flow'])
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(color, 2.6))
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self.edge.path())
        if self.edge.start_dir is not None:  # the gradient flows back, into the child: an arrow at this end
            t = self.edge.start
            d = t - self.edge.start_dir
            length = math.hypot(d.x(), d.y()) or 1.0
            ux, uy = d.x() / length, d.y() / length
            painter.setBrush(color)
            painter.drawPolygon(QPolygonF([t, QPointF(t.x() - 8 * ux + 4 * uy, t.y() - 8 * uy - 4 * ux),
                                           QPointF(t.x() - 8 * ux - 4 * uy, t.y() - 8 * uy + 4 * ux)]))
        if painter.worldTransform().m11() < TEXT_LOD:
            return
        label = f'∂ {fmt(self.total)}' if self.count == 1 else f'∂ Σ{self.count} {fmt(self.total)}'
        mid = self.edge.path().pointAtPercent(0.5)
        painter.setFont(self.view.small_font)
        r = QRectF(mid.x() - 55, mid.y() - 14, 110, 12)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(self.view.colors['background']))
        painter.drawRoundedRect(r.adjusted(8, 0, -8, 0), 3, 3)
        painter.setPen(color)
        painter.drawText(r, Qt.AlignCenter, label)


class Minimap(QWidget):
    """The whole view in small, with the part the graph shows framed; click or drag to go there.

    It draws a picture of the scene, redrawn when the view changes and at most a few times a second
    while backprop moves, so that it never doubles the cost of a step."""

    def __init__(self, main):
        super().__init__(main.viewport())  # on the viewport, not beside it: a sibling over the viewport would
        self.main = main                    # stop Qt from scrolling its pixels, and every pan frame would repaint it all
        self.picture = QPixmap()
        self.source = QRectF()  # the scene rectangle the picture shows
        self.setFixedSize(220, 140)
        self.setToolTip('Overview: click or drag to move the graph view')
        self.setCursor(Qt.PointingHandCursor)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(300)
        self._later.timeout.connect(self.redraw)
        main.horizontalScrollBar().valueChanged.connect(self.update)
        main.verticalScrollBar().valueChanged.connect(self.update)

    def refresh(self, now=True):
        """Shown only when the graph does not fit in its window; redrawn now (or soon, while resizing)."""
        scene = self.main.scene()
        shown = self.main.mapToScene(self.main.viewport().rect()).boundingRect()
        self.setVisible(self.main.show_minimap and not shown.contains(scene.sceneRect().adjusted(40, 40, -40, -40)))
        self.redraw() if now else self.redraw_soon()

    def redraw_soon(self):
        if self.isVisible() and not self._later.isActive():
            self._later.start()

    def redraw(self):
        """Frames and boxes as plain rectangles from the layout: a few milliseconds however many boxes
        there are (rendering the scene's items would paint every label of thousands of boxes)."""
        if not self.isVisible():
            return
        main = self.main
        lay, c = main.session.layout, main.colors
        self.source = main.scene().sceneRect()
        self.picture = QPixmap(self.size())
        self.picture.fill(QColor(c['background']))
        if lay is not None and not self.source.isEmpty():
            scale, dx, dy = self._to_widget()
            rect = lambda x, y, w, h: QRectF(x * scale + dx, y * scale + dy, max(w * scale, 1), max(h * scale, 1))  # noqa: E731
            painter = QPainter(self.picture)
            painter.setPen(QPen(QColor(c['cluster_border']), 1))
            painter.setBrush(QColor(c['cluster']))
            for x, y, w, h, _title in lay.clusters.values():
                painter.drawRect(rect(x, y, w, h))
            painter.setPen(Qt.NoPen)
            for kind, color in (('box', c['group_border']), ('focus', c['current'])):
                painter.setBrush(QColor(color))
                keys = [main.focus_key] if kind == 'focus' else lay.boxes
                painter.drawRects([rect(*lay.boxes[k]) for k in keys if k in lay.boxes])
            painter.end()
        self.update()

    def _to_widget(self):
        """The transform the picture was drawn with (scene -> widget), as scale and offset."""
        scale = min(self.width() / self.source.width(), self.height() / self.source.height())
        dx = (self.width() - self.source.width() * scale) / 2 - self.source.left() * scale
        dy = (self.height() - self.source.height() * scale) / 2 - self.source.top() * scale
        return scale, dx, dy

    def paintEvent(self, event):
        if self.picture.isNull() or self.source.isEmpty():
            return
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self.picture)
        scale, dx, dy = self._to_widget()
        shown = self.main.mapToScene(self.main.viewport().rect()).boundingRect()
        painter.setPen(QPen(QColor(self.main.colors['selection']), 1.5))
        painter.drawRect(QRectF(shown.left() * scale + dx, shown.top() * scale + dy,
                                shown.width() * scale, shown.height() * scale))
        painter.setPen(QPen(QColor(self.main.colors['cluster_border']), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def _go(self, pos):
        scale, dx, dy = self._to_widget()
        self.main.centerOn(QPointF((pos.x() - dx) / scale, (pos.y() - dy) / scale))

    def mousePressEvent(self, event):
        self._go(event.position())

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.LeftButton:
            self._go(event.position())


class GraphView(QGraphicsView):
    box_clicked = Signal(str)        # a box or cluster was clicked: its key
    open_requested = Signal(int, bool)   # scope, to scalars
    close_requested = Signal(int)    # scope

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.colors = LIGHT
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.MinimalViewportUpdate)  # a step repaints only its boxes
        self.small_font = QFont(self.font())
        self.small_font.setPixelSize(LABEL_PX)
        self.bold_font = QFont(self.small_font)
        self.bold_font.setPixelSize(TITLE_PX)
        self.bold_font.setBold(True)
        self.title_font = self.bold_font  # frame titles
        self.title_metrics = QFontMetricsF(self.title_font)
        self.tiny_font = QFont(self.small_font)
        self.tiny_font.setPixelSize(BADGE_PX)
        self.items_by_key = {}
        self.edges_by_key = {}
        self.selected_key = None
        self.focus_key = None   # the box of the node backprop applied last
        self._followed_key = None  # the last box follow brought into view (a box is followed once)
        self._gc_held = False      # the collector paused for the build under way
        self.flows = {}         # (child box, node box) -> (gradient sent along it, scalar edges): the last step
        self._flow_items = []   # the FlowItems drawing them
        self.follow = True      # centre the node being processed when it leaves the window
        self.show_minimap = True
        self.show_weight_edges = False  # edges out of the weights: off, the grids and badges say it
        self.weight_readers = {}        # matrix name -> keys of the boxes that read it (this view)
        self.highlighted_weights = frozenset()  # the matrix the mouse is on (a grid or a badge's name)
        self.highlighted_readers = frozenset()  # and the boxes that read it
        self._weight_cells = None
        self._weight_keys = set()       # boxes that show weights, whose edges are the weight edges
        self.badge_items = []
        self.context_actions = []  # the window's view actions, below a box's own entries in the context menu
        self.minimap = Minimap(self)
        self.minimap.hide()
        self._fitted_once = False
        self._building = iter(())  # what is left of making the items of the last layout
        self._build_timer = QTimer(self)
        self._build_timer.setSingleShot(True)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self._continue_build)
        session.view_changed.connect(self._on_view_changed)
        session.selection_changed.connect(self._on_selection_changed)
        session.recorded.connect(self._on_recorded)
        session.backprop.moved.connect(self._on_moved)
        session.backprop.breakpoints_changed.connect(self._repaint_boxes)

    @contextlib.contextmanager
    def uncached(self):
        """Items painted directly while it lasts: an export draws vectors and text, not the boxes' cached pixmaps."""
        boxes = [item for item in self.items_by_key.values() if isinstance(item, BoxItem)]
        for item in boxes:
            item.setCacheMode(QGraphicsItem.NoCache)
        try:
            yield
        finally:
            for item in boxes:
                item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)

    # What items ask of the view

    def is_param_box(self, box):
        if box.node >= 0:
            return box.node in self.session.trace.params
        return is_weight_path(self.scope_path(box.scope))

    def scope_path(self, scope):
        return self.session.trace.scopes[scope].path

    def weight_cells(self):
        """Which node, value and colour scale each parameter has, for the current recording."""
        if self._weight_cells is None:
            self._weight_cells = weight_grid.WeightCells(self.session.trace, self.session.model.state_dict)
        return self._weight_cells

    def selected_node(self):
        """The selected scalar's node id (a parameter picked in a grid, say), or None."""
        key = self.selected_key
        return split_key(key)[1] if key and is_node_key(key) else None

    def highlight_weight(self, name):
        """Outline matrix `name` and every box that reads it (None: nothing)."""
        weights = frozenset([name]) if name else frozenset()
        if weights == self.highlighted_weights:
            return
        keys = set(self.highlighted_readers)
        self.highlighted_weights = weights
        self.highlighted_readers = frozenset(self.weight_readers.get(name, ())) if name else frozenset()
        for key in keys | self.highlighted_readers | {k for k, i in self.items_by_key.items()
                                                       if isinstance(i, BoxItem) and weight_grid.matrix_of(i.box)}:
            item = self.items_by_key.get(key)
            if item is not None:
                item.update()
        for badge in self.badge_items:
            badge.update()

    def set_weight_edges(self, on):
        """Show or hide the edges out of the weights (View › Weight edges)."""
        self.show_weight_edges = on
        for key, edge in self.edges_by_key.items():
            if key[0] in self._weight_keys:
                edge.setVisible(on)

    def tooltip(self, box):
        trace, bp = self.session.trace, self.session.backprop
        if box.node >= 0:
            got, needed = bp.arrived(box.node)
            state = (f'grad {bp.grads[box.node]!r} ({got} of {needed} contributions in)' if bp.reached(box.node)
                     else 'grad not reached yet')
            return (f'{trace.name(box.node)} = {trace.op[box.node]} — {trace.scope_path(box.node)}\n'
                    f'data {trace.data[box.node]!r}\n{state}')
        done, size = bp.group_progress(box.scope)
        return (f'{self.scope_path(box.scope)}\n{box.detail}\nbackprop: {done:,} of {size:,} scalars done\n'
                'double-click to open')

    def activate(self, key):
        """Return or a double-click on a box: a group opens; a vector box (q, keys, values in an open head)
        takes the selection to the box that computes it; a weight grid is only selected."""
        kind, scope = split_key(key)
        if kind == 'g':
            self.open_requested.emit(scope, False)
        elif kind == 'v':
            self.session.model_state.go_to_source(key)

    # Session -> items

    def _on_recorded(self):
        """The old items describe the old trace: drop them until the new layout arrives."""
        fitted = self._fitted_once
        self._build_timer.stop()
        self._building = iter(())
        self._release_gc()
        self.scene().clear()
        self.items_by_key, self.edges_by_key, self.flows, self.focus_key = {}, {}, {}, None
        self._followed_key = None
        self._flow_items = []
        self._fitted_once = False
        self._weight_cells = None
        self.badge_items, self.weight_readers = [], {}
        self.highlighted_weights = self.highlighted_readers = frozenset()
        if self.session.numbers_only:  # a timeline step: same layout, new numbers; the view stays where it is
            self._fitted_once = fitted

    def _on_moved(self, changed):
        """Backprop moved: repaint the boxes and edges it touched (all of them after a jump)."""
        visible = self.session.visible
        if visible is None or not self.items_by_key:
            return
        old_focus = self.focus_key  # (a new layout sets it without a step: the first step's box is followed)
        self._update_backprop_marks()
        if changed is None:  # boxes only: edges do not change, and repainting them all costs most
            for key, item in self.items_by_key.items():
                if is_node_key(key) or isinstance(item, BoxItem):
                    item.update()
        else:
            key_of, vectors_of = visible.key_of, visible.vectors_of
            keys = {key_of[n] for n in changed} | {k for n in changed for k in vectors_of.get(n, ())}
            for key in keys | {old_focus, self.focus_key}:
                item = self.items_by_key.get(key)
                if item is not None:
                    item.update()
        self.minimap.redraw_soon()
        stepped_in = changed is not None and self.focus_key != self._followed_key  # a step into a box not yet shown
        if self.follow and (self.focus_key != old_focus or stepped_in):
            self._followed_key = self.focus_key
            item = self.items_by_key.get(self.focus_key)  # kept clear of the edges and the minimap
            if item is not None and not self._in_clear_view(item.sceneBoundingRect(), self._topleft(),
                                                            self.transform().m11()):
                self.centerOn(item)

    def _repaint_boxes(self):
        """Every box redrawn (its cached picture too): a mark on it changed, e.g. a breakpoint."""
        for item in self.items_by_key.values():
            item.update()

    def _update_backprop_marks(self):
        """Which box is current, and FlowItems over the edges that carry the last step's gradient."""
        bp, key_of = self.session.backprop, self.session.visible.key_of
        self.focus_key = key_of[bp.focus_node()]
        for item in self._flow_items:
            self.scene().removeItem(item)
        self.flows, self._flow_items = {}, []
        record = bp.stepper.last_record()
        if record is None:
            return
        node_key = key_of[record.node]
        vectors_of = self.session.visible.vectors_of
        for c in record.contributions:
            child_key = key_of[c.child]
            if child_key is not None and child_key != node_key:
                hops = [(child_key, node_key)]
                via = next((v for v in vectors_of.get(c.child, ()) if (v, node_key) in self.edges_by_key), None)
                if via is not None:  # read through a vector box (q, keys, values in an open head)
                    hops = [(child_key, via), (via, node_key)]
                for hop in hops:
                    total, count = self.flows.get(hop, (0.0, 0))
                    self.flows[hop] = (total + c.contribution, count + 1)
        for key, (total, count) in self.flows.items():
            edge = self.edges_by_key.get(key)
            if edge is not None and edge.isVisible():  # not over a hidden weight edge
                item = FlowItem(self, edge, total, count)
                self.scene().addItem(item)
                self._flow_items.append(item)

    def _on_view_changed(self):
        """A new layout: items are made in slices of at most BUILD_SLICE_S per turn of the event loop,
        frames and boxes first, then the view is placed, then edges, so thousands of boxes never hold
        the window (a later layout abandons an unfinished build)."""
        lay, visible = self.session.layout, self.session.visible
        focus = self.session.focus
        self._kept_view = ((self.transform(), self.horizontalScrollBar().value(), self.verticalScrollBar().value())
                           if self.session.numbers_only and self._fitted_once else None)  # restored by _place
        anchor = None  # where the focused group is on screen now: it stays there after the relayout
        if focus in self.items_by_key:
            anchor = self.mapFromScene(self.items_by_key[focus].sceneBoundingRect().center())
        self._build_timer.stop()
        scene = self.scene()
        scene.clear()
        self.items_by_key, self.edges_by_key, self._flow_items = {}, {}, []
        self.badge_items = []
        self.highlighted_weights = self.highlighted_readers = frozenset()
        scopes = self.session.trace.scopes
        self._weight_keys = {b.key for b in visible.boxes if weight_grid.is_weight_box(b, scopes)}
        self.weight_readers = weight_grid.readers(visible, scopes)
        scene.setBackgroundBrush(QBrush(QColor(self.colors['background'])))
        scene.setSceneRect(QRectF(-40, -40, lay.width + 80, lay.height + 80))
        self._update_scroll_area()
        self.selected_key = self.session.selected
        self._building = self._build(lay, visible, focus, anchor)
        self._hold_gc()
        self._continue_build()

    def _continue_build(self):
        deadline = time.perf_counter() + BUILD_SLICE_S
        for _ in self._building:
            if time.perf_counter() > deadline:
                self._build_timer.start()  # the rest after the window has had its turn
                return
        self._building = iter(())
        self._release_gc()

    def _hold_gc(self):
        """The garbage collector paused while a build makes its items: tens of thousands of new objects
        set off full collections (40-100 ms each, a visible stall) that find nothing to free."""
        if not self._gc_held:
            self._gc_held = True
            gc_pause.pause()

    def _release_gc(self):
        if self._gc_held:
            self._gc_held = False
            gc_pause.resume()

    def hideEvent(self, event):
        self._release_gc()  # a window closed mid-build never leaves the collector off
        super().hideEvent(event)

    def building(self):
        """True while the items of the last layout are still being made."""
        return self._build_timer.isActive()

    def _build(self, lay, visible, focus, anchor):
        scene = self.scene()
        heads = [self.scope_path(scope) for scope in lay.clusters
                 if self.scope_path(scope).rsplit(' / ', 1)[-1].startswith('head ')]
        for scope, rect in lay.clusters.items():
            item = ClusterItem(self, scope, rect)
            scene.addItem(item)
            self.items_by_key[group_key(scope)] = item
            path = self.scope_path(scope)
            if any(path == h or path.startswith(h + ' / ') for h in heads):  # an open head and its inside
                item.setZValue(OPEN_HEAD_Z + 0.01 * path.count(' / '))
            yield
        for box in visible.boxes:
            item = BoxItem(self, box, lay.boxes[box.key])
            scene.addItem(item)
            self.items_by_key[box.key] = item
            yield
        yield
        for key, names in weight_grid.badges(visible, self.session.trace.scopes).items():  # thousands at scalars
            badge = weight_grid.BadgeItem(self, key, names, lay.boxes[key])
            scene.addItem(badge)
            self.badge_items.append(badge)
            yield
        self.highlight_weight(self.selected_matrix())  # a selected grid keeps its uses outlined
        self._place(focus, anchor)
        yield
        in_head = {}  # scope -> inside an open head? (a few hundred scopes for thousands of boxes)
        for box in visible.boxes:
            if box.scope not in in_head:
                path = self.scope_path(box.scope)
                in_head[box.scope] = any(path == h or path.startswith(h + ' / ') for h in heads)
        inside = {box.key for box in visible.boxes if in_head[box.scope]}
        yield
        for edge in lay.edges:
            item = EdgeItem(self, edge)
            if edge[0] in inside or edge[1] in inside:  # drawn over the head's frame; the others pass under it
                item.setZValue(OPEN_HEAD_Z + 0.5)
            elif inside and len(heads) == 1:  # one head open: what does not touch it is context, paler (a
                item.fade(self.colors['background'])  # position opened whole opens every head: nothing fades)
            scene.addItem(item)
            self.edges_by_key[item.key] = item
            if edge[0] in self._weight_keys:
                item.setVisible(self.show_weight_edges)
            yield
        self._update_backprop_marks()
        self.minimap.refresh()

    def _place(self, focus, anchor):
        """Where the view goes once the boxes are in: the first view, or the focused group kept in place."""
        kept, self._kept_view = getattr(self, '_kept_view', None), None
        if kept is not None:  # a timeline step: exactly where it was
            self.setTransform(kept[0])
            self.horizontalScrollBar().setValue(kept[1])
            self.verticalScrollBar().setValue(kept[2])
            self.minimap.refresh()
            return
        if not self._fitted_once:
            self._fitted_once = True
            self.first_view()
        elif focus and focus in self.items_by_key:
            target = self.items_by_key[focus].sceneBoundingRect().center()
            if anchor is not None:  # put it back under the same viewport point
                delta = self.mapToScene(anchor) - self.mapToScene(self.viewport().rect().center())
                self.centerOn(target - delta)
            else:
                self.centerOn(target)
            self.bring_into_view(self._with_inputs(focus))  # what was opened, readable, and what feeds it
        if self.selected_key in self.items_by_key and self.selected_key != focus:
            self.ensureVisible(self.items_by_key[self.selected_key], 40, 40)
        self.minimap.refresh()

    def _with_inputs(self, key):
        """The scene rectangle of box or frame `key` united with the boxes beside it (in its parent's frame)
        that feed it, e.g. an opened head with the q, k and v linears its vectors come from, when that still
        fits the window at the readable scale; otherwise its own rectangle (what was opened comes first)."""
        rect = self.items_by_key[key].sceneBoundingRect()
        kind, scope = split_key(key)
        visible = self.session.visible
        if kind != 'g' or ' / ' not in self.scope_path(scope):
            return rect
        path = self.scope_path(scope)
        parent = path.rsplit(' / ', 1)[0] + ' / '
        inside = {b.key for b in visible.boxes if (p := self.scope_path(b.scope)) == path or p.startswith(path + ' / ')}
        united = QRectF(rect)
        for src, dst, _count in visible.edges:
            if dst in inside and src not in inside and src in self.items_by_key:
                if self.scope_path(visible.box(src).scope).startswith(parent):
                    united = united.united(self.items_by_key[src].sceneBoundingRect())
        scale = self.readable_scale()
        room_w = self.viewport().width() - 2 * EDGE_MARGIN
        room_h = self.viewport().height() - 2 * EDGE_MARGIN
        return united if united.width() * scale <= room_w and united.height() * scale <= room_h else rect

    def _on_selection_changed(self):
        old, self.selected_key = self.selected_key, self.session.selected
        for key in (old, self.selected_key):  # a box's cached picture is redrawn only when it is told to
            if key in self.items_by_key:
                self.items_by_key[key].update()
        self.viewport().update()
        self.highlight_weight(self.selected_matrix())  # a grid selected (in the Scopes tab, say): its uses outlined
        item = self.items_by_key.get(self.selected_key)
        if item is not None:
            self.ensureVisible(item, 40, 40)

    def selected_matrix(self):
        """The weight matrix whose grid is selected, or None."""
        item = self.items_by_key.get(self.selected_key)
        return item._grid_name() if isinstance(item, BoxItem) else None

    def set_colors(self, colors):
        self.colors = colors
        if self.session.layout is not None:
            self.session.focus = None
            self._on_view_changed()

    # Navigation

    def readable_scale(self):
        """The smallest scale at which every label is MIN_LABEL_PX device pixels high or more."""
        return MIN_LABEL_PX / (LABEL_PX * self.devicePixelRatioF())

    def _update_scroll_area(self):
        """Let the view scroll half a window (at the readable scale) past the graph's edges, so that a box at
        an edge can be centred, or moved out from under the minimap."""
        scale = self.readable_scale()
        pad_x, pad_y = self.viewport().width() / 2 / scale, self.viewport().height() / 2 / scale
        self.setSceneRect(self.scene().sceneRect().adjusted(-pad_x, -pad_y, pad_x, pad_y))

    def _set_scale(self, scale):
        self.setTransform(QTransform.fromScale(scale, scale))
        self._update_render_hints()

    def _update_render_hints(self):
        """Edges (drawn natively with the view's hints) are antialiased only at scales where one can follow them."""
        self.setRenderHint(QPainter.Antialiasing, self.transform().m11() >= EDGE_AA_SCALE)

    def smallest_label_px(self):
        """The height in device pixels of the smallest label on screen now (0 if the scale is so small that
        boxes are drawn without text), or None if no labelled item is in view. An item class tells the size
        of its smallest text, in scene units, as `label_px`."""
        shown = self.mapToScene(self.viewport().rect()).boundingRect()
        sizes = [item.label_px for item in self.scene().items(shown) if getattr(item, 'label_px', None)]
        if not sizes:
            return None
        scale = self.transform().m11()
        return min(sizes) * scale * self.devicePixelRatioF() if paints_text(scale) else 0.0

    def _minimap_corner(self, scale):
        """The viewport's bottom-right corner the minimap covers (with a margin), in screen pixels from the
        viewport's bottom-right, or None when the minimap will not show at this scale."""
        if not self.show_minimap:
            return None
        scene = self.scene().sceneRect().adjusted(40, 40, -40, -40)
        if scene.width() * scale <= self.viewport().width() and scene.height() * scale <= self.viewport().height():
            return None
        return QSizeF(self.minimap.width() + 2 * MINIMAP_MARGIN, self.minimap.height() + 2 * MINIMAP_MARGIN)

    def _clear_rects(self, topleft, scale):
        """At this scale with the viewport's top-left at scene point `topleft`: the scene rectangle on screen
        minus EDGE_MARGIN, and the minimap's corner (or None)."""
        vw, vh = self.viewport().width() / scale, self.viewport().height() / scale
        m = EDGE_MARGIN / scale
        shown = QRectF(topleft.x() + m, topleft.y() + m, vw - 2 * m, vh - 2 * m)
        corner = self._minimap_corner(scale)
        if corner is None:
            return shown, None
        cw, ch = corner.width() / scale, corner.height() / scale
        return shown, QRectF(topleft.x() + vw - cw, topleft.y() + vh - ch, cw, ch)

    def _in_clear_view(self, rect, topleft, scale):
        shown, minimap = self._clear_rects(topleft, scale)
        return shown.contains(rect) and (minimap is None or not minimap.intersects(rect))

    def _show_at(self, topleft, scale):
        """Scale, and put scene point `topleft` at the viewport's top-left corner."""
        self._set_scale(scale)
        size = QSizeF(self.viewport().width() / scale, self.viewport().height() / scale)
        self.centerOn(QRectF(topleft, size).center())

    def _topleft(self):
        return self.mapToScene(self.viewport().rect()).boundingRect().topLeft()

    def first_view(self):
        """The whole graph if it fits at a readable scale (fonts MIN_LABEL_PX high or more); otherwise the
        readable scale: a document with more positions than fit across shows its start (pos 0 and the
        weights; the minimap has the rest, and the first backprop step follows to the loss), else the view
        that shows the loss, then as many frame titles, then as many boxes as it can."""
        readable = self.readable_scale()
        lay = self.session.layout
        content = QRectF(0, 0, lay.width, lay.height)
        vw, vh = self.viewport().width(), self.viewport().height()
        fit = min((vw - 2 * EDGE_MARGIN) / max(content.width(), 1), (vh - 2 * EDGE_MARGIN) / max(content.height(), 1))
        if fit >= readable:
            self._set_scale(min(fit, MAX_FIT * readable))
            self.centerOn(content.center())
            self.minimap.refresh()
            return
        if content.width() * readable > vw - 2 * EDGE_MARGIN:  # too many positions: the start, pos 0 first,
            m = EDGE_MARGIN / readable                          # and the weights over them, as one reads
            self._show_at(QPointF(content.left() - m, content.top() - m), readable)
        else:
            self._show_at(self._best_topleft(content, readable), readable)
        self.minimap.refresh()

    def _landmarks(self):
        """What the first view tries to show, most important first: the loss box, frame titles, boxes."""
        trace, key_of = self.session.trace, self.session.visible.key_of
        loss = self.items_by_key.get(key_of[trace.loss_id])
        titles = [item.title_rect().translated(item.pos()) for item in self.items_by_key.values()
                  if isinstance(item, ClusterItem)]
        boxes = [item.sceneBoundingRect() for item in self.items_by_key.values() if isinstance(item, BoxItem)]
        return ([loss.sceneBoundingRect()] if loss is not None else []), titles, boxes

    def _best_topleft(self, content, scale):
        """Of the viewport positions that put a landmark against an edge, the one that shows the loss, then
        the most titles, then the most boxes, clear of the edges and the minimap; ties go to the start of
        the graph (top, then left)."""
        must, titles, boxes = ([r.getCoords() for r in rects] for rects in self._landmarks())
        vw, vh = self.viewport().width() / scale, self.viewport().height() / scale
        m = EDGE_MARGIN / scale
        corner = self._minimap_corner(scale) or QSizeF(0, 0)
        cw, ch = corner.width() / scale, corner.height() / scale
        lo_x, hi_x = content.left() - m, max(content.left() - m, content.right() + m - vw)
        lo_y, hi_y = content.top() - m, max(content.top() - m, content.bottom() + m - vh)
        xs, ys = {lo_x, hi_x}, {lo_y, hi_y}
        for x1, y1, x2, y2 in must + titles + boxes:  # a landmark against an edge (or beside the minimap)
            xs |= {x1 - m, x2 + m - vw, x2 + cw + m - vw}
            ys |= {y1 - m, y2 + m - vh, y2 + ch + m - vh}
        for x1, y1, x2, y2 in must:  # only positions that can show the loss
            xs = {x for x in xs if x2 + m - vw <= x <= x1 - m} or xs
            ys = {y for y in ys if y2 + m - vh <= y <= y1 - m} or ys
        xs = sorted({min(hi_x, max(lo_x, x)) for x in xs})
        ys = sorted({min(hi_y, max(lo_y, y)) for y in ys})

        def seen(rects, x, y):
            left, top, right, bottom = x + m, y + m, x + vw - m, y + vh - m
            mx, my = x + vw - cw, y + vh - ch  # the minimap's corner, when there is one
            return sum(1 for x1, y1, x2, y2 in rects if left <= x1 and top <= y1 and x2 <= right and y2 <= bottom
                       and not (cw and x2 > mx and y2 > my))
        best, best_score = (lo_x, lo_y), None
        for y in ys:
            for x in xs:
                score = (seen(must, x, y), seen(titles, x, y))
                if best_score is not None and score < best_score[:2]:
                    continue
                score += (seen(boxes, x, y), -y, -x)
                if best_score is None or score > best_score:
                    best, best_score = (x, y), score
        return QPointF(*best)

    def fit(self):
        self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)
        self._update_render_hints()
        self.minimap.refresh()

    def zoom_to_selection(self):
        """The selection as large as fits (up to MAX_FIT times the readable scale), never below the readable
        scale; centred, or if it is larger than the window at that scale, its top-left corner (its title)
        in view."""
        item = self.items_by_key.get(self.selected_key)
        if item is not None:
            self.bring_into_view(item.sceneBoundingRect(), zoom_in=True)

    def bring_into_view(self, rect, zoom_in=False):
        """Make scene rectangle `rect` visible at a readable scale, clear of the edges and the minimap.
        Without zoom_in: zoom out only if it needs room (never below the readable scale) and move as little
        as needed; with zoom_in: as large as fits, up to MAX_FIT times the readable scale, centred. When it
        is larger than the window even at the readable scale, its top-left corner (its title) is shown."""
        readable, now = self.readable_scale(), self.transform().m11()
        room_w = self.viewport().width() - 2 * EDGE_MARGIN
        room_h = self.viewport().height() - 2 * EDGE_MARGIN
        fit = min(room_w / max(rect.width(), 1), room_h / max(rect.height(), 1))
        scale = max(readable, min(fit, MAX_FIT * readable) if zoom_in else min(now, fit))
        if rect.width() * scale > room_w or rect.height() * scale > room_h:
            m = EDGE_MARGIN / scale
            self._show_at(QPointF(rect.left() - m, rect.top() - m), scale)
        elif zoom_in:
            self._set_scale(scale)
            self.centerOn(rect.center())
            while not self._in_clear_view(rect, self._topleft(), scale) and scale > readable:
                scale = max(readable, scale * 0.85)  # smaller, until it is clear of the minimap
                self._set_scale(scale)
                self.centerOn(rect.center())
            self._keep_clear(rect)
        else:
            if abs(scale - now) > 1e-9:
                centre = self.mapToScene(self.viewport().rect().center())
                self._set_scale(scale)
                self.centerOn(centre)
            self._keep_clear(rect)
        self.minimap.refresh()

    def _keep_clear(self, rect):
        """Move as little as needed to show scene rectangle `rect` clear of the edges and the minimap (the
        view scrolls half a window past the graph's edges, so a box in the corner, the loss, can be)."""
        scale, topleft = self.transform().m11(), self._topleft()
        if not self._in_clear_view(rect, topleft, scale):
            self._show_at(self._nearest_topleft(rect, topleft, scale), scale)

    def _nearest_topleft(self, rect, topleft, scale):
        """The smallest move of the viewport's top-left that puts rect in clear view (beside the minimap)."""
        vw, vh = self.viewport().width() / scale, self.viewport().height() / scale
        m = EDGE_MARGIN / scale
        x = min(max(topleft.x(), rect.right() + m - vw), rect.left() - m)
        y = min(max(topleft.y(), rect.bottom() + m - vh), rect.top() - m)
        at = QPointF(x, y)
        if self._in_clear_view(rect, at, scale):
            return at
        return QPointF(rect.center().x() - vw / 2, rect.center().y() - vh / 2)  # the centre is clear of the minimap

    def zoom(self, factor):
        scale = self.transform().m11()
        factor = max(0.02 / scale, min(8.0 / scale, factor))
        self.scale(factor, factor)
        self._update_render_hints()
        self.minimap.refresh()

    def set_follow(self, on):
        self.follow = on

    def set_minimap(self, on):
        self.show_minimap = on
        self.minimap.refresh()

    def _place_minimap(self):
        self.minimap.move(self.viewport().width() - self.minimap.width() - MINIMAP_MARGIN,
                          self.viewport().height() - self.minimap.height() - MINIMAP_MARGIN)

    def scrollContentsBy(self, dx, dy):
        super().scrollContentsBy(dx, dy)  # scrolls the viewport's pixels, and its children with them:
        self._place_minimap()             # the minimap goes back to its corner

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place_minimap()
        self._update_scroll_area()
        self.minimap.refresh(now=False)

    def wheelEvent(self, event):
        if event.modifiers() & Qt.ShiftModifier:  # shift+wheel scrolls sideways
            return super().wheelEvent(event)
        self.zoom(1.0015 ** event.angleDelta().y())

    def contextMenuEvent(self, event):
        item = self.itemAt(event.pos())
        menu = QMenu(self)
        if isinstance(item, BoxItem) and item.box.node < 0:
            scope = item.box.scope
            menu.addAction('Open', lambda: self.open_requested.emit(scope, False))
            menu.addAction('Open to scalars', lambda: self.open_requested.emit(scope, True))
        if isinstance(item, (BoxItem, ClusterItem)):
            scope = item.scope if isinstance(item, ClusterItem) else item.box.scope
            parent = scope if isinstance(item, ClusterItem) else self.session.trace.scopes[scope].parent
            if parent > 0:
                menu.addAction(f'Close {self.session.trace.scopes[parent].name}', lambda: self.close_requested.emit(parent))
        menu.addSeparator()
        for action in self.context_actions:
            menu.addAction(action)
        menu.exec(event.globalPos())

    # Tints (issue 13): a panel lights a set of nodes (what a line made, what a nudge changed, a cone, a
    # path) over whatever the boxes show, in drawForeground, so the boxes' own painting is untouched.

    def set_tint(self, strengths, label=''):
        """Light the boxes holding these nodes: {node id: strength 0..1} (a group: its strongest node);
        None or {} clears. `label` says what is lit (`tint_label()`): the window shows it in the status
        bar, not over the graph, where it would cover boxes. The colour, amber, is no other mark's: not the
        green of a group's done part, nor the teal of the KV cache."""
        self._tint = (dict(strengths or {}), label)
        self._tint_keys = None
        self.viewport().update()

    def tinted_keys(self):
        """{box key: strength} of the visible boxes the tint lights."""
        tint = getattr(self, '_tint', None)
        visible = self.session.visible
        if not tint or not tint[0] or visible is None:
            return {}
        if self._tint_keys is None or self._tint_keys[0] is not visible:
            key_of, keys = visible.key_of, {}
            for node, s in tint[0].items():
                key = key_of[node]
                if key is not None and s > keys.get(key, -1):
                    keys[key] = s
            self._tint_keys = (visible, keys)
        return self._tint_keys[1]

    def drawForeground(self, painter, rect):
        super().drawForeground(painter, rect)
        keys = self.tinted_keys()
        if not keys:
            return
        color = QColor(self.colors['tint'])
        for key, s in keys.items():
            item = self.items_by_key.get(key)
            if item is None:
                continue
            box = item.sceneBoundingRect()
            if not box.intersects(rect):
                continue
            color.setAlphaF(0.18 + 0.5 * max(0.0, min(1.0, s)))
            painter.setPen(QPen(color, 3.0))
            painter.setBrush(QColor(color.red(), color.green(), color.blue(), int(60 * max(0.2, s))))
            painter.drawRoundedRect(box.adjusted(-2, -2, 2, 2), 6, 6)

    def tint_label(self):
        """What is lit ('line 118 made 585 nodes in this pass'), or '' when nothing is."""
        tint = getattr(self, '_tint', None)
        return tint[1] if tint and tint[0] else ''
