"""The find field: a scalar by its name in the code (q[3], pos 2 · total), a parameter, scope, op or value;
Enter (or Find next) goes to the next match in reading order (position, then layer, then head), closing
what it opened for the match before (the view does not grow with every match), says which
it is beside the field ("3 of 12") and on the status bar ("Match 3 of 12: …"), and hands it on (`found`:
the window shows it and gives the graph the keys)."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit

from engine.checks import short

from explorer import theme


class SearchField(QLineEdit):
    message = Signal(str)   # one sentence for the status bar: the match shown, or that nothing matches
    found = Signal(str)     # the key of the match just revealed

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self._hits, self._at = [], -1
        self._opened = frozenset()  # the groups the match shown opened (the next match closes them again)
        self.setPlaceholderText('Find (Ctrl+F): q[3], total, wq[3][5], head 1, exp, 0.25')
        self.setMaximumWidth(260)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance('Find (Ctrl+F): q[3], total') + 24)  # its hint read (it had 125 px)
        self.count = QLabel()  # "3 of 12" beside the field (the window puts it there)
        self.count.setContentsMargins(6, 0, 6, 0)
        room = self.count.fontMetrics().horizontalAdvance('99 of 99 · F3') + 12
        self.count.setMinimumWidth(room)  # the tool bar stays put as the count comes and goes
        self.count.setToolTip('Which match of the find field is shown, of how many (Return in the field, or View › Find next: the next)')
        self.returnPressed.connect(self.find_next)
        self.textChanged.connect(self._forget)
        session.recorded.connect(lambda: session.numbers_only or self._forget())  # another document: other hits

    def focus(self):
        self.setFocus()
        self.selectAll()

    def _forget(self, _text=None):
        self._hits, self._opened = None, frozenset()
        self.count.clear()

    def find_next(self):
        if self._hits is None or self._at < 0 and not self._hits:
            self._hits, self._at = self.session.search(self.text()), -1
        if not self._hits:
            self.count.setText(f"<span style='color:{theme.current()['error_text']}'>no match</span>")
            self.message.emit(f'Nothing matches {short(self.text())}.')
            return
        self._at = (self._at + 1) % len(self._hits)
        key = self._hits[self._at]
        self.count.setText(f'{self._at + 1:,} of {len(self._hits):,}' + (' · F3' if len(self._hits) > 1 else ''))
        before = self.session.opened - self._opened  # what was open, but for what the last match opened
        self.session.reveal(key, within=before)  # first: what the view says when it changes must not cover the match's line
        self._opened = self.session.opened - before
        more = ' (F3: the next)' if len(self._hits) > 1 else ''  # Return now gives the graph the keys
        self.message.emit(f'Match {self._at + 1} of {len(self._hits)}: {self.session.backprop.describe(key)}{more}')
        self.found.emit(key)
