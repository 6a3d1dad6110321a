"""Every recorded scalar is named by what it is in microgpt's code: `q[3]`, `exps[2]`, `1/total`, …"""

import json
import random


from engine.cli.commands import main as cli_main
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record


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


def test_trace_json_gives_every_node_its_name(tmp_path, emma):
    out = tmp_path / 'emma.json'
    assert cli_main(['trace', '--doc', 'emma', '--json', str(out)], out=open(tmp_path / 'log', 'w')) == 0
    nodes = json.loads(out.read_text())['nodes']
    assert [n['name'] for n in nodes] == list(emma.all_names)
