"""The one place that talks to Graphviz: VisibleGraph -> Layout (boxes, frames, edge routes).

A view is laid out by composition, so opening a group grows it in place and no Graphviz run is large:
- each open group's inside is laid out on its own, from its direct children only (closed groups and
  scalars as boxes, open subgroups as boxes of their own inner layout's size plus a title band);
- the model level is a fixed arrangement, no Graphviz: the weights in a band at the top (each matrix
  a grid of cells, see `weight_grid`, in the order of the stages that read them), then one column per
  position, pos 0 leftmost, the loss below them at the left; inside a position (and a layer) the
  stages stand top to bottom in order, each stage in a row as tall as its tallest instance, so the
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
"""

import json
import re
from dataclasses import dataclass

import graphviz
import pygraphviz

POINTS_PER_INCH = 72.0
CHAR_WIDTH = 6.6          # points per character of the 10 px UI font, generous
GROUP_HEIGHT = 38.0
SCALAR_HEIGHT = 24.0
SCALAR_WIDTH = 168.0      # the narrowest scalar box: name | op | data | grad
SCALAR_NAME = (34.0, 98.0)  # a name cell's least and most width: 'q[15]·keys[4][15]' whole at 10 px, longer
                            # names lose their middle
SCALAR_DATA, SCALAR_GRAD = 52.0, 50.0  # data ('-12.3456', 4 decimals) and grad in their cells
STRIP_TEXT = 30.0         # a group box with a strip: its two lines (title, detail) above the strip
STRIP_HEIGHT = 9.0        # a closed group's output vector, a strip of cells under its two lines
STRIP_ROOM = 12.0         # the strip and the margin under it: a box with a strip is STRIP_TEXT + this
MIN_CELL = 4.0            # the narrowest cell of a strip: a box is widened so every cell gets this much
VECTOR_CELL = (16.0, 12.0)  # a vector box's cells (width, height)
VECTOR_TEXT = 30.0        # a vector box's two lines above its cells
VECTOR_WRAP = 16          # a vector box shows a long vector (fc1's 64) in lines of this many cells

PAD = 10.0                # inside an open group's frame, around its content
TITLE = 22.0              # the band at the top of a frame that holds its title
MODEL_TITLE = 15.0        # the same at the model level (weights, positions, layers, loss): one 11 px line
STAGE_GAP = 8.0           # between the stages of a position, top to bottom (room for the arrows)
COLUMN_PAD = 4.0          # inside a position's or a layer's frame, left, right and bottom: columns stay narrow
COLUMN_GAP = 8.0          # between positions' columns
ROW_GAP = 7.0             # between the weights, the positions and the loss
STAGE_WIDTH = 140.0       # a stage box in a position's column is at most this wide (its text is shorter)
CELL = 2.0                # a weight grid's cell (points): attention's four 16×16 grids fit a position's column
GRID_LABEL = 11.0         # the band above a weight grid that holds its name
MAX_GRID_WIDTH = 70.0     # a wider matrix (fc1's 64 columns) gets narrower cells: fc1 and fc2 fit a column
GRID_GAP_IN, GRID_GAP_OUT = 5.0, 16.0  # between grids read by one stage, and between stages' groups
GRID_ROWS = 16            # a group without edges inside: columns of this many boxes
GRID_GAP = (16.0, 8.0)
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


def scalar_cells(box, width=None):
    """Where a scalar box's op, data and grad cells start (points from its left), in a box `width` wide
    (the width box_size gives it by default): the name gets what its text needs, the op ('+', '**-0.5')
    what its text needs, data and grad fixed widths from the right; any extra width goes to the name."""
    name_w = min(SCALAR_NAME[1], max(SCALAR_NAME[0], CHAR_WIDTH * len(box.title) + 8))
    op_w = max(16.0, CHAR_WIDTH * len(box.op) + 6)
    if width is None:
        width = max(SCALAR_WIDTH, name_w + op_w + SCALAR_DATA + SCALAR_GRAD)
    grad = width - SCALAR_GRAD
    return grad - SCALAR_DATA - op_w, grad - SCALAR_DATA, grad


def box_size(box):
    """Width and height (points) a box needs for its text."""
    if box.node >= 0:
        op_x, data_x, grad_x = scalar_cells(box)
        return grad_x + SCALAR_GRAD, SCALAR_HEIGHT
    text = CHAR_WIDTH * max(len(box.title), len(box.detail)) + 18
    if box.key[0] == 'v':   # a vector box: its cells in rows under its name
        cols, lines = vector_grid(box)
        return max(70.0, text, cols * VECTOR_CELL[0] + 16), VECTOR_TEXT + lines * VECTOR_CELL[1] + 8
    if box.cells:           # a closed group: room for the strip of its output vector
        return max(70.0, text, len(box.cells) * MIN_CELL + 18), STRIP_TEXT + STRIP_ROOM
    return max(70.0, text), GROUP_HEIGHT


def vector_grid(box):
    """(columns, lines) of a vector box's cells: a row per position (the KV cache's keys), or a long
    vector in lines of VECTOR_WRAP."""
    n, rows = len(box.cells), max(1, box.rows)
    cols = max(1, n // rows)
    if rows == 1 and cols > VECTOR_WRAP:
        cols = VECTOR_WRAP
    return cols, -(-n // cols)


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


def dot_group(sizes, edges, rankdir='LR'):
    """Lay out items of `sizes` [(w, h)] in index order with edges [(i, j)] among them by `dot`:
    (width, height, top-left corners [(x, y)], {(i, j): (spline points, tip)})."""
    key = (tuple(sizes), tuple(sorted(set(edges))), rankdir)
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
        splines[(index[e['tail']], index[e['head']])] = (tuple(flip(x, y) for x, y in _points(' '.join(spline))), tip)
    result = (urx - llx, ury - lly, tuple(corners), splines)
    if len(_cache) >= CACHE_LIMIT:
        _cache.clear()
    _cache[key] = result
    return result


def grid_group(sizes):
    """Items with no edges among them in columns of GRID_ROWS, in index order down each column."""
    corners, x, width, height = [], 0.0, 0.0, 0.0
    for start in range(0, len(sizes), GRID_ROWS):
        column = sizes[start:start + GRID_ROWS]
        y = 0.0
        colw = max(w for w, _ in column)
        for w, h in column:
            corners.append((x + (colw - w) / 2, y))
            y += h + GRID_GAP[1]
        height = max(height, y - GRID_GAP[1])
        width = x + colw
        x += colw + GRID_GAP[0]
    return width, height, tuple(corners), {}


# Simple routes for edges no group layout drew: between two boxes anywhere in the picture.

FLOW_X = 0.35   # vertical edges leave and enter a box this far along its width (its top right holds a badge)
KV_LIFT = 17.0  # and run this far above them: over the frame titles (MODEL_TITLE), under the stage above
KV_X = 0.43     # key/value arcs between positions' columns leave and enter tops here: between the frame's
                # title at the left and the badge at the right


def route(a, b, into_y=None):
    """A cubic curve from box a to box b (x, y, w, h): (points, tip). With `into_y` (b a vector box an open
    head reads, a to its left) the curve enters b's left side at that height: the row it fills."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    if into_y is not None and bx >= ax + aw + 6:
        p0, tip = (ax + aw, ay + ah / 2), (bx, into_y)
        d = max(18.0, (tip[0] - p0[0]) / 2)
        p3 = (tip[0] - 5, tip[1])
        return (p0, (p0[0] + d, p0[1]), (p3[0] - d, p3[1]), p3), tip
    if bx >= ax + aw + 6 and abs(ay - by) < 1:  # the same stage of a later position: a bus over the tops,
        p0, tip = (ax + KV_X * aw, ay), (bx + KV_X * bw, by)  # above the frames' titles, below the row above
        top = ay - KV_LIFT - min(4.5, 1.5 * int((tip[0] - p0[0]) / max(aw, 1.0) - 0.5))  # farther: higher
        p3 = (tip[0], tip[1] - 5)
        a, b = (p0[0] + 6, top), (p3[0] - 6, top)  # up, across, down
        return (p0, (p0[0], top), (p0[0], top), a, a, b, b, (p3[0], top), (p3[0], top), p3), tip
    if by >= ay + ah + 6:        # below: out of the bottom, into the top
        p0, tip = (ax + FLOW_X * aw, ay + ah), (bx + FLOW_X * bw, by)
        d = max(6.0, (tip[1] - p0[1]) / 2)
        p3 = (tip[0], tip[1] - 5)
        return (p0, (p0[0], p0[1] + d), (p3[0], p3[1] - d), p3), tip
    if bx >= ax + aw + 6:        # b to the right: out of a's right side, into b's left side
        p0, tip = (ax + aw, ay + ah / 2), (bx, by + bh / 2)
        d = max(18.0, (tip[0] - p0[0]) / 2)
        p3 = (tip[0] - 5, tip[1])
        return (p0, (p0[0] + d, p0[1]), (p3[0] - d, p3[1]), p3), tip
    if by + bh + 6 <= ay:        # above: out of the top, into the bottom
        p0, tip = (ax + aw / 2, ay), (bx + bw / 2, by + bh)
        d = max(18.0, (p0[1] - tip[1]) / 2)
        p3 = (tip[0], tip[1] + 5)
        return (p0, (p0[0], p0[1] - d), (p3[0], p3[1] + d), p3), tip
    p0, tip = (ax + aw, ay + ah / 2), (bx, by + bh / 2)   # behind: a loop round
    p3 = (tip[0] - 5, tip[1])
    return (p0, (p0[0] + 60, p0[1] + 40), (p3[0] - 60, p3[1] + 40), p3), tip


def _vector_rows(vg, out_boxes, drawn):
    """{(source, target): y} for the routed edges into a vector box (q, the keys, the values of an open
    head): they enter its left side, one per row when there are as many as it has rows (the keys of
    pos 0, 1, 2 from the columns of pos 0, 1, 2, left to right), else at its middle. So an arrow into the
    values never seems to come out of the keys above them."""
    into = {}
    for src, dst, _count in vg.edges:
        if dst[0] == 'v' and (src, dst) not in drawn:
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

SEQUENCES = re.compile(r'(pos \d+|layer \d+)$')  # stages in a column, aligned across positions
PARAMS = 'params'


def _slot(title):
    """What makes two items the same stage: their title, without the position's number."""
    return 'pos' if re.fullmatch(r'pos \d+', title) else title


def layout(vg, rankdir='LR'):
    """Lay out a VisibleGraph by composing small layouts (see the module's docstring)."""
    take_runs()
    boxes = {b.key: b for b in vg.boxes}
    clusters = {c.scope: c for c in vg.clusters}
    parent = {}                                  # key -> the scope of the frame it is directly in, -1: none
    items = {-1: []}                             # frame scope -> keys directly inside ('g<scope>' for frames)
    for c in vg.clusters:
        items.setdefault(c.scope, [])
        items.setdefault(c.parent, []).append(f'g{c.scope}')
        parent[f'g{c.scope}'] = c.parent
        for key in c.boxes:
            parent[key] = c.scope
            items[c.scope].append(key)
    for b in vg.boxes:
        if b.key not in parent:
            parent[b.key] = -1
            items[-1].append(b.key)
    first = {}                                   # key -> the first scalar it shows: creation order
    for node, key in enumerate(vg.key_of):
        if key is not None and key not in first:
            first[key] = node
    for c in reversed(vg.clusters):              # children after parents: fold frames up
        k = f'g{c.scope}'
        first[k] = min((first.get(x, 1 << 60) for x in items[c.scope]), default=1 << 60)
    for c in vg.clusters:                        # a group's vector boxes come before what it makes, in order
        vectors = [k for k in items[c.scope] if k[0] == 'v']
        base = min((first.get(x, 1 << 60) for x in items[c.scope] if x[0] != 'v'), default=0)
        for i, k in enumerate(vectors):
            first[k] = base - 1 + 0.01 * i
    for scope in items:
        items[scope].sort(key=lambda k: (first.get(k, 1 << 60), k))

    def title(k):
        return boxes[k].title if k in boxes else clusters[int(k[1:])].title

    slot_of = {}                                 # key -> its stage's name path, positions' numbers left out

    def slot(k):
        if k not in slot_of:
            up = parent[k]
            slot_of[k] = (slot(f'g{up}') if up >= 0 else ()) + (_slot(title(k)),)
        return slot_of[k]

    # Item edges: each visible edge is laid out by the frame that holds both ends (their lowest common one).
    def chain(k):
        out = []
        while k in parent and parent[k] >= 0:
            out.append(parent[k])
            k = f'g{parent[k]}'
        return out[::-1]

    chains = {}
    inner_edges = {}                              # frame scope -> {(item a, item b): count}
    direct = set()                                # visible edges whose both ends are the items themselves
    for src, dst, count in vg.edges:
        ca = chains.get(src) or chains.setdefault(src, chain(src))
        cb = chains.get(dst) or chains.setdefault(dst, chain(dst))
        depth = 0
        while depth < min(len(ca), len(cb)) and ca[depth] == cb[depth]:
            depth += 1
        frame = ca[depth - 1] if depth else -1
        a = f'g{ca[depth]}' if depth < len(ca) else src
        b = f'g{cb[depth]}' if depth < len(cb) else dst
        pair = inner_edges.setdefault(frame, {})
        pair[(a, b)] = pair.get((a, b), 0) + count
        if a == src and b == dst:
            direct.add((src, dst))

    local = {}    # frame scope -> (width, height, {key: (x, y)} of its items, {(a, b): (points, tip)})
    size_of = {}  # key -> (w, h) of the item as its parent sees it
    scalar_w = {}  # frame scope -> the width of its scalars: the widest one's, so they line up in columns
    for k, box in boxes.items():
        if box.node >= 0:
            scalar_w[parent[k]] = max(scalar_w.get(parent[k], 0.0), box_size(box)[0])

    def item_size(k):
        if k not in size_of:
            if k in boxes:
                shape = weight_shape(boxes[k]) if parent[k] == weights_scope else None
                size_of[k] = weight_grid_size(*shape) if shape else box_size(boxes[k])
                if boxes[k].node >= 0:
                    size_of[k] = (scalar_w[parent[k]], size_of[k][1])
                up = title(f'g{parent[k]}') if parent[k] >= 0 else ''
                if SEQUENCES.fullmatch(up) and not shape:  # a position's column is narrow; a layer's inside it
                    cap = STAGE_WIDTH + (2 * COLUMN_PAD if up.startswith('pos ') else 0)
                    size_of[k] = (min(size_of[k][0], cap), size_of[k][1])
            else:
                w, h = inner(int(k[1:]))[:2]
                pad = frame_pad(int(k[1:]))
                size_of[k] = (max(w, CHAR_WIDTH * len(title(k)) + 16) + 2 * pad, h + frame_title(int(k[1:])) + pad)
        return size_of[k]

    def frame_pad(scope):
        """The model level's frames (weights, positions, layers, loss) have a narrow margin, so the overview
        fits a laptop's window at a readable scale; frames inside a stage keep a wider one."""
        return COLUMN_PAD if model_level(scope) else PAD

    def frame_title(scope):
        return MODEL_TITLE if model_level(scope) else TITLE

    def model_level(scope):
        c = clusters[scope]
        return c.parent < 0 or bool(SEQUENCES.fullmatch(c.title))

    weights_scope = next((c.scope for c in vg.clusters if c.title == PARAMS and c.parent < 0), None)
    stage_keys = {}

    def instances(s):
        if not stage_keys:
            for k in parent:
                stage_keys.setdefault(slot(k), []).append(k)
        return stage_keys.get(s, [])

    def columns():
        """Where each position's column starts, from the model's left (the weights' groups stand over them)."""
        x, out = 0.0, []
        for k in items[-1]:
            if title(k) not in (PARAMS, 'loss'):
                out.append(x)
                x += item_size(k)[0] + COLUMN_GAP
        return out

    tallest = {}  # stage name path -> the tallest instance's height: the height of that stage's row

    def slot_height(k):
        s = slot(k)
        if s not in tallest:
            tallest[s] = max(item_size(x)[1] for x in instances(s))
        return tallest[s]

    def inner(scope):
        if scope in local:
            return local[scope]
        keys = items[scope]
        sizes = [item_size(k) for k in keys]
        name = clusters[scope].title if scope >= 0 else ''
        if scope >= 0 and scope == weights_scope:
            result = _weights(keys, sizes, [_stage_order(_stage_of_weight(title(k))) for k in keys], columns())
        elif scope >= 0 and SEQUENCES.fullmatch(name):
            result = _column(keys, sizes, [slot_height(k) for k in keys])
        elif scope < 0:
            result = _model(keys, sizes, [title(k) for k in keys])
        elif any(k[0] == 'v' for k in keys):
            result = _vector_level(keys, sizes, down=not name.startswith('head '))
        else:
            index = {k: i for i, k in enumerate(keys)}
            pairs = inner_edges.get(scope, {})
            edges = [(index[a], index[b]) for a, b in pairs]
            if not edges:
                w, h, corners, _ = grid_group(sizes)
                result = (w, h, dict(zip(keys, corners)), {})
            elif name == 'loss' and clusters[scope].parent < 0:  # the sum above the loss, left-aligned
                result = _column(keys, sizes, [sz[1] for sz in sizes])
            elif (rows := ladder(len(keys), edges)) is not None:  # a dot product: terms and running sums
                result = _ladder(keys, sizes, rows)
            else:
                w, h, corners, splines = dot_group(sizes, edges, rankdir)
                drawn = {(keys[i], keys[j]): s for (i, j), s in splines.items()
                         if (keys[i], keys[j]) in direct}
                result = (w, h, dict(zip(keys, corners)), drawn)
        local[scope] = result
        return result

    # Top-down: absolute corners.
    out_boxes, out_clusters, out_edges = {}, {}, []
    shift = lambda p, dx, dy: (p[0] + dx, p[1] + dy)  # noqa: E731

    def place(scope, ox, oy):
        w, h, corners, splines = inner(scope)
        for k, (x, y) in corners.items():
            if k in boxes:
                bw, bh = size_of[k]
                out_boxes[k] = (ox + x, oy + y, bw, bh)
            else:
                s = int(k[1:])
                fw, fh = size_of[k]
                out_clusters[s] = (ox + x, oy + y, fw, fh, clusters[s].title)
                place(s, ox + x + frame_pad(s), oy + y + frame_title(s))
        counts = inner_edges.get(scope, {})
        for (a, b), (pts, tip) in splines.items():
            out_edges.append((a, b, counts[(a, b)], tuple(shift(p, ox, oy) for p in pts),
                              shift(tip, ox, oy) if tip else None))

    width, height = inner(-1)[:2]
    place(-1, 0.0, 0.0)
    drawn = {(a, b) for a, b, *_ in out_edges}
    rows_in = _vector_rows(vg, out_boxes, drawn)
    for src, dst, count in vg.edges:
        if (src, dst) not in drawn:
            pts, tip = route(out_boxes[src], out_boxes[dst], rows_in.get((src, dst)))
            out_edges.append((src, dst, count, pts, tip))
    return Layout(width, height, out_boxes, tuple(out_edges), out_clusters, to_dot(vg, rankdir), take_runs())


def _stage_of_weight(name):
    """The stage a weight matrix is used in, as a stage name path: 'layer0.attn_wq' -> attention."""
    m = re.fullmatch(r'layer(\d+)\.(attn|mlp)_\w+', name)
    if m:
        return ('pos', f'layer {m.group(1)}', 'attention' if m.group(2) == 'attn' else 'mlp')
    return {'wte': ('pos', 'embedding'), 'wpe': ('pos', 'embedding'), 'lm_head': ('pos', 'lm_head')}.get(name)


def _stage_order(stage):
    """Where a stage comes in the model's reading order (for the weights' band): embedding, then each
    layer's attention and mlp, then lm_head; a weight no stage reads comes last."""
    if stage is None:
        return 1 << 20
    if stage[1:2] == ('embedding',):
        return 0
    if stage[1:2] == ('lm_head',):
        return 1 << 19
    return 1 + 2 * int(stage[1].split()[1]) + (stage[2] == 'mlp')


def weight_shape(box):
    """(rows, columns) of a closed weight matrix's box ('27×16 · 64 used'), or None for any other box."""
    m = re.match(r'(\d+)×(\d+) · ', box.detail) if box.node < 0 else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def grid_geometry(rows, cols):
    """How a rows×cols matrix is drawn as a grid: (transposed, columns across, rows down, cell width,
    cell height). A matrix with more rows than columns lies on its side (one column per row, so wte's
    tokens run left to right), so every grid is as tall as n_embd cells; a wide one gets narrower cells."""
    transposed = rows > cols
    across, down = (rows, cols) if transposed else (cols, rows)
    return transposed, across, down, min(CELL, MAX_GRID_WIDTH / across), CELL


def weight_grid_size(rows, cols):
    """Width and height (points) of a matrix's grid with its name above it."""
    _, across, down, cw, ch = grid_geometry(rows, cols)
    return across * cw, GRID_LABEL + down * ch


def _column(keys, sizes, slots):
    """Items top to bottom in order, each at the top of its slot's height (its stage's row), left-aligned."""
    width = max((w for w, _ in sizes), default=0.0)
    corners, y = {}, 0.0
    for k, sh in zip(keys, slots):
        corners[k] = (0.0, y)
        y += sh + STAGE_GAP
    return width, max(0.0, y - STAGE_GAP), corners, {}


def _weights(keys, sizes, stages, columns):
    """The weight matrices in a band, grouped by the stage that reads them, the groups in reading order,
    the k-th group at the left of the k-th position's column (`columns`: their x), so that a column
    that grows moves the groups right of it with it and nothing passes anything; groups beyond the last
    column follow the one before."""
    order = sorted(range(len(keys)), key=lambda i: (stages[i], i))
    corners, x, last, group = {}, 0.0, None, -1
    for i in order:
        if stages[i] != last:
            group += 1
            start = columns[group] if group < len(columns) else x + GRID_GAP_OUT
            x = max(start, x + GRID_GAP_OUT) if last is not None else start
        else:
            x += GRID_GAP_IN
        corners[keys[i]] = (x, 0.0)
        x += sizes[i][0]
        last = stages[i]
    return x, max((h for _, h in sizes), default=0.0), corners, {}


def _vector_level(keys, sizes, down=False):
    """A group at the vector level: the vectors it reads in a column on the left (q above the keys above
    the values), then what it makes in order, left to right on the keys' row (an open head), or with
    `down` one under the other beside them (an open linear: its dot products). A grid of rows and
    columns: an item that grows (scores opened to its dot products) makes its row taller and its column
    wider and pushes the rows below and the columns right of it, so nothing passes anything."""
    vectors = [i for i, k in enumerate(keys) if k[0] == 'v']
    rest = [i for i, k in enumerate(keys) if k[0] != 'v']
    middle = len(vectors) // 2
    cell = {i: (r, 0) for r, i in enumerate(vectors)}
    cell.update({i: (r % GRID_ROWS, 1 + r // GRID_ROWS) if down else (middle, r + 1) for r, i in enumerate(rest)})
    rows = [0.0] * max(len(vectors), min(len(rest), GRID_ROWS) if down else middle + 1)
    cols = [0.0] * (1 + max(c for _, c in cell.values()))
    for i, (r, c) in cell.items():
        rows[r] = max(rows[r], sizes[i][1])
        cols[c] = max(cols[c], sizes[i][0])
    tops, lefts, y, x = [], [], 0.0, 0.0
    for h in rows:
        tops.append(y)
        y += h + 2 * GRID_GAP[1]
    for w in cols:
        lefts.append(x)
        x += w + STAGE_GAP
    corners = {keys[i]: (lefts[c], tops[r] + (rows[r] - sizes[i][1]) / 2) for i, (r, c) in cell.items()}
    return max(0.0, x - STAGE_GAP), max(0.0, y - 2 * GRID_GAP[1]), corners, {}


def ladder(count, edges):
    """The rows [(term, running sum)] of a group that is one `sum(a * b for ...)` (a dot product, rmsnorm's
    Σ x²): each term feeds only its sum, each sum the next one; None for any other shape. Items are
    indices 0..count-1, edges (i, j) among them."""
    ins, outs = {i: [] for i in range(count)}, {i: [] for i in range(count)}
    for a, b in edges:
        ins[b].append(a)
        outs[a].append(b)
    terms = [i for i in range(count) if not ins[i]]
    sums = [i for i in range(count) if ins[i]]
    if len(terms) != len(sums) or len(sums) < 2 or len(edges) != 2 * len(sums) - 1:
        return None
    if any(len(outs[t]) != 1 or not ins[outs[t][0]] for t in terms):
        return None
    first = [s for s in sums if all(a in terms for a in ins[s])]
    if len(first) != 1:
        return None
    rows, s = [], first[0]
    while s is not None:
        term = [a for a in ins[s] if a in terms]
        if len(term) != 1 or len(ins[s]) > 2:
            return None
        rows.append((term[0], s))
        nxt = [b for b in outs[s]]
        if len(nxt) > 1:
            return None
        s = nxt[0] if nxt else None
    return rows if len(rows) == len(sums) else None


def _ladder(keys, sizes, rows):
    """A dot product as it reads in the code, a row per term: the term (q[4]·keys[1][4]) on the left, the
    sum so far beside it, each sum feeding the one under it. As wide as two boxes however long the sum."""
    left = max(sizes[t][0] for t, _ in rows)
    gap_x, gap_y = 24.0, 10.0
    corners, y = {}, 0.0
    for t, s in rows:
        h = max(sizes[t][1], sizes[s][1])
        corners[keys[t]] = (0.0, y + (h - sizes[t][1]) / 2)
        corners[keys[s]] = (left + gap_x, y + (h - sizes[s][1]) / 2)
        y += h + gap_y
    width = left + gap_x + max(sizes[s][0] for _, s in rows)
    return width, y - gap_y, corners, {}


def _model(keys, sizes, titles):
    """The model level: the weights' band at the top left, then the positions as columns left to right
    in order, the loss below the last one: whatever grows, grows right or down, past nothing."""
    corners, y = {}, 0.0
    for i, t in enumerate(titles):
        if t == PARAMS:
            corners[keys[i]] = (0.0, 0.0)
            y = sizes[i][1] + ROW_GAP
    x, last_x, bottom = 0.0, 0.0, y
    for i, t in enumerate(titles):
        if t not in (PARAMS, 'loss'):
            corners[keys[i]] = (x, y)
            last_x = x
            x += sizes[i][0] + COLUMN_GAP
            bottom = max(bottom, y + sizes[i][1] + ROW_GAP)
    right = max([0.0, x - COLUMN_GAP] + [sizes[i][0] for i, t in enumerate(titles) if t == PARAMS])
    for i, t in enumerate(titles):
        if t == 'loss':
            corners[keys[i]] = (last_x, bottom)
            right = max(right, last_x + sizes[i][0])
    height = max([y - ROW_GAP if y else 0.0] + [corners[k][1] + sizes[i][1] for i, k in enumerate(keys)])
    return right, height, corners, {}


def order_flips(before, after):
    """Pairs of boxes or frames in both Layouts, one of which was wholly left of (or above) the other in
    `before` and is not any more in `after`; 0 when a view grew in place."""
    def rects(lay):
        out = dict(lay.boxes)
        out.update({f'g{s}': r[:4] for s, r in lay.clusters.items()})
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


def is_weight_box(box, scopes):
    """True for a box that shows weights: a matrix, a row of one, or one parameter (scope `params / …`)."""
    return scopes[box.scope].path.split(' / ')[0] == PARAMS


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
        'clusters': [{'key': f'g{scope}', 'scope': scopes[scope].path, 'title': r[4], **rect(*r[:4])}
                     for scope, r in sorted(lay.clusters.items())],
        'width': round(lay.width, 2), 'height': round(lay.height, 2),
    }


def render(dot, fmt):
    """Graphviz's own drawing of DOT text as 'svg' or 'png' bytes (headless export)."""
    return pygraphviz.AGraph(string=dot).draw(format=fmt, prog='dot')
