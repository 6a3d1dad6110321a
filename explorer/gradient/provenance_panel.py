"""The Provenance panel: where the selected node's gradient comes from, and its cone (issue 13).

Two exact splits of the grad, as sorted bars (engine.gradient.provenance): *by use*, the `+=` terms it received,
one per parent, summed per scope (position, layer, head, …); and *by prediction*, the part each
position's −log p asks for. Clicking a bar lights the path that part came by; "Cone" lights everything
the node depends on and everything that depends on it, down to the loss (`tint_requested`).
"""

import collections

from PySide6.QtCore import QRectF, QThreadPool, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from engine.graph.keys import split_key
from engine.numbers import shown
from engine.gradient.provenance import ancestors, descendants, loss_terms, path_between, sum_in_order, terms_by_use

from explorer import theme
from explorer.state.background import BackgroundJob
from explorer.state.gradient_state import gradient_state

ROW_H = 20


class Bars(QWidget):
    """Labelled horizontal bars, longest first, blue for negative and red for positive; a click says which."""
    clicked = Signal(int)   # index into the rows given to set_rows

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows = []      # (label, value)
        self.chosen = None
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.setMouseTracking(True)

    def set_rows(self, rows):
        self.rows, self.chosen = list(rows), None
        self.setFixedHeight(max(1, len(self.rows)) * ROW_H + 4)
        self.update()

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        top = max((abs(v) for _, v in self.rows), default=0) or 1
        w = self.width()
        label_w = min(int(w * 0.55), max((p.fontMetrics().horizontalAdvance(l) for l, _ in self.rows), default=0) + 8)
        bar_w = w - label_w - 92
        for i, (label, value) in enumerate(self.rows):
            y = 2 + i * ROW_H
            if i == self.chosen:
                p.fillRect(0, y, w, ROW_H, QColor(theme.current()['highlight_row']))
            p.setPen(self.palette().text().color())
            p.drawText(QRectF(2, y, label_w - 6, ROW_H), Qt.AlignVCenter | Qt.AlignLeft,
                       p.fontMetrics().elidedText(label, Qt.ElideMiddle, label_w - 6))
            length = max(1.0, bar_w * abs(value) / top) if value else 0
            p.fillRect(QRectF(label_w, y + 4, length, ROW_H - 8), QColor(theme.current()['negative' if value < 0 else 'positive']))
            p.drawText(QRectF(label_w + length + 4, y, 90, ROW_H), Qt.AlignVCenter | Qt.AlignLeft, shown(value))
        p.end()

    def mousePressEvent(self, event):
        i = int((event.position().y() - 2) // ROW_H)
        if 0 <= i < len(self.rows):
            self.chosen = i
            self.update()
            self.clicked.emit(i)


class ProvenancePanel(QWidget):
    tint_requested = Signal(object, str)   # {node: strength}, what it is

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.node = None
        self.job = None
        self.use_groups = []     # (scope, [parent ids])
        self.parts = []          # (position, target, grad)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.title = QLabel('Select a scalar (a node or a weight) to split its gradient.')
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.RichText)
        self.cone_button = QPushButton('Cone')
        self.cone_button.setToolTip('Light everything this node depends on and everything that depends on it')
        self.cone_button.clicked.connect(self.light_cone)
        self.clear_button = QPushButton('Clear')
        self.clear_button.setToolTip('Light nothing in the graph')
        self.clear_button.clicked.connect(lambda: self.tint_requested.emit({}, ''))
        self.use_label = QLabel('By use')
        self.by_use = Bars()
        self.by_use.clicked.connect(self._on_use_clicked)
        self.pred_label = QLabel('By prediction')
        self.by_prediction = Bars()
        self.by_prediction.clicked.connect(self._on_prediction_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cone_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addLayout(buttons)
        for w in (self.use_label, self.by_use, self.pred_label, self.by_prediction):
            if isinstance(w, QLabel):
                w.setWordWrap(True)
            layout.addWidget(w)
        layout.addStretch(1)
        session.recorded.connect(self._on_recorded)
        session.selection_changed.connect(self._on_selection_changed)

    def _on_recorded(self):
        self.node = None
        self.by_use.set_rows([])
        self.by_prediction.set_rows([])

    def _on_selection_changed(self):
        key = self.session.selected
        if key and split_key(key)[0] == 'n' and split_key(key)[1] != self.node:
            self.set_node(split_key(key)[1])

    def set_node(self, node):
        self.node = node
        trace = self.session.trace
        self.title.setText(f'<b>{trace.param_name(node) or trace.qualified_name(node)}</b>: splitting its gradient…')
        if self.job is not None:
            self.job.abort()

        def work():
            state = gradient_state(trace)
            terms = terms_by_use(trace, state.grads, node, self.session.current.schedule)
            parts = state.predictions.parts(node)
            return trace, node, state.grads[node], terms, parts
        self.job = BackgroundJob(work, self).start(self.pool, on_returned=self._on_split)

    def _on_split(self, result):
        trace, node, grad, terms, parts = result
        if trace is not self.session.trace or node != self.node:
            return
        self.job = None
        name = trace.param_name(node) or trace.qualified_name(node)
        exact = sum_in_order(terms) == grad
        self.title.setText(f'<b>{name}</b> = {shown(trace.data[node])}, grad <b>{shown(float(grad))}</b>')
        groups = collections.OrderedDict()
        for t in terms:  # summed per scope: a position, a layer, a head, a unit of the model
            scope = trace.scope_path(t.parent)
            total, parents = groups.get(scope, (0.0, []))
            groups[scope] = (total + t.term, parents + [t.parent])
        rows = sorted(groups.items(), key=lambda kv: -abs(kv[1][0]))
        self.use_groups = [(scope, parents) for scope, (_, parents) in rows]
        self.by_use.set_rows([(trace.qualified_name(ps[0]) if len(ps) == 1 else f'{scope} ({len(ps)} terms)', total)
                              for scope, (total, ps) in rows])
        self.use_label.setText(f'<b>By use</b>: {len(terms)} term(s) local_grad × parent.grad, summed per scope; '
                               f'in backprop\'s order they add up to the grad {"exactly" if exact else "NOT exactly"}.'
                               if terms else '<b>By use</b>: the loss is seeded with 1; it has no uses.')
        self.parts = sorted(parts, key=lambda p: -abs(p[2]))
        self.by_prediction.set_rows([(f'pos {p}: predicting {target!r}', float(g)) for p, target, g in self.parts])
        total = sum(g for _, _, g in parts)
        self.pred_label.setText(f'<b>By prediction</b>: what each −log p asks for; they add up to '
                                f'{shown(total)}' + (f' (grad {shown(float(grad))})' if parts else '') if parts else
                                '<b>By prediction</b>: none (the mean above the −log p terms).')

    def _light(self, nodes, label):
        """Light `nodes` (a set: all alike; or {node: strength}, as set_tint takes)."""
        self.tint_requested.emit(nodes if isinstance(nodes, dict) else dict.fromkeys(nodes, 1.0), label)

    def _run_light(self, fn, label):
        trace = self.session.trace
        BackgroundJob(lambda: fn(trace), self).start(
            self.pool, on_returned=lambda nodes: trace is self.session.trace and self._light(nodes, label(nodes)))

    def _on_use_clicked(self, i):
        scope, parents = self.use_groups[i]
        node = self.node
        self._run_light(lambda trace: {node} | set().union(*(descendants(trace, p) | {p} for p in parents)),
                        lambda nodes: f'the way {len(parents)} term(s) from {scope} came: {len(nodes):,} nodes')

    def _on_prediction_clicked(self, i):
        position, target, _ = self.parts[i]
        node = self.node

        def path(trace):
            return path_between(trace, node, loss_terms(trace)[position])
        self._run_light(path, lambda nodes: f'the way pos {position} (predicting {target!r}) asks: {len(nodes):,} nodes')

    def light_cone(self):
        """Light the selected scalar's cone (in the background); a sentence saying why not, if it cannot."""
        if self.node is None:
            selected = self.session.selected
            what = 'a box' if selected is not None else 'nothing'
            return (f'The cone is a scalar\'s: {what} is selected. Open a box and click one of its nodes, or a cell '
                    'of a weight grid or strip, then Gradient › Light the cone.')
        node, name = self.node, self.session.trace.qualified_name(self.node)

        def cone(trace):  # what it depends on (negative: the second colour), what depends on it, itself
            strengths = dict.fromkeys(ancestors(trace, node), -1.0)
            strengths.update(dict.fromkeys(descendants(trace, node), 1.0))
            strengths[node] = 1.0
            return strengths
        self._run_light(cone, lambda lit: (f'the cone of {name}: teal, the {sum(s < 0 for s in lit.values()):,} '
                                           f'nodes it depends on; amber, the {sum(s > 0 for s in lit.values()) - 1:,} '
                                           'that depend on it, down to the loss'))
