"""The inspector: what the selected box is — name, op, scope, data, grad, children, parents, Adam's next update."""

import math
from html import escape

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from engine.graph.keys import split_key
from engine.numbers import exact, shown

from explorer.panels.rich_text import LinkBrowser, adam_html, node_link


COPY_EXACT = 'copy:exact'  # the one place a scalar's every digit is given: copied, not shown


def exact_text(trace, grads, node):
    """What 'copy exact' copies: the scalar's name, data and grad, each the shortest text that reads back as
    the same float."""
    return f'{trace.qualified_name(node)}: data {exact(trace.data[node])}, grad {exact(grads[node])}'


class Inspector(LinkBrowser):
    """What the selected box is: op, scope, data, grad, children with local gradients, parents."""

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        session.selection_changed.connect(self.refresh)
        session.recorded.connect(self.refresh)
        session.view_changed.connect(self._on_view_changed)
        session.backprop.moved.connect(self._on_moved)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(150)
        self._later.timeout.connect(self.refresh)
        self.setPlaceholderText('Click a box in the graph to inspect it.')

    def _on_link(self, href):
        key = self.session.selected or ''
        if href != COPY_EXACT or key[:1] != 'n':
            return super()._on_link(href)
        text = exact_text(self.session.trace, self.session.backprop.grads, split_key(key)[1])
        QGuiApplication.clipboard().setText(text)
        self.setHtml(self._node_html(split_key(key)[1]).replace('copy exact</a>', 'copy exact</a> ✓ copied', 1))

    def _on_moved(self, changed):
        """Refresh when backprop changed the selected node; a group at most every 150 ms (it sums many)."""
        key = self.session.selected
        if not key:
            return
        kind, index = split_key(key)
        if kind == 'g':
            self._later.start()
        elif changed is None or index in changed:
            self.refresh()

    def _on_view_changed(self):
        """A vector box exists only in the view that shows it: selected before that view came, it is
        described once it is there."""
        if (self.session.selected or '')[:1] == 'v':
            self.refresh()

    def refresh(self):
        key, rec = self.session.selected, self.session.current
        if not key or rec is None:
            self.clear()
            return
        kind, index = split_key(key)
        if kind == 'v' and self.session.visible is not None and key in self.session.visible._index:
            self.setHtml(self._vector_html(self.session.visible.box(key)))
            return
        self.setHtml(self._node_html(index) if kind == 'n' else self._group_html(index))

    def _node_html(self, node):
        trace, bp = self.session.trace, self.session.backprop
        got, needed = bp.arrived(node)
        grad = (f'{shown(bp.grads[node])} ({got} of {needed} contributions in)' if bp.reached(node)
                else f'{shown(bp.grads[node])} (not reached yet: step backprop to fill it)')
        rows = [('name', escape(trace.name(node))), ('op', escape(trace.op[node])), ('scope', trace.scope_path(node)),
                ('data', shown(trace.data[node])), ('grad', grad),
                ('id', f'{node} · <a href="{COPY_EXACT}">copy exact</a> (data and grad, every digit)')]
        html = ['<table cellspacing="2">'] + [f'<tr><td><b>{k}</b></td><td>{v}</td></tr>' for k, v in rows] + ['</table>']
        children = trace.children[node]
        if children:
            html.append('<p><b>children</b> (local gradient ∂node/∂child)</p><table cellspacing="2">')
            for child, local in zip(children, trace.local_grads[node]):
                html.append(f'<tr><td>{node_link(trace, child, node)}</td><td>data {shown(trace.data[child])}</td>'
                            f'<td>local {shown(local)}</td></tr>')
            html.append('</table>')
        parents = trace.parents[node]
        if parents:
            html.append(f'<p><b>parents</b> ({len(parents)})</p><p>')
            html.append(', '.join(node_link(trace, p, node) for p in parents[:40]) + (' …' if len(parents) > 40 else ''))
            html.append('</p>')
        if node in trace.params:
            html.append(adam_html(self.session, node))
        return ''.join(html)

    def _vector_html(self, box):
        """A vector box: where it stands and comes from, then each cell's name (a link), data and grad."""
        trace, bp = self.session.trace, self.session.backprop
        made = sorted({trace.scope_path(n).rsplit(' / ', 1)[0] for n, _, _ in box.cells})
        rows = [('vector', escape(box.title)), ('in', trace.scopes[box.scope].path), ('shape', escape(box.detail)),
                ('made in', '<br>'.join(made))]
        html = ['<table cellspacing="2">'] + [f'<tr><td><b>{k}</b></td><td>{v}</td></tr>' for k, v in rows] + ['</table>']
        html.append('<table cellspacing="2">')
        for node, name, data in box.cells:
            grad = shown(bp.grads[node]) if bp.reached(node) else 'not reached'
            html.append(f'<tr><td><a href="n{node}">{escape(name)}</a></td><td>data {shown(data)}</td>'
                        f'<td>grad {grad}</td></tr>')
        html.append('</table>')
        return ''.join(html)

    def _group_html(self, scope):
        trace, h, grads = self.session.trace, self.session.current.hierarchy, self.session.backprop.grads
        nodes = h.nodes_in(scope)
        values = [trace.data[n] for n in nodes if trace.op[n] != 'const']
        g = [grads[n] for n in nodes]
        summary = lambda xs: (f'min {shown(min(xs))} · max {shown(max(xs))} · mean {shown(math.fsum(xs) / len(xs))}'  # noqa: E731
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
            html.append(f'<tr><td>{node_link(trace, n)}</td><td>grad {shown(bp.grads[n])}</td><td>Δ {shown(a.delta)}</td></tr>')
        html.append('</table>')
        if all(a.lr_t == 0 for _, a in updates):
            html.append('<p>The learning rate has decayed to 0 at the end of the schedule, so every Δ is 0; '
                        'see a parameter for m and v.</p>')
        return ''.join(html)
