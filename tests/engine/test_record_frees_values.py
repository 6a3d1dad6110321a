"""A recording keeps its numbers in the Trace and lets the recorded Values go at once, by reference
counting: nothing is left for the cyclic collector, whose full collections stall the window."""

import gc

from engine.trace import record


def test_no_recorded_value_outlives_the_recording(model):
    was = gc.isenabled()
    gc.disable()  # what reference counting alone frees
    try:
        trace = record(model, 'emma')
        alive = sum(1 for o in gc.get_objects() if type(o).__name__ == 'Traced')
    finally:
        if was:
            gc.enable()
    assert len(trace.data) > 40000 and alive == 0
