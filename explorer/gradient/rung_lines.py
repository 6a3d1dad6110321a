"""The Code panel's rung (issue 23): which rung of the ladder the recorded model stands on, which lines of
engine/model.py it runs (the panel greys the others), and, ticked, "Changes from <rung below>": the
configuration fields that differ and the lines one runs and the other does not, as a diff (+ this rung runs
it, − only the rung below did). The lines come from engine.code_lines, which runs the code to find them."""

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QCheckBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from engine.code_lines import rung_lines
from engine.presets import describe

from explorer import theme

ADDED, REMOVED = 'added_row', 'removed_row'  # theme names of the diff's row backgrounds


def field_changes(fields):
    """'attention uniform → softmax, n_head 4 → 1' from RungLines.fields."""
    return ', '.join(f'{name} {below} → {value}' for name, below, value in fields)


class RungLinesView(QWidget):
    """The rung's line above the code and the diff view; `diff_shown(bool)` asks the panel to hide its table
    while the diff is shown, `line_chosen(number)` to show that line of it."""

    diff_shown = Signal(bool)
    line_chosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.lines = None    # the RungLines of the model shown
        self._key = None     # (config, vocabulary) they were found for
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setWordWrap(True)
        self.changes = QCheckBox('Changes from the rung below')
        self.changes.setToolTip('The lines this rung runs that the rung below does not (+), and those only the '
                                'rung below runs (−), with the settings that differ')
        self.changes.toggled.connect(self._on_toggled)
        self.note = QLabel()
        self.note.setTextFormat(Qt.RichText)
        self.note.setWordWrap(True)
        self.diff = QTreeWidget()
        self.diff.setTextElideMode(Qt.ElideMiddle)  # a cut line keeps its end (… else rmsnorm(x, ops))
        self.diff.setColumnCount(3)
        self.diff.setHeaderLabels(('', 'line', 'code'))
        self.diff.setRootIsDecorated(False)
        self.diff.setUniformRowHeights(True)
        self.diff.setSelectionMode(QAbstractItemView.SingleSelection)
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.diff.setToolTip('Click a line to see it in the whole file')
        self.diff.itemClicked.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.summary, self.changes, self.note):
            layout.addWidget(widget)
        layout.addWidget(self.diff, 1)
        self.note.hide()
        self.diff.hide()

    def show_model(self, config, tokenizer, source):
        """The rung of a model of `config` with `tokenizer`, over `source` (engine/model.py's lines); the lines
        it runs (a set of line numbers). Found again only for another configuration or vocabulary."""
        key = (config, tuple(tokenizer.vocabulary_text()))
        if key != self._key:
            self._key, self.lines = key, rung_lines(config, tokenizer)
        lines = self.lines
        self.summary.setText(f'Rung <b>{lines.rung}</b> ({escape(describe(lines.rung))}): recording it runs '
                             f'<b>{len(lines.ran)}</b> lines of this file; the lines it does not run are grey.')
        self.changes.setText(f'Changes from {lines.below}' if lines.below else 'Changes from the rung below')
        self.changes.setEnabled(lines.below is not None)
        if lines.below is None:
            self.changes.setToolTip('bigram is the first rung of the ladder: there is no rung below it')
            self.changes.setChecked(False)
        self._fill_diff(source)
        return lines.ran

    def _fill_diff(self, source):
        lines = self.lines
        self.diff.clear()
        if lines.below is None:
            self.note.setText('')
            return
        say = f'From <b>{lines.below}</b> to <b>{lines.rung}</b>: {escape(field_changes(lines.fields))}; '
        if lines.added or lines.removed:
            say += (f'<b>+{len(lines.added)}</b> lines run that {lines.below} does not' if lines.added else
                    f'no line runs that {lines.below} does not') + ', ' + (
                f'<b>−{len(lines.removed)}</b> that only {lines.below} runs.' if lines.removed else
                f'and no line of {lines.below}\'s is left out.')
        else:
            heads = next(((old, new) for f, old, new in lines.fields if f == 'n_head'), None)
            say += f'the same {len(lines.ran)} lines run' + (
                f', the loop <code>for h in range(n_head)</code> {heads[1]} times instead of {heads[0]}.'
                if heads else '.')
        self.note.setText(say)
        colors = theme.current()
        previous = None
        for number in sorted(lines.added | lines.removed):
            if previous is not None and number > previous + 1:
                gap = QTreeWidgetItem(['', '⋯', ''])
                gap.setFlags(Qt.NoItemFlags)
                self.diff.addTopLevelItem(gap)
            added = number in lines.added
            code = source[number - 1] if number <= len(source) else ''
            item = QTreeWidgetItem(['+' if added else '−', str(number), code])
            item.setData(1, Qt.UserRole, number)
            item.setToolTip(2, f'line {number}: ' + ('this rung runs it, the rung below does not' if added else
                                                     'only the rung below runs it') + f'\n{code.strip()}')
            brush = QBrush(QColor(colors[ADDED if added else REMOVED]))
            for col in range(3):
                item.setBackground(col, brush)
            item.setTextAlignment(1, Qt.AlignRight)
            self.diff.addTopLevelItem(item)
            previous = number
        for col in range(2):
            self.diff.resizeColumnToContents(col)

    def _on_toggled(self, on):
        """The note, and the diff in the table's place if any line differs (microgpt's from one-head: none)."""
        lines = on and self.diff.topLevelItemCount() > 0
        self.note.setVisible(on)
        self.diff.setVisible(lines)
        self.diff_shown.emit(lines)

    def _on_clicked(self, item, _column):
        number = item.data(1, Qt.UserRole)
        if number is not None:
            self.changes.setChecked(False)
            self.line_chosen.emit(number)
