"""What the attention tests share: emma recorded once with the trained checkpoint, without a window."""

import pytest

from engine import checkpoint as ckpt_io
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import record


@pytest.fixture(scope='module')
def emma_trace():
    return record(ckpt_io.load(DEFAULT_CHECKPOINT).model, 'emma')
