"""engine.gradient.block_steps: the summaries of GELU, the average rung's uniform head and LayerNorm join the
group steps and say their formulas with this recording's numbers (each is checked against the stepper for
every rung in tests/engine/gradient/test_group_steps.py)."""

import random

from engine.backprop import Schedule, Stepper
from engine.gradient.group_steps import SUMMARIES, summary, units
from engine.graph.grouping import Hierarchy
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record


def test_the_blocks_summaries_say_their_backward_with_numbers():
    assert {'gelu', 'layernorm'} <= set(SUMMARIES)
    config = GPTConfig(n_embd=8, n_head=2, attention='uniform', activation='gelu', norm='layer')
    trace = record(Model.init(config, Tokenizer('abcdem'), random.Random(4)), 'emma')
    h, schedule, stepper = Hierarchy(trace), Schedule(trace), Stepper(trace)
    said = {}
    for unit in units(trace, schedule, h):
        if unit.path.startswith('pos 3 / layer 0 /') and unit.kind in ('gelu', 'head', 'layernorm'):
            stepper.seek(unit.end)
            said[unit.path] = summary(trace, stepper.grads, unit, h)
    gelu, head = said['pos 3 / layer 0 / mlp / gelu'], said['pos 3 / layer 0 / attention / head 1']
    ln = said['pos 3 / layer 0 / mlp / layernorm']
    assert 'gelu′(x)' in gelu.formulas[0] and 'no input is cut to exactly 0' in gelu.notes[0]
    assert head.title.startswith('uniform attention head 1 at pos 3') and '(1/4)' in head.formulas[0]
    assert '∂L/∂gain = ∂L/∂y·x̂' in ln.formulas[0] and [c.what for c in ln.checks][1:] == [
        '∂L/∂gain = ∂L/∂y·x̂', '∂L/∂bias = ∂L/∂y']
    assert all(c.max_diff < 1e-12 for s in said.values() for c in s.checks)
