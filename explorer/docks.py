"""The dock widgets beside the graph: the scope tree and the node inspector."""

import math
from html import escape

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QTextBrowser, QTreeView

from .graph_view import fmt

class ScopeModel(QAbstractItemModel):
    """The recording's scope tree as a Qt item model; an index's internal id is its scope id."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.trace, self.hierarchy = None, None

    def set_recording(self, recorded):
        self.beginResetModel()
        self.trace, self.hierarchy = recorded.trace, recorded.hierarchy
        self.endResetModel()

    def scope_index(self, scope, column=0):
        parent = self.trace.scopes[scope].parent
        return self.createIndex(self.hierarchy.children[parent].index(scope), column, scope)

    def index(self, row, column, parent=QModelIndex()):
        if self.trace is None:
            return QModelIndex()
        children = self.hierarchy.children[parent.internalId() if parent.isValid() else 0]
        if not (0 <= row < len(children) and 0 <= column < 2):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index):
        if not index.isValid():
            return QModelIndex()
        parent = self.trace.scopes[index.internalId()].parent
        return QModelIndex() if parent <= 0 else self.scope_index(parent)

    def rowCount(self, parent=QModelIndex()):
        if self.trace is None or (parent.isValid() and parent.column() != 0):
            return 0
        return len(self.hierarchy.children[parent.internalId() if parent.isValid() else 0])

    def columnCount(self, parent=QModelIndex()):
        return 2

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        scope = index.internalId()
        if role == Qt.DisplayRole:
            return self.trace.scopes[scope].name if index.column() == 0 else f'{self.hierarchy.size[scope]:,}'
        if role == Qt.ToolTipRole:
            return f'{self.trace.scopes[scope].path} — {self.hierarchy.size[scope]:,} scalars'
        if role == Qt.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return ('scope', 'scalars')[section]
        return None


class ScopeTree(QTreeView):
    """Every scope of the recording; click one to open the graph down to it and select it."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setUniformRowHeights(True)
        self.scopes = ScopeModel(self)
        self.setModel(self.scopes)
        self.clicked.connect(self._on_activated)
        self.activated.connect(self._on_activated)
        session.recorded.connect(self._on_recorded)
        session.selection_changed.connect(self._on_selection_changed)

    def event(self, event):
        """Keep arrows, Home, End and Space for moving in the tree (elsewhere they step backprop)."""
        if event.type() == QEvent.ShortcutOverride and event.key() in (
                Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down, Qt.Key_Home, Qt.Key_End, Qt.Key_Space):
            event.accept()
            return True
        return super().event(event)

    def _on_recorded(self):
        self.scopes.set_recording(self.session.current)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)

    def _on_activated(self, index):
        if index.isValid():
            self.session.reveal(f'g{index.internalId()}')

    def _on_selection_changed(self):
        key, trace = self.session.selected, self.session.trace
        if not key or trace is None:
            return
        scope = int(key[1:]) if key[0] == 'g' else trace.scope_of[int(key[1:])]
        if scope > 0:
            index = self.scopes.scope_index(scope)
            self.setCurrentIndex(index)
            self.scrollTo(index)


class LinkBrowser(QTextBrowser):
    """Rich text whose links ('n123', 'g45') reveal and select that box in the graph."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setOpenLinks(False)
        self.anchorClicked.connect(lambda url: session.reveal(url.toString()))


class Inspector(LinkBrowser):
    """What the selected box is: op, scope, data, grad, children with local gradients, parents."""

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        session.selection_changed.connect(self.refresh)
        session.recorded.connect(self.refresh)
        session.backprop.moved.connect(self._on_moved)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(150)
        self._later.timeout.connect(self.refresh)
        self.setPlaceholderText('Click a box in the graph to inspect it.')

    def _on_moved(self, changed):
        """Refresh when backprop changed the selected node; a group at most every 150 ms (it sums many)."""
        key = self.session.selected
        if not key:
            return
        if key[0] == 'g':
            self._later.start()
        elif changed is None or int(key[1:]) in changed:
            self.refresh()

    def refresh(self):
        key, rec = self.session.selected, self.session.current
        if not key or rec is None:
            self.clear()
            return
        self.setHtml(self._node_html(int(key[1:])) if key[0] == 'n' else self._group_html(int(key[1:])))

    def _node_html(self, node):
        trace, bp = self.session.trace, self.session.backprop
        got, needed = bp.arrived(node)
        grad = (f'{bp.grads[node]!r} ({got} of {needed} contributions in)' if bp.reached(node)
                else f'{bp.grads[node]!r} (not reached yet: step backprop to fill it)')
        rows = [('op', trace.op[node]), ('id', node), ('scope', trace.scope_path(node)),
                ('data', repr(trace.data[node])), ('grad', grad)]
        if node in trace.params:
            rows.insert(0, ('parameter', trace.param_name(node)))
        html = ['<table cellspacing="2">'] + [f'<tr><td><b>{k}</b></td><td>{v}</td></tr>' for k, v in rows] + ['</table>']
        children = trace.children[node]
        if children:
            html.append('<p><b>children</b> (local gradient ∂node/∂child)</p><table cellspacing="2">')
            for child, local in zip(children, trace.local_grads[node]):
                html.append(f'<tr><td>{node_link(trace, child)}</td><td>data {fmt(trace.data[child])}</td>'
                            f'<td>local {fmt(local)}</td></tr>')
            html.append('</table>')
        parents = trace.parents[node]
        if parents:
            html.append(f'<p><b>parents</b> ({len(parents)})</p><p>')
            html.append(', '.join(node_link(trace, p) for p in parents[:40]) + (' …' if len(parents) > 40 else ''))
            html.append('</p>')
        if node in trace.params:
            html.append(adam_html(self.session, node))
        return ''.join(html)

    def _group_html(self, scope):
        trace, h, grads = self.session.trace, self.session.current.hierarchy, self.session.backprop.grads
        nodes = h.nodes_in(scope)
        values = [trace.data[n] for n in nodes if trace.op[n] != 'const']
        g = [grads[n] for n in nodes]
        summary = lambda xs: (f'min {fmt(min(xs))} · max {fmt(max(xs))} · mean {fmt(math.fsum(xs) / len(xs))}'  # noqa: E731
                              if xs else '—')
        rows = [('group', trace.scopes[scope].name), ('scope', trace.scopes[scope].path),
                ('scalars', f'{len(nodes):,} ({sum(1 for n in nodes if trace.op[n] == "const"):,} constants)'),
                ('data', summary(values)), ('grad', summary(g))]
        ops = {}
        for n in nodes:
            ops[trace.op[n]] = ops.get(trace.op[n], 0) + 1
        done, size = self.session.backprop.group_progress(scope)
        rows.append(('backprop', f'{done:,} of {size:,} scalars done'))
        rows.append(('ops', ', '.join(f'{op} ×{c}' for op, c in sorted(ops.items(), key=lambda kv: -kv[1]))))
        subgroups = h.children[scope]
        html = ['<table cellspacing="2">'] + [f'<tr><td><b>{k}</b></td><td>{v}</td></tr>' for k, v in rows] + ['</table>']
        params = [n for n in nodes if n in trace.params]
        if params and self.session.backprop.position:
            html.append(self._param_updates(params))
        if subgroups:
            html.append('<p><b>inside</b>: ' + ', '.join(f'<a href="g{s}">{trace.scopes[s].name}</a>'
                                                        for s in subgroups[:60]) + '</p>')
        return ''.join(html)

    def _param_updates(self, params):
        """The parameters of a group with the largest next Adam updates."""
        trace, bp, ckpt = self.session.trace, self.session.backprop, self.session.checkpoint
        updates = [(n, ckpt.adam_preview(*trace.params[n], bp.grads[n])) for n in params]
        updates.sort(key=lambda nu: -abs(nu[1].delta))
        html = ['<p><b>largest next Adam updates</b> (grad so far)</p><table cellspacing="2">']
        for n, a in updates[:12]:
            html.append(f'<tr><td>{node_link(trace, n)}</td><td>grad {fmt(bp.grads[n])}</td><td>Δ {fmt(a.delta)}</td></tr>')
        html.append('</table>')
        if all(a.lr_t == 0 for _, a in updates):
            html.append('<p>The learning rate has decayed to 0 at the end of the schedule, so every Δ is 0; '
                        'see a parameter for m and v.</p>')
        return ''.join(html)


def node_link(trace, node):
    label = trace.param_name(node) or f'{trace.op[node]} #{node}'
    return f'<a href="n{node}">{escape(label)}</a>'


def adam_html(session, node):
    """The update Adam would give a parameter next, from the checkpoint's m, v and step."""
    trace, ckpt = session.trace, session.checkpoint
    name, row, col = trace.params[node]
    grad = session.backprop.grads[node]
    a = ckpt.adam_preview(name, row, col, grad)
    cfg = ckpt.train_config
    saved = ckpt.adam_m is not None
    planned = cfg.num_steps if cfg else None
    if planned and a.step < planned:
        update = f'{a.step + 1:,} of {planned:,} (lr decays linearly to 0)'
    else:
        update = f'{a.step + 1:,}' + (f', past the {planned:,} the schedule planned' if planned else '')
    rows = [('update', update),
            ('lr_t', fmt(a.lr_t)), ('m', f'{fmt(a.m)} (β1 m + (1-β1) grad)'), ('v', f'{fmt(a.v)} (β2 v + (1-β2) grad²)'),
            ('m_hat, v_hat', f'{fmt(a.m_hat)}, {fmt(a.v_hat)} (bias-corrected)'),
            ('Δ data', f'−lr_t · m_hat / (√v_hat + ε) = <b>{fmt(a.delta)}</b>'),
            ('data', f'{fmt(trace.data[node])} → {fmt(a.data_next)}')]
    note = '' if saved else ' (the checkpoint has no Adam state: m = v = 0)'
    if a.lr_t == 0:
        note += ' The learning rate has decayed to 0 at the end of the schedule, so the step is 0.'
    return ('<p><b>Adam, next update</b>' + escape(note) + '</p><table cellspacing="2">'
            + ''.join(f'<tr><td>{k}</td><td>{v}</td></tr>' for k, v in rows) + '</table>')
