"""engine.attention: attention weights as tables: the CSV equal to the recording, read back exactly, its
rows summing to 1, its scores, weights and gradients agreeing with softmax and its backward rule, tokens
with their positions; cells, rows and one query's nodes found from the graph as the graph names them."""

import csv
import io
import math
import random

import pytest

from engine.attention import (CSV_HEADER, Place, cell_node, full_gradients, place_of, query_nodes, rows, to_csv,
                              token_label)
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record


@pytest.fixture(scope='module')
def deep_trace():
    """'emma' through a random model of two layers of two heads."""
    model = Model.init(GPTConfig(n_layer=2, n_embd=8, n_head=2, block_size=8), Tokenizer('abcdem'), random.Random(3))
    return record(model, 'emma')


def test_csv_holds_every_recorded_weight_exactly(deep_trace):
    table = list(csv.reader(io.StringIO(to_csv(deep_trace))))
    assert tuple(table[0]) == CSV_HEADER
    body = table[1:]
    assert len(body) == 2 * 2 * sum(q + 1 for q in range(deep_trace.n))  # causal: keys 0..query
    for layer, head, q, k, q_tok, k_tok, _, w, _, _ in body:
        layer, head, q, k = int(layer), int(head), int(q), int(k)
        assert float(w) == deep_trace.attention[layer][head][q][k]
        assert (q_tok, k_tok) == (f'{q} {deep_trace.token_texts[q]}', f'{k} {deep_trace.token_texts[k]}')
        assert k <= q


def test_each_row_sums_to_one(deep_trace):
    sums = {}
    for layer, head, q, k, _, _, _, w, _, _ in rows(deep_trace):
        sums[(layer, head, q)] = sums.get((layer, head, q), []) + [w]
    assert all(math.isclose(math.fsum(ws), 1.0, abs_tol=1e-12) for ws in sums.values())


def test_cells_and_rows_are_found_from_the_graph(deep_trace):
    node = cell_node(deep_trace, 1, 0, 3, 2)
    assert deep_trace.data[node] == deep_trace.attention[1][0][3][2]
    assert place_of(deep_trace, node=node) == Place(1, 0, 3, 2)
    scope = deep_trace.scope_id('pos 3 / layer 1 / attention / head 1 / scores')
    assert place_of(deep_trace, scope=scope) == Place(1, 1, 3)
    inside = next(n for n, s in enumerate(deep_trace.scope_of) if s == scope)
    assert place_of(deep_trace, node=inside) == Place(1, 1, 3)
    assert place_of(deep_trace, node=deep_trace.loss_id) is None
    assert place_of(deep_trace, scope=deep_trace.scope_id('pos 3 / layer 1 / attention')) is None


# The CSV of the shipped model and of the two-layer one.

@pytest.fixture(scope='module', params=['shipped', '2x2'])
def trace(request, emma):
    return emma if request.param == 'shipped' else request.getfixturevalue('deep_trace')


@pytest.fixture(scope='module')
def table(trace):
    rows = list(csv.DictReader(io.StringIO(to_csv(trace))))
    groups = {}
    for row in rows:
        groups.setdefault((int(row['layer']), int(row['head']), int(row['query'])), []).append(row)
    return rows, groups


def test_header_and_one_row_per_key_up_to_the_query(trace, table):
    rows, groups = table
    assert tuple(csv.reader(io.StringIO(to_csv(trace))).__next__()) == CSV_HEADER
    c = trace.config
    assert len(rows) == c.n_layer * c.n_head * sum(q + 1 for q in range(trace.n))  # keys after the query: no rows
    for (layer, head, q), group in groups.items():
        assert [int(r['key']) for r in group] == list(range(q + 1))


def test_weights_are_softmax_of_the_scores(table):
    _, groups = table
    for group in groups.values():
        scores = [float(r['score']) for r in group]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        for r, e in zip(group, exps):
            assert abs(float(r['weight']) - e / total) < 1e-12


def test_grad_score_follows_softmax_backward_rule(table):
    """∂loss/∂score_j = w_j (g_j − Σ_k w_k g_k), g = ∂loss/∂weight."""
    _, groups = table
    nonzero = 0
    for group in groups.values():
        w = [float(r['weight']) for r in group]
        g = [float(r['grad_weight']) for r in group]
        dot = sum(wk * gk for wk, gk in zip(w, g))
        for r, wj, gj in zip(group, w, g):
            assert abs(float(r['grad_score']) - wj * (gj - dot)) < 1e-12
            nonzero += float(r['grad_score']) != 0
    assert nonzero > len(groups)  # real gradients, not zeros that would pass trivially


def test_floats_read_back_exactly_as_recorded(trace, table):
    rows, _ = table
    grads = full_gradients(trace)
    for r in rows:
        layer, head, q, k = (int(r[c]) for c in ('layer', 'head', 'query', 'key'))
        nodes = query_nodes(trace, layer, head, q)
        assert float(r['score']) == trace.data[nodes.logits[k]]
        assert float(r['weight']) == trace.attention[layer][head][q][k] == trace.data[nodes.weights[k]]
        assert float(r['grad_weight']) == grads[nodes.weights[k]]
        assert float(r['grad_score']) == grads[nodes.logits[k]]


def test_tokens_carry_their_positions(trace, table):
    rows, _ = table
    for r in rows:
        q, k = int(r['query']), int(r['key'])
        assert r['query_token'] == f'{q} {trace.token_texts[q]}' and r['key_token'] == f'{k} {trace.token_texts[k]}'
    keys_of_last = {r['key_token'] for r in rows if int(r['query']) == trace.n - 1}
    assert {'2 m', '3 m'} <= keys_of_last  # emma's two m's are two different keys
    assert token_label(trace, 0) == '0 BOS'


def test_one_query_is_made_of_the_graph_nodes_named_as_the_graph_names_them(trace):
    d = trace.config.head_dim
    layer, head, q = trace.config.n_layer - 1, 1, 3
    nodes = query_nodes(trace, layer, head, q)
    name, data = trace.name, trace.data
    hs = head * d
    assert [name(i) for i in nodes.q] == [f'q[{hs + j}]' for j in range(d)]
    assert all(trace.position(i) == q for i in nodes.q)
    for t in range(q + 1):
        assert [name(i) for i in nodes.keys[t]] == [f'k[{hs + j}]' for j in range(d)]
        assert [name(i) for i in nodes.values[t]] == [f'v[{hs + j}]' for j in range(d)]
        assert trace.position(nodes.keys[t][0]) == t == trace.position(nodes.values[t][0])
        assert (name(nodes.dots[t]), name(nodes.logits[t]), name(nodes.exps[t]), name(nodes.weights[t])) == (
            f'q·k[{t}]', f'attn_logits[{t}]', f'exps[{t}]', f'attn_weights[{t}]')
        dot = sum(data[a] * data[b] for a, b in zip(nodes.q, nodes.keys[t]))
        assert abs(data[nodes.dots[t]] - dot) < 1e-12
        assert abs(data[nodes.logits[t]] - dot / math.sqrt(d)) < 1e-12
    assert name(nodes.total) == 'total'
    assert [name(i) for i in nodes.head_out] == [f'head_out[{j}]' for j in range(d)]
    for j, out in enumerate(nodes.head_out):
        assert abs(data[out] - sum(data[w] * data[v[j]] for w, v in zip(nodes.weights, nodes.values))) < 1e-12
    assert trace.scope_path(nodes.head_out[0]).startswith(f'pos {q} / layer {layer} / attention / head {head} /')
