"""engine.recording_cost: the scalars a recording makes are estimated before it starts, close to what it
makes; a document too large to record whole gets a part suggested that is not."""

import pytest

from engine import checkpoint as ckpt_io
from engine.presets import RUNGS, preset_config, shipped_checkpoint
from engine.model import Model
from engine.recording_cost import ASK_ABOVE, needs_asking, record_cost, suggested_part
from engine.tokenizer import Tokenizer
from engine.trace import record

import random


@pytest.mark.parametrize('rung', RUNGS)
def test_the_estimate_is_close_to_the_scalars_recorded_and_never_fewer(rung):
    """Within 2% for models with attention's q and k (every model large enough to ask about); the lower rungs
    have no q, k or no layers, which the training estimate counts anyway: more, never fewer."""
    model = ckpt_io.load(shipped_checkpoint(rung)).model
    for doc in ('emma', 'christopher'):
        trace = record(model, doc)
        estimate = record_cost(model.config, model.tokenizer.vocab_size, trace.n).nodes
        assert estimate >= len(trace), (rung, doc)  # the question is never skipped for a recording too large
        if rung in ('one-head', 'microgpt'):
            assert (estimate - len(trace)) / len(trace) < 0.02, (rung, doc)


def test_a_wider_deeper_model_with_the_mini_gpts_blocks_is_estimated_as_closely():
    config = preset_config('mini-gpt', n_embd=32, n_layer=2, block_size=16)
    model = Model.init(config, Tokenizer.from_docs(['abcdefghij']), random.Random(0))
    for positions in (1, 3):
        trace = record(model, 'abcdefghij', positions)
        estimate = record_cost(config, model.tokenizer.vocab_size, positions).nodes
        assert trace.n == positions and abs(estimate - len(trace)) / len(trace) < 0.02


def test_every_shipped_document_records_without_asking_and_a_mini_gpt_position_asks():
    for rung in RUNGS:
        model = ckpt_io.load(shipped_checkpoint(rung)).model
        assert not needs_asking(model.config, model.tokenizer.vocab_size, model.config.block_size)
    mini = preset_config('mini-gpt', n_embd=128, n_layer=3, block_size=64)
    cost = record_cost(mini, 28, 1)
    assert needs_asking(mini, 28, 1) and 1.7e6 < cost.nodes < 1.9e6  # measured: 1,803,539
    assert cost.describe().startswith('1.8 million scalars, about ')
    assert suggested_part(mini, 28, 5) == 1  # at least one position, even over the limit


def test_the_suggested_part_is_the_most_positions_under_the_limit():
    config = preset_config('microgpt', n_embd=64, n_layer=2)
    whole = config.block_size
    part = suggested_part(config, 27, whole)
    assert 1 <= part < whole
    assert record_cost(config, 27, part).nodes <= ASK_ABOVE < record_cost(config, 27, part + 1).nodes
