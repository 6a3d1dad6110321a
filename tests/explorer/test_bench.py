"""explorer/bench.py: its helpers on tiny inputs (milliseconds, best-of timing, one training step's time on
the shipped model), not the whole bench."""

import os

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


def test_the_app_is_timed_with_its_bytecode_cached_as_after_a_first_start(tmp_path, monkeypatch):
    """Every module of engine/ and explorer/ has bytecode as fresh as its source before first_paint_ms is
    timed, whatever the environment says about writing it."""
    import importlib.util
    from explorer import bench
    monkeypatch.setenv('PYTHONDONTWRITEBYTECODE', '1')
    for folder in ('engine', 'explorer'):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / 'a.py').write_text('X = 1\n')
    monkeypatch.setattr(bench, 'ROOT', tmp_path)
    bench.warm_bytecode()
    for folder in ('engine', 'explorer'):
        source = tmp_path / folder / 'a.py'
        cached = importlib.util.cache_from_source(str(source))
        assert os.path.getmtime(cached) >= os.path.getmtime(source)
