"""engine.gradient.nudge: the tape recomputes the forward pass after a nudge exactly as recording again
would, and its central difference is near the analytic gradient; an h at which the loss has no value, or
one lost to rounding, is one sentence."""

import math
import re

import pytest

from engine.gradient.gradcheck import H
from engine.errors import EngineError
from engine.gradient.nudge import NotEvaluable, forward, relative_error
from engine.gradient.provenance import descendants, resolve
from engine.model import FAST
from engine.trace import record
from engine.value import Value


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


@pytest.mark.parametrize('op, a, b', [('+', 0.1, 0.2), ('*', 0.1, 3.0), ('exp', 0.7, None), ('log', 2.5, None),
                                      ('relu', -1.5, None), ('relu', 1.5, None), ('**-0.5', 2.0, None),
                                      ('**2', 3.0, None), ('**-1', 4.0, None)])
def test_forward_rules_are_the_values_own(op, a, b):
    x = Value(a)
    y = {'+': lambda: x + b, '*': lambda: x * b, 'exp': x.exp, 'log': x.log, 'relu': x.relu}.get(
        op, lambda: x ** (int(op[2:]) if op[2:].lstrip('-').isdigit() else float(op[2:])))()
    assert forward(op, a, b) == y.data


def test_an_unknown_op_has_no_forward_rule():
    with pytest.raises(ValueError, match="'tanh' has no forward rule"):
        forward('tanh', 1.0)


def test_relative_error_is_scaled_by_the_larger_and_zero_for_two_zeros():
    assert relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert relative_error(-2.0, 2.0) == 2.0 and relative_error(2.0, 1.0) == relative_error(1.0, 2.0) == 0.5
    assert relative_error(0.0, 0.0) == 0.0 and relative_error(0.0, 1e-300) == 1.0
    assert not math.isnan(relative_error(0.0, -0.0))


@pytest.mark.parametrize('name, h, says', [
    ('pos 0 / embedding / rmsnorm / ms + 1e-5', -1, 'At x + h = -0.8368 the loss cannot be evaluated: pos 0 · scale '
     'would be (-0.8368)**-0.5, which is not a real number.'),
    ('pos 0 / softmax / logits[2] - max_val', 1000, 'At x + h = 998.9 the loss cannot be evaluated: pos 0 · exps[2] '
     'would be exp(998.9), more than the largest float.'),
    ('pos 0 / softmax / probs[target]', -10, 'At x + h = -9.949 the loss cannot be evaluated: pos 0 · '
     'log(probs[target]) would be log(-9.949), the log of a negative number.'),
    ('pos 0 / softmax / probs[target]', 0.05124123784147439, 'At x − h = 0 the loss cannot be evaluated: pos 0 · '
     'log(probs[target]) would be log(0), −∞.'),
])
def test_a_nudge_where_the_loss_has_no_value_is_one_sentence(emma, tape, name, h, says):
    with pytest.raises(NotEvaluable) as e:
        tape.nudge(resolve(emma, name), h)
    assert str(e.value) == says and isinstance(e.value, EngineError)


def test_a_loss_that_is_not_finite_names_the_first_node_that_is_not(emma, tape):
    node = resolve(emma, 'pos 2 / -log p / loss_t')
    with pytest.raises(NotEvaluable, match=r'^The loss cannot be evaluated: pos 2 · loss_t would be inf, not a '
                                           r'finite number\.$'):
        tape.recompute({node: math.inf})  # a sum and a product carry inf on without raising: only the loss says it


@pytest.mark.parametrize('name, h', [('wte[4][3]', 1e-20), ('pos 0 / softmax / logits[2] - max_val', -1e-18)])
def test_an_h_lost_to_rounding_is_refused_rather_than_reported_as_a_zero_difference(emma, tape, name, h):
    node = resolve(emma, name)
    x = emma.data[node]
    assert x + h == x or x - h == x
    with pytest.raises(EngineError, match=rf'^h = {h:g} is lost to rounding at x = {re.escape(repr(x))}: x [+−] h == x, '
                                          r'because floats near x are .* apart; use a larger h, e\.g\. 1e-05\.$'):
        tape.nudge(node, h)
