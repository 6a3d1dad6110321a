"""engine.sampling: generated documents are draws from the tempered next-token distributions, the
sampler's random stream is seeded or restored from a checkpoint, and a temperature or weights that cannot
be sampled are one sentence."""

import math
import random

import pytest

from engine.errors import ConfigError, EngineError
from engine.model import Model
from engine.sampling import check_temperature, iter_samples, next_token_distributions, sample, sampling_rng


def test_a_sample_is_drawn_from_the_distributions_along_it(model):
    for seed in range(5):
        doc = sample(model, random.Random(seed))
        rng = random.Random(seed)
        steps = list(next_token_distributions(model, doc))
        assert [s.position for s in steps] == list(range(len(doc) + 1)) and steps[0].token == model.tokenizer.BOS
        for s in steps:  # the same draws, in the same order, give the same tokens
            assert math.isclose(sum(s.probs), 1.0) and len(s.probs) == model.tokenizer.vocab_size
            assert rng.choices(range(model.tokenizer.vocab_size), weights=s.probs)[0] == s.following


def test_a_lower_temperature_sharpens_the_distribution(model):
    [warm, *_] = next_token_distributions(model, 'emma', temperature=1.0)
    [cold, *_] = next_token_distributions(model, 'emma', temperature=0.2)
    assert max(cold.probs) > max(warm.probs)
    assert max(range(len(warm.probs)), key=warm.probs.__getitem__) == max(range(len(cold.probs)), key=cold.probs.__getitem__)


def test_the_rng_is_seeded_or_continues_a_saved_stream():
    assert sampling_rng().random() == random.Random(42).random()
    assert sampling_rng(seed=7).random() == random.Random(7).random()
    saved = random.Random(3)
    saved.random()
    state = saved.getstate()
    assert sampling_rng(rng_state=state).random() == saved.random()
    assert sampling_rng(rng_state=state, seed=7).random() == random.Random(7).random()  # a seed wins


@pytest.mark.parametrize('temperature', [0, -1, float('nan'), float('inf'), 1e-320, '0.5', True])
def test_a_temperature_that_cannot_sample_is_refused(temperature):
    with pytest.raises(ConfigError, match=r'^The temperature .* (above 0|too small)'):
        check_temperature(temperature)


def test_weights_that_give_no_finite_probabilities_are_one_sentence(model):
    nan = {name: [[float('nan')] * len(row) for row in mat] for name, mat in model.floats().items()}
    broken = Model.from_floats(model.config, model.tokenizer, nan)
    with pytest.raises(EngineError, match='cannot be sampled at temperature 0.5: .* not finite numbers.'):
        list(iter_samples(broken, random.Random(0), num_samples=1))
    assert len(list(iter_samples(model, random.Random(0), num_samples=3))) == 3
