"""The layout reads in order and grows in place: positions, stages, heads, dot products and scalars in
index order; opening a group moves no other box past another; no Graphviz run is large; the JSON
export is the layout the window draws."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.graph import layout as L
from engine.graph.grouping import Hierarchy
from engine.graph.keys import group_key

ROOT = Path(__file__).resolve().parent.parent.parent
STAGES = ('embedding', 'layer 0 / attention', 'layer 0 / mlp', 'lm_head', 'softmax', '-log p')
HEAD = 'pos 2 / layer 0 / attention / head 1'


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


def test_a_position_opened_to_scalars_is_a_composition_of_small_graphviz_runs(emma):
    trace, h = emma
    L.clear_cache()
    vg, lay = view(h, h.overview() | set(h.descendants(trace.scope_id('pos 2'))))
    assert len(vg.boxes) > 7000 and len(lay.boxes) == len(vg.boxes)
    assert lay.runs and max(lay.runs) <= 200 and len(lay.runs) <= 60, lay.runs
    again = L.layout(vg)  # the same structures again: every group from the cache
    assert again.runs == () and again.boxes == lay.boxes


def graph_json(tmp_path, *opens):
    out = tmp_path / 'g.json'
    args = [a for path in opens for a in ('--open', path)]
    proc = subprocess.run([sys.executable, str(ROOT / 'main.py'), 'graph', '--doc', 'emma', *args, '-o', str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def test_graph_json_is_the_layout_the_window_draws_with_stable_keys(tmp_path, emma):
    trace, h = emma
    data = graph_json(tmp_path, HEAD)
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
