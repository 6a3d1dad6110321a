"""Recording one forward pass: the whole scalar graph, stable ids, scopes, parameters, attention."""

import math
import random

import pytest

from engine.errors import DocumentError
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record


# Where these figures come from: the original single-file microgpt.py's own `Value`, run on one
# document with the default config (n_layer 1, n_embd 16, n_head 4, block_size 16) and names.txt's 27
# tokens: the number of nodes its backward()'s build_topo visits from the loss (len(topo)), and the sum
# of len(v._children) over them (an x * x counts its child twice). The structure does not depend on the
# weights, so any checkpoint of that shape gives the same counts. Listed in ../shared/DESIGN.md, "Known figures".
MICROGPT_GRAPH_SIZES = {'a': 19047, 'emma': 43091, 'isabella': 76555}
MICROGPT_EMMA_EDGES = 75632


def test_graph_sizes_are_microgpts(model, emma):
    """The sizes of microgpt's own graph: every constant and every + of every sum is there."""
    assert (len(emma), sum(map(len, emma.children))) == (MICROGPT_GRAPH_SIZES['emma'], MICROGPT_EMMA_EDGES)
    assert len(record(model, 'a')) == MICROGPT_GRAPH_SIZES['a']
    assert len(record(model, 'isabella')) == MICROGPT_GRAPH_SIZES['isabella']


def test_ids_are_deterministic(model, emma):
    again = record(model, 'emma')
    assert again.op == emma.op and again.children == emma.children and again.data == emma.data
    assert again.scope_of == emma.scope_of and again.scopes == emma.scopes


def test_children_come_before_parents_and_order_covers_every_node(emma):
    assert all(c < node for node, children in enumerate(emma.children) for c in children)
    assert sorted(emma.backward_order) == list(range(len(emma)))
    assert emma.backward_order[0] == emma.loss_id == len(emma) - 1


def test_scope_tree_reaches_a_head_and_its_dot_products(emma):
    paths = {s.path for s in emma.scopes}
    for path in ['pos 2 / layer 0 / attention / head 1 / scores',
                 'pos 2 / layer 0 / attention / head 1 / scores / q·k[0]',
                 'pos 2 / layer 0 / attention / head 1 / softmax',
                 'pos 2 / layer 0 / attention / head 1 / weighted sum / out[3]',
                 'pos 4 / layer 0 / mlp / fc1 / fc1[63]', 'pos 0 / embedding / rmsnorm',
                 'pos 4 / lm_head / lm_head[26]', 'pos 4 / -log p', 'loss / sum', 'params / wte']:
        assert path in paths
    one_score = [i for i in range(len(emma)) if emma.scope_path(i) == 'pos 2 / layer 0 / attention / head 1 / scores / q·k[0]']
    assert sorted(emma.op[i] for i in one_score).count('*') == 4  # head_dim multiplications
    assert sorted(emma.op[i] for i in one_score).count('+') == 4  # 0 + p0 + p1 + p2 + p3


def test_overview_of_a_four_letter_name_is_small(emma):
    """Three levels of scopes (position, its parts, their parts) stay within ~150 boxes."""
    depth = {0: 0}
    for i, s in enumerate(emma.scopes[1:], 1):
        depth[i] = depth[s.parent] + 1
    assert sum(1 for d in depth.values() if d == 2) <= 150


def test_parameters_are_named_and_indexed(emma, model):
    names = {emma.param_name(i) for i in emma.params}
    assert 'layer0.attn_wq[3][5]' in names and 'lm_head[26][15]' in names
    node = next(i for i in emma.params if emma.param_name(i) == 'layer0.attn_wq[3][5]')
    assert emma.data[node] == model.state_dict['layer0.attn_wq'][3][5].data
    assert emma.op[node] == 'param' and emma.scope_path(node) == 'params / layer0.attn_wq / layer0.attn_wq[3]'
    # only the embedding rows the document uses: BOS, e, m, a
    assert {r for (name, r, c) in emma.params.values() if name == 'wte'} == {0, 4, 12, 26}


def test_attention_weights_are_causal_rows_that_sum_to_one(emma):
    assert len(emma.attention) == 1 and len(emma.attention[0]) == 4
    for head in emma.attention[0]:
        assert [len(row) for row in head] == [1, 2, 3, 4, 5]
        for row in head:
            assert math.fsum(row) == pytest.approx(1.0, abs=1e-12)
    # the weights are the data of the softmax output nodes they name
    for head, ids in zip(emma.attention[0], emma.attention_ids[0]):
        for row, id_row in zip(head, ids):
            assert [emma.data[i] for i in id_row] == list(row)
            assert all('softmax' in emma.scope_path(i) for i in id_row)


def test_empty_and_over_long_documents():
    tok = Tokenizer('ab')
    model = Model.init(GPTConfig(block_size=4), tok, random.Random(0))
    empty = record(model, '')
    assert empty.n == 1 and empty.tokens == (2, 2) and not empty.truncated  # BOS -> BOS
    long = record(model, 'abababab')
    assert long.n == 4 and long.truncated and len(long.attention[0][0]) == 4


def test_unknown_character_names_it_and_the_vocabulary(model):
    with pytest.raises(DocumentError) as e:
        record(model, 'emmé')
    assert "'é'" in str(e.value) and 'abcdefghijklmnopqrstuvwxyz' in str(e.value)


def test_deeper_wider_models_record_every_layer_and_head():
    tok = Tokenizer('abc')
    model = Model.init(GPTConfig(n_layer=2, n_embd=16, n_head=8), tok, random.Random(1))
    trace = record(model, 'abc')
    assert len(trace.attention) == 2 and all(len(layer) == 8 for layer in trace.attention)
    assert 'pos 3 / layer 1 / attention / head 7 / scores' in {s.path for s in trace.scopes}
