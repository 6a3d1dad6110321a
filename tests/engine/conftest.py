"""Fixtures the engine tests share: the shipped trained model and 'emma' recorded through it."""

import pytest

from engine import checkpoint as ckpt_io
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import record


@pytest.fixture(scope='module')
def model():
    """The shipped checkpoint's model, loaded afresh for each test module."""
    return ckpt_io.load(DEFAULT_CHECKPOINT).model


@pytest.fixture(scope='module')
def emma(model):
    """The Trace of 'emma' through the shipped model. A module may override `emma` with more (its
    hierarchy, its schedule) by asking for this one."""
    return record(model, 'emma')
