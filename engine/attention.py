"""Attention of a recording as tables: where each weight is in the graph, one query's steps, and CSV.

A Trace holds `attention[layer][head][query][key]` (the softmax output of each head at each query
position, over the keys 0..query) and the node id of every weight. This module answers the questions
the attention views ask: which node is this cell, which cell or row is this node in, which nodes make
one query's computation (q, each k, q·k, attn_logits, attn_weights, the v's, head_out — the very nodes
the graph shows for that head), and the CSV of scores, weights and their gradients.
"""

import csv
import io
import re
import weakref
from dataclasses import dataclass

from engine.backprop import Stepper

CSV_HEADER = ('layer', 'head', 'query', 'key', 'query_token', 'key_token', 'score', 'weight', 'grad_weight',
              'grad_score')
HEAD_SCOPE = re.compile(r'^pos (\d+) / layer (\d+) / attention / head (\d+)(?: / |$)')


@dataclass(frozen=True)
class Place:
    layer: int
    head: int
    query: int
    key: int = -1  # -1: the whole row (a node of the head that is not one weight)


def cell_node(trace, layer, head, query, key):
    """The node id of the weight query pays to key in (layer, head)."""
    return trace.attention_ids[layer][head][query][key]


def place_of(trace, node=None, scope=None):
    """Where a node (or, with scope=, a group) sits in the heatmaps: a cell, a row, or None."""
    cells = _cells(trace)
    if node is not None and node in cells:
        return cells[node]
    path = trace.scope_path(node) if node is not None else trace.scopes[scope].path
    m = HEAD_SCOPE.match(path)
    if m is None:
        return None
    query, layer, head = (int(g) for g in m.groups())
    return Place(layer, head, query)


_CELLS = weakref.WeakKeyDictionary()  # trace -> {weight node: Place}


def _cells(trace):
    """{weight node: Place}, built once per trace."""
    if trace not in _CELLS:
        _CELLS[trace] = {node: Place(l, h, q, k)
                         for l, layer in enumerate(trace.attention_ids) for h, head in enumerate(layer)
                         for q, row in enumerate(head) for k, node in enumerate(row)}
    return _CELLS[trace]


def token_label(trace, i):
    """A token with its position, as every attention view and export writes it: '2 m', '0 BOS'."""
    return f'{i} {trace.token_texts[i]}'


@dataclass(frozen=True)
class QueryNodes:
    """The node ids of one query's computation in one head, named as the graph names them."""
    layer: int
    head: int
    query: int
    q: tuple          # [head_dim] q[hs + j], the query's slice of q
    keys: tuple       # [query + 1][head_dim] keys[t][hs + j]: the k of each position up to the query
    dots: tuple       # [query + 1] q·k[t]
    logits: tuple     # [query + 1] attn_logits[t] = q·k[t] · 1/√head_dim (the scores, softmax's input)
    exps: tuple       # [query + 1] exps[t] = exp(attn_logits[t] - max_val)
    total: int        # Σ exps (None for uniform weights: the average rung has no q, k, scores or softmax)
    weights: tuple    # [query + 1] attn_weights[t]
    values: tuple     # [query + 1][head_dim] values[t][hs + j]
    head_out: tuple   # [head_dim] head_out[j] = Σ_t attn_weights[t] · values[t][hs + j]


def _dot_operands(trace, node):
    """The (a_i, b_i) node pairs of a dot product built by microgpt's sum(a_i * b_i), in order: the sum
    is s_0 = a_0·b_0 + 0 (Python's sum starts from 0), s_i = s_(i-1) + a_i·b_i."""
    pairs = []
    ch, op = trace.children, trace.op
    while True:
        prev, product = ch[node]
        if op[product] != '*':  # s_0: the first product plus the 0 that sum starts from
            pairs.append(ch[prev])
            break
        pairs.append(ch[product])
        node = prev
    pairs.reverse()
    return pairs


def query_nodes(trace, layer, head, query):
    """The QueryNodes of (layer, head, query), found by following the graph from its weights."""
    key = (layer, head, query)
    cache = _QUERIES.setdefault(trace, {})
    if key in cache:
        return cache[key]
    ch = trace.children
    weights = trace.attention_ids[layer][head][query]
    if not ch[weights[0]]:  # the average rung: the weights are constants 1/T, no q, k, scores or softmax
        nodes = QueryNodes(layer, head, query, (), (), (), (), (), None, weights, *_weighted_sum(trace, key, weights))
        cache[key] = nodes
        return nodes
    exps = tuple(ch[w][0] for w in weights)                 # attn_weights[t] = exps[t] · 1/total
    total = ch[ch[weights[0]][1]][0]                        # 1/total = total**-1
    logits = tuple(ch[ch[e][0]][0] for e in exps)           # exps[t] = exp(attn_logits[t] + -max_val)
    dots = tuple(ch[s][0] for s in logits)                  # attn_logits[t] = q·k[t] · 1/√head_dim
    pairs = [_dot_operands(trace, d) for d in dots]
    q = tuple(a for a, _ in pairs[0])
    keys = tuple(tuple(b for _, b in p) for p in pairs)
    nodes = QueryNodes(layer, head, query, q, keys, dots, logits, exps, total, weights,
                       *_weighted_sum(trace, key, weights))
    cache[key] = nodes
    return nodes


def _weighted_sum(trace, key, weights):
    """(values, head_out) of one query: head_out[j] = Σ_t attn_weights[t] · values[t][j]."""
    outs = _head_outs(trace).get(key, {})
    head_out = tuple(outs[j] for j in sorted(outs))
    columns = [_dot_operands(trace, o) for o in head_out]
    values = tuple(tuple(columns[j][t][1] for j in range(len(head_out))) for t in range(len(weights)))
    return values, head_out


_QUERIES = weakref.WeakKeyDictionary()   # trace -> {(layer, head, query): QueryNodes}
_HEAD_OUTS = weakref.WeakKeyDictionary()  # trace -> {(layer, head, query): {j: head_out[j] node}}


def _head_outs(trace):
    if trace not in _HEAD_OUTS:
        outs = {}
        for node, name in enumerate(trace.names):
            if name is not None and name.startswith('head_out['):
                m = HEAD_SCOPE.match(trace.scope_path(node))
                query, layer, head = (int(g) for g in m.groups())
                outs.setdefault((layer, head, query), {})[int(name[9:-1])] = node
        _HEAD_OUTS[trace] = outs
    return _HEAD_OUTS[trace]


def full_gradients(trace):
    """Every node's gradient after a whole backward pass (Value.backward(), exactly as the stepper ends)."""
    stepper = Stepper(trace)
    stepper.run_to_end()
    return stepper.grads


def rows(trace, grads=None):
    """One tuple per (layer, head, query, key ≤ query), in CSV_HEADER order: layer, head, query, key,
    tokens with positions, score (attn_logits), weight, and with grads (per node id) ∂loss/∂weight and
    ∂loss/∂score, else None for both. A model with uniform weights (the average rung) has no score: None. Keys after the query are not rows: the causal mask means they
    take no part (microgpt never computes them)."""
    out = []
    for l, layer in enumerate(trace.attention):
        for h, head in enumerate(layer):
            for q, row in enumerate(head):
                nodes = query_nodes(trace, l, h, q)
                for k, w in enumerate(row):
                    score = nodes.logits[k] if nodes.logits else None  # None: uniform weights (the average rung)
                    w_id = nodes.weights[k]
                    out.append((l, h, q, k, token_label(trace, q), token_label(trace, k),
                                None if score is None else trace.data[score], w,
                                None if grads is None else float(grads[w_id]),
                                None if grads is None or score is None else float(grads[score])))
    return out


def to_csv(trace, grads=None):
    """The scores, weights and (after a full backward pass unless grads are given) their gradients as
    CSV text; every float written with repr, so it reads back exactly."""
    if grads is None:
        grads = full_gradients(trace)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(CSV_HEADER)
    for row in rows(trace, grads):
        writer.writerow((*row[:6], *('' if x is None else repr(float(x)) for x in row[6:])))
    return out.getvalue()


class WholeAttention:
    """A recording of part of a document (Trace.whole_n: a model too large to record it whole) seen whole in the
    attention heatmaps: `attention` has every position's weights, computed with numpy (engine.vectorized.Weights,
    the same numbers to about 1e-15); every other attribute is the recording's, whose nodes reach only its
    first `part.n` queries (`recorded`)."""

    def __init__(self, trace, attention):
        self.part, self.attention, self.n = trace, attention, trace.whole_n

    def __getattr__(self, name):
        return getattr(self.part, name)

    def recorded(self, query):
        return query < self.part.n


def recorded(trace, query):
    """Whether the recording behind `trace` (a Trace, or a WholeAttention) has the nodes of this query."""
    return not isinstance(trace, WholeAttention) or trace.recorded(query)
