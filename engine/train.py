"""Training with Adam and sampling, exactly as microgpt does them, as generators that can be stopped."""

import math
import os
import random
from dataclasses import asdict, dataclass

from engine.errors import ConfigError, EngineError, TrainingDiverged
from engine.model import FAST, Model, softmax, gpt
from engine.tokenizer import Tokenizer
from engine.value import Value


MAX_STEPS = 10**9  # far beyond any run here (about four months at 10 ms a step); keeps step counts floats can hold


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_whole(x):
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True)
class TrainConfig:
    num_steps: int = 1000       # one document per step
    learning_rate: float = 0.01 # decays linearly to 0 over num_steps
    beta1: float = 0.85         # Adam first-moment decay
    beta2: float = 0.99         # Adam second-moment decay
    eps: float = 1e-8           # Adam epsilon
    seed: int = 42              # seeds the shuffle, the initial weights and then the samples

    def __post_init__(self):
        if not (_is_whole(self.num_steps) and 0 < self.num_steps <= MAX_STEPS):
            raise ConfigError(f'steps must be a positive whole number up to {MAX_STEPS:,}, not {_short(self.num_steps)}.')
        if not (_is_number(self.learning_rate) and math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigError(f'The learning rate must be a positive number, not {_short(self.learning_rate)}.')
        for name in ('beta1', 'beta2'):
            value = getattr(self, name)
            if not (_is_number(value) and 0 <= value < 1):
                raise ConfigError(f'{name} must be a number in [0, 1), not {_short(value)}.')
        if not (_is_number(self.eps) and math.isfinite(self.eps) and self.eps > 0):
            raise ConfigError(f'eps must be a positive number, not {_short(self.eps)}.')
        if not _is_whole(self.seed):
            raise ConfigError(f'The seed must be a whole number, not {_short(self.seed)}.')

    def to_dict(self):
        return asdict(self)


def _short(value):
    """repr of a value for a message, cut if it is long (a 400-digit number, a whole list)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'


def check_temperature(temperature):
    if not (_is_number(temperature) and math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f'The temperature must be a number above 0, not {_short(temperature)}.')
    try:
        1 / temperature
        temperature ** -1  # what sampling computes: logits / temperature is logit * temperature**-1
    except (OverflowError, ZeroDivisionError):
        raise ConfigError(f'The temperature {temperature!r} is too small: 1/temperature is not a finite number.') from None


# What training costs here, measured on this project's 2-core machine from 4,192 to 3.2 M parameters
# (vocabularies of 27 to 100,001 tokens, 1 to 8 layers, n_embd up to 256); tests check the arithmetic.
# Time: fused multiply-adds, scalar nodes (softmax over the vocabulary, the element-wise ops of each
# layer; their cost grows with their number, as Python's garbage collector walks more objects), and
# the per-parameter work of Adam. Memory: Values and Adam's buffers per parameter, one step's graph.
SECONDS_PER_MAC = 1.0e-7
SECONDS_PER_NODE = 8e-6
NODES_DOUBLING_COST = 570_000  # a step with this many scalar nodes pays twice per node
SECONDS_PER_PARAM = 2.5e-6
BYTES_PER_MAC = 44
BYTES_PER_NODE = 870
BYTES_PER_PARAM = 270
MAX_SECONDS_PER_STEP = 3600  # refuse to start a run whose every step would take over an hour


@dataclass(frozen=True)
class Cost:
    """What training a configuration costs here: an estimate, good to a factor of about 1.5 (the machine
    and what else runs on it decide the rest)."""
    params: int               # exactly the parameter count (microgpt's `num params`)
    bytes: int                # peak memory of a training step
    seconds_per_step: float   # for an average document

    def describe(self, num_steps=None):
        """'4,192 parameters, about 0.02 s a step (20 s for 1000 steps) and 2 MB of memory'."""
        total = f' ({_duration(self.seconds_per_step * num_steps)} for {num_steps} steps)' if num_steps else ''
        return (f'{self.params:,} parameters, about {_duration(self.seconds_per_step)} a step{total} '
                f'and {_size(self.bytes)} of memory')


def estimate_cost(config, vocab_size, docs=None):
    """The Cost of training `config` with `vocab_size` tokens on `docs` (default: every document fills
    block_size). Plain arithmetic, instant for any size: call it before building anything."""
    e, layers, v = config.n_embd, config.n_layer, vocab_size
    params = 2 * v * e + config.block_size * e + layers * 12 * e * e
    if docs:
        positions = [min(config.block_size, len(doc) + 1) for doc in docs]
        mean_n, max_n = sum(positions) / len(positions), max(positions)
    else:
        mean_n = max_n = config.block_size

    def macs(n):  # q, k, v, o, fc1, fc2; scores and weighted sums over n(n+1)/2 keys; lm_head
        return n * (layers * 12 * e * e + v * e) + layers * e * n * (n + 1)

    def nodes(n):  # softmax over the vocabulary, element-wise ops of each layer
        return n * (v + 3 * layers * e)

    step_nodes = nodes(mean_n)
    seconds = (SECONDS_PER_MAC * macs(mean_n) + SECONDS_PER_PARAM * params +
               SECONDS_PER_NODE * step_nodes * (1 + step_nodes / NODES_DOUBLING_COST))
    peak = BYTES_PER_PARAM * params + BYTES_PER_MAC * macs(max_n) + BYTES_PER_NODE * nodes(max_n)
    return Cost(params, int(peak), float(seconds))


def memory_size():
    """Bytes of physical memory on this machine, or None where that cannot be known."""
    try:
        return os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')
    except (AttributeError, ValueError, OSError):
        return None


def check_trainable(config, vocab_size, docs=None):
    """The Cost of a run, or a ConfigError saying why it cannot be trained here (memory, time per step)."""
    cost = estimate_cost(config, vocab_size, docs)
    memory = memory_size()
    if memory is not None and cost.bytes > memory:
        raise ConfigError(f'This model cannot be trained here: {cost.params:,} parameters need about '
                          f'{_size(cost.bytes)} of memory and this machine has {_size(memory)}.')
    if cost.seconds_per_step > MAX_SECONDS_PER_STEP:
        raise ConfigError(f'This model cannot be trained here: {cost.params:,} parameters would take about '
                          f'{_duration(cost.seconds_per_step)} a step.')
    return cost


def _size(n):
    for unit, scale in (('TB', 2**40), ('GB', 2**30), ('MB', 2**20)):
        if n >= scale:
            return f'{n / scale:,.1f} {unit}' if n < 10 * scale else f'{n / scale:,.0f} {unit}'
    return f'{max(1, round(n / 2**10))} KB'


def _duration(seconds):
    for unit, scale in (('years', 365 * 86400), ('days', 86400), ('h', 3600), ('min', 60)):
        if seconds >= scale:
            return f'{seconds / scale:,.1f} {unit}' if seconds < 10 * scale else f'{seconds / scale:,.0f} {unit}'
    return f'{seconds:.2g} s' if seconds < 10 else f'{seconds:.0f} s'


@dataclass(frozen=True)
class StepResult:
    step: int       # 1-based, as microgpt prints it
    num_steps: int
    loss: float
    doc: str


class Adam:
    """Adam with bias correction, buffers m and v per parameter, microgpt's float operations."""

    def __init__(self, params, config, m=None, v=None):
        self.params = params
        self.config = config
        self.m = list(m) if m is not None else [0.0] * len(params)  # first moment
        self.v = list(v) if v is not None else [0.0] * len(params)  # second moment

    def update(self, step, num_steps):
        """One update of every parameter from its grad (step is 0-based); resets grads to 0."""
        c = self.config
        learning_rate, beta1, beta2, eps_adam = c.learning_rate, c.beta1, c.beta2, c.eps
        m, v = self.m, self.v
        lr_t = learning_rate * (1 - step / num_steps)  # linear learning rate decay
        for i, p in enumerate(self.params):
            m[i] = beta1 * m[i] + (1 - beta1) * p.grad
            v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
            m_hat = m[i] / (1 - beta1 ** (step + 1))
            v_hat = v[i] / (1 - beta2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps_adam)
            p.grad = 0


@dataclass(frozen=True)
class AdamPreview:
    """The next Adam update of one parameter, as `Adam.update` would compute it."""
    step: int         # 0-based index of that update
    lr_t: float       # the learning rate after linear decay
    m: float          # first moment after the update
    v: float          # second moment after the update
    m_hat: float      # bias-corrected moments
    v_hat: float
    delta: float      # the change to the parameter (data_next - data)
    data_next: float


def adam_preview(data, grad, m, v, step, config):
    """Run `Adam.update` on one parameter copy: the exact numbers its next update would give."""
    p = Value(data)
    p.grad = grad
    adam = Adam([p], config, [m], [v])
    adam.update(step, config.num_steps)
    c = config
    return AdamPreview(step, c.learning_rate * (1 - step / c.num_steps), adam.m[0], adam.v[0],
                       adam.m[0] / (1 - c.beta1 ** (step + 1)), adam.v[0] / (1 - c.beta2 ** (step + 1)),
                       p.data - data, p.data)


class Trainer:
    """microgpt's training run: seed, shuffle, initial weights, then one document per step."""

    def __init__(self, docs, model_config, train_config, history_every=None):
        self.config = train_config
        self.rng = random.Random(train_config.seed)  # the one source of randomness, in microgpt's order
        self.docs = list(docs)
        tokenizer = Tokenizer.from_docs(self.docs)
        check_trainable(model_config, tokenizer.vocab_size, self.docs)  # refuse before allocating anything
        self.rng.shuffle(self.docs)
        self.model = Model.init(model_config, tokenizer, self.rng)
        self.optimizer = Adam(self.model.params, train_config)
        self.step = 0  # steps done
        self.history = None  # engine.history.History when asked for: a snapshot every history_every steps
        if history_every is not None:
            from engine.history import History  # history imports this module
            if not (_is_whole(history_every) and history_every > 0):
                raise ConfigError(f'The history interval must be a positive whole number of steps, not {_short(history_every)}.')
            self.history = History(model_config, self.model.tokenizer.uchars, train_config, history_every)
            self.history.snapshot(0, self.model.params, self.optimizer.m, self.optimizer.v)

    def train_step(self):
        """One step: forward, backward, Adam. Raises TrainingDiverged (weights untouched) if numbers blow up."""
        step, num_steps = self.step, self.config.num_steps
        doc = self.docs[step % len(self.docs)]
        tokens, n = self.model.positions(doc)
        try:
            loss = self.model.loss(tokens, n)
        except (OverflowError, ValueError, ZeroDivisionError) as e:
            why = 'a probability fell to 0' if isinstance(e, ValueError) else f'a number overflowed ({e})'
            raise TrainingDiverged(f'Training diverged at step {step + 1}: {why}; try a lower learning rate.') from None
        if not math.isfinite(loss.data):
            raise TrainingDiverged(f'Training diverged at step {step + 1}: the loss is {loss.data}; '
                                   'try a lower learning rate.')
        loss.backward()
        before = [p.data for p in self.model.params]
        m, v = list(self.optimizer.m), list(self.optimizer.v)
        self.optimizer.update(step, num_steps)
        if not all(math.isfinite(p.data) for p in self.model.params):
            for p, x in zip(self.model.params, before):
                p.data = x
            self.optimizer.m, self.optimizer.v = m, v
            raise TrainingDiverged(f'Training diverged at step {step + 1}: a weight stopped being a finite number; '
                                   'try a lower learning rate.')
        self.step += 1
        if self.history is not None:
            self.history.record_step(self.step, doc, loss.data, self.config.learning_rate * (1 - step / num_steps),
                                     before, self.model.params)
            if self.step % self.history.every == 0:
                self.history.snapshot(self.step, self.model.params, self.optimizer.m, self.optimizer.v)
        return StepResult(step + 1, num_steps, loss.data, doc)

    def finished_history(self):
        """The history up to the step reached (its last snapshot taken), or None if none is recorded."""
        if self.history is not None and self.step not in self.history.snapshots:
            self.history.snapshot(self.step, self.model.params, self.optimizer.m, self.optimizer.v)
        return self.history

    def run(self):
        """Yield a StepResult per step until num_steps; stop early by not asking for the next one."""
        while self.step < self.config.num_steps:
            yield self.train_step()


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


def samples(model, rng, num_samples=20, temperature=0.5):
    return list(iter_samples(model, rng, num_samples, temperature))


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
