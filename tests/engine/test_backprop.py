"""The stepper: microgpt's backward order, one node at a time, undoable bit for bit."""

import random

import pytest
from hypothesis import given, settings, strategies as st

from engine.backprop import Schedule, Stepper, local_symbol, rule
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record


@pytest.fixture(scope='module')
def trace():
    model = Model.init(GPTConfig(n_embd=8, n_head=2, block_size=8), Tokenizer('abcdem'), random.Random(7))
    return record(model, 'emma')


def backward_on_values(trace):
    """Rebuild the recorded graph as Values and call microgpt's own loss.backward() on it."""
    from engine.value import Value
    vals = []
    for i in range(len(trace)):
        vals.append(Value(trace.data[i], tuple(vals[c] for c in trace.children[i]), trace.local_grads[i]))
    vals[trace.loss_id].backward()
    return [v.grad for v in vals]


def test_run_to_end_equals_loss_backward(trace):
    stepper = Stepper(trace)
    stepper.run_to_end()
    assert stepper.grads == backward_on_values(trace)
    assert stepper.at_end and stepper.step() is None


def test_single_steps_equal_seek_and_loss_backward(trace):
    one, jump = Stepper(trace), Stepper(trace)
    while one.step():
        pass
    jump.seek(jump.total)
    assert one.grads == jump.grads == backward_on_values(trace)


def test_first_step_seeds_the_loss_then_chain_rule_per_child(trace):
    stepper = Stepper(trace)
    assert stepper.current_node() == trace.loss_id and stepper.grads[trace.loss_id] == 0
    seed = stepper.step()
    assert seed.seed and seed.node == trace.loss_id and stepper.grads[trace.loss_id] == 1
    rec = stepper.step()
    assert rec.node == trace.loss_id and not rec.seed
    for c, child, local in zip(rec.contributions, trace.children[rec.node], trace.local_grads[rec.node]):
        assert (c.child, c.local_grad) == (child, local)
        assert c.contribution == local * rec.node_grad
        assert c.grad_after == c.grad_before + c.contribution


def test_arrivals_count_contributions(trace):
    stepper = Stepper(trace)
    stepper.run_to_end()
    assert stepper.arrived == [len(p) for p in trace.parents]


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_back_restores_every_earlier_state_exactly(trace, data):
    steps_back_exactly(trace, data)


def steps_back_exactly(trace, data):
    """Seek a drawn step a, then a later b, then press back b - a times: every grad and arrival count is a's."""
    stepper = Stepper(trace)
    a = data.draw(st.integers(0, stepper.total))
    b = data.draw(st.integers(a, stepper.total))
    stepper.seek(a)
    snapshot = (list(stepper.grads), list(stepper.arrived))
    stepper.seek(b)
    for _ in range(b - a):
        stepper.back()
    assert (stepper.grads, stepper.arrived, stepper.position) == (*snapshot, a)


def test_back_at_start_and_reset(trace):
    stepper = Stepper(trace)
    assert stepper.back() is None
    stepper.seek(100)
    stepper.reset()
    assert stepper.position == 0 and not any(stepper.grads) and not any(stepper.arrived)


def test_a_node_used_twice_by_one_parent(trace):
    """x * x in rmsnorm: both contributions land, and one back() undoes both."""
    square = next(i for i, ch in enumerate(trace.children) if len(ch) == 2 and ch[0] == ch[1])
    stepper = Stepper(trace)
    stepper.seek(trace.backward_order.index(square) + 1)
    before = stepper.grads[trace.children[square][0]]
    rec = stepper.step()
    assert rec.node == square and rec.contributions[1].grad_before == rec.contributions[0].grad_after
    stepper.back()
    assert stepper.grads[trace.children[square][0]] == before


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_last_record_rebuilds_the_step_that_was_applied(trace, data):
    """After a step or a jump, the chain-rule panel's record is the one step() returned."""
    stepper, probe = Stepper(trace), Stepper(trace)
    position = data.draw(st.integers(1, stepper.total))
    stepper.seek(position - 1)
    applied = stepper.step()
    probe.seek(position)
    assert stepper.last_record() == probe.last_record() == applied
    assert probe.last_node() == applied.node


def test_schedule_matches_stepping(trace):
    """applied_at: the position after a node's own step; reached_at: the first position its grad has a term."""
    schedule, stepper = Schedule(trace), Stepper(trace)
    first_reached = [None] * len(trace)
    while stepper.step():
        node = stepper.last_node()
        assert schedule.applied_at[node] == stepper.position or stepper.position == 1
        for n in {node, *trace.children[node]}:
            if first_reached[n] is None and (stepper.arrived[n] or n == trace.loss_id):
                first_reached[n] = stepper.position
    assert first_reached == schedule.reached_at
    assert schedule.needed == stepper.arrived
    group = trace.backward_order[10:20]
    steps = schedule.steps(group)
    assert Schedule.done_count(steps, schedule.applied_at[group[4]]) == 5
    assert schedule.reached(group) == min(first_reached[n] for n in group)


def test_every_op_has_a_rule_and_a_symbol_per_child(trace):
    for op in set(trace.op):
        assert rule(op).split(':')[0] in {'add', 'mul', 'exp', 'log', 'relu', 'pow', 'param', 'const'}
    for node, children in enumerate(trace.children):
        for i in range(len(children)):
            assert local_symbol(trace.op[node], i)
    assert local_symbol('**-0.5', 0) == '-0.5·a^(-0.5-1)' and local_symbol('*', 0) == 'b'


@pytest.fixture(scope='module', params=['mini-gpt', 'llama-style'])
def seed_trace(request):
    """'emma' through the seeds' presets at a small shape: biases, tied lm_head, LayerNorm, GELU; RoPE, SwiGLU."""
    from engine.presets import preset_config
    model = Model.init(preset_config(request.param, n_embd=8, n_head=2, block_size=8), Tokenizer('abcdem'), random.Random(7))
    return record(model, 'emma')


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_the_seed_blocks_step_back_to_every_earlier_state_exactly(seed_trace, data):
    steps_back_exactly(seed_trace, data)


def test_the_seed_blocks_ops_have_their_rules_and_run_to_loss_backward(seed_trace):
    """silu (SwiGLU's) and gelu-erf (the mini GPT's) have a rule and a local symbol; stepping to the end is Value.backward exactly."""
    ops = set(seed_trace.op)
    assert ops & {'silu', 'gelu-erf'} and all('a leaf' not in rule(op) for op in ops if op not in ('param', 'const'))
    assert all(local_symbol(op, 0) for op in ops if op not in ('param', 'const'))
    stepper = Stepper(seed_trace)
    stepper.run_to_end()
    assert list(stepper.grads) == backward_on_values(seed_trace)
