"""The cyclic garbage collector paused while a burst of short-lived or freshly made objects would only
make it walk everything: a replayed training step (~100,000 Values that die together), the window
making thousands of graph items over many turns of its event loop. Pausers are counted, across threads:
the collector is back as it was when the last one leaves."""

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_pausers = 0
_was_enabled = False


def pause():
    """One more pauser; the first turns the collector off. Every pause() needs its resume()."""
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1


def resume():
    """One pauser less; the last puts the collector back as the first found it."""
    global _pausers
    with _lock:
        _pausers -= 1
        if _pausers == 0 and _was_enabled:
            gc.enable()


@contextmanager
def paused():
    """The collector off inside the block, whatever happens there (never hold it across a yield that may
    not come back: a generator left half-way would leave it off)."""
    pause()
    try:
        yield
    finally:
        resume()


def reset():
    """In a forked child: no pauser of the parent's is here; the collector on, as in a fresh process."""
    global _pausers, _was_enabled
    with _lock:
        _pausers, _was_enabled = 0, False
    gc.enable()
