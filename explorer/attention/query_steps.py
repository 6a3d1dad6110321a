"""One query's attention, step by step, with its numbers: q, each k, q·k, ÷√d, the causal window,
softmax and the weighted sum of the v's — Transformer Explainer's steps, on microgpt's own nodes.

Every quantity is a node of the recording, named as the graph names it (`q[4]`, `k[4]`, `q·k[2]`,
`attn_logits[2]`, `exps[2]`, `total`, `attn_weights[2]`, `v[4]`, `head_out[0]`): each name is a
link that selects that scalar in the graph (`node_clicked`); each step's title links to its box in the
open head at the vector level (`box_clicked`: q, the keys, the values, scores, softmax, weighted sum).
In gradient mode, dloss/d of the scores and weights are shown as far as backprop has got.
"""

import html
import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTextBrowser

from engine.attention import query_nodes, token_label
from engine.graph.keys import group_key, vector_key
from engine.numbers import shown

from explorer.theme import LIGHT, head_color


def steps_html(trace, layer, head, query, grads=None, reached=None, colors=LIGHT):
    """The page for (layer, head, query); grads (per node id) and reached(node) add the gradients."""
    page = _StepsPage(trace, layer, head, query, grads, reached)
    if page.nodes.total is None:  # uniform weights (the average rung): nothing chooses where to look
        return '\n'.join(page.header(colors['muted']) + page.uniform() + page.weighted_sum())
    return '\n'.join(page.header(colors['muted']) + page.q_and_keys() + page.scores() + page.softmax()
                     + page.weighted_sum())


class _StepsPage:
    """The pieces of one query's page: links to nodes and to the head's boxes, and its numbered steps."""

    def __init__(self, trace, layer, head, query, grads, reached):
        self.trace, self.layer, self.head, self.query = trace, layer, head, query
        self.grads, self.reached = grads, reached
        self.nodes = query_nodes(trace, layer, head, query)
        self.d = trace.config.head_dim
        self.hs = head * self.d
        self.head_path = f'pos {query} / layer {layer} / attention / head {head}'
        self.head_scope = trace.scope_id(self.head_path)

    def link(self, node, text=None):
        trace = self.trace
        return f'<a href="node:{node}" title="{html.escape(trace.qualified_name(node))} = {shown(trace.data[node])}">' \
               f'{html.escape(text or trace.name(node))}</a>'

    def number(self, node, bold=False):
        """A node's value as a link to it."""
        text = self.link(node, shown(self.trace.data[node]))
        return f'<b>{text}</b>' if bold else text

    def step(self, text, what):
        """A step's title as a link to its box in the open head, at the vector level: q, the keys and the
        values (vector boxes), scores, softmax and the weighted sum (groups)."""
        key = vector_key(self.head_scope, what) if what in ('q', 'keys', 'values') else \
            group_key(self.trace.scope_id(f'{self.head_path} / {what}'))
        return f'<a href="box:{key}" title="show {what} in the graph, in head {self.head} of pos {self.query}"><b>{text}</b></a>'

    def vec(self, ids):
        return '[' + ', '.join(self.number(i) for i in ids) + ']'

    def grad(self, node):
        return shown(float(self.grads[node])) if self.reached(node) else '<span class="m">not reached yet</span>'

    def token(self, t):
        return html.escape(token_label(self.trace, t))

    def table(self, titles, grad_title, rows):
        """A table of the keys up to the query: `rows` gives (t, node whose grad is shown, cells); the grad
        column only when there are grads."""
        header = '<tr>' + ''.join(f'<th>{t}</th>' for t in titles)
        header += f'<th>{grad_title}</th></tr>' if self.grads is not None else '</tr>'
        out = ['<table>' + header]
        for t, node, cells in rows:
            if node is None:  # a masked key
                out.append(cells)
                continue
            row = f'<tr><td>{self.token(t)}</td>' + ''.join(f'<td>{c}</td>' for c in cells)
            out.append(row + (f'<td>{self.grad(node)}</td></tr>' if self.grads is not None else '</tr>'))
        return out + ['</table>']

    def header(self, muted):
        trace, layer, head, query = self.trace, self.layer, self.head, self.query
        color = head_color(head).name()
        return [f'<style>td, th {{ padding: 1px 5px; }} th {{ text-align: left; color: {muted}; font-weight: normal; }}'
                f' a {{ text-decoration: none; }} .m {{ color: {muted}; }}</style>',
                f'<p><b><span style="color:{color}">■</span> layer {layer} · head {head} · query '
                f'{self.token(query)}</b> '
                f'<span class="m">(predicting {html.escape(trace.token_texts[query + 1])!s})</span></p>']

    def q_and_keys(self):
        hs, d, nodes = self.hs, self.d, self.nodes
        out = [f'<p>{self.step("1 · q", "q")}[{hs}…{hs + d - 1}] (this head\'s slice of the query\'s q): '
               f'{self.vec(nodes.q)}</p>',
               f'<p>{self.step("2 · keys", "keys")} — k[{hs}…{hs + d - 1}] of each position up to the query:</p><table>']
        out += [f'<tr><td>{self.token(t)}</td><td>{self.vec(nodes.keys[t])}</td></tr>' for t in range(self.query + 1)]
        return out + ['</table>']

    def scores(self):
        hs, d, nodes = self.hs, self.d, self.nodes
        masked = ('<tr class="m"><td class="m">{}</td><td class="m" colspan="3">masked (after the query)</td></tr>')
        rows = [(t, nodes.logits[t], (self.number(nodes.dots[t]), self.number(nodes.logits[t])))
                if t <= self.query else (t, None, masked.format(self.token(t))) for t in range(self.trace.n)]
        return [f'<p>{self.step("3 · scores", "scores")}: q·k[t] = Σ<sub>j</sub> q[{hs}+j]·k[{hs}+j] of position t, '
                f'then ×1/√{d} (÷{math.sqrt(d):.3g}) gives attn_logits[t]; '
                f'<b>4 · causal window</b>: keys after the query are masked (microgpt never computes them).</p>'] + \
            self.table(('key', 'q·k', '÷√d = attn_logits'), 'dloss/dscore', rows)

    def softmax(self):
        data, nodes = self.trace.data, self.nodes
        max_val = max(data[s] for s in nodes.logits)
        rows = [(t, nodes.weights[t], (self.number(nodes.exps[t]), self.number(nodes.weights[t], bold=True)))
                for t in range(self.query + 1)]
        return [f'<p>{self.step("5 · softmax", "softmax")}: exps[t] = exp(attn_logits[t] − max_val), max_val = '
                f'{shown(max_val)}; {self.link(nodes.total)} = Σ exps = {shown(data[nodes.total])}; '
                'attn_weights[t] = exps[t] / total.</p>'] + \
            self.table(('key', 'exps', 'attn_weights'), 'dloss/dweight', rows)

    def uniform(self):
        n = self.query + 1
        return [f'<p>{self.step("1 · uniform weights", "uniform")}: this model (the average rung) has no q and no k, so '
                f'nothing chooses where to look: attn_weights[t] = 1/{n} for each of the {n} positions up to the '
                'query, and 0 after it. A head can only average what came before.</p>']

    def weighted_sum(self):
        data, nodes = self.trace.data, self.nodes
        out = [f'<p>{self.step("6 · weighted sum", "weighted sum")} (and {self.step("the values", "values")}): '
               f'head_out[j] = Σ<sub>t</sub> attn_weights[t] · v[{self.hs}+j] of position t</p>'
               '<table><tr><th>key</th><th>weight</th><th>v</th></tr>']
        out += [f'<tr><td>{self.token(t)}</td><td>{shown(data[nodes.weights[t]])}</td>'
                f'<td>{self.vec(nodes.values[t])}</td></tr>' for t in range(self.query + 1)]
        outs = ', '.join(self.number(o) for o in nodes.head_out)
        return out + ['</table>', f'<p><b>= head_out</b> [{outs}]</p>',
                      '<p class="m">Click a step\'s title to show its box in the graph (the head opened to its '
                      'vectors); click a name or number to select that scalar.</p>']


class QuerySteps(QTextBrowser):
    """The page of one query; `show_query(layer, head, query)`, links select nodes in the graph."""

    node_clicked = Signal(int)
    box_clicked = Signal(str)   # a step's box in the head: 'v12.keys', 'g740'

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_anchor)
        self.place = None    # (layer, head, query) shown
        self.setPlaceholderText('Click a query\'s label (left of a heatmap row) to see its computation step by step.')

    def show_page(self, page, place):
        self.place = place
        bar = self.verticalScrollBar().value()
        self.setHtml(page)
        self.verticalScrollBar().setValue(bar)

    def _on_anchor(self, url):
        text = url.toString()
        if text.startswith('node:'):
            self.node_clicked.emit(int(text[5:]))
        elif text.startswith('box:'):
            self.box_clicked.emit(text[4:])
