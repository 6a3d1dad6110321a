"""The document bar: the field naming the document whose forward pass is shown, with its message beside it."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QWidget

from engine.doc_notes import part_note, part_summary, truncation_note, truncation_summary

from explorer import theme

EMPTY_NOTE = ('An empty document: one position, BOS in, where the model is asked to predict the end (BOS) right '
              'away; type a name to see it read letters.')


class DocumentBar(QWidget):
    """The document field with its message beside it, on the same line: a message never makes the tool
    bar taller, so the graph below does not jump. A long message is cut with … and whole in its tooltip."""

    MESSAGE_WIDTH = 420  # pixels of message beside the field
    noted = Signal(str)  # a note about the document recorded (cut by block_size, empty), whole

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.field = QLineEdit()
        self.field.setPlaceholderText('a name, e.g. emma')
        self.field.setToolTip('The document whose forward pass is shown; Enter records it')
        self.field.setMaximumWidth(220)
        self.field.returnPressed.connect(lambda: session.record(self.field.text()))
        self.message = QLabel()
        self.message.hide()  # shown only with something to say
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(QLabel('Document:'))
        row.addWidget(self.field)
        row.addWidget(self.message)
        session.record_failed.connect(self._on_failed)
        session.recorded.connect(self._on_recorded)

    def say(self, text, color, brief=None):
        """Show one sentence beside the field (its `brief` form if given, else cut to MESSAGE_WIDTH; whole in
        the tooltip)."""
        self.message.setStyleSheet(f'color: {color};')
        self.message.setText(self.message.fontMetrics().elidedText(brief or text, Qt.ElideRight, self.MESSAGE_WIDTH))
        self.message.setToolTip(text)
        self.message.show()

    def _on_failed(self, message):
        self.say(message, theme.current()['error_text'])

    def _on_recorded(self):
        trace = self.session.trace
        self.field.setText(trace.doc)
        note = part_note(trace) or truncation_note(trace) or (EMPTY_NOTE if trace.doc == '' else None)
        if note:
            self.say(note, theme.current()['note_text'], part_summary(trace) or truncation_summary(trace))
            self.noted.emit(note)  # whole, where there is room (the status bar)
        else:
            self.message.clear()
            self.message.setToolTip('')
            self.message.hide()
