"""engine.train: microgpt's training run (a diverged step undone bit for bit, the same seed the same
run) and what a configuration costs before it starts (its exact parameter count, a refusal in one
sentence when it cannot be trained here)."""

import random

import pytest

from engine.errors import ConfigError, TrainingDiverged
from engine.model import GPTConfig, Model
from engine.optim import TrainConfig
from engine.tokenizer import Tokenizer
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
