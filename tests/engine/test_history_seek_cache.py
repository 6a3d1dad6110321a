"""Seeking keeps what it replayed: a step seen again costs nothing, going forward replays only the
difference, and every state is still the straight run's bit for bit. The collector is never left off."""

import gc

import pytest

from engine import history as history_io
from engine.data import load_docs
from engine.model import GPTConfig, Model
from engine.optim import TrainConfig
from engine.train import Trainer


@pytest.fixture(scope='module')
def run(names_file):
    trainer = Trainer(load_docs(names_file), GPTConfig(), TrainConfig(num_steps=30), history_every=7)
    straight = {}
    for r in trainer.run():
        straight[r.step] = ([p.data for p in trainer.model.params], list(trainer.optimizer.m), list(trainer.optimizer.v))
    return trainer.finished_history(), straight


@pytest.fixture
def losses(monkeypatch):
    """How many forward passes (replayed steps) happen."""
    calls = []
    real = Model.loss

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Model, 'loss', counted)
    return calls


def test_cached_and_forward_seeks_are_the_straight_run_bit_for_bit(run):
    history, straight = run
    history.forget()
    fresh = history_io.History(history.config, history.tokenizer.uchars, history.train_config, history.every,
                               history.docs, history.losses, history.lrs, history.update_norms, history.snapshots)
    for step in (9, 10, 11, 13, 10, 14, 15, 22, 3, 4, 29, 30, 9, 1):  # forward, back, repeats, across snapshots
        state = history.seek(step)
        weights, m, v = straight[step]
        assert (list(state.weights), list(state.m), list(state.v)) == (weights, m, v), step
        fresh.forget()
        cold = fresh.seek(step)
        assert (list(state.grads), list(state.update), state.loss, state.doc) == \
            (list(cold.grads), list(cold.update), cold.loss, cold.doc), step


def test_going_forward_replays_only_the_difference_and_a_step_seen_again_costs_nothing(run, losses):
    history, _ = run
    history.forget()
    history.seek(8)                   # from the snapshot at 7: one step
    assert len(losses) == 1
    history.seek(12)                  # on from 8, not again from 7
    assert len(losses) == 5
    history.seek(13)
    assert len(losses) == 6
    history.seek(10)                  # replayed before: kept
    history.seek(13)
    assert len(losses) == 6
    history.seek(16)                  # past the snapshot at 14: from there (two steps), not from 13
    assert len(losses) == 8
    history.forget()
    history.seek(13)
    assert len(losses) == 14          # cold: the whole way from 7


def test_the_collector_is_on_between_replayed_steps_and_after_a_stopped_or_failed_replay(run, monkeypatch):
    history, _ = run
    assert gc.isenabled()
    steps = history.replay(0, 5)
    next(steps)
    assert gc.isenabled()             # a paused replay (a stopped job, a seek's cursor) does not hold it off
    steps.close()
    assert gc.isenabled()

    def broken(self, *args, **kwargs):
        assert not gc.isenabled()     # off while a step runs
        raise RuntimeError('stop')
    monkeypatch.setattr(Model, 'loss', broken)
    history.forget()
    with pytest.raises(RuntimeError):
        history.seek(3)
    assert gc.isenabled()
