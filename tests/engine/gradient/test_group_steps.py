"""engine.gradient.group_steps: group steps by the model's structure, and each group's summary checked against the stepper's grads."""

import pytest

from engine.backprop import Schedule, Stepper
from engine.gradient.group_steps import UnitSteps, summary, under_way, unit_nodes, units
from engine.graph.grouping import Hierarchy


@pytest.fixture(scope='module')
def emma(emma):
    return emma, Hierarchy(emma), Schedule(emma)


@pytest.fixture(scope='module')
def unit_list(emma):
    trace, h, schedule = emma
    return units(trace, schedule, h)


def test_units_for_emma_go_by_the_models_structure(unit_list):
    paths = [u.path for u in unit_list]
    layer = 'pos 4 / layer 0'
    assert paths[:10] == ['loss', 'pos 4 / -log p', 'pos 4 / softmax', 'pos 4 / lm_head',
                          f'{layer} / mlp / residual', f'{layer} / mlp / fc2', f'{layer} / mlp / relu',
                          f'{layer} / mlp / fc1', f'{layer} / mlp / rmsnorm', f'{layer} / attention / residual']
    attention = paths[10:19]  # microgpt's depth-first order finishes wo after heads 3, 2, 1 and q after head 0
    assert sorted(attention) == sorted([f'{layer} / attention / {p}' for p in
                                        ('head 0', 'head 1', 'head 2', 'head 3', 'wo', 'q', 'k', 'v', 'rmsnorm')])
    assert attention[-1] == f'{layer} / attention / rmsnorm'
    assert paths[19:22] == ['pos 4 / embedding / rmsnorm', 'pos 4 / embedding / tok + pos', 'pos 3 / -log p']
    # every position, in backward order, then the weights; the sum finishes before pos 0 starts
    firsts = [paths.index(f'pos {p} / -log p') for p in (4, 3, 2, 1, 0)]
    assert firsts == sorted(firsts)
    assert paths.index('loss / sum') < firsts[-1]
    assert paths[-1].startswith('params / ') and sum(p.startswith('params / ') for p in paths) == 9
    assert len(paths) == 2 + 5 * 20 + 9  # 20 stages per position, the mean, the sum, 9 matrices
    assert [u.end for u in unit_list] == sorted(u.end for u in unit_list)


def test_units_do_not_depend_on_what_is_open(emma, unit_list):
    """The units come from the trace alone: the same whatever the view, and the same on a second call."""
    trace, h, schedule = emma
    h.visible(h.overview())
    h.visible(h.open_path(trace.scope_id('pos 2 / layer 0 / attention / head 1'), h.overview()))
    assert units(trace) == unit_list


def test_each_unit_ends_where_all_its_scalars_are_applied(emma, unit_list):
    trace, h, schedule = emma
    stepper = Stepper(trace)
    steps = UnitSteps(unit_list)
    for i in list(range(30)) + list(range(len(unit_list) - 12, len(unit_list))):
        unit = unit_list[i]
        position = steps.next_end(unit_list[i - 1].end if i else 0)  # a group step from the previous unit
        assert position == unit.end
        stepper.seek(position)
        nodes = unit_nodes(h, unit)
        applied = {schedule.applied_at[n] for n in nodes}
        assert max(applied) == position           # the last of them is the step just applied
        assert stepper.last_node() in nodes or position == 1
        stepper.seek(position - 1)
        assert any(schedule.applied_at[n] > stepper.position for n in nodes)  # one step earlier it is not done
    assert steps.previous_end(unit_list[5].end) == unit_list[4].end
    assert steps.next_end(unit_list[-1].end) is None and steps.previous_end(1) is None
    assert steps.ending_at(unit_list[3].end) == [unit_list[3]]


def test_a_group_step_says_what_else_the_depth_first_order_applied_on_the_way(emma, unit_list):
    """The softmax at the last position is complete only after most of the lm_head beneath it (microgpt's
    backward goes depth first): under_way counts it, from the stepper's own record of what it applied."""
    trace, h, schedule = emma
    softmax = next(u for u in unit_list if u.path == f'pos {trace.n - 1} / softmax')
    begun = {u.path: (done, total) for u, done, total in under_way(h, schedule, unit_list, softmax.end)}
    stepper, stepped = Stepper(trace), set()
    while stepper.position < softmax.end:  # the nodes whose chain rule the stepper applies, one step at a time
        stepper.step()
        stepped.add(stepper.last_node())
    lm_head = next(u for u in unit_list if u.path == f'pos {trace.n - 1} / lm_head')
    nodes = unit_nodes(h, lm_head)
    applied = len(stepped.intersection(nodes))
    assert begun[lm_head.path] == (applied, len(nodes)) and 0 < applied < len(nodes)
    assert softmax.path not in begun and all(u.end > softmax.end for u, _, _ in under_way(h, schedule, unit_list, softmax.end))


@pytest.fixture(scope='module')
def summaries(emma, unit_list):
    """Every unit's summary, made at the position where it completes."""
    trace, h, schedule = emma
    stepper = Stepper(trace)
    out = {}
    for unit in unit_list:
        stepper.seek(unit.end)
        out[unit.path] = (summary(trace, stepper.grads, unit, h), list(stepper.grads))
    return out


def test_every_summary_agrees_with_the_stepper(summaries):
    for path, (s, _) in summaries.items():
        assert s.checks, path
        for check in s.checks:
            assert len(check.identity) == len(check.stepper) > 0, (path, check.what)
            assert check.max_diff < 1e-12, (path, check.what, check.max_diff)


def test_softmax_is_probs_minus_onehot_over_n(emma, summaries):
    trace, h, _ = emma
    s, grads = summaries['pos 4 / softmax']
    table = s.tables[0]
    target = trace.tokens[5]
    assert table.highlight == target and table.rows[target][2] == 1.0
    logits = sorted({c for n in h.nodes_in(trace.scope_id('pos 4 / softmax')) for c in trace.children[n]
                     if trace.scope_path(c).startswith('pos 4 / lm_head /')})
    assert len(logits) == len(table.rows) == 27
    for (token, p, onehot, diff, over_n, stepper), logit in zip(table.rows, logits):
        assert diff == p - onehot and abs(over_n - diff / trace.n) < 1e-15
        assert abs(over_n - grads[logit]) < 1e-12 and stepper == grads[logit]
    assert abs(sum(row[1] for row in table.rows) - 1) < 1e-12
    assert '(probs − onehot(target)) / n' in s.text()


def test_linear_is_w_transpose_times_grad(emma, summaries):
    """lm_head's input feeds nothing else: its whole grad is Wᵀ·∂L/∂y."""
    trace, h, _ = emma
    s, grads = summaries['pos 4 / lm_head']
    wt, dw = s.checks
    assert wt.what == '∂L/∂x = Wᵀ·∂L/∂y' and len(wt.identity) == 16 and len(dw.identity) == 27 * 16
    xs = sorted({c for n in h.nodes_in(trace.scope_id('pos 4 / lm_head')) for c in trace.children[n]
                 if c not in trace.params and trace.op[c] != 'const'
                 and not trace.scope_path(c).startswith('pos 4 / lm_head')})
    assert len(xs) == 16
    assert max(abs(a - grads[x]) for a, x in zip(wt.identity, xs)) < 1e-12
    assert 'Wᵀ·∂L/∂y' in s.text() and '∂L/∂y·xᵀ' in s.text()


def test_the_mean_and_the_sum_give_one_over_n(emma, summaries):
    trace = emma[0]
    assert summaries['loss'][0].checks[0].stepper == [1 / trace.n]
    assert summaries['loss / sum'][0].checks[0].stepper == [1 / trace.n] * trace.n


def test_a_summary_catches_a_wrong_gradient(emma, unit_list):
    """The check is real: a grad changed by 1e-6 shows up as a disagreement."""
    trace, h, _ = emma
    stepper = Stepper(trace)
    unit = next(u for u in unit_list if u.path == 'pos 4 / softmax')
    stepper.seek(unit.end)
    grads = list(stepper.grads)
    logit = trace.children[next(n for n in unit_nodes(h, unit) if trace.op[n] == '+')][0]
    grads[logit] += 1e-6
    check = summary(trace, grads, unit, h).checks[0]
    assert not check.agrees and check.max_diff > 1e-7


RUNGS = {'bigram': ('bigram', {}), 'mlp': ('mlp', {}), 'average': ('average', {}), 'one-head': ('one-head', {}),
         'gelu': ('microgpt', {'activation': 'gelu'}), 'layernorm': ('microgpt', {'norm': 'layer'}),
         'mlp+layernorm': ('mlp', {'norm': 'layer'}), 'bias': ('microgpt', {'bias': True}), 'tie': ('microgpt', {'tie': True}),
         'average+bias+tie': ('average', {'bias': True, 'tie': True}), 'rope': ('microgpt', {'position': 'rope'}),
         'swiglu': ('microgpt', {'activation': 'swiglu'}), 'mini-gpt': ('mini-gpt', {}), 'llama-style': ('llama-style', {}),
         'rope+layernorm+bias': ('microgpt', {'position': 'rope', 'norm': 'layer', 'bias': True})}


@pytest.mark.parametrize('rung', RUNGS)
def test_every_rung_of_the_ladder_steps_by_group_and_each_summary_agrees_with_the_stepper(rung):
    """The ladder's rungs (engine.presets) and the block options go by their own structure: the bigram's softmax
    reads a row of wte as its logits, the average rung's heads have no scores, RoPE's rotation and SwiGLU's two
    paths have their own summaries; every summary still checks against the stepper."""
    import random

    from engine.model import Model
    from engine.presets import preset_config
    from engine.tokenizer import Tokenizer
    from engine.trace import record
    preset, options = RUNGS[rung]
    model = Model.init(preset_config(preset, n_embd=8, n_head=None if rung == 'one-head' else 2, **options),
                       Tokenizer('abcdem'), random.Random(5))
    for name in model.state_dict:  # gains and biases away from 1 and 0, so that a summary that leaves them out shows it
        if '_ln_' in name or name.endswith('_b'):
            for p in model.state_dict[name][0]:
                p.data += random.Random(name).gauss(0, 0.3)
    config = model.config
    trace = record(Model.from_floats(config, model.tokenizer, model.floats()), 'emma')
    h, schedule = Hierarchy(trace), Schedule(trace)
    stepper = Stepper(trace)
    found = units(trace, schedule, h)
    assert found and found[-1].end == stepper.total
    kinds, checks = set(), set()
    for unit in found:
        stepper.seek(unit.end)
        s = summary(trace, stepper.grads, unit, h)
        kinds.add(unit.kind)
        for check in s.checks:
            checks.add(check.what)
            assert len(check.identity) == len(check.stepper) > 0, (unit.path, check.what)
            assert check.max_diff < 1e-12, (unit.path, check.what, check.max_diff)
    assert {'softmax', 'nll', 'mean'} <= kinds and ('linear' in kinds) == (rung != 'bigram')
    activation = {'gelu-erf': 'gelu'}.get(config.activation, config.activation) if rung != 'bigram' else None  # one group
    assert all((kind in kinds) == (activation == kind) for kind in ('relu', 'gelu', 'swiglu'))
    norm = config.norm if rung != 'bigram' else None
    assert ('layernorm' in kinds) == (norm == 'layer') and ('rmsnorm' in kinds) == (norm == 'rms')
    assert ('rope' in kinds) == (config.position == 'rope') and ('∂L/∂b = ∂L/∂y' in checks) == config.bias
    if activation == 'swiglu':
        assert {'∂L/∂h = silu′(h)·up·∂L/∂y', '∂L/∂up = silu(h)·∂L/∂y'} <= checks
