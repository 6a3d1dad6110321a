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


# --- as people use it: a prompt, greedy, top-k, top-p (issue 23) ---

from engine.errors import DocumentError
from engine import checkpoint as ckpt_io
from engine.paths import DEFAULT_CHECKPOINT
from engine.sampling import Settings, filtered, kept_tokens, ranking
from tests.engine.test_model import PUBLISHED_SAMPLES


def shipped_stream():
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    return ckpt.model, sampling_rng(ckpt.rng_state)


@pytest.mark.parametrize('settings', [None, Settings(), Settings(top_p=1.0), Settings(top_k=27), Settings(top_k=1000),
                                      Settings(top_k=27, top_p=1.0)])
def test_the_defaults_and_filters_that_keep_every_token_are_microgpts_draws(settings):
    """The shipped checkpoint's saved stream samples microgpt's published names, digit for digit."""
    model, rng = shipped_stream()
    assert list(iter_samples(model, rng, 20, settings=settings)) == PUBLISHED_SAMPLES


P = [0.05, 0.3, 0.1, 0.3, 0.25]  # tokens 1 and 3 tie


def test_the_ranking_breaks_ties_by_the_lower_token_id():
    assert ranking(P) == [1, 3, 4, 2, 0]
    assert ranking([0.25] * 4) == [0, 1, 2, 3]


@pytest.mark.parametrize('top_k, expected', [
    (1, {1: 1.0}),
    (2, {1: 0.5, 3: 0.5}),
    (3, {1: 0.3 / 0.85, 3: 0.3 / 0.85, 4: 0.25 / 0.85}),
    (5, dict(enumerate(P))), (9, dict(enumerate(P)))])
def test_top_k_keeps_the_k_most_likely_renormalised(top_k, expected):
    got = filtered(P, Settings(top_k=top_k))
    assert got == pytest.approx([expected.get(i, 0.0) for i in range(len(P))], abs=1e-15)
    assert sum(got) == pytest.approx(1.0)
    assert [i for i, p in enumerate(got) if p == 0] == [i for i in range(len(P)) if i not in expected]


@pytest.mark.parametrize('top_p, kept', [
    (0.01, [1]),             # the first token alone already holds 0.3 >= 0.01
    (0.3, [1]),              # exactly reached by the first: it is enough
    (0.31, [1, 3]),
    (0.6, [1, 3]),           # 0.6 reached exactly (in floating point 0.3 + 0.3 is 0.6)
    (0.61, [1, 3, 4]),
    (0.85, [1, 3, 4]),
    (0.9, [1, 3, 4, 2]),
    (0.96, [1, 3, 4, 2, 0]),
    (1.0, [1, 3, 4, 2, 0])])
def test_top_p_keeps_the_smallest_head_whose_mass_reaches_p(top_p, kept):
    assert kept_tokens(P, top_p=top_p) == kept
    got = filtered(P, Settings(top_p=top_p))
    mass = sum(P[i] for i in kept)
    assert got == pytest.approx([P[i] / mass if i in kept else 0.0 for i in range(len(P))], abs=1e-15)


def test_top_p_is_taken_over_what_top_k_kept():
    # top-k 3 keeps 1, 3, 4 (0.3, 0.3, 0.25 of 0.85): 0.3/0.85 = 0.353 < 0.7 <= 0.706, so top-p 0.7 keeps 1, 3
    # (over the whole distribution 0.6 < 0.7 would have kept 4 too)
    assert kept_tokens(P, top_k=3, top_p=0.7) == [1, 3]
    assert kept_tokens(P, top_k=3, top_p=0.75) == [1, 3, 4]  # 0.706 < 0.75: all three


def test_draws_follow_the_filtered_distribution():
    """Many draws with top-k 3 and top-p 0.75 land only on the kept tokens, in their renormalised shares."""
    rng, settings = random.Random(5), Settings(top_k=3, top_p=0.75)
    weights = filtered(P, settings)
    counts = [0] * len(P)
    for _ in range(20000):
        counts[rng.choices(range(len(P)), weights=weights)[0]] += 1
    assert counts[0] == counts[2] == 0
    for i in (1, 3, 4):
        assert counts[i] / 20000 == pytest.approx(weights[i], abs=0.015)


def test_sampled_tokens_are_only_ever_kept_ones(model):
    settings = Settings(temperature=1.0, top_k=2)
    for seed in range(5):
        doc = sample(model, random.Random(seed), settings=settings)
        for step in next_token_distributions(model, doc, settings=settings):
            assert step.kept[step.following] > 0 and sum(p > 0 for p in step.kept) <= 2


def test_greedy_is_the_most_likely_token_and_draws_nothing(model):
    rng = random.Random(0)
    state = rng.getstate()
    docs = list(iter_samples(model, rng, 3, settings=Settings(greedy=True)))
    assert rng.getstate() == state and docs[0] == docs[1] == docs[2]
    for step in next_token_distributions(model, docs[0], settings=Settings(greedy=True)):
        assert step.following == ranking(step.probs)[0] and step.kept[step.following] == 1.0


def test_a_prompt_is_continued_and_draws_only_after_it(model):
    docs = list(iter_samples(model, random.Random(1), 10, settings=Settings(prompt='em')))
    assert all(d.startswith('em') for d in docs)
    # the prompt's positions draw no random number: the first draw is the one after 'm'
    rng = random.Random(1)
    steps = list(next_token_distributions(model, docs[0]))
    assert rng.choices(range(model.tokenizer.vocab_size), weights=steps[2].probs)[0] == steps[2].following


@pytest.mark.parametrize('settings, says', [
    (Settings(top_k=0), 'top-k must be a whole number of tokens, 1 or more, not 0.'),
    (Settings(top_k=2.5), 'top-k must be'),
    (Settings(top_p=0), 'top-p must be a probability above 0 and at most 1, not 0.'),
    (Settings(top_p=1.5), 'not 1.5'),
    (Settings(top_p=float('nan')), 'not nan'),
    (Settings(greedy=True, top_k=3), 'Greedy always takes the most likely token'),
    (Settings(greedy=True, top_p=0.9), 'Greedy always takes the most likely token'),
    (Settings(temperature=0), 'The temperature must be'),
])
def test_settings_that_cannot_sample_are_one_sentence(settings, says):
    with pytest.raises(ConfigError) as e:
        settings.check()
    assert says in str(e.value) and str(e.value).endswith('.') and '\n' not in str(e.value)


def test_a_prompt_outside_the_vocabulary_names_the_character(model):
    with pytest.raises(DocumentError, match=r"^The prompt 'emZa' has 'Z', which is not in the vocabulary; it has: abc"):
        list(iter_samples(model, random.Random(0), 1, settings=Settings(prompt='emZa')))
    with pytest.raises(DocumentError, match='has 16 characters and this model reads 16 positions'):
        Settings(prompt='a' * 16).check(model.tokenizer, model.config.block_size)
    Settings(prompt='a' * 15).check(model.tokenizer, model.config.block_size)


# --- a large model samples with numpy (issue 24) ---

import engine.sampling as sampling_module


@pytest.mark.parametrize('settings', [Settings(), Settings(prompt='ma', top_k=5, top_p=0.9), Settings(greedy=True)])
def test_above_its_size_the_sampler_uses_numpy_and_draws_the_same_documents(monkeypatch, settings):
    """The shipped model sampled through numpy's forward pass: microgpt's published names (the same draws from
    probabilities equal to ~1e-15), and the distributions along a document agree with the scalar ones."""
    model, rng = shipped_stream()
    scalar = [s.probs for s in next_token_distributions(model, 'christopher', settings=settings)]
    expected = list(iter_samples(model, sampling_rng(ckpt_io.load(DEFAULT_CHECKPOINT).rng_state), 20, settings=settings))
    monkeypatch.setattr(sampling_module, 'SAMPLE_VECTORIZED_ABOVE', 0)
    vector = [s.probs for s in next_token_distributions(model, 'christopher', settings=settings)]
    assert len(vector) == len(scalar) and all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
                                              for row, other in zip(vector, scalar) for a, b in zip(row, other))
    assert list(iter_samples(model, rng, 20, settings=settings)) == expected
    if settings == Settings():
        assert expected == PUBLISHED_SAMPLES
    assert getattr(model, '_numpy_weights', None) is not None  # it did go through numpy


def test_a_large_model_whose_weights_are_not_finite_is_one_sentence_with_numpy_too(model, monkeypatch):
    monkeypatch.setattr(sampling_module, 'SAMPLE_VECTORIZED_ABOVE', 0)
    nan = {name: [[float('nan')] * len(row) for row in mat] for name, mat in model.floats().items()}
    broken = Model.from_floats(model.config, model.tokenizer, nan)
    with pytest.raises(EngineError, match='cannot be sampled at temperature 0.5: .* not finite numbers.'):
        list(iter_samples(broken, random.Random(0), num_samples=1))
