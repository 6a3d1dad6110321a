"""The backprop docks: the controls (buttons, timeline, speed, breakpoints, colour legend) and the
chain-rule panel that spells out `child.grad += local_grad * node.grad` for the last step."""

from html import escape

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSizePolicy, QSlider, QToolButton, QVBoxLayout, QWidget)

from engine.backprop import local_symbol, rule
from engine.gradient.group_steps import cell_text, summary
from engine.graph.keys import group_key
from engine.numbers import shown

from explorer import theme
from explorer.state.backprop_player import SPEEDS
from explorer.panels.rich_text import LinkBrowser, adam_html, node_link
from explorer.theme import GRAD_DECADES, LIGHT, grad_color, value_color


# Every mark the graph paints, as (what is drawn, the theme colours it uses, what it means). The legend
# draws one swatch per entry; tests check that every colour graph_view paints with is named here.
LEGEND = (
    ('fill', ('unreached', 'unreached_text'), 'not reached yet (grey)', 'not reached yet: no gradient has arrived'),
    ('hatched', ('scalar', 'unreached_text'), 'grad exactly 0 (hatched)',
     'grad exactly 0: hatched, so it never passes for a tiny gradient'),
    ('frame', ('current',), 'last step applied (violet)', 'the node the last step applied: a violet frame'),
    ('done', ('group', 'progress'), 'group: part done (green)',
     'a group fills green from the left as its scalars are done'),
    ('counter', ('current', 'muted'), 'contributions in / needed',
     '3/5: the contributions a grad has received of those it is the sum of'),
    ('flow', ('flow',), '∂ 0.01: gradient just sent',
     '∂ 0.012: the gradient the last step sent along an edge, with an arrow into the child'),
    ('lit', ('tint',), 'lit by a panel (amber)',
     'amber: the nodes a panel lights (what a code line made, what a nudge changed, a cone); '
     'Gradient › Clear the lit nodes'),
    ('dot', ('breakpoint',), 'breakpoint (F9)', 'breakpoint (F9): Play stops when the gradient first reaches it'),
    ('outline', ('selection',), 'selected', 'the selected box (dashed when it is also the last step)'),
    ('fill', ('scalar', 'scalar_border'), 'scalar: name | op | data | grad',
     "a scalar: its name in the code, the op that made it, data and grad, as micrograd's draw_dot shows them"),
    ('fill', ('group', 'group_border'), 'closed group', 'a closed group: its name, what it computes, scalars done'),
    ('fill', ('param', 'param_border'), 'weight (parameter)', 'a weight (a parameter) or a group of them'),
    ('grid', ('value_negative', 'value_positive'), 'weight grid: value, then grad',
     'a weight matrix as a grid, a cell per parameter: its value (purple −, orange +, scaled to the matrix), '
     'then its grad (the scale above) once backprop reaches it; hover a cell for wq[3][5], click to inspect it'),
    ('badge', ('param', 'param_border'), 'wq wk: weights a box reads',
     'a badge names the weight matrices a box reads (the weight edges are off: View › Weight edges, W); '
     'hover a grid or a name to outline every box that reads it'),
    ('fill', ('cluster', 'cluster_border'), 'open group (frame)',
     'an open group: a frame with its name; double-click the name to close it'),
    ('edge', ('edge',), 'edge: a value flows in',
     "an edge: a value flows into the box it points to (weights' paler; with a head open, every edge that "
     'does not touch it is paler)'),
    ('kv', ('kv',), 'KV cache: keys/values (dashed)',
     'a dashed teal edge: keys and values of an earlier position flowing into a later position\'s attention '
     '(the KV cache)'),
    ('strip', ('value_negative', 'value_positive'), 'cells: value (purple −, orange +)',
     "cells: a closed group's output vector (a strip) or a vector (q, keys, values); purple negative, orange "
     'positive, by value; blue/red by grad once backprop reaches it; hover a cell for its name'),
    ('fill', ('zero_grad', 'scalar_border'), 'cell: grad exactly 0 (grey)',
     'a grid or strip cell backprop has reached whose grad is exactly 0: grey (a cell is too small to hatch)'),
    ('vector', ('scalar', 'group_border'), 'vector read from elsewhere',
     "a dashed box in an open head: a vector made elsewhere that the head reads (its q; the keys and values "
     'of positions so far, teal: from the KV cache)'),
)
GRAD_SCALE = ('negative', 'positive', 'scalar')  # the bar at the top of the legend


def legend_texts():
    """What the legend says, one line per mark, the grad scale first."""
    return ['grad: blue negative, red positive, log scale from 1e-6 to 1'] + [text for *_, text in LEGEND]


def legend_colors():
    """Every theme colour the legend explains."""
    return set(GRAD_SCALE) | {key for _, keys, *_ in LEGEND for key in keys}


class GradLegend(QWidget):
    """What every colour, fill and mark on the graph means: the diverging grad scale, then one row per mark."""

    ROW = 17
    TOP = 46

    def __init__(self, colors, parent=None):
        super().__init__(parent)
        self.colors = colors  # the graph's, which follow the theme
        height = self.TOP + self.ROW * len(LEGEND) + 4
        self.setMinimumHeight(height)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip('\n'.join(legend_texts()))  # the long form of each row

    def sizeHint(self):
        return QSize(300, self.minimumHeight())

    def paintEvent(self, event):
        c = self.colors
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        font = self.font()
        font.setPointSizeF(max(7.5, font.pointSizeF() - 1))
        p.setFont(font)
        text_color = self.palette().windowText().color()
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
        p.setPen(text_color)
        for frac, text in ((0, '−1'), (0.25, '−1e-3'), (0.5, '0'), (0.75, '1e-3'), (1, '1')):
            x = bar.left() + frac * bar.width()
            p.drawText(QRectF(x - 24, bar.bottom() + 1, 48, 12), Qt.AlignCenter, text)
        p.drawText(QRectF(8, 29, w, 14), Qt.AlignLeft, 'grad: blue −, red +, log scale')
        for row, (kind, keys, text, _) in enumerate(LEGEND):
            y = self.TOP + row * self.ROW
            self._swatch(p, kind, keys, QRectF(8, y, 26, 13))
            p.setPen(text_color)
            p.drawText(QRectF(42, y - 1, w - 34, self.ROW), Qt.AlignLeft | Qt.AlignVCenter, text)
        p.end()

    def _swatch(self, p, kind, keys, r):
        c = self.colors
        col = [QColor(c[k]) for k in keys]
        p.save()
        if kind == 'fill':
            p.setPen(QPen(col[1], 1))
            p.setBrush(col[0])
            p.drawRoundedRect(r, 3, 3)
        elif kind == 'hatched':
            p.setPen(QPen(QColor(c['scalar_border']), 1))
            p.setBrush(col[0])
            p.drawRoundedRect(r, 3, 3)
            p.setBrush(QBrush(col[1], Qt.BDiagPattern))
            p.drawRoundedRect(r, 3, 3)
        elif kind == 'frame':
            p.setPen(QPen(col[0], 2.5))
            p.setBrush(QColor(c['scalar']))
            p.drawRoundedRect(r.adjusted(1, 1, -1, -1), 3, 3)
        elif kind == 'done':
            p.setPen(QPen(QColor(c['group_border']), 1))
            p.setBrush(col[0])
            p.drawRoundedRect(r, 3, 3)
            p.setClipRect(QRectF(r.left(), r.top(), r.width() * 0.6, r.height()))
            p.setBrush(col[1])
            p.drawRoundedRect(r, 3, 3)
        elif kind == 'counter':
            p.setPen(col[0])
            p.drawText(r, Qt.AlignCenter, '3/5')
        elif kind == 'flow':
            p.setPen(QPen(col[0], 2.6))
            p.drawLine(QPointF(r.left() + 6, r.center().y()), QPointF(r.right(), r.center().y()))
            p.setBrush(col[0])
            y = r.center().y()
            p.drawPolygon([QPointF(r.left(), y), QPointF(r.left() + 7, y - 4), QPointF(r.left() + 7, y + 4)])
        elif kind == 'dot':
            p.setPen(QPen(QColor(c['group_border']), 1))
            p.setBrush(QColor(c['group']))
            p.drawRoundedRect(r, 3, 3)
            p.setPen(Qt.NoPen)
            p.setBrush(col[0])
            p.drawEllipse(QPointF(r.left() + 5, r.top() + 5), 4, 4)
        elif kind == 'lit':
            p.setPen(QPen(col[0], 2.5))
            p.setBrush(QColor(col[0].red(), col[0].green(), col[0].blue(), 70))
            p.drawRoundedRect(r.adjusted(1, 1, -1, -1), 3, 3)
        elif kind == 'outline':
            p.setPen(QPen(col[0], 2.2))
            p.setBrush(QColor(c['group']))
            p.drawRoundedRect(r.adjusted(1, 1, -1, -1), 3, 3)
        elif kind == 'grid':
            cells = 6
            for i in range(cells):  # value, purple to orange, then the same cells reached: grad colours
                v = (i - (cells - 1) / 2) / ((cells - 1) / 2)
                color = value_color(v, 1.0, c) if i < 4 else grad_color(10 ** -3 * (1 if i == 5 else -1), c)
                p.fillRect(QRectF(r.left() + i * r.width() / cells, r.top(), r.width() / cells, r.height()), color)
            p.setPen(QPen(QColor(c['param_border']), 1))
            p.setBrush(Qt.NoBrush)
            p.drawRect(r)
        elif kind == 'badge':
            p.setPen(QPen(col[1], 1))
            p.setBrush(col[0])
            p.drawRoundedRect(r, 4, 4)
            font = p.font()
            font.setPointSizeF(max(6.5, font.pointSizeF() - 1.5))
            p.setFont(font)
            p.setPen(QColor(c['text']))
            p.drawText(r, Qt.AlignCenter, 'wq')
        elif kind == 'kv':
            p.setPen(QPen(col[0], 1.6, Qt.DashLine))
            y = r.center().y()
            p.drawLine(QPointF(r.left(), y), QPointF(r.right() - 2, y))
        elif kind == 'strip':
            for i in range(6):
                p.setPen(Qt.NoPen)
                p.setBrush(col[0] if i < 3 else col[1])
                p.setOpacity(0.35 + 0.2 * abs(i - 2.5))
                p.drawRect(QRectF(r.left() + i * r.width() / 6, r.top() + 2, r.width() / 6, r.height() - 4))
        elif kind == 'vector':
            p.setPen(QPen(col[1], 1.2, Qt.DashLine))
            p.setBrush(col[0])
            p.drawRoundedRect(r, 3, 3)
        elif kind == 'edge':
            p.setPen(QPen(col[0], 1.2))
            y = r.center().y()
            p.drawLine(QPointF(r.left(), y), QPointF(r.right() - 2, y))
            p.setBrush(col[0])
            p.drawPolygon([QPointF(r.right(), y), QPointF(r.right() - 6, y - 3), QPointF(r.right() - 6, y + 3)])
        p.restore()


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
        self.by_group.setToolTip('Play one unit of the model at a time (a softmax, a linear, a head, …), as Group ⇥ does')
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
            button.setToolTip(action.toolTip())  # with its key
            button.clicked.connect(action.trigger)
            row.addWidget(button)
        layout.addLayout(row)
        layout.addStretch(1)

        bp.moved.connect(self._on_moved)
        bp.breakpoints_changed.connect(self._on_breakpoints_changed)
        self._on_moved(None)

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


def summary_html(session, unit_list):
    """What the units a group step just completed did in backward: identities, numbers, the check."""
    bp, trace = session.backprop, session.trace
    html = []
    for unit in unit_list:
        s = summary(trace, bp.grads, unit, session.current.hierarchy)
        html.append(f'<p><b>{escape(s.title)}</b><br><a href="{group_key(unit.scope)}">{escape(unit.path)}</a>: '
                    'its backward pass is done.</p>')
        html.append('<p>' + '<br>'.join(f'<code>{escape(f)}</code>' for f in s.formulas) + '</p>')
        html.extend(f'<p>{escape(note)}</p>' for note in s.notes)
        for table in s.tables:
            html.append(f'<p style="margin-bottom:0"><i>{escape(table.title)}</i></p>'
                        '<table cellspacing="0" cellpadding="2" border="0"><tr>'
                        + ''.join(f'<th align="right" style="white-space:nowrap; padding-left:8px"><small>{escape(h)}</small></th>' for h in table.header) + '</tr>')
            order = list(range(len(table.rows)))
            if table.highlight >= 0:  # the target first, where it is seen without scrolling
                order.insert(0, order.pop(table.highlight))
            for i in order:
                row = table.rows[i]
                style = f' style="background-color:{theme.current()["target_row"]}"' if i == table.highlight else ''
                html.append(f'<tr{style}>' + ''.join(f'<td align="right" style="white-space:nowrap; padding-left:8px">{escape(cell_text(v))}</td>'
                                                for v in row)
                            + '</tr>')
            html.append('</table>')
        for check in s.checks:
            verdict = 'agrees' if check.agrees else f'<b style="color:{theme.current()["alarm_text"]}">disagrees</b>'
            html.append(f'<p style="color:{theme.current()["hint_text"]}">check <code>{escape(check.what)}</code> against the stepper: '
                        f'{verdict}, max difference {check.max_diff:.1e} over {len(check.stepper)} numbers.</p>')
    return ''.join(html)


def chain_rule_html(session):
    bp, trace = session.backprop, session.trace
    stepper = bp.stepper
    html = [f'<p><b>Step {stepper.position:,} of {stepper.total:,}</b></p>']
    if bp.landed:  # after a group step: what the group did, rather than its last node
        html.append(summary_html(session, bp.landed))
        html.append(f'<p style="color:{theme.current()["hint_text"]}">last node applied: {node_link(trace, stepper.last_node())}; '
                    '→ steps on node by node from here.</p>')
        return ''.join(html)
    record = stepper.last_record()
    if record is None:
        html.append('<p>Nothing applied yet: every grad is 0. Step (→) seeds <code>grad(loss) = 1</code>, '
                    'as <code>loss.backward()</code> begins.</p>')
    elif record.seed:
        html.append(f'<p>Seed: <code>grad(loss) = 1</code> for {node_link(trace, record.node)} '
                    f'(loss {shown(trace.loss)}).</p>')
    else:
        node, op = record.node, trace.op[record.node]
        got, needed = bp.arrived(node)
        html.append(f'<p>{node_link(trace, node)} in <i>{escape(trace.scope_path(node))}</i><br>'
                    f'data {shown(trace.data[node])} · <b>grad(node) = {shown(record.node_grad)}</b>'
                    + (f' (the sum of all {needed} contributions)' if needed > 1 else '') + '</p>')
        if record.contributions:
            html.append(f'<p><code>{escape(rule(op))}</code></p>')
            html.append('<p>per child: <code>child.grad += local_grad × grad(node)</code></p>')
            for i, c in enumerate(record.contributions):
                html.append(
                    f'<p style="margin-left:6px">{node_link(trace, c.child, node)} · local {escape(local_symbol(op, i))} = '
                    f'{shown(c.local_grad)}<br><code>&nbsp;&nbsp;{shown(c.grad_before)} + {shown(c.local_grad)} × '
                    f'{shown(record.node_grad)}</code><br><code>&nbsp;&nbsp;= {shown(c.grad_before)} + '
                    f'{shown(c.contribution)} → <b>{shown(c.grad_after)}</b></code></p>')
        elif node in trace.params:
            html.append(f'<p>A parameter: its grad is complete ({got}/{needed} contributions) and is what '
                        'Adam uses.</p>')
            html.append(adam_html(session, node))
        else:
            html.append('<p>A literal constant: its grad is computed and never used.</p>')
    upcoming = stepper.current_node()
    if upcoming is not None and stepper.position > 0:
        html.append(f'<p style="color:{theme.current()["hint_text"]}">next: {node_link(trace, upcoming)} in '
                    f'{escape(trace.scope_path(upcoming))}</p>')
    elif upcoming is None:
        html.append('<p>Backprop is done: every grad equals what <code>loss.backward()</code> gives.</p>')
    return ''.join(html)
