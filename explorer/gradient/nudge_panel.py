"""The Nudge panel: move one scalar by ±h and watch the loss (issue 13).

The scalar is the selected node (or one typed: `wte[4][3]`, a name with its scope path, an id). A
logarithmic slider sets h from 1e-8 to 1e-1, a button its sign. The tape recomputes what depends on the
node (engine.gradient.nudge, in the background); the panel shows L(x), L(x+h), L(x−h), the central difference
beside backprop's grad and their relative difference, and asks the graph to colour every node by how
much it changed (`tint_requested`).
"""

import math

from PySide6.QtCore import QThreadPool, Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSlider, QVBoxLayout,
                               QWidget)

from engine.errors import EngineError
from engine.graph.keys import node_key, split_key
from engine.gradient.provenance import resolve
from engine.numbers import exact, shown

from explorer import theme
from explorer.state.background import BackgroundJob
from explorer.state.gradient_state import gradient_state

LOG_MIN, LOG_MAX, TICKS_PER_DECADE = -8, -1, 10


def slider_h(tick):
    """The h of a slider position: 10**(LOG_MIN + tick/TICKS_PER_DECADE)."""
    return 10 ** (LOG_MIN + tick / TICKS_PER_DECADE)


class NudgePanel(QWidget):
    tint_requested = Signal(object, str)   # {node: strength}, what it is

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.node = None
        self.job = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.field = QLineEdit()
        self.field.setPlaceholderText('select a scalar, or type wte[4][3]')
        self.field.setToolTip('The scalar to nudge: the selected node, a parameter (wte[4][3]), a name with its '
                              "scope path ('pos 1 / softmax / exps[2]') or a node id; Enter")
        self.field.returnPressed.connect(self._on_typed)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.current()['error_text']};")
        self.message.hide()
        self.sign = QPushButton('+h')
        self.sign.setCheckable(True)
        self.sign.setToolTip('Nudge up (+h) or down (−h)')
        self.sign.toggled.connect(lambda on: (self.sign.setText('−h' if on else '+h'), self._nudge()))
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, (LOG_MAX - LOG_MIN) * TICKS_PER_DECADE)
        self.slider.setValue(4 * TICKS_PER_DECADE)  # 1e-4
        self.slider.setToolTip('h, on a log scale from 1e-8 to 1e-1')
        self.slider.valueChanged.connect(self._nudge)
        self.h_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.sign)
        row.addWidget(self.slider, 1)
        row.addWidget(self.h_label)
        self.values = {}
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        for key, text in (('node', 'node'), ('x', 'x'), ('loss', 'L(x)'), ('plus', 'L(x + h)'),
                          ('minus', 'L(x − h)'), ('numeric', 'numeric'), ('grad', 'grad'),
                          ('rel', 'relative diff.'), ('changed', 'changed')):
            label = QLabel('—')
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
            label.setWordWrap(key == 'node')
            form.addRow(text, label)
            form.labelForField(label).setToolTip({'numeric': '(L(x+h) − L(x−h)) / 2h: the central difference',
                                                  'grad': 'what backprop gives this node',
                                                  'rel': '|numeric − grad| / max(|numeric|, |grad|)',
                                                  'changed': 'nodes whose data the nudge changed'}.get(key, ''))
            self.values[key] = label
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.field)
        layout.addWidget(self.message)
        layout.addLayout(row)
        layout.addLayout(form)
        hint = QLabel('The graph colours each node by how much it changed (log scale).')
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)
        self._show_h()
        session.recorded.connect(self._on_recorded)
        session.selection_changed.connect(self._on_selection_changed)

    @property
    def h(self):
        return (-1 if self.sign.isChecked() else 1) * slider_h(self.slider.value())

    def _show_h(self):
        self.h_label.setText(f'{self.h:+.0e}')

    def _on_recorded(self):
        self.node = None
        for label in self.values.values():
            label.setText('—')

    def _on_selection_changed(self):
        key = self.session.selected
        if key and split_key(key)[0] == 'n' and split_key(key)[1] != self.node:
            self.set_node(split_key(key)[1])

    def _on_typed(self):
        trace = self.session.trace
        if trace is None:
            return
        try:
            node = resolve(trace, self.field.text())
        except EngineError as e:  # one sentence beside the field; nothing else changes
            self.message.setText(str(e))
            self.message.show()
            return
        self.session.reveal(node_key(node))
        self.set_node(node)

    def set_node(self, node):
        trace = self.session.trace
        self.message.hide()
        self.node = node
        self.field.setText(trace.param_name(node) or trace.qualified_name(node))
        self._nudge()

    def showEvent(self, event):
        super().showEvent(event)
        self._nudge()  # a node selected while the panel was hidden: nudged now

    def hideEvent(self, event):
        super().hideEvent(event)
        if getattr(self, '_lit', False):  # the graph is lit only by a nudge the learner can see
            self._lit = False
            self.tint_requested.emit({}, '')

    def _nudge(self):
        self._show_h()
        if self.node is None or self.session.trace is None or not self.isVisible():
            return  # the graph is lit only by a nudge the learner can see
        if self.job is not None:
            self.job.abort()
        node, h, trace = self.node, self.h, self.session.trace

        def work():
            state = gradient_state(trace)
            return state, state.tape.nudge(node, h)
        self.job = BackgroundJob(work, self).start(self.pool, on_returned=self._on_nudged,
                                                   on_failed=self._on_failed)

    def _on_failed(self, error):
        """The engine's one sentence (the loss cannot be evaluated at x ± h, h lost to rounding) beside the
        field; the numbers and the graph's colours of the last nudge go, since they are not this h's."""
        self.message.setText(str(error) if isinstance(error, EngineError) else
                             f'This nudge cannot be computed: {type(error).__name__}: {error}.')
        self.message.show()
        for key, label in self.values.items():
            if key != 'node':
                label.setText('—')
        self.tint_requested.emit({}, '')

    def _on_nudged(self, result):
        state, n = result
        trace = state.trace
        if trace is not self.session.trace or n.node != self.node or not self.isVisible():
            return  # hidden meanwhile (another workspace): the graph is lit only by a nudge the learner can see
        grad = state.grads[n.node]
        self.message.hide()  # a failed h before this one: its sentence goes with it
        v = self.values
        v['node'].setText(f'{trace.param_name(n.node) or trace.qualified_name(n.node)} ({trace.op[n.node]})')
        v['x'].setText(exact(trace.data[n.node]))
        v['loss'].setText(exact(n.loss))
        v['plus'].setText(f'{exact(n.loss_plus)} (Δ {shown(n.loss_plus - n.loss)})')
        v['minus'].setText(f'{exact(n.loss_minus)} (Δ {shown(n.loss_minus - n.loss)})')
        v['numeric'].setText(exact(n.numeric))
        v['grad'].setText(exact(float(grad)))
        v['rel'].setText(shown(n.relative_difference(grad)))
        v['changed'].setText(f'{len(n.changed):,} of {len(trace):,}')
        data = trace.data
        deltas = {i: abs(x - data[i]) for i, x in n.changed.items()}
        top = max(deltas.values(), default=0)
        strengths = {}
        if top > 0:
            for i, d in deltas.items():  # log scale over 8 decades below the largest change
                strengths[i] = max(0.05, 1 + math.log10(d / top) / 8) if d > 0 else 0.05
        self._lit = True
        self.tint_requested.emit(strengths, f'nudge of {self.field.text()} by {n.h:+.0e}: '
                                            f'{len(n.changed):,} nodes changed; ring thickness = |change| on a log '
                                            f'scale from the least changed box shown (thinnest) to the most '
                                            f'(thickest; the largest change is {shown(top)})')
