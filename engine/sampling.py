"""Sampling from a model exactly as microgpt does it: the sampler's random stream, generated documents,
and the next-token distributions the sampler draws from along a given document."""

import math
import random
from dataclasses import dataclass

from engine.checks import is_number, short
from engine.errors import ConfigError, EngineError
from engine.model import FAST, gpt, softmax


def check_temperature(temperature):
    if not (is_number(temperature) and math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f'The temperature must be a number above 0, not {short(temperature)}.')
    try:
        1 / temperature
        temperature ** -1  # what sampling computes: logits / temperature is logit * temperature**-1
    except (OverflowError, ZeroDivisionError):
        raise ConfigError(f'The temperature {temperature!r} is too small: 1/temperature is not a finite number.') from None


def sampling_rng(rng_state=None, seed=None):
    """The sampler's random stream as `main.py sample` makes it: seeded if a seed is given, else the
    stream a checkpoint saved (so a checkpoint from `train` samples the names `train` printed)."""
    rng = random.Random(seed if seed is not None else 42)
    if seed is None and rng_state is not None:
        rng.setstate(rng_state)
    return rng


def _next_probs(model, token_id, pos_id, keys, values, temperature):
    """One forward step of the sampler: the tempered softmax over the next token (keys/values grow)."""
    logits = gpt(token_id, pos_id, keys, values, model.state_dict, model.config, FAST)
    return [p.data for p in softmax([l / temperature for l in logits], FAST)]


def _empty_cache(config):
    return [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]


def sample(model, rng, temperature=0.5):
    """One generated document: microgpt's inference loop (random.choices over the tempered softmax)."""
    config, tok = model.config, model.tokenizer
    keys, values = _empty_cache(config)
    token_id = tok.BOS
    sample = []
    for pos_id in range(config.block_size):
        probs = _next_probs(model, token_id, pos_id, keys, values, temperature)
        token_id = rng.choices(range(tok.vocab_size), weights=probs)[0]
        if token_id == tok.BOS:
            break
        sample.append(tok.uchars[token_id])
    return ''.join(sample)


def iter_samples(model, rng, num_samples=20, temperature=0.5):
    """Generated documents one by one; an EngineError with one sentence if these weights cannot be sampled."""
    check_temperature(temperature)
    for _ in range(num_samples):
        try:
            yield sample(model, rng, temperature)
        except (ValueError, OverflowError, ZeroDivisionError):  # e.g. weights of a diverged run: no finite probabilities
            raise EngineError(f'These weights cannot be sampled at temperature {temperature!r}: '
                              'their next-token probabilities are not finite numbers.') from None


@dataclass(frozen=True)
class NextToken:
    position: int
    token: int            # the token read at this position (BOS first)
    following: int        # the token that follows it in the document
    probs: tuple          # the tempered next-token distribution over the vocabulary, as the sampler draws from


def next_token_distributions(model, doc, temperature=0.5):
    """At each position of doc (up to block_size), what the sampler would draw the next token from."""
    check_temperature(temperature)
    tokens = model.tokenizer.encode(doc)
    keys, values = _empty_cache(model.config)
    for pos_id, (token_id, following) in enumerate(zip(tokens[:model.config.block_size], tokens[1:])):
        yield NextToken(pos_id, token_id, following,
                        tuple(_next_probs(model, token_id, pos_id, keys, values, temperature)))
