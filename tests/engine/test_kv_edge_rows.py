"""The edges into an open head's keys and values enter each box's left side, the keys (values) of pos 0,
1, 2 at rows 0, 1, 2, so an arrow into the values never seems to come out of the keys above them."""

import pytest

from engine.graph.grouping import Hierarchy
from engine.graph.geometry import VECTOR_CELL, VECTOR_TEXT
from engine.graph.layout import layout


@pytest.fixture(scope='module')
def head_view(emma):
    h = Hierarchy(emma)
    head = emma.scope_id('pos 2 / layer 0 / attention / head 1')
    visible = h.visible(h.open_path(head, h.overview()) | {head})
    return emma, visible, layout(visible)


def position_of(emma, visible, key):
    box = next(b for b in visible.boxes if b.key == key)
    return int(emma.scopes[box.scope].path.split(' / ')[0].split()[1])


@pytest.mark.parametrize('name', ['keys', 'values'])
def test_each_position_enters_its_own_row_from_the_left(head_view, name):
    emma, visible, lay = head_view
    box = next(b for b in visible.boxes if b.is_vector and b.title == name)
    x, y, w, h = lay.boxes[box.key]
    into = [(src, tip) for src, dst, _count, _pts, tip in lay.edges if dst == box.key]
    assert len(into) == box.rows == 3
    rows = {}
    for src, (tx, ty) in into:
        assert tx == pytest.approx(x)  # the left side, not the top (where the box above it is)
        row = (ty - y - VECTOR_TEXT) / VECTOR_CELL[1] - 0.5
        assert row == pytest.approx(round(row)), 'an edge between two rows'
        rows[position_of(emma, visible, src)] = round(row)
    assert rows == {0: 0, 1: 1, 2: 2}


def test_q_enters_the_middle_of_its_left_side(head_view):
    emma, visible, lay = head_view
    q = next(b for b in visible.boxes if b.is_vector and b.title == 'q')
    x, y, w, h = lay.boxes[q.key]
    (tip,) = [tip for _src, dst, _c, _p, tip in lay.edges if dst == q.key]
    assert tip == pytest.approx((x, y + h / 2))
