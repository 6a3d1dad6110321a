"""The spotlight: what a tour step points at, outlined, and the rest of the window dimmed, drawn over the
window by a widget that lets every click and key through. It takes a function giving the rectangles to
leave clear (window coordinates: the target first, then the tour's panel) and follows them as they move."""

from PySide6.QtCore import QEvent, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from explorer import theme

PAD = 5           # px of clear room around the target
DIM_ALPHA = 95    # of 255: the rest can still be read
FOLLOW_MS = 120   # how often the target's place is looked at (the graph scrolls, panels move)


class Spotlight(QWidget):
    def __init__(self, window, clear_rects):
        super().__init__(window)
        self.window_, self.clear_rects = window, clear_rects
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.NoFocus)
        self.rects = []
        self._timer = QTimer(self)
        self._timer.setInterval(FOLLOW_MS)
        self._timer.timeout.connect(self.refresh)
        window.installEventFilter(self)
        self.hide()

    def start(self):
        self._timer.start()
        self.refresh()

    def stop(self):
        self._timer.stop()
        self.rects = []
        self.hide()

    def refresh(self):
        """Look where the target is now; show the spotlight over the window if there is one."""
        rects = [r for r in self.clear_rects() if r is not None]
        target = rects[0] if rects and rects[0] is not None else None
        if self.geometry() != self.window_.rect():
            self.setGeometry(self.window_.rect())
        if rects != self.rects:
            self.rects = rects
            self.update()
        self.setVisible(target is not None and self._timer.isActive())
        if self.isVisible():
            self.raise_()  # over panels made since (a Gradient page shown the first time)

    def target(self):
        """The outlined rectangle (window coordinates), or None."""
        return self.rects[0] if self.rects and self.isVisible() else None

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Resize and self._timer.isActive():
            self.refresh()
        return False

    def paintEvent(self, event):
        if not self.rects:
            return
        colors = theme.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        dim = QPainterPath()
        dim.addRect(QRectF(self.rect()))
        target = self.rects[0].adjusted(-PAD, -PAD, PAD, PAD)
        for i, rect in enumerate([target, *self.rects[1:]]):
            hole = QPainterPath()
            hole.addRoundedRect(QRectF(rect), 6, 6) if i == 0 else hole.addRect(QRectF(rect))
            dim = dim.subtracted(hole)
        shade = QColor(colors['tour_dim'])
        shade.setAlpha(DIM_ALPHA)
        painter.fillPath(dim, shade)
        painter.setPen(QPen(QColor(colors['tour_outline']), 3))
        painter.drawRoundedRect(QRectF(target), 6, 6)


def mapped(widget, window, rect=None):
    """`rect` of `widget` (its whole rect if None) in `window`'s coordinates, cut to what is visible of it."""
    rect = widget.rect() if rect is None else rect.intersected(widget.rect())
    if rect.isEmpty() or not widget.isVisible():
        return None
    return QRect(widget.mapTo(window, rect.topLeft()), rect.size())
