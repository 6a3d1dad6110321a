"""A docked panel at 1280x720 shows emma's numbers: when all heads at once would leave cells too small
for a number, a short document shows one head large (with the heads list to pick another)."""

import pytest
from PySide6.QtCore import QRectF

from engine.checkpoint import load
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import record
from explorer.attention.heatmap import NUMBER_CELL, arrange


@pytest.fixture(scope='module')
def emma():
    return record(load(DEFAULT_CHECKPOINT).model, 'emma')


def test_a_short_document_in_a_small_panel_shows_one_head_with_room_for_numbers(qapp, emma):
    boxes, squeezed = arrange(QRectF(0, 0, 330, 300), emma, fallback=(0, 2))  # all four would be 17 px
    assert squeezed == 'head' and [(b.layer, b.head) for b in boxes] == [(0, 2)]
    assert boxes[0].cell >= NUMBER_CELL


def test_with_room_every_head_is_shown(qapp, emma):
    boxes, squeezed = arrange(QRectF(0, 0, 1800, 900), emma)
    assert not squeezed and len(boxes) == 4 and all(b.cell >= NUMBER_CELL for b in boxes)
