"""Tests of values a user or a file gives (a number? a whole number?) and how to quote one in a message."""


def is_number(x):
    """An int or a float, not a bool."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_whole(x):
    """An int, not a bool."""
    return isinstance(x, int) and not isinstance(x, bool)


def short(value):
    """repr of a value for a message, cut if it is long (a 400-digit number, a whole list)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'
