"""engine.graph.svg: the SVG export draws the window's layout: every box and frame where `as_json` (what the window draws)
puts it, every frame titled, every edge with its arrowhead; every text whole, in its room, and under no box, badge,
other text or arrow."""

import re
import xml.etree.ElementTree as ET

import pytest

from engine.graph.svg import fit, to_svg
from engine.graph.grouping import Hierarchy
from engine.graph.layout import as_json, layout
from engine.graph.geometry import GRID_LABEL
from engine.graph.text import ascent, line_height, text_width

SVG = '{http://www.w3.org/2000/svg}'


@pytest.fixture(scope='module')
def views(emma):
    h = Hierarchy(emma)
    overview = h.overview()
    head = emma.scope_id('pos 2 / layer 0 / attention / head 1')
    tok = emma.scope_id('pos 0 / embedding / tok + pos')
    out = {}
    for name, opened in (('overview', overview), ('head 1', h.open_path(head, overview) | {head}),
                         ('tok + pos', h.open_path(tok, overview) | {tok})):
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
        if b['scope'].startswith('params / '):  # a weight matrix: its grid, under the band of its name
            assert close(drawn[b['key']], (b['x'], b['y'] + GRID_LABEL, b['width'], b['height'] - GRID_LABEL)), b
        else:
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


# Every text the SVG draws: where it is (the font the SVG names, measured as engine.graph.text measures it), the room
# it has, what it covers.

def text_rect(t):
    """(x, y, w, h) of a <text>: from its baseline, anchor, size and weight."""
    px, bold = float(t.get('font-size')), t.get('font-weight') == 'bold'
    w = text_width(t.text or '', px, bold)
    x = float(t.get('x')) - {'start': 0, 'middle': w / 2, 'end': w}[t.get('text-anchor', 'start')]
    return x, float(t.get('y')) - ascent(px), w, line_height(px)


def overlap(a, b, tolerance=0.05):
    """Whether rectangles (x, y, w, h) overlap by more than touching."""
    return (a[0] + tolerance < b[0] + b[2] and b[0] + tolerance < a[0] + a[2] and
            a[1] + tolerance < b[1] + b[3] and b[1] + tolerance < a[1] + a[3])


def inside(a, b, tolerance=0.01):
    return b[0] - tolerance <= a[0] and a[0] + a[2] <= b[0] + b[2] + tolerance


def rect_of(e):
    return tuple(float(e.get(k)) for k in ('x', 'y', 'width', 'height'))


def curve_points(d):
    """Points along an SVG path of M, C and L commands (each cubic sampled)."""
    out, here = [], None
    for cmd, args in re.findall(r'([MCL])([^MCL]*)', d):
        pts = [tuple(float(v) for v in p.split(',')) for p in args.split()]
        if cmd == 'C':
            for i in range(0, len(pts), 3):
                (x1, y1), (x2, y2), (x3, y3) = pts[i:i + 3]
                for k in range(1, 21):
                    t = k / 20
                    a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
                    out.append((a * here[0] + b * x1 + c * x2 + e * x3, a * here[1] + b * y1 + c * y2 + e * y3))
                here = (x3, y3)
        else:
            if cmd == 'L' and here is not None:
                out += [(here[0] + (pts[0][0] - here[0]) * k / 10, here[1] + (pts[0][1] - here[1]) * k / 10)
                        for k in range(1, 11)]
            out.append(pts[0])
            here = pts[0]
    return out


def hidden_svg_texts(svg, data):
    """Every text of the SVG that is cut, wider than its room, or under or over something it must leave visible."""
    boxes = {b['key']: (b['x'], b['y'], b['width'], b['height']) for b in data['boxes']}
    frames = {c['key']: (c['x'], c['y'], c['width'], c['height'], c['scope']) for c in data['clusters']}
    badges = {}
    texts = []  # (owner key, kind, rect, text)
    for g in svg.iter(f'{SVG}g'):
        cls = g.get('class')
        if cls == 'box-group':
            key = g.find(f'{SVG}rect').get('data-key')
            badge = next((r for r in g.iter(f'{SVG}rect') if r.get('class') == 'badge'), None)
            if badge is not None:
                badges[key] = rect_of(badge)
            for t in g.iter(f'{SVG}text'):
                texts.append((key, 'badge' if badge is not None and t.text and overlap(text_rect(t), rect_of(badge))
                              else 'box', text_rect(t), t.text or ''))
        elif cls == 'frame-group':
            key = g.find(f'{SVG}rect').get('data-key')
            texts += [(key, 'title', text_rect(t), t.text or '') for t in g.iter(f'{SVG}text')]
    arrows = [curve_points(g.find(f'{SVG}path').get('d')) for g in svg.iter(f'{SVG}g') if g.get('data-source')]
    heads = [[tuple(float(v) for v in p.split(',')) for p in g.find(f'{SVG}polygon').get('points').split()]
             for g in svg.iter(f'{SVG}g') if g.get('data-source')]
    bad = []
    for key, kind, rect, text in texts:
        room = boxes.get(key) or frames[key][:4]
        if '…' in text or not inside(rect, room if kind != 'title' else (room[0] + 8, room[1], room[2] - 16, room[3])):
            bad.append(f'{text!r} of {key} is cut or wider than its room')
        bad += [f'{text!r} of {key} is under box {k}' for k, r in boxes.items() if k != key and overlap(rect, r)]
        bad += [f'{text!r} of {key} is under the badge of {k}' for k, r in badges.items()
                if kind != 'badge' and overlap(rect, r)]
        if kind == 'title':  # under no other frame (but those that hold it), crossed by no edge
            scope = frames[key][4]
            bad += [f'title {text!r} is under frame {f[4]!r}' for k, f in frames.items()
                    if not (scope + ' / ').startswith(f[4] + ' / ') and overlap(rect, f[:4])]
            x, y, w, h = rect
            bad += [f'title {text!r} is crossed by an edge' for points in arrows + heads
                    if any(x - 0.5 < px < x + w + 0.5 and y - 0.5 < py < y + h + 0.5 for px, py in points)]
    return bad


@pytest.mark.parametrize('name', ['overview', 'head 1', 'tok + pos'])
def test_every_text_is_whole_in_its_room_and_under_nothing(views, name):
    data, svg = views[name]
    assert [t for t in svg.iter(f'{SVG}text')]
    assert hidden_svg_texts(svg, data) == []
