"""explorer.state.gradient_state: one GradientState per recording (the last one cached), holding backprop's
final grads, its per-prediction passes made once when first asked; a new recording gets a new state."""

import random

import pytest

from engine.backprop import Stepper
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record
from explorer.state.gradient_state import gradient_state


@pytest.fixture(scope='module')
def model():
    return Model.init(GPTConfig(n_embd=8, n_head=2, block_size=4), Tokenizer('abc'), random.Random(1))


def test_the_state_is_made_once_per_recording_with_backprops_final_grads(model):
    trace = record(model, 'ab')
    state = gradient_state(trace)
    assert gradient_state(trace) is state and state.trace is trace
    full = Stepper(trace)
    full.run_to_end()
    assert list(state.grads) == list(full.grads) and any(state.grads[n] for n in trace.params)
    assert state.predictions is state.predictions  # made once
    other = record(model, 'ba')
    assert gradient_state(other) is not state and gradient_state(other).trace is other
    assert gradient_state(trace) is not state  # only the last recording is kept
