"""Tests of values a user or a file gives (a number? a whole number? a file of our format?) and how to quote one
in a message."""

import math

from engine.errors import ConfigError


def is_number(x):
    """An int or a float, not a bool."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_whole(x):
    """An int, not a bool."""
    return isinstance(x, int) and not isinstance(x, bool)


def short(value):
    """repr of a value for a message, cut if it is long: a 400-digit number or a whole list at 40 characters,
    a text the user typed (a node name, a document) at 80, its length said: 'xxxx…' (100,000 characters)."""
    text = repr(value)
    if isinstance(value, str):
        return text if len(text) <= 80 else f'{text[:78]}…{text[0]} ({len(value):,} characters)'
    return text if len(text) <= 40 else text[:37] + '...'


def requirement(error):
    """need(condition, why): raises `error(why)` unless the condition holds (one sentence about a file's content)."""
    def need(condition, why):
        if not condition:
            raise error(why)
    return need


def check_header(obj, format_name, version, what, error):
    """A JSON file's object names this project's format `format_name` at `version`; else `error` says which is off."""
    need = requirement(error)
    need(isinstance(obj, dict) and obj.get('format') == format_name, f'it is not a microgpt-explorer {what}.')
    need(obj.get('version') == version, f'its format version {obj.get("version")!r} is not {version}.')


def check_temperature(temperature):
    """The sampler's temperature, or ConfigError (one sentence): a number above 0 whose inverse is finite."""
    if not (is_number(temperature) and math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f'The temperature must be a number above 0, not {short(temperature)}.')
    try:
        1 / temperature
        temperature ** -1  # what sampling computes: logits / temperature is logit * temperature**-1
    except (OverflowError, ZeroDivisionError):
        raise ConfigError(f'The temperature {temperature!r} is too small: 1/temperature is not a finite number.') from None
