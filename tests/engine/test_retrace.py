"""engine.retrace: a document's recording recomputed with another step's weights is the recording those
weights give, float for float (data, local gradients, attention, loss), shares the structure, and fails
where recording fails, with the same sentence."""

import pytest

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine.errors import EngineError
from engine.model import Model
from engine.paths import DEFAULT_CHECKPOINT
from engine.retrace import Retracer
from engine.trace import record


@pytest.fixture(scope='module')
def history():
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    h = history_io.load_for(DEFAULT_CHECKPOINT, ckpt)
    h.mark_checked()  # tests/engine/test_history.py replays it; here only its weights are wanted
    return h


def exactly(xs):
    """Numbers as their type and repr: equal only bit for bit (-0.0 is not 0.0, the int 0 not 0.0)."""
    if isinstance(xs, tuple):
        return tuple(exactly(x) for x in xs)
    return type(xs).__name__, repr(xs)


def same_numbers(a, b):
    assert exactly(a.data) == exactly(b.data)
    assert exactly(a.local_grads) == exactly(b.local_grads)
    assert exactly(a.attention) == exactly(b.attention) and a.loss == b.loss


@pytest.mark.parametrize('doc', ['emma', 'a', 'abcdefghijklmnopq'])  # the last one is cut by block_size
def test_a_retrace_is_the_recording_of_those_weights_bit_for_bit(history, doc):
    start, other = history.model_at(1000), history.model_at(3)
    trace = record(start, doc)
    trace.parents  # noqa: B018  what the trace cached about its structure is lent to the next
    retraced = Retracer(trace)(other)
    expected = record(other, doc)
    same_numbers(retraced, expected)
    assert retraced.loss != trace.loss
    for field in ('op', 'children', 'scope_of', 'scopes', 'names', 'backward_order', 'attention_ids'):
        assert getattr(retraced, field) is getattr(trace, field)  # shared, not copied
        assert getattr(retraced, field) == getattr(expected, field)
    assert retraced.parents is trace.parents
    assert [retraced.name(i) for i in range(0, len(retraced), 97)] == [expected.name(i) for i in range(0, len(expected), 97)]


def test_one_retracer_serves_every_step_and_the_initial_weights(history):
    trace = record(history.model_at(500), 'emma')
    retrace = Retracer(trace)
    like = trace
    for step in (0, 1, 501, 999):
        like = retrace(history.model_at(step), like)
        same_numbers(like, record(history.model_at(step), 'emma'))


def test_weights_that_cannot_be_evaluated_fail_as_recording_fails(history):
    model = history.model_at(1000)
    trace = record(model, 'emma')
    floats = model.floats()
    floats['lm_head'] = [[w * 1e6 for w in row] for row in floats['lm_head']]  # every prob but the largest is 0
    broken = Model.from_floats(model.config, model.tokenizer, floats)
    with pytest.raises(EngineError) as recorded:
        record(broken, 'emma')
    with pytest.raises(EngineError) as retraced:
        Retracer(trace)(broken)
    assert str(retraced.value) == str(recorded.value) and 'cannot be evaluated' in str(recorded.value)


def test_only_the_same_config_and_vocabulary_fit(history):
    model = history.model_at(1000)
    trace = record(model, 'emma')
    retrace = Retracer(trace)
    assert retrace.fits(model, 'emma') and not retrace.fits(model, 'emmy')
    from engine.model import GPTConfig
    from engine.tokenizer import Tokenizer
    import random
    other = Model.init(GPTConfig(n_embd=8, n_head=2), Tokenizer(list('aemy')), random.Random(1))
    assert not retrace.fits(other, 'emma')
    with pytest.raises(ValueError):
        retrace(other)


@pytest.mark.parametrize('rung', ['bigram', 'average', 'gelu', 'layernorm', 'mini-gpt', 'llama-style'])
def test_the_ladders_rungs_and_gelu_retrace_bit_for_bit(rung):
    """The rungs' structures (a bigram's softmax over weights, constant uniform weights) and the GELU op's
    forward rule and local gradient, recomputed exactly as Value computes them."""
    import random

    from engine.presets import preset_config
    from engine.tokenizer import Tokenizer
    config = preset_config('microgpt', activation='gelu') if rung == 'gelu' else preset_config(
        'microgpt', norm='layer') if rung == 'layernorm' else preset_config(rung)  # mini-gpt: biases, tied; llama: RoPE, silu
    tok = Tokenizer('abcdem')
    start, other = (Model.init(config, tok, random.Random(seed)) for seed in (1, 2))
    trace = record(start, 'emma')
    same_numbers(Retracer(trace)(other), record(other, 'emma'))
