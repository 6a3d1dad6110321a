"""A Layout as SVG text, drawn from the same coordinates the window draws (pure Python, no Graphviz drawing):
frames with their titles, edges with arrowheads, boxes with their labels. Points are SVG user units, y down."""

from xml.sax.saxutils import escape, quoteattr

from engine.graph.geometry import CHAR_WIDTH, scalar_cells
from engine.graph.layout import drawn_edges

COLORS = {'background': '#fbfbfd', 'cluster': '#f1f3f7', 'cluster_border': '#c5ccd6', 'muted': '#555d6b',
          'group': '#e8eef8', 'group_border': '#7b8fb3', 'scalar': '#ffffff', 'scalar_border': '#9aa5b1',
          'text': '#1f2430', 'edge': '#8b95a5'}  # the window's light theme (explorer/theme.py)
FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif'


def fit(text, width, px):
    """`text` as it fits `width` points at font size `px` (CHAR_WIDTH a character at 10 px): its middle elided."""
    room = int(width / (CHAR_WIDTH * px / 10))
    if len(text) <= room:
        return text
    keep = max(room - 1, 2)
    return text[:(keep + 1) // 2] + '…' + text[len(text) - keep // 2:]


def _text(x, y, text, px, anchor='middle', bold=False, color=COLORS['text']):
    weight = ' font-weight="bold"' if bold else ''
    return (f'<text x="{x:.2f}" y="{y:.2f}" font-size="{px}" text-anchor="{anchor}" fill="{color}"{weight}>'
            f'{escape(text)}</text>')


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
    as the window draws them); the picture is the layout's size."""
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
                   + _text(x + 10, y + 15, fit(title, w - 16, 11), 11, 'start', True, c['muted']) + '</g>')
    out.append(f'<g class="edges" fill="none" stroke="{c["edge"]}">')
    for src, dst, count, points, tip in drawn_edges(lay, vg, scopes, weight_edges):
        width = 1.0 if count == 1 else min(4.0, 0.8 + count ** 0.5 / 4)
        head = '' if tip is None else f'<polygon points="{arrowhead(points[-1], tip)}" fill="{c["edge"]}"/>'
        out.append(f'<g data-source={quoteattr(src)} data-target={quoteattr(dst)}>'
                   f'<path d="{edge_path(points, tip)}" stroke-width="{width:.2f}"/>{head}</g>')
    out.append('</g>')
    for box in vg.boxes:
        x, y, w, h = lay.boxes[box.key]
        scalar = box.node >= 0
        out.append(f'<g class="box-group"><title>{escape(scopes[box.scope].path)}: {escape(box.title)}</title>'
                   f'<rect class="box" data-key={quoteattr(box.key)} x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" '
                   f'height="{h:.2f}" rx="5" fill="{c["scalar" if scalar else "group"]}" '
                   f'stroke="{c["scalar_border" if scalar else "group_border"]}"/>')
        if scalar:  # name (from the code) | op | data
            op_x, data_x, _grad_x = scalar_cells(box, w)
            for split in (x + op_x, x + data_x):
                out.append(f'<line x1="{split:.2f}" y1="{y:.2f}" x2="{split:.2f}" y2="{y + h:.2f}" '
                           f'stroke="{c["scalar_border"]}"/>')
            for a, b, label, bold in ((0, op_x, box.title, True), (op_x, data_x, box.op, False),
                                      (data_x, w, box.detail, False)):
                out.append(_text(x + (a + b) / 2, y + h / 2 + 4, fit(label, b - a - 4, 10), 10, bold=bold))
        else:  # name over shape and size
            out.append(_text(x + w / 2, y + h / 2 - 2, fit(box.title, w - 6, 11), 11, bold=True))
            out.append(_text(x + w / 2, y + h / 2 + 12, fit(box.detail, w - 6, 10), 10, color=c['muted']))
        out.append('</g>')
    out.append('</svg>')
    return '\n'.join(out) + '\n'
