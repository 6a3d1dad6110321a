"""Attention weights as tables: CSV equal to the recording, rows summing to 1, cells and rows located."""

import csv
import io
import math
import random

import pytest

from engine.attention import CSV_HEADER, Place, cell_node, place_of, rows, to_csv
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record


@pytest.fixture(scope='module')
def trace():
    model = Model.init(GPTConfig(n_layer=2, n_embd=8, n_head=2, block_size=8), Tokenizer('abcdem'), random.Random(3))
    return record(model, 'emma')


def test_csv_holds_every_recorded_weight_exactly(trace):
    table = list(csv.reader(io.StringIO(to_csv(trace))))
    assert tuple(table[0]) == CSV_HEADER
    body = table[1:]
    assert len(body) == 2 * 2 * sum(q + 1 for q in range(trace.n))  # causal: keys 0..query
    for layer, head, q, k, q_tok, k_tok, _, w, _, _ in body:
        layer, head, q, k = int(layer), int(head), int(q), int(k)
        assert float(w) == trace.attention[layer][head][q][k]
        assert (q_tok, k_tok) == (f'{q} {trace.token_texts[q]}', f'{k} {trace.token_texts[k]}')
        assert k <= q


def test_each_row_sums_to_one(trace):
    sums = {}
    for layer, head, q, k, _, _, _, w, _, _ in rows(trace):
        sums[(layer, head, q)] = sums.get((layer, head, q), []) + [w]
    assert all(math.isclose(math.fsum(ws), 1.0, abs_tol=1e-12) for ws in sums.values())


def test_cells_and_rows_are_found_from_the_graph(trace):
    node = cell_node(trace, 1, 0, 3, 2)
    assert trace.data[node] == trace.attention[1][0][3][2]
    assert place_of(trace, node=node) == Place(1, 0, 3, 2)
    scope = trace.scope_id('pos 3 / layer 1 / attention / head 1 / scores')
    assert place_of(trace, scope=scope) == Place(1, 1, 3)
    inside = next(n for n, s in enumerate(trace.scope_of) if s == scope)
    assert place_of(trace, node=inside) == Place(1, 1, 3)
    assert place_of(trace, node=trace.loss_id) is None
    assert place_of(trace, scope=trace.scope_id('pos 3 / layer 1 / attention')) is None
