"""The graph view: a Layout drawn as QGraphicsItems. Selecting and hovering never re-run the layout."""

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene, QGraphicsView, QMenu

from .theme import LIGHT


def fmt(x):
    return f'{x:.4f}' if abs(x) >= 1e-4 or x == 0 else f'{x:.2e}'


class BoxItem(QGraphicsItem):
    """A group (name, shape, count) or a scalar drawn micrograd-style as op | data | grad."""

    def __init__(self, view, box, rect):
        super().__init__()
        self.view, self.box, self.rect = view, box, QRectF(*rect)
        self.setPos(self.rect.topLeft())
        self.rect.moveTo(0, 0)
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.PointingHandCursor)
        self.setZValue(2)
        self.setToolTip(view.tooltip(box))

    def boundingRect(self):
        return self.rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter, option, widget=None):
        c, box = self.view.colors, self.box
        is_param = self.view.is_param_box(box)
        fill = c['param'] if is_param else (c['scalar'] if box.node >= 0 else c['group'])
        border = c['param_border'] if is_param else (c['scalar_border'] if box.node >= 0 else c['group_border'])
        selected = self.view.selected_key == box.key
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(QColor(c['selection'] if selected else border), 2.4 if selected else 1.0))
        painter.setBrush(QColor(fill))
        painter.drawRoundedRect(self.rect, 5, 5)
        painter.setPen(QColor(c['text']))
        if box.node >= 0:
            w = self.rect.width()
            cells = [(0, 0.22, box.title, True), (0.22, 0.61, f'data {box.detail}', False),
                     (0.61, 1.0, f'grad {fmt(self.view.grad_of(box.node))}', False)]
            painter.setFont(self.view.small_font)
            for a, b, text, bold in cells:
                r = QRectF(a * w, 0, (b - a) * w, self.rect.height())
                if a:
                    painter.setPen(QColor(border))
                    painter.drawLine(r.topLeft(), r.bottomLeft())
                    painter.setPen(QColor(c['text']))
                painter.setFont(self.view.bold_font if bold else self.view.small_font)
                painter.drawText(r, Qt.AlignCenter, text)
        else:
            top = QRectF(0, 3, self.rect.width(), self.rect.height() / 2)
            painter.setFont(self.view.bold_font)
            painter.drawText(top, Qt.AlignCenter, box.title)
            painter.setFont(self.view.small_font)
            painter.setPen(QColor(c['muted']))
            painter.drawText(top.translated(0, self.rect.height() / 2 - 5), Qt.AlignCenter, box.detail)

    def mouseDoubleClickEvent(self, event):
        self.view.activate(self.box.key)

    def mousePressEvent(self, event):
        self.view.box_clicked.emit(self.box.key)
        super().mousePressEvent(event)


class ClusterItem(QGraphicsItem):
    """An open group: a frame with its name; double-click the name to close it."""

    def __init__(self, view, scope, rect):
        super().__init__()
        x, y, w, h, title = rect
        self.view, self.scope, self.title = view, scope, title
        self.rect = QRectF(0, 0, w, h)
        self.setPos(x, y)
        self.setZValue(0)
        self.setToolTip(f'{view.scope_path(scope)} (open) — double-click to close')

    def boundingRect(self):
        return self.rect

    def paint(self, painter, option, widget=None):
        c = self.view.colors
        painter.setRenderHint(QPainter.Antialiasing)
        selected = self.view.selected_key == f'g{self.scope}'
        painter.setPen(QPen(QColor(c['selection'] if selected else c['cluster_border']), 2 if selected else 1))
        painter.setBrush(QColor(c['cluster']))
        painter.drawRoundedRect(self.rect, 7, 7)
        painter.setPen(QColor(c['muted']))
        painter.setFont(self.view.bold_font)
        painter.drawText(self.rect.adjusted(8, 2, -8, 0), Qt.AlignLeft | Qt.AlignTop, self.title)

    def mouseDoubleClickEvent(self, event):
        self.view.close_requested.emit(self.scope)

    def mousePressEvent(self, event):
        self.view.box_clicked.emit(f'g{self.scope}')


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
        width = 1.0 if count == 1 else min(4.0, 0.8 + math.sqrt(count) / 4)
        self.setPen(QPen(QColor(view.colors['edge']), width))
        self.setZValue(1)
        if count > 1:
            self.setToolTip(f'{count} scalar edges')


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
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.small_font = QFont(self.font())
        self.small_font.setPointSizeF(7.5)
        self.bold_font = QFont(self.small_font)
        self.bold_font.setBold(True)
        self.items_by_key = {}
        self.selected_key = None
        self._fitted_once = False
        session.view_changed.connect(self._on_view_changed)
        session.selection_changed.connect(self._on_selection_changed)
        session.recorded.connect(self._on_recorded)

    # What items ask of the view

    def is_param_box(self, box):
        if box.node >= 0:
            return box.node in self.session.trace.params
        return self.scope_path(box.scope).startswith('params')

    def scope_path(self, scope):
        return self.session.trace.scopes[scope].path

    def grad_of(self, node):
        return self.session.current.grads[node]

    def tooltip(self, box):
        trace = self.session.trace
        if box.node >= 0:
            name = trace.param_name(box.node)
            return (f'{name or trace.op[box.node]} — {trace.scope_path(box.node)}\n'
                    f'data {trace.data[box.node]!r}\ngrad {self.grad_of(box.node)!r}')
        return f'{self.scope_path(box.scope)}\n{box.detail}\ndouble-click to open'

    def activate(self, key):
        if key[0] == 'g':
            self.open_requested.emit(int(key[1:]), False)

    # Session -> items

    def _on_recorded(self):
        """The old items describe the old trace: drop them until the new layout arrives."""
        self.scene().clear()
        self.items_by_key = {}
        self._fitted_once = False

    def _on_view_changed(self):
        lay, visible = self.session.layout, self.session.visible
        focus = self.session.focus
        anchor = None  # where the focused group is on screen now: it stays there after the relayout
        if focus in self.items_by_key:
            anchor = self.mapFromScene(self.items_by_key[focus].sceneBoundingRect().center())
        scene = self.scene()
        scene.clear()
        self.items_by_key = {}
        scene.setBackgroundBrush(QBrush(QColor(self.colors['background'])))
        for scope, rect in lay.clusters.items():
            item = ClusterItem(self, scope, rect)
            scene.addItem(item)
            self.items_by_key[f'g{scope}'] = item
        for box in visible.boxes:
            item = BoxItem(self, box, lay.boxes[box.key])
            scene.addItem(item)
            self.items_by_key[box.key] = item
        for edge in lay.edges:
            scene.addItem(EdgeItem(self, edge))
        scene.setSceneRect(QRectF(-40, -40, lay.width + 80, lay.height + 80))
        self.selected_key = self.session.selected
        if not self._fitted_once:
            self._fitted_once = True
            self.fit()
        elif focus and focus in self.items_by_key:
            target = self.items_by_key[focus].sceneBoundingRect().center()
            if anchor is not None:  # put it back under the same viewport point
                delta = self.mapToScene(anchor) - self.mapToScene(self.viewport().rect().center())
                self.centerOn(target - delta)
            else:
                self.centerOn(target)
        if self.selected_key in self.items_by_key and self.selected_key != focus:
            self.ensureVisible(self.items_by_key[self.selected_key], 40, 40)

    def _on_selection_changed(self):
        self.selected_key = self.session.selected
        self.viewport().update()
        item = self.items_by_key.get(self.selected_key)
        if item is not None:
            self.ensureVisible(item, 40, 40)

    def set_colors(self, colors):
        self.colors = colors
        if self.session.layout is not None:
            self.session.focus = None
            self._on_view_changed()

    # Navigation

    def fit(self):
        self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)

    def zoom_to_selection(self):
        item = self.items_by_key.get(self.selected_key)
        if item is not None:
            self.fitInView(item.sceneBoundingRect().adjusted(-120, -80, 120, 80), Qt.KeepAspectRatio)

    def zoom(self, factor):
        scale = self.transform().m11()
        factor = max(0.02 / scale, min(8.0 / scale, factor))
        self.scale(factor, factor)

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
        for action in self.window().view_actions() if hasattr(self.window(), 'view_actions') else ():
            menu.addAction(action)
        menu.exec(event.globalPos())
