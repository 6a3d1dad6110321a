"""The question asked before recording a document too large to record whole (engine.recording_cost):
how many of its first positions to record, each choice with its scalars, time and memory."""

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from engine.recording_cost import record_cost, suggested_part


WIDTH = 500  # pixels of text


class PartDialog(QDialog):
    """Record the first [K] of N positions of a document: Record (K) or Not now (0)."""

    def __init__(self, doc, model, whole, parent=None, recorded=0):
        super().__init__(parent)
        self.setWindowTitle('Record part of the document')
        self.config, self.vocab = model.config, model.tokenizer.vocab_size
        layout = QVBoxLayout(self)
        first, two = (record_cost(self.config, self.vocab, k).nodes for k in (1, 2))
        intro = QLabel(
            f'<b>This model is too large to record {escape(repr(doc), quote=False)} whole without asking.</b><br>'
            f'The whole document: {record_cost(self.config, self.vocab, whole).describe()}.<br>'
            'The graph, backprop and attention can show a part of it: its first positions, as if the document '
            'ended there (the loss is their mean). Each position reads the ones before it, so the first are '
            'exactly what the whole recording would show.<br>'
            f'The first position costs most ({first / 1e6:,.1f} million scalars: each weight is a scalar, used '
            f'once by a product and a sum); each position after it adds about {(two - first) / 1e6:,.1f} million. '
            'Times are for a machine doing nothing else.')
        intro.setWordWrap(True)
        intro.setFixedWidth(WIDTH)
        layout.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel('Record the first'))
        self.positions = QSpinBox()
        self.positions.setRange(1, whole)
        self.positions.setValue(min(whole, max(recorded + 1, suggested_part(self.config, self.vocab, whole))))
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


def asker(parent, session=None):
    """Session.ask_part for a window: the dialog, modal over `parent`; asked again about the part of a document
    recorded, it offers one position more."""
    def ask(doc, model, whole):
        trace = session.trace if session is not None else None
        recorded = trace.n if trace is not None and trace.doc == doc and trace.whole_n is not None else 0
        dialog = PartDialog(doc, model, whole, parent, recorded)
        dialog.exec()
        return dialog.answer()
    return ask
