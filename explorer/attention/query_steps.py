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
from engine.numbers import exact, shown

from explorer.theme import LIGHT, head_color


def steps_html(trace, layer, head, query, grads=None, reached=None, colors=LIGHT):
    """The page for (layer, head, query); grads (per node id) and reached(node) add the gradients."""
    nodes = query_nodes(trace, layer, head, query)
    data, name = trace.data, trace.name
    d = trace.config.head_dim
    hs = head * d
    n = trace.n
    muted = colors['muted']

    def link(node, text=None):
        return f'<a href="node:{node}" title="{html.escape(trace.qualified_name(node))} = {exact(data[node])}">' \
               f'{html.escape(text or name(node))}</a>'

    head_path = f'pos {query} / layer {layer} / attention / head {head}'
    head_scope = trace.scope_id(head_path)

    def step(text, what):
        """A step's title as a link to its box in the open head, at the vector level: q, the keys and the
        values (vector boxes), scores, softmax and the weighted sum (groups)."""
        key = vector_key(head_scope, what) if what in ('q', 'keys', 'values') else \
            group_key(trace.scope_id(f'{head_path} / {what}'))
        return f'<a href="box:{key}" title="show {what} in the graph, in head {head} of pos {query}"><b>{text}</b></a>'

    def vec(ids):
        return '[' + ', '.join(link(i, shown(data[i])) for i in ids) + ']'

    def grad(node):
        if grads is None:
            return ''
        return shown(float(grads[node])) if reached(node) else '<span class="m">not reached yet</span>'

    color = head_color(head).name()
    out = [f'<style>td, th {{ padding: 1px 5px; }} th {{ text-align: left; color: {muted}; font-weight: normal; }}'
           f' a {{ text-decoration: none; }} .m {{ color: {muted}; }}</style>',
           f'<p><b><span style="color:{color}">■</span> layer {layer} · head {head} · query '
           f'{html.escape(token_label(trace, query))}</b> '
           f'<span class="m">(predicting {html.escape(trace.token_texts[query + 1])!s})</span></p>']
    out.append(f'<p>{step("1 · q", "q")}[{hs}…{hs + d - 1}] (this head\'s slice of the query\'s q): {vec(nodes.q)}</p>')
    out.append(f'<p>{step("2 · keys", "keys")} — k[{hs}…{hs + d - 1}] of each position up to the query:</p><table>')
    for t in range(query + 1):
        out.append(f'<tr><td>{html.escape(token_label(trace, t))}</td><td>{vec(nodes.keys[t])}</td></tr>')
    out.append('</table>')
    out.append(f'<p>{step("3 · scores", "scores")}: q·k[t] = Σ<sub>j</sub> q[{hs}+j]·k[{hs}+j] of position t, '
               f'then ×1/√{d} (÷{math.sqrt(d):.3g}) gives attn_logits[t]; '
               f'<b>4 · causal window</b>: keys after the query are masked (microgpt never computes them).</p>')
    header = '<tr><th>key</th><th>q·k</th><th>÷√d = attn_logits</th>'
    header += '<th>dloss/dscore</th></tr>' if grads is not None else '</tr>'
    out.append('<table>' + header)
    for t in range(n):
        if t > query:
            out.append(f'<tr class="m"><td class="m">{html.escape(token_label(trace, t))}</td>'
                       f'<td class="m" colspan="3">masked (after the query)</td></tr>')
            continue
        row = (f'<tr><td>{html.escape(token_label(trace, t))}</td>'
               f'<td>{link(nodes.dots[t], shown(data[nodes.dots[t]]))}</td>'
               f'<td>{link(nodes.logits[t], shown(data[nodes.logits[t]]))}</td>')
        row += f'<td>{grad(nodes.logits[t])}</td></tr>' if grads is not None else '</tr>'
        out.append(row)
    out.append('</table>')
    max_val = max(data[s] for s in nodes.logits)
    out.append(f'<p>{step("5 · softmax", "softmax")}: exps[t] = exp(attn_logits[t] − max_val), max_val = {shown(max_val)}; '
               f'{link(nodes.total)} = Σ exps = {shown(data[nodes.total])}; attn_weights[t] = exps[t] / total.</p>')
    header = '<tr><th>key</th><th>exps</th><th>attn_weights</th>'
    header += '<th>dloss/dweight</th></tr>' if grads is not None else '</tr>'
    out.append('<table>' + header)
    for t in range(query + 1):
        row = (f'<tr><td>{html.escape(token_label(trace, t))}</td>'
               f'<td>{link(nodes.exps[t], shown(data[nodes.exps[t]]))}</td>'
               f'<td><b>{link(nodes.weights[t], shown(data[nodes.weights[t]]))}</b></td>')
        row += f'<td>{grad(nodes.weights[t])}</td></tr>' if grads is not None else '</tr>'
        out.append(row)
    out.append('</table>')
    out.append(f'<p>{step("6 · weighted sum", "weighted sum")} (and {step("the values", "values")}): head_out[j] = Σ<sub>t</sub> attn_weights[t] · v[{hs}+j] of position t</p>'
               '<table><tr><th>key</th><th>weight</th><th>v</th></tr>')
    for t in range(query + 1):
        out.append(f'<tr><td>{html.escape(token_label(trace, t))}</td><td>{shown(data[nodes.weights[t]])}</td>'
                   f'<td>{vec(nodes.values[t])}</td></tr>')
    out.append('</table>')
    outs = ', '.join(link(o, shown(data[o])) for o in nodes.head_out)
    out.append(f'<p><b>= head_out</b> [{outs}]</p>')
    out.append('<p class="m">Click a step\'s title to show its box in the graph (the head opened to its vectors); '
               'click a name or number to select that scalar.</p>')
    return '\n'.join(out)


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
