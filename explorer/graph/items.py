"""The graph's items: a box (BoxItem), an open group's frame (ClusterItem), an edge (EdgeItem) and the
gradient a step sends along one (FlowItem), with the text sizes they paint at. Items own their geometry and
paint; what they need of the session they ask the view."""

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from engine.graph.keys import group_key, is_group_key, is_node_key, node_key, split_key
from engine.graph.geometry import (FRAME_TITLE_X, FRAME_TITLE_Y, LABEL_PX, LINE, TEXT_MARGIN, TITLE_PX, badge_room,
                                   group_lines, progress_detail, scalar_cells, vector_lines)
from engine.numbers import shown

from explorer.graph import weight_grid
from explorer.graph.vector_strip import cell_at, cell_rects, cell_tooltip, paint_cells
from explorer.theme import grad_color, head_color


# Text in the graph is sized in scene units, which are the layout's points (engine.graph.layout sizes a box for
# a 10 px font), so labels fit their boxes whatever the screen's DPI; what the learner sees is that size
# times the view's scale times the device pixel ratio.
# LABEL_PX (10): data, grad, a group's detail line, badges: the smallest text a learner reads; TITLE_PX (11): box
# and frame titles, bold (engine.graph.geometry's, which sizes boxes for them)
BADGE_PX = 8       # the word 'grad' and the '3/5' count in a scalar's grad cell
TEXT_LOD = 0.35    # below this scale boxes are drawn without text (the minimap, a far zoom)
PLAIN_LABEL_PX = 4  # a box whose labels would be smaller than this (logical px) is painted as a flat rectangle


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

    def renumber(self, box):
        """The same box with other numbers (a step of the training timeline): what its painting worked out
        from the old ones is dropped, and it is repainted; its place and size stay."""
        self.box, self._labels, self._grid_theme = box, None, None  # its cells' colours follow box.cells
        self.update()

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
        self._grad_end = w - badge_room(self.box)  # a badge has a cell of its own at the right end
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
            painter.drawRoundedRect(self.rect.adjusted(self.cells_x()[2], 0, self._grad_end - self.rect.width(), 0),
                                    5, 5)
        if painter.worldTransform().m11() < TEXT_LOD:
            return
        labels, cells = self.scalar_labels(), self.cells_x()
        h = self.rect.height()
        end = self._grad_end
        painter.setPen(QColor(border))
        for x in cells + ((end,) if end < self.rect.width() else ()):
            painter.drawLine(QPointF(x, 0), QPointF(x, h))
        painter.setPen(text)
        for r, font, label in labels:  # name (from the code) | op | data
            painter.setFont(font)
            painter.drawText(r, Qt.AlignCenter, label)
        for r, font, label, color in self.grad_labels(grad, *bp.arrived(node)):  # | grad: the label that changes
            painter.setFont(font)
            painter.setPen(text if color is None else QColor(c[color]))
            painter.drawText(r, Qt.AlignCenter if font is self.view.small_font else Qt.AlignLeft | Qt.AlignTop, label)

    def grad_labels(self, grad, got, needed):
        """The grad cell's texts as drawn, (rect, font, text, colour name or None): the value on the cell's lower
        line, whole (the cell is as wide as the widest number); the word 'grad' in its top-left corner and, for
        a grad that is a sum, how many of its terms are in ('3/5') in its top-right corner."""
        view, h = self.view, self.rect.height()
        gx, end = self.cells_x()[2], self._grad_end
        tiny = QFontMetricsF(view.tiny_font)
        out = [(QRectF(gx, h - LINE - 1, end - gx, LINE), view.small_font, shown(grad), None),
               (QRectF(gx + 2, 0.5, tiny.horizontalAdvance('grad'), tiny.height()), view.tiny_font, 'grad', 'muted')]
        if needed > 1:
            count = f'{got}/{needed}'
            width = tiny.horizontalAdvance(count)
            out.append((QRectF(end - 3 - width, 0.5, width, tiny.height()), view.tiny_font, count,
                        'current' if got < needed else 'muted'))
        return out

    def _paint_group(self, painter, c, border, is_param):
        bp, scope = self.view.session.backprop, self.box.scope
        done, size = bp.group_progress(scope)
        reached = bp.group_reached(scope)
        fill = c['param'] if is_param else c['group']
        painter.setPen(QPen(QColor(border), 1.0))
        painter.setBrush(QColor(fill if reached else c['unreached']))
        painter.drawRoundedRect(self.rect, 5, 5)
        if done:  # how far backprop has got through its scalars, as a fill from the left: a shape of its own,
            outline = QPainterPath()  # not a clip, which an SVG export (SVG Tiny) would leave out
            outline.addRoundedRect(self.rect, 5, 5)
            part = QPainterPath()
            part.addRect(QRectF(0, 0, self.rect.width() * done / size, self.rect.height()))
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(c['progress']))
            painter.drawPath(outline.intersected(part))
            painter.setPen(QPen(QColor(border), 1.0))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(self.rect, 5, 5)
        if self.box.cells:  # its output vector, a strip of cells under its two lines
            paint_cells(painter, self.box, self.rect.width(), bp, c, self._cells)
        if painter.worldTransform().m11() < TEXT_LOD:
            return
        (title, _, _), (detail, _, text) = self.group_labels(done, size, reached)
        painter.setFont(self.view.bold_font)
        painter.setPen(QColor(c['text'] if reached else c['unreached_text']))
        painter.drawText(title, Qt.AlignCenter, self.box.title)
        painter.setFont(self.view.small_font)
        painter.setPen(QColor(c['muted'] if reached else c['unreached_text']))
        painter.drawText(detail, Qt.AlignCenter, text)

    def group_labels(self, done, size, reached):
        """A group box's two lines as drawn, (rect, font, text): its title (left of its badge) and its detail,
        which says how far backprop has got once it is reached (without ' done' where that would not fit)."""
        view, w = self.view, self.rect.width()
        title, detail = (QRectF(*r) for r in group_lines(self.box, w, self.rect.height()))
        text = self.box.detail
        if reached:
            text = progress_detail(text, done, size, w - 2 * TEXT_MARGIN)
        return (title, view.bold_font, self.box.title), (detail, view.small_font, text)

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
        title, detail = (QRectF(*r) for r in vector_lines(self.rect.width()))
        painter.setFont(self.view.bold_font)
        painter.setPen(QColor(c['text']))
        painter.drawText(title, Qt.AlignCenter, self.box.title)
        painter.setFont(self.view.small_font)
        painter.setPen(QColor(c['muted']))
        painter.drawText(detail, Qt.AlignCenter, self.box.detail)
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
        width = self.view.title_metrics.horizontalAdvance(self.title)
        return QRectF(FRAME_TITLE_X, FRAME_TITLE_Y, min(width, self.rect.width() - 2 * FRAME_TITLE_X),
                      self.view.title_metrics.height())

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
        self.tip = None       # where its arrowhead points (None: no arrowhead)
        if tip is not None:  # arrow head from the spline's end to the tip
            t = self.tip = QPointF(*tip)
            path.lineTo(t)
            self.curve = QPainterPath(path)  # the line alone, without its arrowhead
            d = t - end
            length = math.hypot(d.x(), d.y()) or 1.0
            ux, uy = d.x() / length, d.y() / length
            left = QPointF(t.x() - 6 * ux + 3 * uy, t.y() - 6 * uy - 3 * ux)
            right = QPointF(t.x() - 6 * ux - 3 * uy, t.y() - 6 * uy + 3 * ux)
            path.addPolygon(QPolygonF([t, left, right, t]))
        else:
            self.curve = QPainterPath(path)
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
    """Drawn over an edge while the last step sends gradient along it: thick, with an arrow into the
    child. Separate from EdgeItem so that plain edges paint natively; its amount is a FlowLabel."""

    def __init__(self, view, edge):
        super().__init__()
        self.view, self.edge = view, edge
        self.setZValue(FLOW_Z)
        self.setAcceptedMouseButtons(Qt.NoButton)

    def boundingRect(self):
        return self.edge.path().boundingRect().adjusted(-6, -6, 6, 6)  # the thick line and its arrow

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


FLOW_Z = 1.7        # a step's gradient over an edge: above every edge (an open head's too), under the boxes
FLOW_LABEL_Z = 3.5  # its amount: above everything, in a place marks.flow_label_rect found free of boxes,
                    # badges, frame titles, arrowheads and other amounts


class FlowLabel(QGraphicsItem):
    """The gradient a step sends along an edge ('∂ 0.2000', '∂ Σ3 -1.206'), on a background, in `rect`
    (scene coordinates): beside its edge where nothing else is."""

    label_px = LABEL_PX

    def __init__(self, view, text, rect):
        super().__init__()
        self.view, self.text, self.rect = view, text, QRectF(rect)
        self.setZValue(FLOW_LABEL_Z)
        self.setAcceptedMouseButtons(Qt.NoButton)

    def boundingRect(self):
        return self.rect

    def paint(self, painter, option, widget=None):
        if painter.worldTransform().m11() < TEXT_LOD:
            return
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(self.view.colors['background']))
        painter.drawRoundedRect(self.rect, 3, 3)
        painter.setPen(QColor(self.view.colors['flow']))
        painter.setFont(self.view.small_font)
        painter.drawText(self.rect, Qt.AlignCenter, self.text)
