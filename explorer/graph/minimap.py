"""The minimap: the whole graph in small in a corner of the view, with the part on screen framed."""

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

MINIMAP_MARGIN = 8  # between the minimap and the viewport's corner
MINIMAP_SIZE = (220, 140)  # at most; at most a quarter of the graph area's width and height
MINIMAP_SMALLEST = (100, 60)  # smaller than this it would only cover the graph: not shown


class Minimap(QWidget):
    """The whole view in small, with the part the graph shows framed; click or drag to go there.

    It draws a picture of the scene, redrawn when the view changes and at most a few times a second
    while backprop moves, so that it never doubles the cost of a step."""

    def __init__(self, main):
        super().__init__(main.viewport())  # on the viewport, not beside it: a sibling over the viewport would
        self.main = main                    # stop Qt from scrolling its pixels, and every pan frame would repaint it all
        self.picture = QPixmap()
        self.source = QRectF()  # the scene rectangle the picture shows
        self.setFixedSize(*MINIMAP_SIZE)
        self.setToolTip('Overview: click or drag to move the graph view')
        self.setCursor(Qt.PointingHandCursor)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(300)
        self._later.timeout.connect(self.redraw)
        main.horizontalScrollBar().valueChanged.connect(self.update)
        main.verticalScrollBar().valueChanged.connect(self.update)

    def fit(self, area):
        """Its size for a graph area of size `area`: a quarter of it each way at most, so that in a short area
        (a workspace with a strip along the bottom) it does not cover what it maps."""
        self.setFixedSize(min(MINIMAP_SIZE[0], area.width() // 4), min(MINIMAP_SIZE[1], area.height() // 4))

    def refresh(self, now=True):
        """Shown only when the graph does not fit in its window and there is room for it; redrawn now (or
        soon, while resizing)."""
        scene = self.main.scene()
        shown = self.main.mapToScene(self.main.viewport().rect()).boundingRect()
        roomy = self.width() >= MINIMAP_SMALLEST[0] and self.height() >= MINIMAP_SMALLEST[1]
        self.setVisible(self.main.show_minimap and roomy and
                        not shown.contains(scene.sceneRect().adjusted(40, 40, -40, -40)))
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
        painter.setPen(QPen(QColor(self.main.colors['selection']), 1.5))
        fill = QColor(self.main.colors['selection'])
        fill.setAlpha(40)
        painter.setBrush(fill)
        painter.drawRect(self.frame())
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(self.main.colors['cluster_border']), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def frame(self):
        """The part of the graph on screen, in the minimap: cut to the minimap, so that a view wider or taller
        than the whole graph is still a closed frame around all of it, not two lines."""
        scale, dx, dy = self._to_widget()
        shown = self.main.mapToScene(self.main.viewport().rect()).boundingRect()
        rect = QRectF(shown.left() * scale + dx, shown.top() * scale + dy, shown.width() * scale, shown.height() * scale)
        return rect.intersected(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5))

    def _go(self, pos):
        scale, dx, dy = self._to_widget()
        self.main.centerOn(QPointF((pos.x() - dx) / scale, (pos.y() - dy) / scale))

    def mousePressEvent(self, event):
        self._go(event.position())

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.LeftButton:
            self._go(event.position())

