"""engine.graph.layout: the layout reads in order and grows in place: positions, stages, heads, dot
products and scalars in index order; opening a group moves no other box past another; no Graphviz run is
large; a dot product opened to scalars reads as a ladder; the edges into an open head's keys and values
enter each position's own row; the JSON export is the layout the window draws."""


import pytest

from engine.graph import layout as L
from engine.graph.geometry import SCALAR_WIDTH, VECTOR_CELL, VECTOR_TEXT
from engine.graph.grouping import Hierarchy
from engine.graph.keys import group_key
from tests.engine.graph.graph_command import graph_json

STAGES = ('embedding', 'layer 0 / attention', 'layer 0 / mlp', 'lm_head', 'softmax', '-log p')
HEAD = 'pos 2 / layer 0 / attention / head 1'
DOT = 'pos 2 / layer 0 / attention / head 1 / scores / q·k[1]'


@pytest.fixture(scope='module')
def emma(emma):
    return emma, Hierarchy(emma)


def view(h, opened):
    vg = h.visible(opened)
    return vg, L.layout(vg)


def opening(trace, h, *paths):
    opened = h.overview()
    for path in paths:
        s = trace.scope_id(path)
        opened = h.open_path(s, opened) | {s}
    return opened


def centre(rect):
    x, y, w, h = rect[:4]
    return x + w / 2, y + h / 2


def rect_of(trace, lay, path):
    s = trace.scope_id(path)
    return lay.clusters[s][:4] if s in lay.clusters else lay.boxes[group_key(s)]


def test_positions_in_order_left_to_right_and_stages_aligned_in_rows(emma):
    trace, h = emma
    for opened in (h.overview(), opening(trace, h, HEAD), opening(trace, h, 'pos 3 / layer 0 / mlp')):
        _, lay = view(h, opened)
        frames = [rect_of(trace, lay, f'pos {p}') for p in range(trace.n)]
        assert all(a[0] + a[2] <= b[0] for a, b in zip(frames, frames[1:]))  # pos 0 leftmost, no overlap
        assert len({f[1] for f in frames}) == 1
        for stage in STAGES:  # the same stage of every position in one row
            ys = {round(rect_of(trace, lay, f'pos {p} / {stage}')[1], 1) for p in range(trace.n)}
            assert len(ys) == 1, (stage, ys)
        column = [centre(rect_of(trace, lay, f'pos 0 / {stage}'))[1] for stage in STAGES]
        assert column == sorted(column)  # and the stages top to bottom in the order they run
        weights = rect_of(trace, lay, 'params')
        assert weights[1] + weights[3] <= frames[0][1] and weights[:2] == (0.0, 0.0)  # the weights above everything
        loss = rect_of(trace, lay, 'loss')  # the loss below every position
        assert loss[1] >= max(f[1] + f[3] for f in frames)
        grids = [rect_of(trace, lay, f'params / {name}') for name in
                 ('wte', 'wpe', 'layer0.attn_wq', 'layer0.attn_wk', 'layer0.attn_wv', 'layer0.attn_wo',
                  'layer0.mlp_fc1', 'layer0.mlp_fc2', 'lm_head')]
        assert [g[0] for g in grids] == sorted(g[0] for g in grids)  # in the order of the stages that read them
        assert len({g[1] for g in grids}) == 1


def test_heads_dot_products_and_scalars_come_in_index_order(emma):
    trace, h = emma
    _, lay = view(h, opening(trace, h, 'pos 2 / layer 0 / attention'))
    heads = [centre(rect_of(trace, lay, f'pos 2 / layer 0 / attention / head {i}')) for i in range(4)]
    assert [y for _, y in heads] == sorted(y for _, y in heads) and len({x for x, _ in heads}) == 1
    qkv = [centre(rect_of(trace, lay, f'pos 2 / layer 0 / attention / {n}')) for n in 'qkv']
    assert [y for _, y in qkv] == sorted(y for _, y in qkv)

    for group, names in (('pos 2 / layer 0 / attention / q', [f'q[{i}]' for i in range(16)]),
                         ('pos 2 / layer 0 / mlp / fc1', [f'fc1[{i}]' for i in range(64)]),
                         (f'{HEAD} / scores', [f'q·k[{t}]' for t in range(3)])):
        _, lay = view(h, opening(trace, h, group))
        spots = [rect_of(trace, lay, f'{group} / {n}')[:2] for n in names]
        assert spots == sorted(spots, key=lambda p: (round(p[0]), p[1])), group  # down each column, then right

    dot = trace.scope_id('pos 2 / layer 0 / attention / q / q[3]')
    vg, lay = view(h, opening(trace, h, 'pos 2 / layer 0 / attention / q / q[3]'))
    muls = [b.key for b in vg.boxes if b.node >= 0 and b.scope == dot and trace.op[b.node] == '*']
    ys = [lay.boxes[k][1] for k in muls]  # node order is index order: w[3][0]*x[0], w[3][1]*x[1], ...
    assert len(muls) == 16 and ys == sorted(ys) and len({lay.boxes[k][0] for k in muls}) == 1


@pytest.mark.slow
def test_opening_any_group_of_the_overview_moves_no_box_past_another(emma):
    trace, h = emma
    overview = h.overview()
    _, before = view(h, overview)
    closed = [b.scope for b in h.visible(overview).boxes if b.node < 0]
    assert len(closed) > 30
    flips = {trace.scopes[s].path: L.order_flips(before, view(h, overview | {s})[1]) for s in closed}
    assert {p: f for p, f in flips.items() if f} == {}
    assert L.order_flips(before, view(h, opening(trace, h, HEAD))[1]) == 0


def test_boxes_sit_inside_their_frames_without_overlapping(emma):
    trace, h = emma
    for opened in (h.overview(), opening(trace, h, HEAD), opening(trace, h, f'{HEAD} / softmax')):
        vg, lay = view(h, opened)
        assert set(lay.boxes) == {b.key for b in vg.boxes}
        assert set(lay.clusters) == {c.scope for c in vg.clusters}
        rects = sorted(lay.boxes.values())
        for i, (x, y, w, hh) in enumerate(rects):
            for x2, y2, w2, h2 in rects[i + 1:]:
                if x2 >= x + w:
                    break
                assert y2 >= y + hh or y >= y2 + h2, 'two boxes overlap'
        for c in vg.clusters:
            fx, fy, fw, fh, _ = lay.clusters[c.scope]
            inside = [lay.boxes[k] for k in c.boxes] + [lay.clusters[s][:4] for s in
                                                       (d.scope for d in vg.clusters if d.parent == c.scope)]
            for x, y, w, hh in inside:
                assert fx <= x and x + w <= fx + fw + 0.01 and fy <= y and y + hh <= fy + fh + 0.01, c.title


@pytest.mark.slow
def test_a_position_opened_to_scalars_is_a_composition_of_small_graphviz_runs(emma):
    trace, h = emma
    L.clear_cache()
    vg, lay = view(h, h.overview() | set(h.descendants(trace.scope_id('pos 2'))))
    assert len(vg.boxes) > 7000 and len(lay.boxes) == len(vg.boxes)
    assert lay.runs and max(lay.runs) <= 200 and len(lay.runs) <= 60, lay.runs
    again = L.layout(vg)  # the same structures again: every group from the cache
    assert again.runs == () and again.boxes == lay.boxes


@pytest.mark.slow
def test_graph_json_is_the_layout_the_window_draws_with_stable_keys(tmp_path, emma):
    trace, h = emma
    data = graph_json(tmp_path, '--open', HEAD)
    assert {'boxes', 'edges', 'clusters'} <= set(data)
    for b in data['boxes']:
        assert {'key', 'scope', 'label', 'x', 'y', 'width', 'height'} <= set(b)
    for e in data['edges']:
        assert set(e) == {'source', 'target', 'count'} and e['count'] >= 1
    for c in data['clusters']:
        assert {'scope', 'title', 'x', 'y', 'width', 'height'} <= set(c)
    vg, lay = view(h, opening(trace, h, HEAD))
    assert {b['key']: (b['x'], b['y'], b['width'], b['height']) for b in data['boxes']} == \
        {k: tuple(round(v, 2) for v in r) for k, r in lay.boxes.items()}
    by_key = {b['key']: b for b in data['boxes']}
    assert by_key[group_key(trace.scope_id(f'{HEAD} / softmax'))]['scope'] == f'{HEAD} / softmax'
    assert HEAD in {c['scope'] for c in data['clusters']}

    overview = graph_json(tmp_path)
    assert graph_json(tmp_path) == overview  # the same document gives the same picture
    kept = {b['key']: b for b in overview['boxes']}.keys() & by_key.keys()
    assert len(kept) == len(overview['boxes']) - 1  # every box but pos 2's attention is still there
    for key in kept:
        assert by_key[key]['scope'] == {b['key']: b for b in overview['boxes']}[key]['scope']


# A dot product opened to scalars reads as a ladder, a row per term: `q[i]·keys[t][i]` on the left, the
# sum so far beside it, each sum feeding the one under it; as wide as two boxes however long the sum.

@pytest.fixture(scope='module')
def dot_view(emma):
    trace, h = emma
    scope = trace.scope_id(DOT)
    visible = h.visible(h.open_path(scope, h.overview()) | set(h.descendants(scope)) | {scope})
    return trace, visible, L.layout(visible)


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


# The edges into an open head's keys and values enter each box's left side, the keys (values) of pos 0,
# 1, 2 at rows 0, 1, 2, so an arrow into the values never seems to come out of the keys above them.

@pytest.fixture(scope='module')
def head_view(emma):
    trace, h = emma
    head = trace.scope_id(HEAD)
    visible = h.visible(h.open_path(head, h.overview()) | {head})
    return trace, visible, L.layout(visible)


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
