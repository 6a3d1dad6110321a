"""The Code panel: engine/model.py as it ran, beside the graph (issue 13).

One row per line of the model code: its number, how many nodes it made in this pass, their summed |grad|
once backprop has reached the end, and the code. The line of the selected node (or the lines of the
selected group) is marked; while stepping backprop, the forward line of the node just applied is marked
in another colour and, below, the line of `Value` that applied the chain rule and the op whose local
gradient it used. Clicking a line asks the graph to light every node it made (`tint_requested`).
"""

import collections
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from engine.code_lines import MODEL_FILE
from engine.graph.keys import split_key
from engine.numbers import shown

from explorer import theme
from explorer.gradient.rung_lines import RungLinesView

ROOT = Path(__file__).resolve().parents[2]
VALUE_PY = 'engine/value.py'
CHAIN_RULE = 'child.grad += local_grad * v.grad'
OP_DEFS = {'+': 'def __add__', '*': 'def __mul__', 'log': 'def log', 'exp': 'def exp', 'relu': 'def relu', 'gelu': 'def gelu',
           'gelu-erf': 'def gelu_erf',
           'silu': 'def silu'}
# row backgrounds (theme names): the selection's line, the line being applied, and the line that called the
# helper (linear, softmax, rmsnorm) the marked line is in
SELECTED, APPLYING, CALL_SITE = 'highlight_row', 'applying_row', 'call_site_row'
SHORT = 300  # px: a panel less high shows no title line (the header's tooltip says it)


def _line_no(lines, text):
    """1-based number of the first line containing `text`, or 0."""
    return next((i for i, line in enumerate(lines, 1) if text in line), 0)


def _short(code, width=96):
    """A line of code, stripped, its comment left out, and cut only past `width` characters (the labels
    wrap): `tok_emb = state_dict['wte'][token_id]`."""
    code = code.strip()
    for i, c in enumerate(code):  # a '#' outside quotes starts the comment
        if c == '#' and code[:i].count("'") % 2 == 0 and code[:i].count('"') % 2 == 0:
            code = code[:i].rstrip()
            break
    return code if len(code) <= width else code[:width - 1] + '…'


class CodePanel(QWidget):
    tint_requested = Signal(object, str)   # {node: strength}, what it is

    COLUMNS = ('line', 'nodes', 'Σ|grad|', 'code')

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.path = None          # the model file the trace's lines point into
        self.nodes_of = {}        # line number -> node ids it made
        self.items = {}           # line number -> QTreeWidgetItem
        self.source = []          # the model file's lines, as it ran
        self.ran = None           # line numbers the recording's configuration runs (None: not known)
        self.marked = set()       # line numbers marked for the selection
        self.calls = set()        # line numbers that called the helper lines marked (which linear)
        self.applying_call = None  # the line that called the helper the applied node was made in
        self.applying = None      # line number of the node just applied
        self.lit = None           # line number whose nodes are lit
        self._styles = {}         # line number -> (background colour, bold) the row is painted with
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)
        self.title = QLabel('Record a document to see the code that made it.')
        self.title.setWordWrap(True)
        self.table = QTreeWidget()
        self.table.setColumnCount(len(self.COLUMNS))
        self.table.setHeaderLabels(self.COLUMNS)
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setFont(mono)
        self.table.setToolTip('Click a line to light every node it made in this pass')
        self.table.itemClicked.connect(self._on_clicked)
        header = self.table.header()
        header.setStretchLastSection(False)  # long lines scroll sideways rather than being cut
        header.setSectionResizeMode(3, QHeaderView.ResizeToContents)
        self.chain = QLabel()
        self.chain.setTextFormat(Qt.RichText)
        self.chain.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        self.rung = RungLinesView()  # the model's rung, the lines it runs, and the diff from the rung below
        self.rung.diff_shown.connect(self._on_diff_shown)
        self.rung.line_chosen.connect(self._on_line_chosen)
        layout.addWidget(self.rung)
        self.where_label = QLabel()  # the selection's line and, inside linear/softmax/rmsnorm, its caller
        self.where_label.setTextFormat(Qt.RichText)
        self.where_label.setWordWrap(True)
        self.where_label.hide()
        layout.addWidget(self.where_label)
        layout.addWidget(self.chain)  # above the code: in a short panel it stays in view
        layout.addWidget(self.table, 1)
        self.table.setMinimumHeight(140)
        self.value_lines = (ROOT / VALUE_PY).read_text().splitlines()
        session.recorded.connect(self._on_recorded)
        session.selection_changed.connect(self._on_selection_changed)
        session.backprop.moved.connect(self._on_moved)

    def resizeEvent(self, event):
        """Short (the Backprop workspace's strip under the graph): the title goes to the table's tooltip,
        and the table keeps the room for its lines."""
        super().resizeEvent(event)
        self.title.setVisible(self.height() >= SHORT)

    def _on_recorded(self):
        trace = self.session.trace
        if self.session.numbers_only and self.items:  # a timeline step: the same lines made the same nodes
            self.marked, self.calls, self.applying, self.applying_call, self.lit = set(), set(), None, None, None
            self._on_moved(None)
            self._on_selection_changed()
            return
        by_line = collections.defaultdict(list)
        paths = collections.Counter(path for path, _ in trace.lines)
        self.path = paths.most_common(1)[0][0] if paths else 'engine/model.py'
        for node, i in enumerate(trace.line_of):
            if i >= 0 and trace.lines[i][0] == self.path:
                by_line[trace.lines[i][1]].append(node)
        self.nodes_of = dict(by_line)
        self.source = source = (ROOT / self.path).read_text().splitlines()  # the file the recording ran
        self.ran = None
        if (ROOT / self.path).resolve() == Path(MODEL_FILE).resolve() and self.session.model is not None:
            self.ran = self.rung.show_model(trace.config, self.session.model.tokenizer, source)
        self.rung.setVisible(self.ran is not None)
        self.table.clear()
        self.items, self._styles = {}, {}
        for number, text in enumerate(source, 1):
            count = len(self.nodes_of.get(number, ()))
            item = QTreeWidgetItem([str(number), f'{count:,}' if count else '', '', text])
            item.setToolTip(3, f'line {number}: {text.strip()}' if text.strip() else '')  # whole, however narrow
            item.setTextAlignment(0, Qt.AlignRight)
            item.setTextAlignment(1, Qt.AlignRight)
            item.setTextAlignment(2, Qt.AlignRight)
            if (number not in self.ran) if self.ran is not None else not count:  # a line this model does not run
                for col in range(4 if self.ran is not None else 3):
                    item.setForeground(col, QBrush(QColor(theme.current()['faint_text'])))
            self.table.addTopLevelItem(item)
            self.items[number] = item
        for col in range(3):
            self.table.resizeColumnToContents(col)
        self.title.setText(f'<b>{self.path}</b> as it ran for {trace.doc!r}: {len(self.nodes_of)} lines made '
                           f'{sum(map(len, self.nodes_of.values())):,} nodes (parameters come from no line)')
        self.table.header().setToolTip(self.title.text())
        self.marked, self.calls, self.applying, self.applying_call, self.lit = set(), set(), None, None, None
        self._on_moved(None)
        self._on_selection_changed()
        if not self.marked and self.applying is None and self.nodes_of:  # nothing to show yet: the first line
            self.table.scrollToItem(self.items[min(self.nodes_of)], QAbstractItemView.PositionAtTop)  # that ran,
                                                                          # not the module's docstring at line 1

    def _on_diff_shown(self, shown):
        """The diff from the rung below in the table's place, or the table back."""
        self.table.setVisible(not shown)
        self.layout().setStretchFactor(self.rung, 1 if shown else 0)

    def _on_line_chosen(self, number):
        """A line chosen in the diff: the whole file again, that line in view and selected."""
        if number in self.items:
            self.table.setCurrentItem(self.items[number])
            self.show_line(number)

    def line_of(self, node):
        """The line number in the model file that made `node`, or None."""
        trace = self.session.trace
        i = trace.line_of[node] if trace.line_of else -1
        return trace.lines[i][1] if i >= 0 and trace.lines[i][0] == self.path else None

    def call_site(self, node):
        """(helper, line number that called it) for a node made inside linear/softmax/rmsnorm, or None."""
        trace = self.session.trace
        return trace.call_site(node) if self.line_of(node) is not None else None

    def param_line(self, node):
        """For a parameter, the line of the model that reads its matrix (`tok_emb = state_dict['wte'][…]`,
        `q = linear(x, state_dict[f'layer{li}.attn_wq'], …)`), or None."""
        trace = self.session.trace
        if trace.op[node] != 'param' or not trace.name(node):
            return None
        matrix = trace.name(node).split('[')[0]
        needle = f".{matrix.split('.', 1)[1]}'" if '.' in matrix else f"['{matrix}']"
        reads = [i for i, line in enumerate(self.source, 1) if 'state_dict[' in line and needle in line]
        # wte is read by the bigram rung's `return state_dict['wte'][token_id]` (making no node) and by the
        # embedding; attn_wv by microgpt's attention and the average rung's: the read of this model's code
        bigram = trace.config.arch == 'bigram'
        reads = [i for i in reads if self.source[i - 1].strip().startswith('return ') == bigram] or reads
        ran = set(self.nodes_of) | {site[1] for site in trace.callers if site}
        return next((i for i in reads if i in ran), reads[0] if reads else None)

    def where(self, node):
        """One sentence: the line(s) of the model code behind a node."""
        line, site = self.line_of(node), self.call_site(node)
        if site:
            return (f'made at line {line} in <code>{site[0]}</code>, called from line {site[1]} '
                    f'<code>{escape(_short(self.source[site[1] - 1]))}</code>')
        if line:
            return f'made at line {line} <code>{escape(_short(self.source[line - 1]))}</code>'
        read = self.param_line(node)
        if read:
            return f'a parameter, read at line {read} <code>{escape(_short(self.source[read - 1]))}</code>'
        return ''

    def _on_selection_changed(self):
        trace, key = self.session.trace, self.session.selected
        marked, calls, said = set(), set(), ''
        if trace is not None and key:
            kind, index = split_key(key)
            nodes = [index] if kind == 'n' else self.session.current.hierarchy.nodes_in(index)
            for n in nodes:
                line = self.line_of(n)
                if line is None:
                    line = self.param_line(n)
                marked.add(line)
                site = self.call_site(n)
                if site:
                    calls.add(site[1])
            marked.discard(None)
            if nodes:
                said = f'<b>{escape(trace.name(nodes[0]) or "")}</b>: {self.where(nodes[0])}' if kind == 'n' else (
                    f'the selected group: {len(marked)} line(s) made it' + (
                        f', called from line(s) {", ".join(map(str, sorted(calls)))}' if calls else ''))
        self.marked, self.calls = marked, calls - marked
        self.where_label.setText(said)
        self.where_label.setVisible(bool(said))
        self._paint_rows()
        if marked or calls:
            self.show_line(min(calls or marked))

    def _on_moved(self, _changed):
        bp, trace = self.session.backprop, self.session.trace
        if trace is None or bp.stepper is None:
            return
        node = bp.stepper.last_node()
        applying = self.line_of(node) if node is not None else None
        site = self.call_site(node) if applying is not None else None
        if applying != self.applying or (site and site[1]) != self.applying_call:
            self.applying, self.applying_call = applying, site and site[1]
            self._paint_rows()
            if applying:
                self.show_line(applying)
        self._show_chain_rule(node)
        if bp.stepper.at_end or bp.position <= 1:  # the gutter's |grad|: after the backward pass only
            grads = bp.grads
            for number, nodes in self.nodes_of.items():
                self.items[number].setText(2, shown(sum(abs(grads[n]) for n in nodes)) if bp.stepper.at_end else '')

    def show_line(self, number):
        """Line `number` in the middle of the table and, when the code column is wider than the panel, its
        code in view from its first character (the gutter scrolls away, not the code: in a narrow panel the
        deepest lines, indented 28 spaces, showed nothing but their indentation)."""
        item, table = self.items[number], self.table
        table.scrollToItem(item, QAbstractItemView.PositionAtCenter)
        bar = table.horizontalScrollBar()
        if bar.maximum() == 0:
            return
        text, metrics, left = item.text(3).rstrip(), table.fontMetrics(), table.header().sectionPosition(3)
        start = left + metrics.horizontalAdvance(text[:len(text) - len(text.lstrip())])
        end = left + metrics.horizontalAdvance(text)
        view = table.viewport().width()
        if bar.value() <= start - 4 and end + 4 - bar.value() <= view:
            return  # whole in view already: the learner's own scroll is kept
        bar.setValue(max(0, min(start - 8, end + 8 - view)))

    def _show_chain_rule(self, node):
        trace = self.session.trace
        if node is None:
            self.chain.setText('Step backprop (→) to see the chain rule of each node.')
            return
        rule_no = _line_no(self.value_lines, CHAIN_RULE)
        if not trace.children[node]:  # a constant or a parameter: Value's loop runs for no child
            self.chain.setText(
                f'<b>{escape(trace.name(node) or shown(trace.data[node]))}</b> has no children ({self.where(node) or "a constant"}): '
                f'its grad stays with it; value.py:{rule_no} <code style="background:{theme.current()[APPLYING]}">'
                f'{CHAIN_RULE}</code> runs for none.')
            return
        op = trace.op[node]
        op_def = OP_DEFS.get(op, 'def __pow__' if op.startswith('**') else '')
        op_no = _line_no(self.value_lines, op_def) if op_def else 0
        name = op_def[4:].split('(')[0] if op_def else op
        self.chain.setText(
            f'applying <b>{escape(trace.name(node) or "")}</b>, {self.where(node)}; chain rule at value.py:{rule_no} '
            f'<code style="background:{theme.current()[APPLYING]}">{CHAIN_RULE}</code>, local grads from '
            f'<code>{name}</code> (value.py:{op_no})')

    def _paint_rows(self):
        """Rows whose mark changed get their background and weight, with the code column's width fixed
        meanwhile: each font set on a row made the tree measure every row again to fit that column, and
        setting all 262 rows' fonts held the window ~1.4 s when a document was recorded."""
        header = self.table.header()
        header.setSectionResizeMode(3, QHeaderView.Interactive)
        for number, item in self.items.items():
            color = APPLYING if number == self.applying else SELECTED if number in self.marked else (
                CALL_SITE if number in self.calls or number == self.applying_call else None)
            style = (theme.current()[color] if color else None,
                     number in self.marked or number == self.applying or number in self.calls)
            if self._styles.get(number, (None, False)) == style:
                continue
            self._styles[number] = style
            brush = QBrush(QColor(style[0])) if style[0] else QBrush()
            for col in range(len(self.COLUMNS)):
                item.setBackground(col, brush)
            font = item.font(3)
            font.setBold(style[1])
            item.setFont(3, font)
        header.setSectionResizeMode(3, QHeaderView.ResizeToContents)

    def _on_clicked(self, item, _column):
        number = int(item.text(0))
        nodes = self.nodes_of.get(number, ())
        if not nodes or number == self.lit:
            self.lit = None
            self.tint_requested.emit({}, '')
            return
        self.lit = number
        self.tint_requested.emit(dict.fromkeys(nodes, 1.0),
                                 f'line {number} made {len(nodes):,} nodes in this pass')
