"""engine.train: microgpt's training run (a diverged step undone bit for bit, the same seed the same
run) and what a configuration costs before it starts (its exact parameter count, a refusal in one
sentence when it cannot be trained here)."""

import random

import pytest

from engine.errors import ConfigError, TrainingDiverged
from engine.model import GPTConfig, Model
from engine.optim import TrainConfig
from engine.tokenizer import Tokenizer
from engine.value import Value
from engine import train
from engine.train import Trainer, check_trainable, estimate_cost

DOCS = ['emma', 'ava', 'olivia', 'mia']


def test_a_diverged_step_restores_the_weights_and_adams_moments():
    """Adam's update makes weights infinite: the step is undone bit for bit and nothing counts it."""
    trainer = Trainer(['emma', 'ava', 'olivia', 'mia'], GPTConfig(n_embd=8, n_head=2, block_size=8),
                      TrainConfig(num_steps=20, learning_rate=1e200))
    trainer.train_step()  # weights near 1e200, still finite; m and v no longer 0
    weights, m, v = trainer.model.floats(), list(trainer.optimizer.m), list(trainer.optimizer.v)
    assert any(m) and any(v)
    with pytest.raises(TrainingDiverged, match='step 2: a weight stopped being a finite number'):
        trainer.train_step()
    assert trainer.step == 1
    assert trainer.model.floats() == weights
    assert trainer.optimizer.m == m and trainer.optimizer.v == v


# B11: what training costs, before it starts.

@pytest.mark.parametrize('config,vocab', [(GPTConfig(), 27), (GPTConfig(n_layer=3, n_embd=8, n_head=2), 5),
                                          (GPTConfig(block_size=4, n_embd=12, n_head=3), 100)])
def test_b11_estimate_counts_exactly_the_parameters(config, vocab):
    cost = estimate_cost(config, vocab)
    model = Model.init(config, Tokenizer([chr(0x4e00 + i) for i in range(vocab - 1)]), random.Random(0))
    assert cost.params == len(model.params)
    assert cost.bytes > 0 and cost.seconds_per_step > 0


@pytest.mark.parametrize('config, vocab, doc_len', [(GPTConfig(), 27, 4), (GPTConfig(n_embd=8, n_layer=2, n_head=2), 2001, 9),
                                                   (GPTConfig(n_embd=8, n_head=2, block_size=8), 3001, 20),
                                                   (GPTConfig(n_embd=8, n_head=2, norm='layer', bias=True, tie=True), 301, 9),
                                                   (GPTConfig(n_embd=8, n_layer=2, position='rope', activation='swiglu'), 301, 9),
                                                   (GPTConfig(n_embd=8, n_head=2, bias=True, activation='swiglu'), 301, 6)])
def test_b11_the_estimate_counts_the_nodes_and_multiply_adds_a_step_makes(monkeypatch, config, vocab, doc_len):
    """The vocabulary's term as a training step pays it: six nodes a token a position (lm_head's dot,
    softmax's -max_val (two), exp, **-1, *) and n_embd multiply-adds, counted on the step itself."""
    chars = [chr(0x4e00 + i) for i in range(vocab - 1)]
    model = Model.init(config, Tokenizer(chars), random.Random(0))
    tokens, n = model.positions(''.join(random.Random(1).choice(chars) for _ in range(doc_len)))
    made, value_init = [], Value.__init__

    def counted(self, *args, **kwargs):
        made.append(self)
        value_init(self, *args, **kwargs)
    monkeypatch.setattr(Value, '__init__', counted)
    model.loss(tokens, n)  # the training forward pass (FAST), as Trainer.train_step runs it
    monkeypatch.undo()
    macs = sum(len(v._children) // 2 for v in made if v._op == 'dot')
    assert train.step_counts(config, vocab, n) == (macs, len(made))
    bigger = train.step_counts(config, vocab + 1000, n)[1] - len(made)
    assert bigger == (6 + config.bias) * 1000 * n  # with the bias option, lm_head's bias adds one more


def test_b11_a_large_vocabulary_pays_for_its_samples_and_its_parameters_too():
    cost = estimate_cost(GPTConfig(), 100_001, ['abcdef'] * 10)  # names' length: 7 positions a step
    assert cost.seconds_per_sample > cost.seconds_per_step  # a sample runs to block_size: BOS is 1 token in 100,001
    assert cost.run_seconds(30, 20) == cost.seconds_to_make + 30 * cost.seconds_per_step + 20 * cost.seconds_per_sample
    assert cost.describe(30, 20).startswith('3,203,360 parameters, about ') and 'for 30 steps and 20 samples)' in cost.describe(30, 20)
    assert 'samples' not in cost.describe(30)


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    config, small = TrainConfig(num_steps=3), GPTConfig(n_embd=8, n_head=2, block_size=8)
    runs = [[(r.step, r.loss, r.doc) for r in Trainer(DOCS, small, c).run()]
            for c in (config, config, TrainConfig(num_steps=3, seed=7))]
    assert runs[0] == runs[1] != runs[2]
    assert [step for step, _, _ in runs[0]] == [1, 2, 3] and all(loss > 0 for _, loss, _ in runs[0])


def test_a_size_that_cannot_be_trained_here_is_refused_before_building_it():
    assert check_trainable(GPTConfig(), 27).params == 4192  # microgpt's `num params`
    with pytest.raises(ConfigError, match=r'^This model cannot be trained here: 3,072,000,001,120 parameters need about'):
        check_trainable(GPTConfig(n_layer=10**9), 27)
    with pytest.raises(ConfigError, match='cannot be trained here'):
        Trainer(DOCS, GPTConfig(n_layer=10**9), TrainConfig())


def test_the_history_interval_must_be_a_positive_whole_number():
    with pytest.raises(ConfigError, match='history interval must be a positive whole number'):
        Trainer(DOCS, GPTConfig(n_embd=8, n_head=2), TrainConfig(), history_every=0)


def test_a_size_too_slow_to_train_is_refused_where_memory_cannot_be_known(monkeypatch):
    monkeypatch.setattr(train, 'memory_size', lambda: None)
    with pytest.raises(ConfigError, match=r'^This model cannot be trained here: .* parameters would take about .* a step.$'):
        check_trainable(GPTConfig(n_layer=10**9), 27)
    assert check_trainable(GPTConfig(), 27).params == 4192
