"""Training with Adam and sampling, exactly as microgpt does them, as generators that can be stopped."""

import math
import random
from dataclasses import asdict, dataclass

from .errors import ConfigError, TrainingDiverged
from .model import FAST, Model, softmax, gpt
from .tokenizer import Tokenizer
from .value import Value


@dataclass(frozen=True)
class TrainConfig:
    num_steps: int = 1000       # one document per step
    learning_rate: float = 0.01 # decays linearly to 0 over num_steps
    beta1: float = 0.85         # Adam first-moment decay
    beta2: float = 0.99         # Adam second-moment decay
    eps: float = 1e-8           # Adam epsilon
    seed: int = 42              # seeds the shuffle, the initial weights and then the samples

    def __post_init__(self):
        if not isinstance(self.num_steps, int) or self.num_steps <= 0:
            raise ConfigError(f'steps must be a positive whole number, not {self.num_steps!r}.')
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigError(f'The learning rate must be a positive number, not {self.learning_rate!r}.')
        for name in ('beta1', 'beta2'):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f'{name} must be in [0, 1), not {getattr(self, name)!r}.')
        if not (math.isfinite(self.eps) and self.eps > 0):
            raise ConfigError(f'eps must be a positive number, not {self.eps!r}.')
        if not isinstance(self.seed, int):
            raise ConfigError(f'The seed must be a whole number, not {self.seed!r}.')

    def to_dict(self):
        return asdict(self)


def check_temperature(temperature):
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f'The temperature must be a number above 0, not {temperature!r}.')


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

    def __init__(self, docs, model_config, train_config):
        self.config = train_config
        self.rng = random.Random(train_config.seed)  # the one source of randomness, in microgpt's order
        self.docs = list(docs)
        self.rng.shuffle(self.docs)
        self.model = Model.init(model_config, Tokenizer.from_docs(self.docs), self.rng)
        self.optimizer = Adam(self.model.params, train_config)
        self.step = 0  # steps done

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
        return StepResult(step + 1, num_steps, loss.data, doc)

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
    """Generated documents one at a time (stop early by not asking for the next)."""
    check_temperature(temperature)
    for _ in range(num_samples):
        yield sample(model, rng, temperature)


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
