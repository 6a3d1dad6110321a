"""What every panel of the run's history shares: HistoryPanel reads the history when the panel is first
really shown (not while tabbed behind others), and pop_out_button floats its dock as a window."""

from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QDockWidget, QToolButton, QWidget


class HistoryPanel(QWidget):
    """A panel over a Timeline (self.timeline): showing it asks for the history."""

    def showEvent(self, event):
        super().showEvent(event)
        QTimer.singleShot(0, self._maybe_load)  # after the window settles: a panel tabbed behind others waits

    def _maybe_load(self):
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self.timeline.ensure_loaded()


def pop_out_button(panel, what):
    """A 'Pop out' button for a history panel: floats the dock it sits in as a window of its own, large
    enough for its charts (the dock column is short at 1280×720); again to dock it back."""
    button = QToolButton()
    button.setText('Pop out')
    button.setToolTip(f'Show {what} in a window of its own (again to dock it back)')

    def dock():
        w = panel.parentWidget()
        while w is not None and not isinstance(w, QDockWidget):
            w = w.parentWidget()
        return w

    def toggle():
        d = dock()
        if d is None:
            return
        floating = not d.isFloating()
        d.setFloating(floating)
        if floating:  # over the middle of the main window, inside the screen
            screen = (d.screen() or panel.screen()).availableGeometry()
            size = QSize(min(1100, screen.width() - 40), min(820, screen.height() - 60))
            d.resize(size)
            home = d.parentWidget().geometry() if d.parentWidget() else screen
            x = max(screen.left(), min(home.center().x() - size.width() // 2, screen.right() - size.width()))
            y = max(screen.top(), min(home.center().y() - size.height() // 2, screen.bottom() - size.height()))
            d.move(x, y)
        button.setText('Dock' if floating else 'Pop out')
    button.clicked.connect(toggle)
    return button
