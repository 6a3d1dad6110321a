"""The one place that talks to Graphviz: VisibleGraph -> DOT text -> `dot` (pygraphviz) -> Layout.

DOT is built with the `graphviz` package (its quoting, `cluster_*` subgraphs); pygraphviz, whose
wheel carries Graphviz's libraries, lays it out without any system `dot`. The Layout is plain data in
points with y pointing down, for whatever draws it. A layout holds the interpreter for as long as
Graphviz runs (minutes for ~8,000 boxes): the app calls `layout` only in engine.layout_process's child.
"""

import json
from dataclasses import dataclass

import graphviz
import pygraphviz

POINTS_PER_INCH = 72.0
CHAR_WIDTH = 6.6          # points per character of the 10 px UI font, generous
GROUP_HEIGHT = 38.0
SCALAR_HEIGHT = 24.0
SCALAR_WIDTH = 168.0      # op | data | grad


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: dict       # key -> (x, y, w, h): top-left corner and size, points, y down
    edges: tuple      # (source key, target key, count, ((x, y), ...) cubic B-spline points, arrow tip or None)
    clusters: dict    # scope id -> (x, y, w, h, title)
    dot: str          # the DOT text that was laid out


def box_size(box):
    """Width and height (points) a box needs for its text."""
    if box.node >= 0:
        return SCALAR_WIDTH, SCALAR_HEIGHT
    return max(70.0, CHAR_WIDTH * max(len(box.title), len(box.detail)) + 18), GROUP_HEIGHT


def to_dot(vg, rankdir='LR'):
    """DOT text of a VisibleGraph: one node per box (with its size), clusters for open scopes."""
    g = graphviz.Digraph('microgpt', format='svg')
    g.attr(rankdir=rankdir, nodesep='0.18', ranksep='0.45', fontname='Helvetica', fontsize='10',
           compound='false')
    g.attr('node', shape='box', fixedsize='true', fontname='Helvetica', fontsize='9', style='rounded')
    g.attr('edge', arrowsize='0.5')

    def node_stmt(graph, box):
        w, h = box_size(box)
        label = f'{box.title}\n{box.detail}' if box.node < 0 else f'{box.title} | {box.detail}'
        graph.node(box.key, label=label, width=f'{w / POINTS_PER_INCH:.3f}', height=f'{h / POINTS_PER_INCH:.3f}')

    by_key = {b.key: b for b in vg.boxes}
    in_cluster = set()
    children = {}
    for c in vg.clusters:
        children.setdefault(c.parent, []).append(c)

    def add_cluster(parent_graph, cluster):
        with parent_graph.subgraph(name=f'cluster_{cluster.scope}') as sub:
            sub.attr(label=cluster.title, labeljust='l', style='rounded', color='#9aa5b1')
            for key in cluster.boxes:
                node_stmt(sub, by_key[key])
                in_cluster.add(key)
            for child in children.get(cluster.scope, ()):
                add_cluster(sub, child)

    for cluster in children.get(-1, ()):
        add_cluster(g, cluster)
    for box in vg.boxes:
        if box.key not in in_cluster:
            node_stmt(g, box)
    for src, dst, count in vg.edges:
        g.edge(src, dst, **({'penwidth': f'{min(4.0, 0.6 + count ** 0.5 / 4):.2f}'} if count > 1 else {}))
    return g.source


def _points(text):
    return tuple(tuple(float(v) for v in p.split(',')) for p in text.split())


def layout(vg, rankdir='LR'):
    """Lay out a VisibleGraph with Graphviz `dot` in-process."""
    dot = to_dot(vg, rankdir)
    agraph = pygraphviz.AGraph(string=dot)
    out = json.loads(agraph.draw(format='json0', prog='dot'))
    llx, lly, urx, ury = (float(v) for v in out['bb'].split(','))
    flip = lambda x, y: (x - llx, ury - y)  # noqa: E731  Graphviz's y points up

    boxes, clusters, names = {}, {}, {}
    for obj in out.get('objects', ()):
        if 'nodes' in obj or obj['name'].startswith('cluster_'):
            if 'bb' in obj:
                x0, y0, x1, y1 = (float(v) for v in obj['bb'].split(','))
                x, y = flip(x0, y1)
                clusters[int(obj['name'][len('cluster_'):])] = (x, y, x1 - x0, y1 - y0, obj.get('label', ''))
            continue
        cx, cy = (float(v) for v in obj['pos'].split(','))
        w, h = float(obj['width']) * POINTS_PER_INCH, float(obj['height']) * POINTS_PER_INCH
        x, y = flip(cx, cy)
        boxes[obj['name']] = (x - w / 2, y - h / 2, w, h)
        names[obj['_gvid']] = obj['name']

    counts = {(s, d): c for s, d, c in vg.edges}
    edges = []
    for e in out.get('edges', ()):
        src, dst = names[e['tail']], names[e['head']]
        tip, spline = None, e['pos'].split()
        if spline and spline[0].startswith('e,'):
            tip = flip(*(float(v) for v in spline[0][2:].split(',')))
            spline = spline[1:]
        elif spline and spline[0].startswith('s,'):
            spline = spline[1:]
        pts = tuple(flip(x, y) for x, y in _points(' '.join(spline)))
        edges.append((src, dst, counts.get((src, dst), 1), pts, tip))
    return Layout(urx - llx, ury - lly, boxes, tuple(edges), clusters, dot)


def render(dot, fmt):
    """Graphviz's own drawing of DOT text as 'svg' or 'png' bytes (headless export)."""
    return pygraphviz.AGraph(string=dot).draw(format=fmt, prog='dot')
