"""What every panel of the run's history shares: HistoryPanel reads the history when the panel is first
really shown (not while tabbed behind others), and pop_out_button floats its dock as a window."""

from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QToolButton, QWidget

from explorer.dock_column import dock_of, pop_out

POP_OUT_SIZE = QSize(1100, 820)  # a popped-out history panel at most: room for its charts


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

    def toggle():
        dock = dock_of(panel)
        if dock is not None:
            pop_out(dock, button, POP_OUT_SIZE)
    button.clicked.connect(toggle)
    return button
