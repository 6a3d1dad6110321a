"""microgpt's training run as a generator that can be stopped (Trainer), and what a run costs here
(estimate_cost, check_trainable) so that one too big is refused before anything is built."""

import math
import os
import random
from dataclasses import dataclass

from engine.checks import is_whole, short
from engine.errors import ConfigError, TrainingDiverged
from engine.history import History
from engine.model import Model, param_count
from engine.optim import decayed_lr, make_optimizer
from engine.tokenizer import Tokenizer


# What training costs here, measured on this project's 2-core machine (load about 1) on nine configurations
# from 4,192 to 3.9 M parameters: vocabularies of 27 to 100,001 tokens, 1 to 4 layers, n_embd 16 to 128,
# documents of 4 to 16 positions; the time of a step came within ±12% of each, its memory within ±20%.
# Time: the multiply-adds of the fused dot products (forward, both grads, the walk over their children), the
# scalar nodes of one step's graph (`step_counts`, exact: six per vocabulary entry per position, from
# lm_head's logit to softmax's probability), with a term for the garbage collector walking a big graph, and
# Adam's work per parameter. `train` also makes the parameters before the first step and samples after the
# last: at a large vocabulary a sample runs to block_size (BOS is one token in 100,000) and costs more than
# a step. Memory: Values and Adam's buffers per parameter, one step's graph.
SECONDS_PER_MAC = 5.5e-7
SECONDS_PER_NODE = 2.5e-6
NODES_DOUBLING_COST = 30_000_000  # a step with this many scalar nodes pays twice per node
SECONDS_PER_PARAM = 1.1e-6        # Adam's update, each step
SECONDS_PER_PARAM_MADE = 1.6e-6   # drawing and making each parameter, once
SAMPLE_SECONDS_PER_MAC = 2.6e-7   # a sampled position: a forward pass, no backward
SAMPLE_SECONDS_PER_NODE = 2.0e-6
BYTES_PER_MAC = 16
BYTES_PER_NODE = 140
BYTES_PER_PARAM = 420
MAX_SECONDS_PER_STEP = 3600  # refuse to start a run whose every step would take over an hour


@dataclass(frozen=True)
class Cost:
    """What training a configuration costs here: an estimate, good to a factor of about 1.5 (the machine
    and what else runs on it decide the rest)."""
    params: int               # exactly the parameter count (microgpt's `num params`)
    bytes: int                # peak memory of a training step
    seconds_per_step: float   # for an average document
    seconds_to_make: float = 0.0     # making the parameters, before the first step
    seconds_per_sample: float = 0.0  # generating one document of block_size tokens (the longest) after the run

    def run_seconds(self, num_steps, num_samples=0):
        """`train` from start to end: the parameters made, num_steps steps, num_samples samples at most."""
        return self.seconds_to_make + self.seconds_per_step * num_steps + self.seconds_per_sample * num_samples

    def describe(self, num_steps=None, num_samples=0):
        """'4,192 parameters, about 0.02 s a step (20 s for 1000 steps and 20 samples) and 2 MB of memory'."""
        total = ''
        if num_steps:
            samples = f' and {num_samples} samples' if num_samples else ''
            total = f' ({_duration(self.run_seconds(num_steps, num_samples))} for {num_steps} steps{samples})'
        return (f'{self.params:,} parameters, about {_duration(self.seconds_per_step)} a step{total} '
                f'and {_size(self.bytes)} of memory')


def step_counts(config, vocab_size, n):
    """(multiply-adds, scalar nodes) of one training step's graph on a document of n positions, exactly as
    the training forward pass builds it (engine.model with FAST: a fused dot is one node; a constant that
    microgpt wraps in a Value is one): per position the embedding and its rmsnorm, each layer, lm_head's
    logits and softmax over the vocabulary (6 nodes a token), −log p; then the mean."""
    e, layers, heads, v = config.n_embd, config.n_layer, config.n_head, vocab_size
    keys = n * (n + 1) // 2  # attention at position t reads t + 1 keys
    swiglu = config.activation == 'swiglu'
    macs = n * (layers * (16 if swiglu else 12) * e * e + v * e + (2 * layers + 1) * e) + layers * e * n * (n + 1)
    rmsnorm = e + 6  # x·x, /len (a constant and a product), +1e-5 (two), **-0.5, x * scale
    if config.norm == 'layer':  # Σx, /len (two), -mean (two), xc, xc·xc, /len (two), +1e-5 (two), **-0.5, ·s·g + b
        rmsnorm = 4 * e + 11
    layer = 2 * rmsnorm + 16 * e + heads  # q k v wo fc1 relu fc2, two residuals; each head's softmax total
    layer += 8 * e * swiglu + 10 * e * (config.position == 'rope')  # fc3 and silu·up; q, k rotated (a·c + b·s: five)
    layer += (9 + 4 * swiglu) * e * config.bias  # the block options: a bias's + on each of a layer's linears' outputs
    position = e * (config.position == 'learned') + rmsnorm + layers * layer + (6 + config.bias) * v + 4  # tok + pos;
    # lm_head (+ its bias) and softmax; log, its negation (two)
    scores = layers * heads * 8 * keys  # per key: q·k, /√head_dim (two), softmax's -max_val (two), exp, **-1, *
    return macs, n * position + scores + 3  # the mean: a sum, 1/n (a constant and a product)


def estimate_cost(config, vocab_size, docs=None):
    """The Cost of training `config` with `vocab_size` tokens on `docs` (default: every document fills
    block_size). Plain arithmetic, instant for any size: call it before building anything."""
    v = vocab_size
    params = param_count(config, v)
    if docs:
        positions = [min(config.block_size, len(doc) + 1) for doc in docs]
        mean_n, max_n = sum(positions) / len(positions), max(positions)
    else:
        mean_n = max_n = config.block_size
    macs, nodes = step_counts(config, v, mean_n)
    seconds = (SECONDS_PER_MAC * macs + SECONDS_PER_NODE * nodes * (1 + nodes / NODES_DOUBLING_COST) +
               SECONDS_PER_PARAM * params)
    peak_macs, peak_nodes = step_counts(config, v, max_n)
    peak = BYTES_PER_PARAM * params + BYTES_PER_MAC * peak_macs + BYTES_PER_NODE * peak_nodes
    n = config.block_size  # a sample's forward passes: the step's, and logits / temperature (2 nodes a token)
    sample_macs, sample_nodes = step_counts(config, v, n)
    sample = SAMPLE_SECONDS_PER_MAC * sample_macs + SAMPLE_SECONDS_PER_NODE * (sample_nodes + 2 * v * n)
    return Cost(params, int(peak), float(seconds), SECONDS_PER_PARAM_MADE * params, float(sample))


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
        self.optimizer = make_optimizer(self.model.params, train_config)
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
