"""A dot product opened to scalars reads as a ladder, a row per term: `q[i]·keys[t][i]` on the left, the
sum so far beside it, each sum feeding the one under it; as wide as two boxes however long the sum."""

import pytest

from engine.graph.grouping import Hierarchy
from engine.graph.geometry import SCALAR_WIDTH, ladder
from engine.graph.layout import layout

DOT = 'pos 2 / layer 0 / attention / head 1 / scores / q·k[1]'


def test_a_running_sum_is_a_ladder_and_other_shapes_are_not():
    # terms 0, 2, 4; sums 1, 3, 5: 0→1, 2→3, 1→3, 4→5, 3→5
    assert ladder(6, [(0, 1), (2, 3), (1, 3), (4, 5), (3, 5)]) == [(0, 1), (2, 3), (4, 5)]
    assert ladder(6, [(0, 1), (2, 3), (4, 5)]) is None           # three separate sums
    assert ladder(6, [(0, 1), (2, 3), (1, 3), (4, 5), (1, 5)]) is None  # a sum feeding two
    assert ladder(2, [(0, 1)]) is None                           # one term: nothing to lay out as rows
    assert ladder(4, [(0, 1), (1, 2), (2, 3)]) is None           # a plain chain


@pytest.fixture(scope='module')
def dot_view(emma):
    h = Hierarchy(emma)
    scope = emma.scope_id(DOT)
    visible = h.visible(h.open_path(scope, h.overview()) | set(h.descendants(scope)) | {scope})
    return emma, visible, layout(visible)


def test_the_dot_product_reads_a_row_per_term(dot_view):
    emma, visible, lay = dot_view
    inside = [b for b in visible.boxes if b.node >= 0 and emma.scopes[b.scope].path == DOT]
    terms = [b for b in inside if '·keys[' in b.title]
    sums = [b for b in inside if b not in terms]
    assert [b.title for b in terms] == [f'q[{i}]·keys[1][{i}]' for i in range(4, 8)]
    assert len(sums) == 4
    sums.sort(key=lambda b: lay.boxes[b.key][1])
    assert sums[-1].title == 'q·k[1]'  # the result at the bottom
    for term, total in zip(terms, sums):
        tx, ty, tw, th = lay.boxes[term.key]
        sx, sy, sw, sh = lay.boxes[total.key]
        assert ty + th / 2 == pytest.approx(sy + sh / 2) and sx > tx + tw  # the same row, the sum to its right
    assert len({lay.boxes[b.key][0] for b in terms}) == 1 and len({lay.boxes[b.key][0] for b in sums}) == 1
    x, y, w, h, _ = lay.clusters[emma.scope_id(DOT)]
    assert w < 3 * SCALAR_WIDTH  # not a diagonal staircase running off the screen
