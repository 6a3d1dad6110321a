"""Issue 13: the line that made a node, nudging it, checking every gradient, where a gradient comes from."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.backprop import Schedule
from engine.errors import EngineError
from engine.gradient.gradcheck import H, analytic_grads, iter_gradcheck
from engine.model import FAST, finish
from engine.gradient.nudge import Tape
from engine.gradient.provenance import (Predictions, ancestors, descendants, path_between, resolve, sum_in_order,
                               terms_by_use)
from engine.trace import record

ROOT = Path(__file__).resolve().parents[2]
MODEL_LINES = (ROOT / 'engine' / 'model.py').read_text().splitlines()


@pytest.fixture(scope='module')
def grads(emma):
    return analytic_grads(emma)


@pytest.fixture(scope='module')
def tape(emma):
    return Tape(emma)


# Nodes of every kind: the embedding weight, weights of every matrix, a node used twice by one
# parent (x·x in rmsnorm), attention weights, keys and values used by later positions, the loss terms.
NAMED = ['wte[4][3]', 'wpe[2][7]', 'lm_head[13][0]', 'layer0.attn_wq[3][5]', 'layer0.attn_wk[0][1]',
         'layer0.attn_wv[9][2]', 'layer0.attn_wo[1][1]', 'layer0.mlp_fc1[10][3]', 'layer0.mlp_fc2[4][40]',
         'pos 1 / embedding / tok + pos / x[3]', 'pos 0 / layer 0 / attention / k / k[5] / k[5]',
         'pos 2 / layer 0 / attention / head 1 / softmax / attn_weights[0]', 'pos 3 / softmax / exps[2]',
         'pos 2 / -log p / loss_t', 'pos 1 / layer 0 / mlp / rmsnorm / scale']


def test_names_resolve_and_unknown_names_fail_with_one_sentence(emma):
    assert emma.param_name(resolve(emma, 'wte[4][3]')) == 'wte[4][3]'
    assert resolve(emma, '19') == 19
    for bad in ('bogus', 'wte[99][0]', '999999', 'exps[2]'):  # the last names 17 nodes: it says which
        with pytest.raises(EngineError) as e:
            resolve(emma, bad)
        message = str(e.value)
        assert '\n' not in message and message.endswith('.') and not re.search(r'\.\s+[A-Z]', message)


@pytest.mark.parametrize('name', NAMED)
def test_terms_by_use_sum_to_the_grad_bit_for_bit(emma, grads, name):
    node = resolve(emma, name)
    terms = terms_by_use(emma, grads, node)
    assert terms and sum_in_order(terms) == grads[node]
    applied = Schedule(emma).applied_at
    assert [applied[t.parent] for t in terms] == sorted(applied[t.parent] for t in terms)


def test_terms_by_use_sum_exactly_for_every_node(emma, grads):
    schedule = Schedule(emma)
    for node in range(0, len(emma), 3):
        if node != emma.loss_id:
            assert sum_in_order(terms_by_use(emma, grads, node, schedule)) == grads[node], node


def test_a_node_used_twice_by_one_parent_gets_two_terms(emma, grads):
    node = resolve(emma, 'pos 1 / embedding / rmsnorm / x[0]')
    x = emma.children[node][0]  # x before rmsnorm: squared in x·x
    terms = terms_by_use(emma, grads, x)
    assert len([t for t in terms if emma.children[t.parent] == (x, x)]) == 2
    assert sum_in_order(terms) == grads[x]


@pytest.mark.parametrize('name', NAMED)
def test_by_prediction_parts_sum_to_the_grad(emma, grads, name):
    node = resolve(emma, name)
    parts = Predictions(emma, grads).parts(node)
    assert [t for t, _, _ in parts] == list(range(emma.n))
    total = sum(g for _, _, g in parts)
    assert abs(total - grads[node]) <= 1e-12 * sum(abs(g) for _, _, g in parts)


def test_wte_4_3_one_use_and_four_predictions(emma, grads):
    """The issue's example: `e` at position 1 is used once, and predictions 1-4 each ask for a part."""
    node = resolve(emma, 'wte[4][3]')
    assert len(terms_by_use(emma, grads, node)) == 1
    parts = Predictions(emma, grads).parts(node)
    assert parts[0][2] == 0 and all(g != 0 for _, _, g in parts[1:])
    assert [target for _, target, _ in parts] == ['e', 'm', 'm', 'a', 'BOS']


def _set_param(model, name, value):
    matrix, rest = name.split('[', 1)
    row, col = (int(i) for i in rest.rstrip(']').split(']['))
    p = model.state_dict[matrix][row][col]
    old, p.data = p.data, value
    return old


@pytest.mark.parametrize('name', ['wte[4][3]', 'layer0.attn_wq[3][5]', 'lm_head[13][0]', 'layer0.mlp_fc1[10][3]'])
def test_nudge_equals_recording_again_with_the_nudged_value(model, emma, tape, name):
    node = resolve(emma, name)
    h = 1e-3
    changed, loss = tape.recompute({node: emma.data[node] + h})
    old = _set_param(model, name, emma.data[node] + h)
    try:
        again = record(model, 'emma')
        fast = model.loss(*model.positions('emma'), FAST).data  # what gradcheck uses for big cones
    finally:
        _set_param(model, name, old)
    nudged = list(emma.data)
    for i, v in changed.items():
        nudged[i] = v
    assert nudged == list(again.data) and loss == again.loss == fast
    # what changed: the node's descendants, and the softmax constants (-max_val) read from its logits and theirs
    allowed = descendants(emma, node) | {node}
    for c in set(changed) & set(tape.max_logits):
        allowed |= descendants(emma, c) | {c}
    assert set(changed) <= allowed


@pytest.mark.parametrize('name', ['pos 1 / layer 0 / attention / q / q[3] / q[3]', 'pos 3 / softmax / exps[2]',
                                  'pos 0 / layer 0 / attention / v / v[7] / v[7]'])
def test_nudging_an_intermediate_equals_a_full_recompute_of_the_tape(emma, tape, name):
    node = resolve(emma, name)
    value = emma.data[node] * 1.5 + 0.01
    changed, loss = tape.recompute({node: value})
    full = tape.full_recompute({node: value})
    nudged = list(emma.data)
    for i, v in changed.items():
        nudged[i] = v
    assert nudged == full and loss == full[emma.loss_id] != emma.loss


def test_nudge_central_difference_is_near_the_grad(emma, grads, tape):
    node = resolve(emma, 'wte[4][3]')
    n = tape.nudge(node, H)
    assert n.loss == emma.loss and n.loss_plus != n.loss_minus
    assert n.relative_difference(grads[node]) < 1e-5


def test_numeric_gradients_agree_with_backprop(model, emma, grads):
    """A sample of every matrix, through both ways gradcheck computes L(p ± h) (tape and fused pass).
    Bound: with h = 1e-4 the rounding error of the difference is ~ε·|L|/h ≈ 6e-12, i.e. ≤ 6e-6 of the
    smallest non-zero gradients here (~1e-6), and truncation (h²·L'''/6) measured ≤ 3e-9 absolute on
    gradients of ≥ 1e-3; 1e-5 leaves room for both (all 4,192 measured: 4.5e-7)."""
    names = {emma.param_name(n) for k, n in enumerate(sorted(emma.params)) if k % 61 == 0}
    names |= {'wte[4][3]', 'wte[1][0]'}  # 'b' is not in emma: numeric and analytic both exactly 0
    result = finish(iter_gradcheck(model, emma, grads, only=names))
    assert {p.name for p in result.params} == names and len(names) > 60
    for p in result.params:
        assert p.analytic == (float(grads[p.node]) if p.node >= 0 else 0.0)
        assert p.rel_error < 1e-5, (p.name, p.analytic, p.numeric)
    assert any(p.analytic != 0 for p in result.params)


def test_the_cone_is_what_a_node_depends_on_and_what_depends_on_it(emma):
    node = resolve(emma, 'pos 2 / layer 0 / attention / head 1 / softmax / attn_weights[0]')
    up, down = ancestors(emma, node), descendants(emma, node)
    assert emma.loss_id in down and not up & down
    assert all(c in up for c in emma.children[node]) and all(p in down for p in emma.parents[node])
    assert not any(n in down for n in range(node))  # made later than it, all of them
    wte = resolve(emma, 'wte[4][3]')
    loss_1 = resolve(emma, 'pos 1 / -log p / loss_t')
    path = path_between(emma, wte, loss_1)
    assert wte in path and loss_1 in path and path <= descendants(emma, wte) | {wte}


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


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / 'main.py'), *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


@pytest.mark.slow  # three CLI processes
def test_cli_nudge_provenance_gradcheck_write_the_documented_keys(tmp_path):
    out = tmp_path / 'n.json'
    proc = run('nudge', '--doc', 'emma', '--node', 'wte[4][3]', '--by', '1e-4', '--json', str(out))
    assert proc.returncode == 0, proc.stderr
    nudge = json.loads(out.read_text())
    assert {'node', 'h', 'loss', 'loss_plus', 'loss_minus', 'numeric', 'grad'} <= set(nudge)
    assert nudge['node'] == 'wte[4][3]' and nudge['h'] == 1e-4
    assert abs(nudge['numeric'] - nudge['grad']) < 1e-5 * abs(nudge['grad'])

    out = tmp_path / 'p.json'
    proc = run('provenance', '--doc', 'emma', '--node', 'wte[4][3]', '--json', str(out))
    assert proc.returncode == 0, proc.stderr
    prov = json.loads(out.read_text())
    assert {'node', 'grad', 'terms', 'by_prediction'} <= set(prov)
    assert set(prov['terms'][0]) == {'parent', 'scope', 'local_grad', 'parent_grad', 'term'}
    assert set(prov['by_prediction'][0]) == {'position', 'target', 'grad'}
    assert sum(t['term'] for t in prov['terms']) == prov['grad'] == nudge['grad']

    out = tmp_path / 'g.json'
    proc = run('gradcheck', '--doc', 'a', '--json', str(out))  # 'a': the shortest pass, every parameter
    assert proc.returncode == 0, proc.stderr
    check = json.loads(out.read_text())
    assert {'max_rel_error', 'params'} <= set(check) and len(check['params']) == 4192
    assert set(check['params'][0]) == {'name', 'analytic', 'numeric'} and check['max_rel_error'] < 1e-5
    trace = tmp_path / 't.json'
    assert run('trace', '--doc', 'a', '--json', str(trace)).returncode == 0
    reported = json.loads(trace.read_text())['param_grads']
    for p in check['params'][::97]:
        matrix, rest = p['name'].split('[', 1)
        row, col = (int(i) for i in rest.rstrip(']').split(']['))
        assert p['analytic'] == reported[matrix][row][col]


@pytest.mark.parametrize('command', ['nudge', 'provenance'])
def test_cli_unknown_node_one_sentence_exit_2_nothing_written(tmp_path, command):
    out = tmp_path / 'x.json'
    proc = run(command, '--doc', 'emma', '--node', 'no such node', '--json', str(out))
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.count('\n') == 1 and proc.stderr.startswith('error: No node is called')
