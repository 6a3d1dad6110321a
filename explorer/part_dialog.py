"""The question asked before recording a document too large to record whole (engine.recording_cost):
how many of its first positions to record, each choice with its scalars, time and memory."""

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from engine.recording_cost import record_cost, suggested_part


WIDTH = 500  # pixels of text


class PartDialog(QDialog):
    """Record the first [K] of N positions of a document: Record (K) or Not now (0)."""

    def __init__(self, doc, model, whole, parent=None):
        super().__init__(parent)
        self.setWindowTitle('Record part of the document')
        self.config, self.vocab = model.config, model.tokenizer.vocab_size
        layout = QVBoxLayout(self)
        intro = QLabel(
            f'<b>{escape(repr(doc), quote=False)} is too large to record whole through this model.</b><br>'
            f'The whole document: {record_cost(self.config, self.vocab, whole).describe()}.<br>'
            'The graph, backprop and attention can show a part of it: its first positions, as if the document '
            'ended there (the loss is their mean). Each position reads the ones before it, so the first are '
            'exactly what the whole recording would show.')
        intro.setWordWrap(True)
        intro.setFixedWidth(WIDTH)
        layout.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel('Record the first'))
        self.positions = QSpinBox()
        self.positions.setRange(1, whole)
        self.positions.setValue(suggested_part(self.config, self.vocab, whole))
        self.positions.setAccessibleName('positions to record')
        row.addWidget(self.positions)
        row.addWidget(QLabel(f'of {whole} positions'))
        row.addStretch(1)
        layout.addLayout(row)
        self.cost = QLabel()
        self.cost.setWordWrap(True)
        self.cost.setFixedWidth(WIDTH)
        layout.addWidget(self.cost)
        self.buttons = QDialogButtonBox()
        self.record = self.buttons.addButton('Record', QDialogButtonBox.AcceptRole)
        self.buttons.addButton('Not now', QDialogButtonBox.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.positions.valueChanged.connect(self._on_positions)
        self._on_positions(self.positions.value())
        layout.setSizeConstraint(QVBoxLayout.SetFixedSize)  # as tall as its text, whatever the text wraps to

    def _on_positions(self, k):
        cost = record_cost(self.config, self.vocab, k)
        fits = cost.fits_memory()
        self.cost.setText(f'{k} position{"s" if k > 1 else ""}: {cost.describe()}.' +
                          ('' if fits else ' This machine does not have that much memory: choose fewer.'))
        self.record.setEnabled(fits)

    def answer(self):
        """The positions chosen, or 0 (Not now)."""
        return self.positions.value() if self.result() == QDialog.Accepted else 0


def asker(parent):
    """Session.ask_part for a window: the dialog, modal over `parent`."""
    def ask(doc, model, whole):
        dialog = PartDialog(doc, model, whole, parent)
        dialog.exec()
        return dialog.answer()
    return ask
