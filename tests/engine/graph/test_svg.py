"""engine.graph.svg: the SVG export draws the window's layout: every box and frame where `as_json` (what the window draws)
puts it, every frame titled, every edge with its arrowhead."""

import xml.etree.ElementTree as ET

import pytest

from engine.graph.svg import fit, to_svg
from engine.graph.grouping import Hierarchy
from engine.graph.layout import as_json, layout

SVG = '{http://www.w3.org/2000/svg}'


@pytest.fixture(scope='module')
def views(emma):
    h = Hierarchy(emma)
    overview = h.overview()
    head = emma.scope_id('pos 2 / layer 0 / attention / head 1')
    out = {}
    for name, opened in (('overview', overview), ('head 1', h.open_path(head, overview) | {head})):
        visible = h.visible(opened)
        lay = layout(visible)
        out[name] = (as_json(lay, visible, emma.scopes), ET.fromstring(to_svg(lay, visible, emma.scopes)))
    return out


def rects(svg, cls):
    return {r.get('data-key'): tuple(float(r.get(a)) for a in ('x', 'y', 'width', 'height'))
            for r in svg.iter(f'{SVG}rect') if r.get('class') == cls}


def close(a, b):
    return all(abs(p - q) <= 0.01 for p, q in zip(a, b))


@pytest.mark.parametrize('name', ['overview', 'head 1'])
def test_one_rect_per_box_at_the_layout_json_coordinates(views, name):
    data, svg = views[name]
    boxes = [r for r in svg.iter(f'{SVG}rect') if r.get('class') == 'box']
    assert len(boxes) == len(data['boxes'])
    drawn = rects(svg, 'box')
    for b in data['boxes']:
        assert close(drawn[b['key']], (b['x'], b['y'], b['width'], b['height'])), b


@pytest.mark.parametrize('name', ['overview', 'head 1'])
def test_every_frame_is_drawn_where_the_layout_puts_it_with_its_title(views, name):
    data, svg = views[name]
    drawn = rects(svg, 'frame')
    assert len(drawn) == len(data['clusters'])
    texts = [t.text for t in svg.iter(f'{SVG}text')]
    for c in data['clusters']:
        assert close(drawn[c['key']], (c['x'], c['y'], c['width'], c['height'])), c
        assert c['title'] in texts


def test_the_picture_is_the_layout_size_and_every_edge_has_an_arrowhead(views):
    data, svg = views['overview']
    assert float(svg.get('width')) == pytest.approx(data['width'], abs=0.01)
    assert float(svg.get('height')) == pytest.approx(data['height'], abs=0.01)
    edges = [g for g in svg.iter(f'{SVG}g') if g.get('data-source')]
    assert sorted((g.get('data-source'), g.get('data-target')) for g in edges) == \
        sorted((e['source'], e['target']) for e in data['edges'])
    assert all(g.find(f'{SVG}path') is not None and g.find(f'{SVG}polygon') is not None for g in edges)


def test_a_long_name_keeps_both_ends():
    short = fit('q[3]', 70, 10)
    long = fit('attn_weights[2]·values[2][5]', 70, 10)
    assert short == 'q[3]'
    assert long.startswith('attn') and long.endswith('[5]') and '…' in long and len(long) < 20
