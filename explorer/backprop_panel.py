"""The backprop docks: the controls (buttons, timeline, speed, breakpoints, colour legend) and the
chain-rule panel that spells out `child.grad += local_grad * node.grad` for the last step."""

from html import escape

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSizePolicy, QSlider, QToolButton, QVBoxLayout, QWidget)

from engine.backprop import local_symbol, rule

from .backprop_player import SPEEDS
from .graph_view import fmt
from .rich_text import LinkBrowser, adam_html, node_link
from .theme import GRAD_DECADES, LIGHT, grad_color


class GradLegend(QWidget):
    """What the colours on the graph mean: the diverging grad scale and the three states."""

    def __init__(self, colors, parent=None):
        super().__init__(parent)
        self.colors = colors  # the graph's, which follow the theme
        self.setMinimumHeight(74)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def sizeHint(self):
        return QSize(260, 74)

    def paintEvent(self, event):
        c = self.colors
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        font = self.font()
        font.setPointSizeF(7.5)
        p.setFont(font)
        w = self.width() - 16
        bar = QRectF(8, 4, w, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        steps = 2 * GRAD_DECADES
        for i in range(steps + 1):  # -1 .. -1e-6, then 1e-6 .. 1, on the log scale the boxes use
            k = i - GRAD_DECADES
            if k:
                g = (-1 if k < 0 else 1) * 10.0 ** (-(GRAD_DECADES - abs(k)))
                gradient.setColorAt(i / steps, grad_color(g, c))
            else:
                gradient.setColorAt(0.5, QColor(c['scalar']))
        p.setPen(QPen(QColor(c['scalar_border']), 1))
        p.setBrush(QBrush(gradient))
        p.drawRect(bar)
        p.setPen(QColor(self.palette().windowText().color()))
        for frac, text in ((0, '−1'), (0.25, '−1e-3'), (0.5, '0'), (0.75, '1e-3'), (1, '1')):
            x = bar.left() + frac * bar.width()
            p.drawText(QRectF(x - 24, bar.bottom() + 1, 48, 12), Qt.AlignCenter, text)
        p.drawText(QRectF(8, 30, w, 12), Qt.AlignLeft, 'grad: blue negative, red positive, log scale')
        swatches = [(QColor(c['unreached']), QColor(c['unreached_text']), 'not reached'),
                    (QColor(c['scalar']), None, 'exactly 0'),
                    (None, QColor(c['current']), 'last step')]
        x = 8
        for fill, border, text in swatches:
            r = QRectF(x, 48, 16, 12)
            p.setPen(QPen(border or QColor(c['scalar_border']), 2.5 if fill is None else 1))
            p.setBrush(fill if fill is not None else Qt.NoBrush)
            p.drawRoundedRect(r, 3, 3)
            if text == 'exactly 0':
                p.setBrush(QBrush(QColor(c['unreached_text']), Qt.BDiagPattern))
                p.drawRoundedRect(r, 3, 3)
            p.setPen(self.palette().windowText().color())
            p.drawText(QPointF(x + 20, 58), text)
            x += 24 + p.fontMetrics().horizontalAdvance(text) + 10
        p.end()


class BackpropPanel(QWidget):
    """Step, back, play, the timeline, the speed, and the breakpoints.

    `step_actions` are the window's Reset … End actions and `breakpoint_actions` its toggle and clear
    (shown here as buttons, so menu, toolbar, keys and panel are one command each)."""

    follow_toggled = Signal(bool)  # scroll the graph to the node being processed, or not

    def __init__(self, session, step_actions, breakpoint_actions, colors=LIGHT, parent=None):
        super().__init__(parent)
        self.session = session
        self.backprop = bp = session.backprop
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        play_button = None
        for action in step_actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonTextOnly)
            if action.isCheckable():  # Play goes beside its speed, so the rows of steps stay narrow
                play_button = button
                continue
            if buttons.count() == 3:  # backward steps above, forward steps below
                buttons.addStretch(1)
                layout.addLayout(buttons)
                buttons = QHBoxLayout()
                buttons.setSpacing(2)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.timeline = QSlider(Qt.Horizontal)
        self.timeline.setToolTip('Drag to any step of backprop')
        self.timeline.valueChanged.connect(self._on_timeline)
        self.position_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.timeline, 1)
        row.addWidget(self.position_label)
        layout.addLayout(row)

        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem('full speed' if speed == 0 else f'{speed:,} / s', speed)
        self.speed.setCurrentIndex(SPEEDS.index(bp.speed))
        self.speed.setToolTip('How fast Play steps (steps, or groups when playing by group, per second)')
        self.speed.currentIndexChanged.connect(lambda i: bp.set_speed(self.speed.itemData(i)))
        self.by_group = QCheckBox('by group')
        self.by_group.setToolTip('Play one box of the current view at a time (as Step group does)')
        self.by_group.toggled.connect(bp.set_by_group)
        self.follow = QCheckBox('follow')
        self.follow.setChecked(True)
        self.follow.setToolTip('Scroll the graph to the node being processed when it goes off screen')
        self.follow.toggled.connect(self.follow_toggled)
        row = QHBoxLayout()
        if play_button is not None:
            row.addWidget(play_button)
        else:
            row.addWidget(QLabel('Play:'))
        row.addWidget(self.speed)
        row.addWidget(self.by_group)
        row.addWidget(self.follow)
        row.addStretch(1)
        layout.addLayout(row)

        self.legend = GradLegend(colors)
        layout.addWidget(self.legend)

        note = QLabel('Breakpoints (Play stops when the gradient first reaches one):')
        note.setWordWrap(True)
        layout.addWidget(note)
        self.breakpoints = QListWidget()
        self.breakpoints.setMaximumHeight(90)
        self.breakpoints.itemActivated.connect(lambda item: session.reveal(item.data(Qt.UserRole)))
        self.breakpoints.itemClicked.connect(lambda item: session.reveal(item.data(Qt.UserRole)))
        layout.addWidget(self.breakpoints)
        row = QHBoxLayout()
        for action in breakpoint_actions:
            button = QPushButton(action.text().replace('&', ''))
            button.setToolTip(action.statusTip())
            button.clicked.connect(action.trigger)
            row.addWidget(button)
        layout.addLayout(row)
        layout.addStretch(1)

        bp.moved.connect(self._on_moved)
        bp.breakpoints_changed.connect(self._on_breakpoints_changed)
        self._on_moved(None)

    def set_colors(self, colors):
        self.legend.colors = colors
        self.legend.update()

    def _on_timeline(self, value):
        if value != self.backprop.position:
            self.backprop.seek(value)

    def _on_moved(self, _changed):
        bp = self.backprop
        self.timeline.blockSignals(True)
        self.timeline.setRange(0, bp.total)
        self.timeline.setValue(bp.position)
        self.timeline.blockSignals(False)
        self.position_label.setText(f'step {bp.position:,} of {bp.total:,}')

    def _on_breakpoints_changed(self):
        self.breakpoints.clear()
        bp = self.backprop
        for key, at in sorted(bp.breakpoints.items(), key=lambda kv: kv[1]):
            item = QListWidgetItem(f'{bp.describe(key)} — reached at step {at:,}')
            item.setData(Qt.UserRole, key)
            self.breakpoints.addItem(item)


class ChainRulePanel(LinkBrowser):
    """The last step written out: the node, its rule, and per child `grad += local × grad(node)`."""

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        session.backprop.moved.connect(self.refresh)

    def refresh(self, _changed=None):
        bp, trace = self.session.backprop, self.session.trace
        if bp.stepper is None or trace is None:
            self.clear()
            return
        self.setHtml(chain_rule_html(self.session))


def chain_rule_html(session):
    bp, trace = session.backprop, session.trace
    stepper = bp.stepper
    html = [f'<p><b>Step {stepper.position:,} of {stepper.total:,}</b></p>']
    record = stepper.last_record()
    if record is None:
        html.append('<p>Nothing applied yet: every grad is 0. Step (→) seeds <code>grad(loss) = 1</code>, '
                    'as <code>loss.backward()</code> begins.</p>')
    elif record.seed:
        html.append(f'<p>Seed: <code>grad(loss) = 1</code> for {node_link(trace, record.node)} '
                    f'(loss {fmt(trace.loss)}).</p>')
    else:
        node, op = record.node, trace.op[record.node]
        got, needed = bp.arrived(node)
        html.append(f'<p>{node_link(trace, node)} in <i>{escape(trace.scope_path(node))}</i><br>'
                    f'data {fmt(trace.data[node])} · <b>grad(node) = {fmt(record.node_grad)}</b>'
                    + (f' (the sum of all {needed} contributions)' if needed > 1 else '') + '</p>')
        if record.contributions:
            html.append(f'<p><code>{escape(rule(op))}</code></p>')
            html.append('<p>per child: <code>child.grad += local_grad × grad(node)</code></p>')
            for i, c in enumerate(record.contributions):
                html.append(
                    f'<p style="margin-left:6px">{node_link(trace, c.child, node)} · local {escape(local_symbol(op, i))} = '
                    f'{fmt(c.local_grad)}<br><code>&nbsp;&nbsp;{fmt(c.grad_before)} + {fmt(c.local_grad)} × '
                    f'{fmt(record.node_grad)}</code><br><code>&nbsp;&nbsp;= {fmt(c.grad_before)} + '
                    f'{fmt(c.contribution)} → <b>{fmt(c.grad_after)}</b></code></p>')
        elif node in trace.params:
            html.append(f'<p>A parameter: its grad is complete ({got}/{needed} contributions) and is what '
                        'Adam uses.</p>')
            html.append(adam_html(session, node))
        else:
            html.append('<p>A literal constant: its grad is computed and never used.</p>')
    upcoming = stepper.current_node()
    if upcoming is not None and stepper.position > 0:
        html.append(f'<p style="color:gray">next: {node_link(trace, upcoming)} in '
                    f'{escape(trace.scope_path(upcoming))}</p>')
    elif upcoming is None:
        html.append('<p>Backprop is done: every grad equals what <code>loss.backward()</code> gives.</p>')
    return ''.join(html)
