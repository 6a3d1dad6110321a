"""The one place that talks to Graphviz: VisibleGraph -> Layout (boxes, frames, edge routes).

A view is laid out by composition, so opening a group grows it in place and no Graphviz run is large:
- each open group's inside is laid out on its own, from its direct children only (closed groups and
  scalars as boxes, open subgroups as boxes of their own inner layout's size plus a title band);
- the model level is a fixed arrangement, no Graphviz: the weights in a band at the top (each matrix a
  grid of cells, see `geometry.weight_grid_size`, in the order of the stages that read them), then one
  column per position, pos 0 leftmost, the loss below them at the left; inside a position (and a layer)
  the stages stand top to bottom in order, each stage in a row as tall as its tallest instance, so the
  same stage of every position is aligned and the key/value edges run sideways between columns;
- any other group is a small `dot` run: ranks computed here (longest path over the group's own
  edges), each rank a `rank=same` subgraph chained by invisible flat edges in index order (so heads,
  dot products and scalars come in index order), consecutive ranks chained so their order is fixed;
  a group with no edges inside is a grid in index order, without Graphviz;
- `dot` runs are cached by what they depend on (the sizes of the children and the edges among them),
  so the same structure in another position or view costs nothing;
- an edge is laid out by the group that holds both ends as direct children; one whose end is inside
  an open subgroup, or that crosses the model-level arrangement, is a simple curve between its boxes.
DOT is built with the `graphviz` package; pygraphviz, whose wheel carries Graphviz's libraries, lays
it out without any system `dot`. The Layout is plain data in points with y pointing down. The app
calls `layout` only in engine.graph.layout_process's child, which Esc can kill.
Box sizes, the fixed arrangements and the simple curves are engine.graph.geometry's, the model level's
arrangement engine.graph.overview's; this module composes them and runs `dot`.
"""

import json
import re
from math import ceil
from dataclasses import dataclass, field

import graphviz
import pygraphviz

from engine.graph.geometry import (COLUMN_GAP, COLUMN_PAD, MODEL_TITLE, PAD, STAGE_WIDTH, TITLE, VECTOR_CELL,
                                   VECTOR_TEXT, box_size, column, flow_label_size, frame_title_width, grid_group,
                                   ladder, ladder_corners, route, vector_level, weight_grid_size)
from engine.graph.keys import PARAMS_SCOPE, group_key, is_vector_key, is_weight_box, split_key
from engine.graph.overview import (SEQUENCES, arrange_model, arrange_weights, stage_of_weight, stage_order,
                                   stage_slot)

POINTS_PER_INCH = 72.0
NODESEP, RANKSEP = 0.18, 0.45  # inches, inside dot-laid groups
CACHE_LIMIT = 4000        # dot layouts kept (per process)


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: dict       # key -> (x, y, w, h): top-left corner and size, points, y down
    edges: tuple      # (source key, target key, count, ((x, y), ...) cubic B-spline points, arrow tip or None)
    clusters: dict    # scope id -> (x, y, w, h, title)
    dot: str          # DOT text of the whole view (what "Export DOT" writes)
    runs: tuple = ()  # boxes in each Graphviz run this layout needed (cached runs not counted)
    labels: dict = field(default_factory=dict)  # (source, target) -> (x, y, w, h): room `dot` kept free of boxes
                      # for the label of the gradient a step sends along that edge (edges a group's `dot` run drew)


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
        style = {'style': 'dashed', 'color': '#0c8599'} if (src, dst) in vg.kv_edges else {}  # the KV cache
        g.edge(src, dst, **({'penwidth': f'{min(4.0, 0.6 + count ** 0.5 / 4):.2f}'} if count > 1 else {}), **style)
    return g.source


def _points(text):
    return tuple(tuple(float(v) for v in p.split(',')) for p in text.split())


# One group's inside, by dot: cached by (child sizes, edges among children, rankdir).

_cache = {}
_runs = []   # boxes per Graphviz run since the last take_runs()


def clear_cache():
    """Forget every cached group layout (tests and the bench measure cold layouts with this)."""
    _cache.clear()


def take_runs():
    """The sizes of the Graphviz runs made since the last call, and forget them."""
    out = tuple(_runs)
    _runs.clear()
    return out


def ranks_of(count, edges):
    """Longest-path rank of each of `count` items over edges (i, j); an item in a cycle keeps the
    rank it has when the cycle is reached (index order breaks ties)."""
    succ = [[] for _ in range(count)]
    indeg = [0] * count
    for i, j in edges:
        succ[i].append(j)
        indeg[j] += 1
    rank = [0] * count
    ready = [i for i in range(count) if indeg[i] == 0]
    seen = 0
    done = [False] * count
    while seen < count:
        if not ready:  # a cycle: take the first item not done
            ready = [next(i for i in range(count) if not done[i])]
        ready.sort(reverse=True)
        i = ready.pop()
        if done[i]:
            continue
        done[i] = True
        seen += 1
        for j in succ[i]:
            if not done[j]:
                rank[j] = max(rank[j], rank[i] + 1)
                indeg[j] -= 1
                if indeg[j] == 0:
                    ready.append(j)
    return rank


def dot_group(sizes, edges, rankdir='LR', labels=None):
    """Lay out items of `sizes` [(w, h)] in index order with edges [(i, j)] among them by `dot`:
    (width, height, top-left corners [(x, y)], {(i, j): (spline points, tip, label rect or None)}). `labels`
    {(i, j): (w, h)}: room dot keeps free of items beside an edge, for a label drawn later (a fixed-size
    HTML label, so Graphviz measures no text)."""
    labels = labels or {}
    key = (tuple(sizes), tuple(sorted(set(edges))), rankdir, tuple(sorted(labels.items())))
    hit = _cache.get(key)
    if hit is not None:
        return hit
    sizes, edges = key[0], key[1]
    rank = ranks_of(len(sizes), edges)
    by_rank = {}
    for i, r in enumerate(rank):
        by_rank.setdefault(r, []).append(i)
    g = graphviz.Digraph('group')
    g.attr(rankdir=rankdir, nodesep=str(NODESEP), ranksep=str(RANKSEP), newrank='true')
    g.attr('node', shape='box', fixedsize='true', label='')
    g.attr('edge', arrowsize='0.5')
    for i, (w, h) in enumerate(sizes):
        g.node(f'i{i}', width=f'{w / POINTS_PER_INCH:.4f}', height=f'{h / POINTS_PER_INCH:.4f}')
    for r in sorted(by_rank):
        members = by_rank[r]
        with g.subgraph() as same:
            same.attr(rank='same')
            for i in members:
                same.node(f'i{i}')
            for a, b in zip(members, members[1:]):  # a flat edge puts a before b: index order in the rank
                same.edge(f'i{a}', f'i{b}', style='invis')
    firsts = [by_rank[r][0] for r in sorted(by_rank)]
    for a, b in zip(firsts, firsts[1:]):            # and the ranks stay in their order
        g.edge(f'i{a}', f'i{b}', style='invis', weight='0')
    for i, j in edges:
        if (i, j) in labels:
            w, h = labels[(i, j)]
            g.edge(f'i{i}', f'i{j}', label=f'<<table fixedsize="true" width="{ceil(w)}" height="{ceil(h)}" border="0" '
                   'cellpadding="0" cellspacing="0"><tr><td></td></tr></table>>')
        else:
            g.edge(f'i{i}', f'i{j}')
    _runs.append(len(sizes))
    out = json.loads(pygraphviz.AGraph(string=g.source).draw(format='json0', prog='dot'))
    llx, lly, urx, ury = (float(v) for v in out['bb'].split(','))
    flip = lambda x, y: (x - llx, ury - y)  # noqa: E731  Graphviz's y points up

    corners, index = [None] * len(sizes), {}
    for obj in out.get('objects', ()):
        m = re.fullmatch(r'i(\d+)', obj.get('name', ''))
        if not m or 'pos' not in obj:
            continue
        i = int(m.group(1))
        cx, cy = flip(*(float(v) for v in obj['pos'].split(',')))
        w, h = sizes[i]
        corners[i] = (cx - w / 2, cy - h / 2)
        index[obj['_gvid']] = i
    splines = {}
    for e in out.get('edges', ()):
        if e.get('style') == 'invis' or 'pos' not in e:
            continue
        tip, spline = None, e['pos'].split()
        if spline and spline[0].startswith('e,'):
            tip = flip(*(float(v) for v in spline[0][2:].split(',')))
            spline = spline[1:]
        elif spline and spline[0].startswith('s,'):
            spline = spline[1:]
        pair = (index[e['tail']], index[e['head']])
        label = None
        if pair in labels and 'lp' in e:
            (cx, cy), (w, h) = flip(*(float(v) for v in e['lp'].split(','))), labels[pair]
            label = (cx - w / 2, cy - h / 2, w, h)
        splines[pair] = (tuple(flip(x, y) for x, y in _points(' '.join(spline))), tip, label)
    result = (urx - llx, ury - lly, tuple(corners), splines)
    if len(_cache) >= CACHE_LIMIT:
        _cache.clear()
    _cache[key] = result
    return result


def _vector_rows(vg, out_boxes, drawn):
    """{(source, target): y} for the routed edges into a vector box (q, the keys, the values of an open
    head): they enter its left side, one per row when there are as many as it has rows (the keys of
    pos 0, 1, 2 from the columns of pos 0, 1, 2, left to right), else at its middle. So an arrow into the
    values never seems to come out of the keys above them."""
    into = {}
    for src, dst, _count in vg.edges:
        if is_vector_key(dst) and (src, dst) not in drawn:
            into.setdefault(dst, []).append(src)
    rows = {box.key: max(1, box.rows) for box in vg.boxes if box.key in into}
    out = {}
    for dst, sources in into.items():
        x, y, w, h = out_boxes[dst]
        sources.sort(key=lambda k: out_boxes[k][0])
        for i, src in enumerate(sources):
            r = i if len(sources) == rows[dst] > 1 else None
            out[(src, dst)] = y + VECTOR_TEXT + (r + 0.5) * VECTOR_CELL[1] if r is not None else y + h / 2
    return out


# The composition.

NO_NODE = 1 << 60   # the creation order of an item that shows no scalar: after every other


def layout(vg, rankdir='LR'):
    """Lay out a VisibleGraph by composing small layouts (see the module's docstring)."""
    take_runs()
    return _Composition(vg, rankdir).layout()


class _Composition:
    """One view being laid out: its frames and the items directly in each, in creation order, the
    visible edges given to the frame that holds both their ends, and, filled as they are asked for, each
    item's size and each frame's inner layout, bottom-up, then every corner and route, top-down."""

    def __init__(self, vg, rankdir):
        self.vg, self.rankdir = vg, rankdir
        self.boxes = {b.key: b for b in vg.boxes}
        self.clusters = {c.scope: c for c in vg.clusters}
        self.parent = {}          # key -> the scope of the frame it is directly in, -1: none
        self.items = {-1: []}     # frame scope -> keys directly inside (group keys for frames)
        self._collect_items()
        self._sort_items()
        self.slot_of = {}         # key -> its stage's name path, positions' numbers left out
        self.inner_edges = {}     # frame scope -> {(item a, item b): count}
        self.direct = set()       # visible edges whose both ends are the items themselves
        self._collect_edges()
        self.local = {}           # frame scope -> (width, height, {key: (x, y)} of its items, {(a, b): (points, tip)})
        self.size_of = {}         # key -> (w, h) of the item as its parent sees it
        self.scalar_w = {}        # frame scope -> the width of its scalars: the widest one's, so they line up in columns
        for k, box in self.boxes.items():
            if box.node >= 0:
                self.scalar_w[self.parent[k]] = max(self.scalar_w.get(self.parent[k], 0.0), box_size(box)[0])
        self.weights_scope = next((c.scope for c in vg.clusters if c.title == PARAMS_SCOPE and c.parent < 0), None)
        self.stage_keys = {}      # stage name path -> the keys of its instances
        self.tallest = {}         # stage name path -> the tallest instance's height: the height of that stage's row

    def _collect_items(self):
        parent, items = self.parent, self.items
        for c in self.vg.clusters:
            items.setdefault(c.scope, [])
            items.setdefault(c.parent, []).append(group_key(c.scope))
            parent[group_key(c.scope)] = c.parent
            for key in c.boxes:
                parent[key] = c.scope
                items[c.scope].append(key)
        for b in self.vg.boxes:
            if b.key not in parent:
                parent[b.key] = -1
                items[-1].append(b.key)

    def _sort_items(self):
        """Each frame's items in the order of the first scalar each shows (creation order); a group's
        vector boxes before what it makes, in their order."""
        items, first = self.items, {}
        for node, key in enumerate(self.vg.key_of):
            if key is not None and key not in first:
                first[key] = node
        for c in reversed(self.vg.clusters):              # children after parents: fold frames up
            first[group_key(c.scope)] = min((first.get(x, NO_NODE) for x in items[c.scope]), default=NO_NODE)
        for c in self.vg.clusters:
            vectors = [k for k in items[c.scope] if is_vector_key(k)]
            base = min((first.get(x, NO_NODE) for x in items[c.scope] if not is_vector_key(x)), default=0)
            for i, k in enumerate(vectors):
                first[k] = base - 1 + 0.01 * i
        for scope in items:
            items[scope].sort(key=lambda k: (first.get(k, NO_NODE), k))

    def _collect_edges(self):
        """Each visible edge is laid out by the frame that holds both ends (their lowest common one)."""
        chains = {}
        for src, dst, count in self.vg.edges:
            ca = chains.get(src) or chains.setdefault(src, self.chain(src))
            cb = chains.get(dst) or chains.setdefault(dst, self.chain(dst))
            depth = 0
            while depth < min(len(ca), len(cb)) and ca[depth] == cb[depth]:
                depth += 1
            frame = ca[depth - 1] if depth else -1
            a = group_key(ca[depth]) if depth < len(ca) else src
            b = group_key(cb[depth]) if depth < len(cb) else dst
            pair = self.inner_edges.setdefault(frame, {})
            pair[(a, b)] = pair.get((a, b), 0) + count
            if a == src and b == dst:
                self.direct.add((src, dst))

    def chain(self, k):
        """The scopes of the frames around item k, outermost first."""
        out, parent = [], self.parent
        while k in parent and parent[k] >= 0:
            out.append(parent[k])
            k = group_key(parent[k])
        return out[::-1]

    def title(self, k):
        return self.boxes[k].title if k in self.boxes else self.clusters[split_key(k)[1]].title

    def slot(self, k):
        if k not in self.slot_of:
            up = self.parent[k]
            self.slot_of[k] = (self.slot(group_key(up)) if up >= 0 else ()) + (stage_slot(self.title(k)),)
        return self.slot_of[k]

    def item_size(self, k):
        if k in self.size_of:
            return self.size_of[k]
        if k in self.boxes:
            box, up_scope = self.boxes[k], self.parent[k]
            shape = box.shape if up_scope == self.weights_scope else None
            size = weight_grid_size(*shape) if shape else box_size(box)
            if box.node >= 0:
                size = (self.scalar_w[up_scope], size[1])
            up = self.title(group_key(up_scope)) if up_scope >= 0 else ''
            if SEQUENCES.fullmatch(up) and not shape:  # a position's column is narrow; a layer's inside it.
                cap = STAGE_WIDTH + (2 * COLUMN_PAD if up.startswith('pos ') else 0)  # its stages fill it,
                size = (cap if box.node < 0 else min(size[0], cap), size[1])  # so it reads as one column
        else:
            scope = split_key(k)[1]
            w, h = self.inner(scope)[:2]
            pad = self.frame_pad(scope)
            size = (max(w, frame_title_width(self.title(k))) + 2 * pad, h + self.frame_title(scope) + pad)
        self.size_of[k] = size
        return size

    def frame_pad(self, scope):
        """The model level's frames (weights, positions, layers, loss) have a narrow margin, so the overview
        fits a laptop's window at a readable scale; frames inside a stage keep a wider one."""
        return COLUMN_PAD if self.model_level(scope) else PAD

    def frame_title(self, scope):
        return MODEL_TITLE if self.model_level(scope) else TITLE

    def model_level(self, scope):
        c = self.clusters[scope]
        return c.parent < 0 or bool(SEQUENCES.fullmatch(c.title))

    def instances(self, s):
        if not self.stage_keys:
            for k in self.parent:
                self.stage_keys.setdefault(self.slot(k), []).append(k)
        return self.stage_keys.get(s, [])

    def columns(self):
        """Where each position's column starts, from the model's left (the weights' groups stand over them)."""
        x, out = 0.0, []
        for k in self.items[-1]:
            if self.title(k) not in (PARAMS_SCOPE, 'loss'):
                out.append(x)
                x += self.item_size(k)[0] + COLUMN_GAP
        return out

    def slot_height(self, k):
        s = self.slot(k)
        if s not in self.tallest:
            self.tallest[s] = max(self.item_size(x)[1] for x in self.instances(s))
        return self.tallest[s]

    def inner(self, scope):
        """The layout of a frame's items (scope -1: the model level), relative to its top-left."""
        if scope in self.local:
            return self.local[scope]
        keys = self.items[scope]
        sizes = [self.item_size(k) for k in keys]
        name = self.clusters[scope].title if scope >= 0 else ''
        if scope >= 0 and scope == self.weights_scope:
            stages = [stage_order(stage_of_weight(self.title(k))) for k in keys]
            result = arrange_weights(keys, sizes, stages, self.columns())
        elif scope >= 0 and SEQUENCES.fullmatch(name):
            result = column(keys, sizes, [self.slot_height(k) for k in keys])
        elif scope < 0:
            result = arrange_model(keys, sizes, [self.title(k) for k in keys])
        elif any(is_vector_key(k) for k in keys):
            result = vector_level(keys, sizes, down=not name.startswith('head '))
        else:
            result = self._group(scope, keys, sizes, name)
        self.local[scope] = result
        return result

    def _group(self, scope, keys, sizes, name):
        """Any other group: a grid, the loss's column, a dot product's ladder, or a dot run."""
        index = {k: i for i, k in enumerate(keys)}
        edges = [(index[a], index[b]) for a, b in self.inner_edges.get(scope, {})]
        if not edges:
            w, h, corners, _ = grid_group(sizes)
            return w, h, dict(zip(keys, corners)), {}
        if name == 'loss' and self.clusters[scope].parent < 0:  # the sum above the loss, left-aligned
            return column(keys, sizes, [sz[1] for sz in sizes])
        if (rows := ladder(len(keys), edges)) is not None:  # a dot product: terms and running sums
            return ladder_corners(keys, sizes, rows)
        counts = self.inner_edges.get(scope, {})
        labels = {(index[a], index[b]): flow_label_size(c) for (a, b), c in counts.items()}  # (also room for those
        # routed into an open subgroup, which run through the same gap)
        w, h, corners, splines = dot_group(sizes, edges, self.rankdir, labels)
        drawn = {(keys[i], keys[j]): s for (i, j), s in splines.items() if (keys[i], keys[j]) in self.direct}
        return w, h, dict(zip(keys, corners)), drawn

    def place(self, scope, ox, oy, out_boxes, out_clusters, out_edges, out_labels):
        """Top-down: the absolute corners of a frame's items at (ox, oy), and the edges it drew."""
        w, h, corners, splines = self.inner(scope)
        for k, (x, y) in corners.items():
            if k in self.boxes:
                bw, bh = self.size_of[k]
                out_boxes[k] = (ox + x, oy + y, bw, bh)
            else:
                s = split_key(k)[1]
                fw, fh = self.size_of[k]
                out_clusters[s] = (ox + x, oy + y, fw, fh, self.clusters[s].title)
                self.place(s, ox + x + self.frame_pad(s), oy + y + self.frame_title(s), out_boxes, out_clusters,
                           out_edges, out_labels)
        counts = self.inner_edges.get(scope, {})
        for (a, b), (pts, tip, label) in splines.items():
            out_edges.append((a, b, counts[(a, b)], tuple((p[0] + ox, p[1] + oy) for p in pts),
                              (tip[0] + ox, tip[1] + oy) if tip else None))
            if label is not None:
                out_labels[(a, b)] = (label[0] + ox, label[1] + oy, label[2], label[3])

    def layout(self):
        vg = self.vg
        out_boxes, out_clusters, out_edges, out_labels = {}, {}, [], {}
        width, height = self.inner(-1)[:2]
        self.place(-1, 0.0, 0.0, out_boxes, out_clusters, out_edges, out_labels)
        drawn = {(a, b) for a, b, *_ in out_edges}
        rows_in = _vector_rows(vg, out_boxes, drawn)
        for src, dst, count in vg.edges:
            if (src, dst) not in drawn:
                pts, tip = route(out_boxes[src], out_boxes[dst], rows_in.get((src, dst)))
                out_edges.append((src, dst, count, pts, tip))
        return Layout(width, height, out_boxes, tuple(out_edges), out_clusters, to_dot(vg, self.rankdir), take_runs(),
                      out_labels)


def order_flips(before, after):
    """Pairs of boxes or frames in both Layouts, one of which was wholly left of (or above) the other in
    `before` and is not any more in `after`; 0 when a view grew in place."""
    def rects(lay):
        out = dict(lay.boxes)
        out.update({group_key(s): r[:4] for s, r in lay.clusters.items()})
        return out

    def side(a, b, axis):
        if a[axis] + a[axis + 2] <= b[axis] + 0.5:
            return -1
        if b[axis] + b[axis + 2] <= a[axis] + 0.5:
            return 1
        return 0
    a, b = rects(before), rects(after)
    keys = sorted(a.keys() & b.keys())
    flips = 0
    for i, p in enumerate(keys):
        for q in keys[i + 1:]:
            for axis in (0, 1):
                was = side(a[p], a[q], axis)
                if was and side(b[p], b[q], axis) != was:
                    flips += 1
    return flips


def drawn_edges(lay, vg, scopes, weight_edges=False):
    """The edges the window draws: without those out of the weights unless `weight_edges` (the grids and
    the badges on the boxes that read them say the same thing without ~60 long edges)."""
    if weight_edges:
        return lay.edges
    weights = {b.key for b in vg.boxes if is_weight_box(b, scopes)}
    return tuple(e for e in lay.edges if e[0] not in weights)


def as_json(lay, vg, scopes, weight_edges=False):
    """The layout as the window draws it, as plain JSON-able data: boxes, edges and frames, each box
    and frame with its scope path (`scopes`: the trace's Scope list), x and y its top-left corner.
    A weight matrix is a box with scope `params / <name>` (the window draws it as a grid of cells);
    edges out of weights are left out unless `weight_edges`, as the window leaves them out. A box
    with cells (a closed group's output strip, a vector box) lists their names (and rows); `kv_edges`
    are the edges that carry keys and values of the KV cache into a later position."""
    def rect(x, y, w, h):
        return {'x': round(x, 2), 'y': round(y, 2), 'width': round(w, 2), 'height': round(h, 2)}
    return {
        'boxes': [{'key': b.key, 'scope': scopes[b.scope].path, 'label': b.title, **rect(*lay.boxes[b.key]),
                   **({'cells': [name for _, name, _ in b.cells], 'rows': b.rows} if b.cells else {})}
                  for b in vg.boxes],
        'edges': [{'source': s, 'target': d, 'count': c} for s, d, c, *_ in drawn_edges(lay, vg, scopes, weight_edges)],
        'kv_edges': [{'source': s, 'target': d} for s, d in sorted(vg.kv_edges)],
        'clusters': [{'key': group_key(scope), 'scope': scopes[scope].path, 'title': r[4], **rect(*r[:4])}
                     for scope, r in sorted(lay.clusters.items())],
        'width': round(lay.width, 2), 'height': round(lay.height, 2),
    }


def render(dot, fmt):
    """Graphviz's own drawing of DOT text as 'svg' or 'png' bytes (headless export)."""
    return pygraphviz.AGraph(string=dot).draw(format=fmt, prog='dot')
