"""The attention CSV: scores, weights and gradients that agree with softmax and its backward rule, read
back exactly, tokens with positions; one query's nodes are the graph's own."""

import csv
import io
import math
import random

import pytest

from engine.attention import CSV_HEADER, full_gradients, query_nodes, to_csv, token_label
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record


@pytest.fixture(scope='module', params=['shipped', '2x2'])
def trace(request, emma):
    if request.param == 'shipped':
        return emma
    model = Model.init(GPTConfig(n_layer=2, n_embd=8, n_head=2, block_size=8), Tokenizer('abcdem'), random.Random(3))
    return record(model, 'emma')


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
