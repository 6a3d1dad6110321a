"""Sampling from a model as microgpt does it, and as people use it: the sampler's random stream, a prompt
to continue, temperature, greedy, top-k and top-p; generated documents, and the next-token distributions
the sampler draws from along a given document (with what top-k and top-p keep of them).

With the defaults (no prompt, no top-k, top-p 1, not greedy) every draw is microgpt's own
`random.choices(range(vocab_size), weights=probs)` over the tempered softmax, digit for digit. A top-k or
top-p that keeps every token is the same draw, untouched.

Which tokens top-k and top-p keep: the tokens ranked by probability, highest first, and among equal
probabilities the lower token id first (so a tie is always decided the same way). top-k keeps the first k
of that ranking; top-p then keeps the shortest head of the ranking whose probability, renormalised over
what top-k kept, sums to p or more. The kept tokens' probabilities are renormalised to sum to 1, every
other token's is 0. Greedy takes the first token of the ranking and draws no random number."""

import math
import random
from dataclasses import dataclass

from engine.checks import check_temperature, is_number, is_whole, short
from engine.errors import ConfigError, DocumentError, EngineError
from engine.model import FAST, gpt, param_count, softmax

SAMPLE_VECTORIZED_ABOVE = 100_000  # parameters: a larger model samples with numpy (microgpt has 4,192)


@dataclass(frozen=True)
class Settings:
    """How the next token is chosen. The defaults are microgpt's sampler."""
    temperature: float = 0.5   # logits / temperature before the softmax (microgpt's 0.5)
    top_k: int = None          # keep the k most likely tokens; None keeps every token
    top_p: float = None        # keep the fewest most likely tokens holding at least this mass; None (or 1) keeps all
    greedy: bool = False       # always the most likely token (lowest id on a tie), no random draw
    prompt: str = ''           # characters every document starts with; generation continues after them

    def check(self, tokenizer=None, block_size=None):
        """A ConfigError (DocumentError for the prompt) with one sentence for settings that cannot sample;
        the prompt is checked against a model's vocabulary and block_size when they are given."""
        check_temperature(self.temperature)
        if self.top_k is not None and not (is_whole(self.top_k) and self.top_k >= 1):
            raise ConfigError(f'top-k must be a whole number of tokens, 1 or more, not {short(self.top_k)}.')
        if self.top_p is not None and not (is_number(self.top_p) and 0 < self.top_p <= 1):
            raise ConfigError(f'top-p must be a probability above 0 and at most 1, not {short(self.top_p)}.')
        if self.greedy and (self.top_k is not None or self.top_p is not None):
            raise ConfigError('Greedy always takes the most likely token, so top-k and top-p have nothing to '
                              'choose among: use greedy alone, or top-k/top-p without it.')
        if not isinstance(self.prompt, str):
            raise ConfigError(f'The prompt must be text, not {short(self.prompt)}.')
        if tokenizer is not None:
            check_prompt(self.prompt, tokenizer, block_size)
        return self


def check_prompt(prompt, tokenizer, block_size=None):
    """A DocumentError naming the first character of the prompt the vocabulary does not have, or saying the
    prompt leaves no position to generate in (a BPE reads every text: its prompt is counted in tokens)."""
    for ch in prompt:
        if not tokenizer.can_read(ch):
            raise DocumentError(f'The prompt {short(prompt)} has {ch!r}, which is not in the vocabulary; '
                                f'it has: {tokenizer.vocabulary_text()}')
    n, unit = len(tokenizer.ids(prompt)), 'characters' if tokenizer.kind == 'char' else 'tokens'
    if block_size is not None and n >= block_size:
        raise DocumentError(f'The prompt has {n} {unit} and this model reads {block_size} positions '
                            f'(BOS, then at most {block_size - 1} {unit} before the one it generates): '
                            f'shorten it to {block_size - 1} or fewer.')


def ranking(probs):
    """Token ids by probability, highest first; on a tie the lower id first."""
    return sorted(range(len(probs)), key=lambda i: (-probs[i], i))


def kept_tokens(probs, top_k=None, top_p=None):
    """The tokens top-k and top-p keep, in ranking order (see the module's docstring)."""
    order = ranking(probs)
    if top_k is not None:
        order = order[:top_k]
    if top_p is not None and top_p < 1:
        total = sum(probs[i] for i in order)
        mass, cut = 0.0, len(order)
        for n, i in enumerate(order, 1):
            mass += probs[i] / total
            if mass >= top_p:
                cut = n
                break
        order = order[:cut]
    return order


def filtered(probs, settings):
    """The distribution a token is drawn from: `probs` itself when every token is kept (microgpt's draw,
    untouched), else the kept tokens' probabilities renormalised to sum to 1 and 0 for the rest."""
    if settings.greedy:
        kept = ranking(probs)[:1]
    else:
        kept = kept_tokens(probs, settings.top_k, settings.top_p)
    if len(kept) == len(probs):
        return list(probs)
    total = sum(probs[i] for i in kept)
    out = [0.0] * len(probs)
    for i in kept:
        out[i] = probs[i] / total
    return out


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


def _prober(model):
    """probs(token_id, pos_id, temperature): the tempered next-token distribution after the tokens given so far,
    one a call from BOS on. microgpt's scalar forward with its KV cache; above SAMPLE_VECTORIZED_ABOVE
    parameters numpy's forward pass over the prefix (engine.vectorized.Weights: the scalar one takes seconds a
    token on a mini GPT; the two agree to about 1e-15, tests/engine/test_sampling.py)."""
    if param_count(model.config, model.tokenizer.vocab_size) <= SAMPLE_VECTORIZED_ABOVE:
        keys, values = _empty_cache(model.config)
        return lambda token_id, pos_id, temperature: _next_probs(model, token_id, pos_id, keys, values, temperature)
    from engine.vectorized import weights_of
    weights, ids = weights_of(model), []

    def probs(token_id, pos_id, temperature):
        ids.append(token_id)
        out = weights._next_probs(ids, temperature)
        if not all(math.isfinite(p) for p in out):
            raise ValueError('not finite')  # as the scalar softmax fails on these weights
        return out
    return probs


def _draw(probs, settings, rng):
    weights = filtered(probs, settings)
    if settings.greedy:
        return weights.index(1.0)
    return rng.choices(range(len(weights)), weights=weights)[0]


def sample(model, rng, temperature=0.5, settings=None):
    """One generated document: microgpt's inference loop (random.choices over the tempered softmax), after
    the prompt's characters are read in (they are given, not drawn), with the settings' top-k, top-p or greedy."""
    settings = settings or Settings(temperature)
    config, tok = model.config, model.tokenizer
    next_probs = _prober(model)
    token_id = tok.BOS
    given = tok.ids(settings.prompt)
    drawn = []
    for pos_id in range(config.block_size):
        probs = next_probs(token_id, pos_id, settings.temperature)
        if pos_id < len(given):
            token_id = given[pos_id]
            continue
        token_id = _draw(probs, settings, rng)
        if token_id == tok.BOS:
            break
        drawn.append(token_id)
    return tok.decode(given + drawn)  # the prompt, then what was drawn (a BPE's bytes decoded together)


def iter_samples(model, rng, num_samples=20, temperature=0.5, settings=None):
    """Generated documents one by one; an EngineError with one sentence if these weights cannot be sampled.
    `settings` (a Settings, checked against the model here) replaces `temperature` when given."""
    settings = (settings or Settings(temperature)).check(model.tokenizer, model.config.block_size)
    for _ in range(num_samples):
        try:
            yield sample(model, rng, settings=settings)
        except (ValueError, OverflowError, ZeroDivisionError):  # e.g. weights of a diverged run: no finite probabilities
            raise EngineError(f'These weights cannot be sampled at temperature {settings.temperature!r}: '
                              'their next-token probabilities are not finite numbers.') from None


@dataclass(frozen=True)
class NextToken:
    position: int
    token: int            # the token read at this position (BOS first)
    following: int        # the token that follows it in the document
    probs: tuple          # the tempered next-token distribution over the vocabulary
    kept: tuple = None    # what the sampler draws from: `probs` renormalised over what top-k/top-p/greedy keep


def next_token_distributions(model, doc, temperature=0.5, settings=None):
    """At each position of doc (up to block_size), the tempered distribution and what the sampler, with
    `settings` (replacing `temperature` when given), would draw the next token from."""
    settings = settings or Settings(temperature)
    check_temperature(settings.temperature)
    tokens = model.tokenizer.encode(doc)
    next_probs = _prober(model)
    for pos_id, (token_id, following) in enumerate(zip(tokens[:model.config.block_size], tokens[1:])):
        probs = tuple(next_probs(token_id, pos_id, settings.temperature))
        yield NextToken(pos_id, token_id, following, probs, tuple(filtered(probs, settings)))
