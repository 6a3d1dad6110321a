"""engine.graph.geometry without Graphviz: the sizes of boxes and weight grids, the fixed arrangements of
a group's items (a grid of columns, a dot product's ladder) and the curves of edges between two boxes."""

import pytest

from engine.graph.geometry import (CELL, GRID_LABEL, GRID_ROWS, MAX_GRID_WIDTH, SCALAR_HEIGHT, SCALAR_WIDTH,
                                   box_size, grid_geometry, grid_group, ladder, ladder_corners, route,
                                   weight_grid_size)
from engine.graph.grouping import Box


def test_a_running_sum_is_a_ladder_and_other_shapes_are_not():
    # terms 0, 2, 4; sums 1, 3, 5: 0→1, 2→3, 1→3, 4→5, 3→5
    assert ladder(6, [(0, 1), (2, 3), (1, 3), (4, 5), (3, 5)]) == [(0, 1), (2, 3), (4, 5)]
    assert ladder(6, [(0, 1), (2, 3), (4, 5)]) is None           # three separate sums
    assert ladder(6, [(0, 1), (2, 3), (1, 3), (4, 5), (1, 5)]) is None  # a sum feeding two
    assert ladder(2, [(0, 1)]) is None                           # one term: nothing to lay out as rows
    assert ladder(4, [(0, 1), (1, 2), (2, 3)]) is None           # a plain chain


def test_a_ladder_puts_each_term_left_of_its_sum_a_row_each():
    keys, sizes = ['t0', 's0', 't1', 's1'], [(100, 20), (60, 24), (80, 20), (60, 24)]
    width, height, corners, _ = ladder_corners(keys, sizes, [(0, 1), (2, 3)])
    assert corners['t0'][0] == corners['t1'][0] == 0.0
    assert corners['s0'][0] == corners['s1'][0] > 100  # right of the widest term
    assert corners['s0'][1] < corners['s1'][1] and width == corners['s0'][0] + 60
    assert height == pytest.approx(corners['s1'][1] + 24)


def test_weight_grids_lie_on_their_side_when_tall_and_narrow_when_wide():
    assert grid_geometry(27, 16) == (True, 27, 16, CELL, CELL)         # wte: a token per column
    transposed, across, down, cw, ch = grid_geometry(16, 64)            # fc1: 64 columns squeezed
    assert (transposed, across, down) == (False, 64, 16) and cw == MAX_GRID_WIDTH / 64 < CELL
    assert weight_grid_size(16, 16) == (16 * CELL, GRID_LABEL + 16 * CELL)


def test_a_grid_group_fills_columns_down_in_index_order():
    sizes = [(10.0, 5.0)] * (GRID_ROWS + 1)
    width, height, corners, _ = grid_group(sizes)
    assert [c[0] for c in corners[:GRID_ROWS]] == [0.0] * GRID_ROWS    # the first column, top to bottom
    assert [c[1] for c in corners[:GRID_ROWS]] == sorted(c[1] for c in corners[:GRID_ROWS])
    assert corners[GRID_ROWS][0] > 10.0 and corners[GRID_ROWS][1] == 0.0  # the next column starts at the top
    assert width == corners[GRID_ROWS][0] + 10.0


def test_box_sizes_grow_with_their_text_and_cells():
    scalar = Box('n1', 0, 1, 'q[3]', '0.5', 1, op='+')
    assert box_size(scalar) == (SCALAR_WIDTH, SCALAR_HEIGHT)
    short = Box('g1', 1, -1, 'mlp', '', 1)
    long = Box('g2', 2, -1, 'mlp', 'linear 16→64 · a very long detail line', 10)
    assert box_size(long)[0] > box_size(short)[0] == 70.0
    strip = Box('g3', 3, -1, 'mlp', '', 10, cells=tuple((-1, f'x[{i}]', 0.0) for i in range(64)))
    assert box_size(strip)[1] > box_size(short)[1]  # room for the strip of its output vector


@pytest.mark.parametrize('b, leaves, enters', [
    ((200, 5, 50, 20), (50, 10), (200, 15)),        # to the right: right side to left side
    ((0, 100, 50, 20), None, None),                 # below: out of the bottom into the top
    ((0, -100, 50, 20), (25, 0), (25, -80)),        # above: out of the top into the bottom
])
def test_a_route_leaves_and_enters_the_sides_that_face_each_other(b, leaves, enters):
    a = (0, 0, 50, 20)
    points, tip = route(a, b)
    if leaves is None:
        assert points[0][1] == 20 and tip[1] == 100
    else:
        assert points[0] == leaves and tip == enters
    points, tip = route(a, (200, 5, 50, 40), into_y=33)
    assert tip == (200, 33)  # the row of a vector box it fills


def test_a_badge_names_layernorms_gain_and_bias_once_and_leaves_a_wide_title_room():
    from types import SimpleNamespace

    from engine.graph.geometry import badge_text
    box = lambda *reads: SimpleNamespace(reads=reads)  # noqa: E731
    assert badge_text(box('wte', 'wpe', 'emb_ln_gain', 'emb_ln_bias')) == 'wte wpe ln'
    assert badge_text(box('layer0.mlp_ln_gain', 'layer0.mlp_ln_bias', 'layer0.mlp_fc1', 'layer0.mlp_fc2')) == 'ln fc1 fc2'
    assert badge_text(box('layer0.attn_ln_gain', 'layer0.attn_ln_bias', 'layer0.attn_wq', 'layer0.attn_wk',
                          'layer0.attn_wv', 'layer0.attn_wo')) == 'wq wk wv wo'
    assert badge_text(box('layer0.attn_wq', 'layer0.attn_wk')) == 'wq wk' and badge_text(box()) == ''
