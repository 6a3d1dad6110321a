"""Until session.py (being rewritten elsewhere) imports `backprop_player` itself: the old name."""

from .backprop_player import BackpropPlayer as Backprop  # noqa: F401
