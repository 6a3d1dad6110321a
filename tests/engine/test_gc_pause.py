"""engine.gc_pause: the cyclic collector is off while anyone pauses it, back as it was when the last
pauser leaves, whatever happens inside a paused block."""

import gc

import pytest

from engine import gc_pause


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()  # as it was, whatever the test left


def test_nested_pausers_keep_it_off_until_the_last_leaves(collector_on):
    gc_pause.pause()
    with gc_pause.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the first pauser is still there
    gc_pause.resume()
    assert gc.isenabled()


def test_an_error_inside_a_paused_block_puts_it_back(collector_on):
    with pytest.raises(RuntimeError):
        with gc_pause.paused():
            raise RuntimeError('stop')
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on):
    gc.disable()
    with gc_pause.paused():
        pass
    assert not gc.isenabled()
