"""engine.trace: recording one forward pass: the whole scalar graph, stable ids, scopes, parameters,
attention; every scalar named by what it is in microgpt's code (`q[3]`, `exps[2]`, `1/total`) and
pointing at the line that made it; the recorded Values let go at once, by reference counting, so
nothing is left for the cyclic collector, whose full collections stall the window."""

import gc
import json
import math
import random
from pathlib import Path

import pytest

from engine.cli.commands import main as cli_main
from engine.errors import DocumentError
from engine.gradient.provenance import resolve
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import made_by, record

ROOT = Path(__file__).resolve().parents[2]  # the project folder
MODEL_LINES = (ROOT / 'engine' / 'model.py').read_text().splitlines()


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


def test_no_recorded_value_outlives_the_recording(model):
    was = gc.isenabled()
    gc.disable()  # what reference counting alone frees
    try:
        trace = record(model, 'emma')
        alive = sum(1 for o in gc.get_objects() if type(o).__name__ == 'Traced')
    finally:
        if was:
            gc.enable()
    assert len(trace.data) > 40000 and alive == 0


# Names: every recorded scalar is named by what it is in microgpt's code.

def in_scope(trace, path):
    return [i for i in range(len(trace)) if trace.scope_path(i) == path]


def named(trace, path, name):
    """The one node called `name` in scope `path`."""
    [node] = [i for i in in_scope(trace, path) if trace.name(i) == name]
    return node


def test_every_node_has_a_name_and_none_is_an_id(emma):
    names = emma.all_names
    assert len(names) == len(emma)
    assert all(isinstance(n, str) and n.strip() for n in names)
    assert not [n for n in names if '#' in n or 'None' in n]


def test_every_node_of_a_two_layer_model_is_named_too():
    tok = Tokenizer(sorted(set('abcdefghij')))
    m = Model.init(GPTConfig(n_layer=2, n_embd=8, n_head=2, block_size=8), tok, random.Random(3))
    trace = record(m, 'badge')
    assert all(n and '#' not in n for n in trace.all_names)
    assert trace.name(trace.loss_id) == 'loss'
    names = set(trace.all_names)
    assert {'layer1.attn_wq[3][5]', 'wq[3][5]·x[5]', 'q[7]', 'x[7]', 'probs[target]'} <= names


def test_parameters_keep_their_matrix_names(emma, model):
    node = next(i for i in emma.params if emma.name(i) == 'wte[4][3]')
    assert emma.params[node] == ('wte', 4, 3)
    node = next(i for i in emma.params if emma.name(i) == 'layer0.attn_wq[3][5]')
    assert emma.data[node] == model.state_dict['layer0.attn_wq'][3][5].data
    assert all(emma.name(i) == emma.param_name(i) for i in emma.params)


def test_q3_is_the_fourth_dot_product_of_the_q_linear(emma):
    q3 = named(emma, 'pos 2 / layer 0 / attention / q / q[3]', 'q[3]')
    assert emma.op[q3] == '+'
    # q[3] = Σ_j wq[3][j]·x[j]: its last term multiplies wq[3][15] by x[15], the rmsnorm'd input
    partial, product = emma.children[q3]
    assert emma.name(partial) == 'q[3] (Σ 0..14)' and emma.name(product) == 'wq[3][15]·x[15]'
    w, x = emma.children[product]
    assert emma.name(w) == 'layer0.attn_wq[3][15]' and emma.name(x) == 'x[15]'
    assert emma.scope_path(x) == 'pos 2 / layer 0 / attention / rmsnorm'
    # the sum starts from microgpt's 0
    first = min(in_scope(emma, 'pos 2 / layer 0 / attention / q / q[3]'))
    assert [emma.name(i) for i in range(first, first + 3)] == ['wq[3][0]·x[0]', '0', 'q[3] (Σ 0..0)']
    assert emma.qualified_name(q3) == 'pos 2 · q[3]'
    assert emma.qualified_name(q3, context=product) == 'q[3]'


def test_softmax_names_exps_total_and_probs(emma):
    path = 'pos 0 / softmax'
    target = emma.tokens[1]
    loss_t = named(emma, 'pos 0 / -log p', 'loss_t')
    log, minus_one = emma.children[loss_t]
    assert emma.name(log) == 'log(probs[target])' and emma.name(minus_one) == '-1'
    [p] = emma.children[log]
    assert emma.name(p) == 'probs[target]' and emma.scope_path(p) == path
    exps, one_over_total = emma.children[p]
    assert emma.name(exps) == f'exps[{target}]' and emma.name(one_over_total) == '1/total'
    [total] = emma.children[one_over_total]
    assert emma.name(total) == 'total'
    [shifted] = emma.children[exps]
    assert emma.name(shifted) == f'logits[{target}] - max_val'
    logit, max_val = emma.children[shifted]
    assert emma.name(logit) == f'logits[{target}]' and emma.name(max_val) == '-max_val'
    # the loss reads only the target's probability: the other probs are not in the graph
    assert {emma.name(i) for i in in_scope(emma, path) if emma.op[i] == '*'} == {'probs[target]'}
    assert {f'exps[{i}]' for i in range(27)} <= {emma.name(i) for i in in_scope(emma, path)}


def test_rmsnorm_attention_and_loss_names(emma):
    rms = {emma.name(i) for i in in_scope(emma, 'pos 0 / embedding / rmsnorm')}
    assert {'ms', 'scale', '1/len(x)', '1e-5', 'ms + 1e-5', 'x[7]'} <= rms
    head = 'pos 2 / layer 0 / attention / head 1'
    scores = {emma.name(i) for i in in_scope(emma, f'{head} / scores')}
    assert {'attn_logits[0]', 'attn_logits[2]', '1/√head_dim'} <= scores
    assert {emma.name(i) for i in in_scope(emma, f'{head} / scores / q·k[0]')} >= {'q[4]·keys[0][4]', 'q·k[0]'}
    weights = named(emma, f'{head} / softmax', 'attn_weights[2]')
    assert emma.attention_ids[0][1][2][2] == weights
    out = named(emma, f'{head} / weighted sum / out[1]', 'head_out[1]')
    product = emma.children[out][1]
    assert emma.name(product) == 'attn_weights[2]·values[2][5]'
    assert emma.qualified_name(emma.children[product][1], context=product) == 'v[5]'
    v0 = emma.children[named(emma, f'{head} / weighted sum / out[1]', 'attn_weights[0]·values[0][5]')][1]
    assert emma.qualified_name(v0, context=product) == 'pos 0 · v[5]'
    wo = {emma.name(i) for i in in_scope(emma, 'pos 2 / layer 0 / attention / wo / wo[3]')}
    assert 'wo[3][5]·x_attn[5]' in wo and 'x[3]' in wo
    assert {'x[3]'} <= {emma.name(i) for i in in_scope(emma, 'pos 2 / layer 0 / attention / residual')}
    assert {'x[63]'} <= {emma.name(i) for i in in_scope(emma, 'pos 2 / layer 0 / mlp / relu')}
    assert emma.name(emma.loss_id) == 'loss' and emma.qualified_name(emma.loss_id) == 'loss'
    assert {emma.name(c) for c in emma.children[emma.loss_id]} == {'sum(losses)', '1/n'}


def test_names_are_deterministic(model, emma):
    assert record(model, 'emma').all_names == emma.all_names


@pytest.mark.slow
def test_trace_json_gives_every_node_its_name(tmp_path, emma):
    out = tmp_path / 'emma.json'
    assert cli_main(['trace', '--doc', 'emma', '--json', str(out)], out=open(tmp_path / 'log', 'w')) == 0
    nodes = json.loads(out.read_text())['nodes']
    assert [n['name'] for n in nodes] == list(emma.all_names)


@pytest.mark.parametrize('name, code', [
    ('pos 3 / softmax / exps[2]', 'exps = [(val - max_val).exp() for val in logits]'),
    ('pos 2 / layer 0 / attention / head 1 / softmax / exps[1]', 'exps = [(val - max_val).exp() for val in logits]'),
    ('pos 2 / -log p / loss_t', 'loss_t = -probs[target_id].log()'),
    ('pos 1 / layer 0 / mlp / rmsnorm / scale', 'scale = (ms + 1e-5) ** -0.5'),
    ('pos 1 / layer 0 / attention / q / q[3] / q[3]', 'return [ops.dot(wo, x, name, i, out) for i, wo in enumerate(w)]'),
    ('pos 1 / layer 0 / mlp / relu / x[2]', 'x = [xi.relu() for xi in x]'),
])
def test_line_points_at_the_model_code_that_made_the_node(emma, name, code):
    node = resolve(emma, name)
    path, number = emma.line(node).split(':')
    assert path == 'engine/model.py' and MODEL_LINES[int(number) - 1].strip().startswith(code)
    assert emma.to_json()['nodes'][node]['line'] == emma.line(node)
    assert emma.line(resolve(emma, 'wte[4][3]')) is None  # a parameter: made by no line of the forward pass


def test_made_by_tells_a_recording_of_these_weights_and_document_from_any_other(model, emma):
    """What a layout process recorded is used only if it is exactly what this model records."""
    assert made_by(emma, model, 'emma') and not made_by(emma, model, 'emm')
    (name, row, column) = next(iter(emma.params.values()))
    weight = model.state_dict[name][row][column]
    kept = weight.data
    try:
        weight.data = kept + 1e-12
        assert not made_by(emma, model, 'emma')
    finally:
        weight.data = kept
    other = Model.init(GPTConfig(n_embd=8, n_head=2), Tokenizer('aem'), random.Random(1))
    assert not made_by(emma, other, 'emma')


# --- a part of a document (issue 24: a model too large to record whole) ---

def test_a_part_is_the_first_positions_of_the_whole_and_its_loss_their_mean(model):
    from engine.backprop import Stepper
    from engine.doc_notes import part_note
    from engine.trace import param_grads
    whole = record(model, 'emma')
    part = record(model, 'emma', positions=2)
    assert (part.n, part.whole_n, whole.whole_n, part.truncated) == (2, 5, None, False)
    losses = [whole.data[i] for i in range(len(whole)) if whole.names[i] == 'loss_t']
    assert math.isclose(part.loss, sum(losses[:2]) / 2, rel_tol=1e-15)
    assert part.attention == tuple(tuple(head[:2] for head in layer) for layer in whole.attention)
    assert record(model, 'emma', positions=99).to_json() == whole.to_json()  # more than it has: the whole
    assert 'of_positions' in part.to_json() and 'of_positions' not in whole.to_json()
    stepper = Stepper(part)
    stepper.run_to_end()  # backprop of the part: the gradient of the mean of its positions' losses
    tokens, _ = model.positions('emma')
    loss = model.loss(tokens, 2)
    loss.backward()
    got = param_grads(part, stepper.grads)
    assert all(math.isclose(got[name][r][c], p.grad, rel_tol=1e-12, abs_tol=1e-15)
               for name, mat in model.state_dict.items() for r, row in enumerate(mat) for c, p in enumerate(row))
    assert part_note(part).startswith("Recorded the first 2 of the 5 positions of 'emma': the model is too large")
