"""engine.graph.overview, the model level's arrangement: the stages in reading order, the weights' band,
the positions as columns and the loss below them. The overview fits a laptop's window, the weights are
grids in a fixed place (never opened, never moved by anything opened elsewhere), and the layout JSON
leaves the weight edges out unless asked."""


import pytest

from engine.graph import layout as L
from engine.graph.geometry import weight_grid_size
from engine.graph.grouping import Hierarchy
from engine.graph.keys import group_key
from engine.graph.overview import arrange_model, arrange_weights, stage_of_weight, stage_order, stage_slot
from engine.model import param_shapes
from tests.engine.graph.graph_command import graph_json

LAPTOP = (852, 516)  # points: the graph of a real 1280×720 window (one toolbar row) at the readable scale, less the edge margins


@pytest.fixture(scope='module')
def emma(emma):
    h = Hierarchy(emma)
    vg = h.visible(h.overview())
    return emma, h, vg, L.layout(vg)


def weight_boxes(trace, vg):
    return [b for b in vg.boxes if trace.scopes[b.scope].path.startswith('params / ')]


def column_of(trace, lay, rect):
    """The position whose frame's x range holds the rectangle's left edge, and that frame's x."""
    for p in range(trace.n):
        x, _, w, _, _ = lay.clusters[trace.scope_id(f'pos {p}')]
        if x <= rect[0] < x + w:
            return p, x
    return None, None


def test_the_overview_fits_a_laptop_window_at_the_readable_scale(emma):
    _, _, _, lay = emma
    assert lay.width <= LAPTOP[0] and lay.height <= LAPTOP[1], (lay.width, lay.height)


def test_every_weight_is_one_grid_box_in_the_band_above_the_positions(emma):
    trace, _, vg, lay = emma
    weights = weight_boxes(trace, vg)
    assert sorted(b.title for b in weights) == sorted(param_shapes(trace.config, len(trace.vocabulary) + 1))
    top = min(lay.clusters[trace.scope_id(f'pos {p}')][1] for p in range(trace.n))
    for b in weights:
        x, y, w, h = lay.boxes[b.key]
        rows, cols = param_shapes(trace.config, len(trace.vocabulary) + 1)[b.title]
        assert (w, h) == pytest.approx(weight_grid_size(rows, cols)) and y + h <= top, b.title


@pytest.mark.slow
def test_every_weight_grid_keeps_its_place_when_any_group_is_opened(emma):
    """Same row, same size, and the same place over the same position's column (a column that grows
    left of it carries it along, so nothing passes it); opening a matrix changes nothing at all."""
    trace, h, vg, before = emma
    weights = weight_boxes(trace, vg)
    where = {}
    for b in weights:
        p, x = column_of(trace, before, before.boxes[b.key])
        where[b.key] = (p, before.boxes[b.key][0] - x if p is not None else None)
    overview = h.overview()
    for box in vg.boxes:
        if box.node >= 0:
            continue
        after = L.layout(h.visible(overview | {box.scope}))
        for b in weights:
            r0, r1 = before.boxes[b.key], after.boxes[b.key]
            assert r1[1:] == r0[1:], (trace.scopes[box.scope].path, b.title)
            p, offset = where[b.key]
            if p is not None:
                x = after.clusters[trace.scope_id(f'pos {p}')][0]
                assert r1[0] - x == pytest.approx(offset), (trace.scopes[box.scope].path, b.title)
        if box in weights:  # a grid is never opened into rows: the same picture
            assert after.boxes == before.boxes and after.clusters == before.clusters


@pytest.mark.slow
def test_the_json_has_no_edge_out_of_the_weights_unless_asked(tmp_path, emma):
    trace, _, vg, lay = emma
    for data, with_weights in ((graph_json(tmp_path), False), (graph_json(tmp_path, '--weight-edges'), True)):
        scope = {b['key']: b['scope'] for b in data['boxes']}
        out_of_weights = [e for e in data['edges'] if scope[e['source']].startswith('params /')]
        assert bool(out_of_weights) == with_weights
        assert {e['target'] for e in data['edges']} >= {group_key(trace.scope_id(f'pos {p} / layer 0 / attention'))
                                                        for p in range(1, trace.n)}  # the KV cache stays
        if with_weights:  # wq into every position's attention
            wq = group_key(trace.scope_id('params / layer0.attn_wq'))
            assert {e['target'] for e in out_of_weights if e['source'] == wq} == \
                {group_key(trace.scope_id(f'pos {p} / layer 0 / attention')) for p in range(trace.n)}
    assert L.as_json(lay, vg, trace.scopes)['edges'] == graph_json(tmp_path)['edges']  # the same function


def test_weights_come_in_the_reading_order_of_the_stages_that_read_them():
    names = ['lm_head', 'layer1.mlp_fc1', 'layer0.mlp_fc2', 'layer1.attn_wq', 'wpe', 'layer0.attn_wk', 'wte', 'other']
    assert stage_of_weight('layer1.attn_wq') == ('pos', 'layer 1', 'attention') and stage_of_weight('other') is None
    assert sorted(names, key=lambda n: stage_order(stage_of_weight(n))) == [
        'wpe', 'wte', 'layer0.attn_wk', 'layer0.mlp_fc2', 'layer1.attn_wq', 'layer1.mlp_fc1', 'lm_head', 'other']
    assert stage_slot('pos 12') == stage_slot('pos 0') == 'pos' and stage_slot('mlp') == 'mlp'


def test_each_group_of_weights_starts_at_its_positions_column():
    keys, sizes = ['wte', 'wpe', 'wq'], [(10.0, 5.0), (10.0, 5.0), (10.0, 8.0)]
    stages = [0, 0, 1]
    width, height, corners, _ = arrange_weights(keys, sizes, stages, columns=[0.0, 100.0])
    assert corners['wte'] == (0.0, 0.0) and corners['wpe'][0] > 10.0  # side by side in one group
    assert corners['wq'] == (100.0, 0.0) and (width, height) == (110.0, 8.0)


def test_the_model_level_is_weights_on_top_positions_left_to_right_and_the_loss_below():
    keys, titles = ['w', 'p0', 'p1', 'l'], ['params', 'pos 0', 'pos 1', 'loss']
    sizes = [(50.0, 10.0), (20.0, 30.0), (20.0, 40.0), (15.0, 5.0)]
    width, height, corners, _ = arrange_model(keys, sizes, titles)
    assert corners['w'] == (0.0, 0.0)
    assert corners['p0'][1] == corners['p1'][1] > 10.0 and corners['p0'][0] + 20.0 < corners['p1'][0]
    assert corners['l'][0] == corners['p1'][0] and corners['l'][1] > corners['p1'][1] + 40.0
    assert height == corners['l'][1] + 5.0 and width == 50.0
