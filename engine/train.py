"""microgpt's training run as a generator that can be stopped (Trainer), and what a run costs here
(estimate_cost, check_trainable) so that one too big is refused before anything is built."""

import math
import os
import random
from dataclasses import dataclass

from engine.checks import is_whole, short
from engine.errors import ConfigError, TrainingDiverged
from engine.history import History
from engine.model import Model
from engine.optim import Adam, decayed_lr
from engine.tokenizer import Tokenizer


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
            if not (is_whole(history_every) and history_every > 0):
                raise ConfigError(f'The history interval must be a positive whole number of steps, not {short(history_every)}.')
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
            self.history.record_step(self.step, doc, loss.data, decayed_lr(self.config.learning_rate, step, num_steps),
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
