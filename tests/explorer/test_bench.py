"""explorer/bench.py: its helpers on tiny inputs (milliseconds, best-of timing, one training step's time on
the shipped model), not the whole bench."""

from engine import checkpoint as ckpt_io
from engine.paths import DEFAULT_CHECKPOINT
from explorer import bench


def test_ms_rounds_seconds_to_tenths_of_a_millisecond():
    assert bench.ms(0.01234) == 12.3 and bench.ms(2) == 2000.0


def test_timed_gives_the_best_time_and_the_result():
    calls = []
    best, result = bench.timed(lambda: calls.append(1) or len(calls), repeat=4)
    assert len(calls) == 4 and result == 4 and 0 <= best < 1


def test_a_training_step_is_timed_and_leaves_no_grads_behind():
    model = ckpt_io.load(DEFAULT_CHECKPOINT).model
    for literal in (False, True):
        seconds = bench.training_step_ms(model, 'a', literal)
        assert 0 < seconds < 5
        assert all(p.grad == 0 for p in model.params)
