"""Attention weights of a recording as tables: where each weight is in the graph, and CSV.

A Trace holds `attention[layer][head][query][key]` (the softmax output of each head at each query
position, over the keys 0..query) and the node id of every weight. This module answers the two
questions the heatmaps ask: which node is this cell, and which cell or row is this node in.
"""

import csv
import io
import re
import weakref
from dataclasses import dataclass

CSV_HEADER = ('layer', 'head', 'query', 'key', 'query_token', 'key_token', 'weight')
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


def rows(trace):
    """One tuple per weight, in CSV_HEADER order: layer, head, query, key, tokens, weight."""
    texts = trace.token_texts
    return [(l, h, q, k, texts[q], texts[k], w)
            for l, layer in enumerate(trace.attention) for h, head in enumerate(layer)
            for q, row in enumerate(head) for k, w in enumerate(row)]


def to_csv(trace):
    """The weights as CSV text; every float written with repr, so it reads back exactly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(CSV_HEADER)
    for row in rows(trace):
        writer.writerow((*row[:6], repr(row[6])))
    return out.getvalue()
