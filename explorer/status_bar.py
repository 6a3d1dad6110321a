"""The window's status bar: a message is cut with … where the words kept on the right begin (the counts of
the graph, what it lights), whole in the bar's tooltip; and the line saying what the graph lights ("lit: …"),
shown only while something is lit. Drawn over each other, a long message and the words on the right read
as one garbled line ("…the minima|lit: nudge of …")."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStatusBar

TINT_WIDTH = 480  # px at most for "lit: …": the message on the left keeps some room at 1280 px


class StatusBar(QStatusBar):

    def __init__(self, parent=None):
        super().__init__(parent)
        self._kept = []  # the permanent widgets, right of the message
        self._whole = ('', '')  # (the message whole, as it is shown)
        self.tint = QLabel()
        self.tint.setMaximumWidth(TINT_WIDTH)
        self.tint.hide()
        self.addPermanentWidget(self.tint)

    def addPermanentWidget(self, widget, stretch=0):
        self._kept.append(widget)
        super().addPermanentWidget(widget, stretch)

    def room(self):
        """The width the message has, left of the permanent widgets shown."""
        kept = sum(w.sizeHint().width() + 12 for w in self._kept if not w.isHidden())
        return max(80, self.width() - kept - 24)

    def showMessage(self, text, timeout=0):
        fitted = self.fontMetrics().elidedText(text, Qt.ElideRight, self.room())
        self.setToolTip(text if fitted != text else '')
        self._whole = (text, fitted)
        super().showMessage(fitted, timeout)

    def shown(self):
        """The message as the bar shows it (cut to its room)."""
        return super().currentMessage()

    def currentMessage(self):
        """The message whole, though the bar may show it cut (its tooltip has it whole)."""
        shown = super().currentMessage()
        return self._whole[0] if shown and shown == self._whole[1] else shown

    def show_tint(self, text):
        """Say what the graph lights ('' when nothing is), cut to its room, whole in its tooltip."""
        label = self.tint
        label.setText(label.fontMetrics().elidedText(f'lit: {text}', Qt.ElideRight, TINT_WIDTH) if text else '')
        label.setToolTip(text)
        label.setVisible(bool(text))
