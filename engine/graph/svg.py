"""A Layout as SVG text, drawn from the same coordinates the window draws (pure Python, no Graphviz drawing):
frames with their titles, edges with arrowheads, boxes with their labels. Points are SVG user units, y down."""

from xml.sax.saxutils import escape, quoteattr

from engine.graph.geometry import (FRAME_TITLE_X, FRAME_TITLE_Y, GRID_LABEL, LABEL_PX, TEXT_MARGIN, TITLE_PX,
                                   badge_rect, badge_text, grid_geometry, group_lines, scalar_cells, vector_lines)
from engine.graph.keys import is_weight_box
from engine.graph.layout import drawn_edges
from engine.graph.text import FONT_FAMILY, ascent, elide_middle, line_height
from engine.trace import short_param_name

COLORS = {'background': '#fbfbfd', 'cluster': '#f1f3f7', 'cluster_border': '#c5ccd6', 'muted': '#555d6b',
          'group': '#e8eef8', 'group_border': '#7b8fb3', 'scalar': '#ffffff', 'scalar_border': '#9aa5b1',
          'text': '#1f2430', 'edge': '#8b95a5', 'param': '#fbf1dc', 'param_border': '#b99752',
          'kv': '#0c8599'}  # the window's light theme (explorer/theme.py)
FONT = f'{FONT_FAMILY}, Verdana, sans-serif'  # the font engine.graph.text measures (Verdana is as wide)


def fit(text, width, px, bold=False):
    """`text` as it fits `width` points at font size `px`, measured in the font the SVG names: whole (every box
    and frame is sized for its text), else its middle elided (a scalar's long name: both ends kept)."""
    return elide_middle(text, width, px, bold)


def _text(x, y, text, px, anchor='middle', bold=False, color=COLORS['text']):
    weight = ' font-weight="bold"' if bold else ''
    return (f'<text x="{x:.2f}" y="{y:.2f}" font-size="{px}" text-anchor="{anchor}" fill="{color}"{weight}>'
            f'{escape(text)}</text>')


def _line(rect, text, px, bold=False, color=COLORS['text'], anchor='middle', margin=TEXT_MARGIN):
    """Text in a line's rectangle (x, y, w, h), as Qt draws it there: centred (or from the left), its line
    centred vertically, `margin` kept free at either end."""
    x, y, w, h = rect
    baseline = y + (h - line_height(px)) / 2 + ascent(px)
    shown = fit(text, w - 2 * margin, px, bold)
    return _text(x + w / 2 if anchor == 'middle' else x, baseline, shown, px, anchor, bold, color)


def edge_path(points, tip):
    """SVG path data of an edge's cubic B-spline (Graphviz's points), then a line to its arrow tip."""
    (x0, y0), rest = points[0], points[1:]
    d = [f'M{x0:.2f},{y0:.2f}']
    for i in range(0, len(rest) - 2, 3):
        d.append('C' + ' '.join(f'{x:.2f},{y:.2f}' for x, y in rest[i:i + 3]))
    if tip is not None:
        d.append(f'L{tip[0]:.2f},{tip[1]:.2f}')
    return ' '.join(d)


def arrowhead(end, tip):
    """The arrowhead polygon at `tip`, pointing from `end` (6 points long, 6 wide), as in the window."""
    dx, dy = tip[0] - end[0], tip[1] - end[1]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    tx, ty = tip
    corners = ((tx, ty), (tx - 6 * ux + 3 * uy, ty - 6 * uy - 3 * ux), (tx - 6 * ux - 3 * uy, ty - 6 * uy + 3 * ux))
    return ' '.join(f'{x:.2f},{y:.2f}' for x, y in corners)


def to_svg(lay, vg, scopes, weight_edges=False):
    """SVG text of layout `lay` of VisibleGraph `vg` (`scopes`: the trace's Scope list, for frame tooltips):
    every box a <rect class="box" data-key=…> at its layout rectangle, every frame a <rect class="frame">
    with its title, every edge a path with an arrowhead (those out of the weights only with `weight_edges`,
    as the window draws them); the picture is the layout's size. Labels are where the window draws them."""
    c = COLORS
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.2f}" height="{lay.height:.2f}" '
           f'viewBox="0 0 {lay.width:.2f} {lay.height:.2f}" font-family="{FONT}">',
           f'<rect width="100%" height="100%" fill="{c["background"]}"/>']
    # Frames: outer ones first (they are larger), so an inner frame is drawn over its parent.
    for scope, (x, y, w, h, title) in sorted(lay.clusters.items(), key=lambda kv: -kv[1][2] * kv[1][3]):
        out.append(f'<g class="frame-group"><title>{escape(scopes[scope].path)}</title>'
                   f'<rect class="frame" data-key="g{scope}" x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" '
                   f'height="{h:.2f}" rx="7" fill="{c["cluster"]}" stroke="{c["cluster_border"]}"/>'
                   + _text(x + FRAME_TITLE_X, y + FRAME_TITLE_Y + ascent(TITLE_PX),
                           fit(title, w - 2 * FRAME_TITLE_X, TITLE_PX, True), TITLE_PX, 'start', True, c['muted'])
                   + '</g>')
    out.append(f'<g class="edges" fill="none" stroke="{c["edge"]}">')
    for src, dst, count, points, tip in drawn_edges(lay, vg, scopes, weight_edges):
        width = 1.0 if count == 1 else min(4.0, 0.8 + count ** 0.5 / 4)
        kv = (src, dst) in vg.kv_edges
        color = c['kv'] if kv else c['edge']
        style = f' stroke="{color}" stroke-dasharray="4 3"' if kv else ''
        head = '' if tip is None else f'<polygon points="{arrowhead(points[-1], tip)}" fill="{color}" stroke="none"/>'
        out.append(f'<g data-source={quoteattr(src)} data-target={quoteattr(dst)}>'
                   f'<path d="{edge_path(points, tip)}" stroke-width="{width:.2f}"{style}/>{head}</g>')
    out.append('</g>')
    for box in vg.boxes:
        out.append(_box(box, lay.boxes[box.key], scopes))
    out.append('</svg>')
    return '\n'.join(out) + '\n'


def _box(box, rect, scopes):
    """A box with its labels: a weight matrix as its grid under its short name, a scalar as name | op | data |
    grad, a group's title (beside its badge) over its detail, a vector box's two lines above its cells."""
    c = COLORS
    x, y, w, h = rect
    head = f'<g class="box-group"><title>{escape(scopes[box.scope].path)}: {escape(box.title)}</title>'
    if box.shape and is_weight_box(box, scopes):  # a weight matrix: its grid of cells, its name above
        _, across, down, cw, ch = grid_geometry(*box.shape)
        return (head + f'<rect class="box" data-key={quoteattr(box.key)} x="{x:.2f}" y="{y + GRID_LABEL:.2f}" '
                f'width="{across * cw:.2f}" height="{down * ch:.2f}" fill="{c["param"]}" stroke="{c["param_border"]}" '
                f'stroke-width="0.8"/>' + _line((x, y, max(w, 40.0), GRID_LABEL), short_param_name(box.title),
                                                  LABEL_PX, anchor='start') + '</g>')
    scalar = box.node >= 0
    out = [head + f'<rect class="box" data-key={quoteattr(box.key)} x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" '
           f'height="{h:.2f}" rx="5" fill="{c["scalar" if scalar else "group"]}" '
           f'stroke="{c["scalar_border" if scalar else "group_border"]}"/>']
    if scalar:  # name (from the code) | op | data | grad
        op_x, data_x, grad_x = scalar_cells(box, w)
        for split in (op_x, data_x, grad_x):
            out.append(f'<line x1="{x + split:.2f}" y1="{y:.2f}" x2="{x + split:.2f}" y2="{y + h:.2f}" '
                       f'stroke="{c["scalar_border"]}"/>')
        for a, b, label, px, bold in ((0, op_x, box.title, TITLE_PX, True), (op_x, data_x, box.op, LABEL_PX, False),
                                      (data_x, grad_x, box.detail, LABEL_PX, False)):
            if bold and fit(label, b - a - 4, px, True) != label:
                px, bold = LABEL_PX, False  # a long name steps down to 10 px before it loses its middle
            out.append(_line((x + a, y, b - a, h), label, px, bold, margin=2.0))
    elif box.is_vector:
        (tx, ty, tw, th), (dx, dy, dw, dh) = vector_lines(w)
        out.append(_line((x + tx, y + ty, tw, th), box.title, TITLE_PX, True))
        out.append(_line((x + dx, y + dy, dw, dh), box.detail, LABEL_PX, color=c['muted']))
    else:  # name over shape and size
        title, detail = group_lines(box, w, h)
        out.append(_line((x + title[0], y + title[1], title[2], title[3]), box.title, TITLE_PX, True))
        out.append(_line((x + detail[0], y + detail[1], detail[2], detail[3]), box.detail, LABEL_PX, color=c['muted']))
    badge = badge_rect(box, w, h)
    if badge is not None:  # the matrices it reads, beside its title
        bx, by, bw, bh = badge
        out.append(f'<rect class="badge" x="{x + bx:.2f}" y="{y + by:.2f}" width="{bw:.2f}" height="{bh:.2f}" rx="4" '
                   f'fill="{c["param"]}" stroke="{c["param_border"]}"/>'
                   + _line((x + bx, y + by, bw, bh), badge_text(box), LABEL_PX, margin=0.0))
    out.append('</g>')
    return ''.join(out)
