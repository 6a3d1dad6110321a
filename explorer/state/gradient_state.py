"""What the gradient panels (Nudge, Gradcheck, Provenance) share for one recording, made once off the UI thread."""

import threading

from engine.gradient.gradcheck import analytic_grads
from engine.gradient.nudge import Tape
from engine.gradient.provenance import Predictions

_lock = threading.Lock()
_cache = {}


class GradientState:
    """The tape, backprop's final grads, and (when first asked) the per-prediction backward passes."""

    def __init__(self, trace):
        self.trace = trace
        self.tape = Tape(trace)
        self.grads = analytic_grads(trace)
        self._predictions = None

    @property
    def predictions(self):
        with _lock:
            if self._predictions is None:
                self._predictions = Predictions(self.trace, self.grads)
            return self._predictions


def gradient_state(trace):
    """The GradientState of `trace` (the last one is cached); call it off the UI thread."""
    with _lock:
        state = _cache.get('state')
        if state is None or state.trace is not trace:
            state = _cache['state'] = GradientState(trace)
        return state
