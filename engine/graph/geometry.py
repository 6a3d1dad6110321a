"""Geometry without Graphviz: the sizes of boxes and their cells, where each label of a box goes, how a weight
matrix is drawn as a grid, the small fixed arrangements of a group's items (a column, a grid, a dot product's
ladder, a group at the vector level) and the simple curves of edges between two boxes anywhere in the picture.
Text is measured with the font it is drawn in (engine.graph.text), so every label has the room it is drawn in."""

from engine.graph.keys import is_vector_key
from engine.graph.text import line_height, text_width
from engine.numbers import shown
from engine.trace import short_param_name

CHAR_WIDTH = 6.6          # points per character of the 10 px UI font, generous (a name cell's first guess)
LABEL_PX, TITLE_PX = 10, 11  # the graph's text: labels, details and badges; bold box and frame titles
LINE = line_height(LABEL_PX)  # a 10 px line: 11.6 points
TITLE_LINE = line_height(TITLE_PX)
TEXT_MARGIN = 3.0         # between a box's side and its text
GROUP_HEIGHT = 38.0
SCALAR_HEIGHT = 24.0
SCALAR_NAME = (34.0, 98.0)  # a name cell's least and most width: 'q[15]·keys[4][15]' whole at 10 px, longer
                            # names lose their middle
WIDEST_NUMBER = '-0.0001235'  # the widest text engine.numbers.shown writes (4 significant digits)
SCALAR_DATA, SCALAR_GRAD = 60.5, 59.0  # data and grad cells: the widest number whole, with the margins items paint
SCALAR_WIDTH = SCALAR_NAME[0] + 18.0 + SCALAR_DATA + SCALAR_GRAD  # the narrowest scalar box: name | op | data | grad
STRIP_TEXT = 27.0         # a group box with a strip: its two lines (title, detail) above the strip
STRIP_HEIGHT = 9.0        # a closed group's output vector, a strip of cells under its two lines
STRIP_ROOM = 12.0         # the strip and the margin under it: a box with a strip is STRIP_TEXT + this
MIN_CELL = 4.0            # the narrowest cell of a strip: a box is widened so every cell gets this much
VECTOR_CELL = (16.0, 12.0)  # a vector box's cells (width, height)
VECTOR_TEXT = 30.0        # a vector box's two lines above its cells
VECTOR_WRAP = 16          # a vector box shows a long vector (fc1's 64) in lines of this many cells
BADGE_HEIGHT = TITLE_LINE  # a badge (`wq wk wv wo`: the matrices a box reads) on its title's line, as tall
BADGE_PAD = 2.5           # inside a badge, either side of its names

PAD = 10.0                # inside an open group's frame, around its content
TITLE = 22.0              # the band at the top of a frame that holds its title
MODEL_TITLE = 15.0        # the same at the model level (weights, positions, layers, loss): one 11 px line
FRAME_TITLE_X, FRAME_TITLE_Y = 8.0, 2.0  # a frame's title, from its top-left corner
STAGE_GAP = 13.0          # between the stages of a position, top to bottom: the arrows and a gradient's label
COLUMN_PAD = 4.0          # inside a position's or a layer's frame, left, right and bottom: columns stay narrow
COLUMN_GAP = 8.0          # between positions' columns
ROW_GAP = 7.0             # between the weights, the positions and the loss
STAGE_WIDTH = 140.0       # a stage box in a position's column is at most this wide (its text is shorter)
CELL = 2.0                # a weight grid's cell (points): attention's four 16×16 grids fit a position's column
GRID_LABEL = 12.0         # the band above a weight grid that holds its name (a 10 px line)
MAX_GRID_WIDTH = 70.0     # a wider matrix (fc1's 64 columns) gets narrower cells: fc1 and fc2 fit a column
GRID_GAP_IN, GRID_GAP_OUT = 5.0, 16.0  # between grids read by one stage, and between stages' groups
GRID_ROWS = 16            # a group without edges inside: columns of this many boxes
GRID_GAP = (16.0, 8.0)


def frame_title_width(title):
    """The room a frame's bold title takes, with its margins: a frame is at least this wide."""
    return text_width(title, TITLE_PX, bold=True) + 2 * FRAME_TITLE_X


def badge_words(reads):
    """[(word, matrix)] of a badge, from the matrices a box reads: 'wq' for layer0.attn_wq. LayerNorm's gain
    and bias are one 'ln', and only on a box reading at most two other matrices ('wte wpe ln', 'ln fc1 fc2'):
    'ln wq wk wv wo' would leave the title 'attention' no room (its edges still show it read). A linear's bias
    ('wq_b') is its matrix's: the badge names the matrix only."""
    others = [(short_param_name(name), name) for name in reads if not name.endswith(('ln_gain', 'ln_bias', '_b'))]
    ln = [('ln', name) for name in reads if name.endswith('ln_gain')][:1] if len(others) <= 2 else []
    return others + ln if others[:1] and others[0][0] == 'wte' else ln + others


def badge_text(box):
    """The names on a box's badge ('wq wk wv wo'), or '' for a box that reads no weight matrix."""
    return ' '.join(word for word, _ in badge_words(getattr(box, 'reads', ())))


def badge_width(box):
    """How wide a box's badge is (0 without one)."""
    text = badge_text(box)
    return text_width(text, LABEL_PX) + 2 * BADGE_PAD if text else 0.0


def badge_room(box):
    """The width a badge takes from a group's title line, with its margin from the box's right side (the title
    keeps its own margins, so the two never touch); a scalar's badge has a cell of its own, right of its grad."""
    w = badge_width(box)
    return w + (2 if box.node >= 0 else 1) * TEXT_MARGIN if w else 0.0


def badge_rect(box, w, h):
    """(x, y, w, h) of a box's badge in the box: at the right end of its title's line (a scalar's: beside its
    grad), so it covers none of its text; None without one."""
    bw = badge_width(box)
    if not bw:
        return None
    if box.node >= 0:
        y = (h - BADGE_HEIGHT) / 2
    else:
        x, ty, tw, th = group_lines(box, w, h)[0]
        y = ty + (th - BADGE_HEIGHT) / 2
    return w - TEXT_MARGIN - bw, y, bw, BADGE_HEIGHT


def group_lines(box, w, h):
    """Where a group box's two lines go, (x, y, w, h) from its top-left: the bold title (left of its badge,
    if it has one) and the detail under it; above the strip of a box with cells, else centred."""
    top = 1.0 if box.cells else (h - TITLE_LINE - LINE) / 2
    title = (0.0, top, w - badge_room(box), TITLE_LINE)
    return title, (0.0, top + TITLE_LINE, w, LINE)


FLOW_PAD = 3.0            # a gradient's label on an edge: either side of its text


def flow_text(total, count):
    """The label of the gradient a backprop step sends along an edge: '∂ 0.2000', or '∂ Σ3 -1.206' for the sum
    of several scalar edges' contributions."""
    return f'∂ {shown(total)}' if count == 1 else f'∂ Σ{count} {shown(total)}'


def flow_label_size(count):
    """The room (w, h) a gradient's label on an edge of `count` scalar edges may need: its widest number."""
    widest = f'∂ Σ{count} {WIDEST_NUMBER}' if count > 1 else f'∂ {WIDEST_NUMBER}'
    return text_width(widest, LABEL_PX) + 2 * FLOW_PAD, LINE


LABEL_GAP = flow_label_size(1)[0] + 16.0  # a gap that holds a gradient's label clear of the arrowheads beside it


def vector_lines(w):
    """Where a vector box's two lines go, (x, y, w, h): its bold name, and its detail, above its cells."""
    return (0.0, 2.0, w, 14.0), (0.0, 15.0, w, 13.0)


def progress_detail(detail, done, size, room):
    """A group's detail line once backprop has reached it: 'linear 16→27 · 12/891 done', or without ' done'
    where that is wider than `room` (a stage in a position's column is narrow)."""
    head = detail.rsplit(' · ', 1)[0]
    text = f'{head} · {done:,}/{size:,} done'
    return text if text_width(text, LABEL_PX) <= room else f'{head} · {done:,}/{size:,}'


def scalar_cells(box, width=None):
    """Where a scalar box's op, data and grad cells start (points from its left), in a box `width` wide
    (the width box_size gives it by default): the name gets what its text needs, the op ('+', '**-0.5')
    what its text needs, data and grad fixed widths, then its badge's room at the right end; any extra
    width goes to the name."""
    name_w = min(SCALAR_NAME[1], max(SCALAR_NAME[0], CHAR_WIDTH * len(box.title) + 8))
    op_w = max(16.0, CHAR_WIDTH * len(box.op) + 6)
    badge = badge_room(box)
    if width is None:
        width = max(SCALAR_WIDTH, name_w + op_w + SCALAR_DATA + SCALAR_GRAD) + badge
    grad = width - badge - SCALAR_GRAD
    return grad - SCALAR_DATA - op_w, grad - SCALAR_DATA, grad


def text_room(box):
    """The width a group or vector box's text needs: its title (beside its badge) and its detail, whole,
    also once backprop writes its progress into the detail."""
    title = text_width(box.title, TITLE_PX, bold=True) + 2 * TEXT_MARGIN + badge_room(box)
    details = [box.detail] + ([] if is_vector_key(box.key) else
                              [progress_detail(box.detail, box.size, box.size, float('inf'))])
    return max([title] + [text_width(d, LABEL_PX) + 2 * TEXT_MARGIN for d in details])


def box_size(box):
    """Width and height (points) a box needs for its text."""
    if box.node >= 0:
        op_x, data_x, grad_x = scalar_cells(box)
        return grad_x + SCALAR_GRAD + badge_room(box), SCALAR_HEIGHT
    text = text_room(box)
    if is_vector_key(box.key):   # a vector box: its cells in rows under its name
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


def column(keys, sizes, slots):
    """Items top to bottom in order, each at the top of its slot's height (its stage's row), left-aligned."""
    width = max((w for w, _ in sizes), default=0.0)
    corners, y = {}, 0.0
    for k, sh in zip(keys, slots):
        corners[k] = (0.0, y)
        y += sh + STAGE_GAP
    return width, max(0.0, y - STAGE_GAP), corners, {}


def vector_level(keys, sizes, down=False):
    """A group at the vector level: the vectors it reads in a column on the left (q above the keys above
    the values), then what it makes in order, left to right on the keys' row (an open head), or with
    `down` one under the other beside them (an open linear: its dot products). A grid of rows and
    columns: an item that grows (scores opened to its dot products) makes its row taller and its column
    wider and pushes the rows below and the columns right of it, so nothing passes anything. Between columns,
    the room of a gradient's label (LABEL_GAP), where the edges from one to the next run."""
    vectors = [i for i, k in enumerate(keys) if is_vector_key(k)]
    rest = [i for i, k in enumerate(keys) if not is_vector_key(k)]
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
        x += w + LABEL_GAP
    corners = {keys[i]: (lefts[c], tops[r] + (rows[r] - sizes[i][1]) / 2) for i, (r, c) in cell.items()}
    return max(0.0, x - LABEL_GAP), max(0.0, y - 2 * GRID_GAP[1]), corners, {}


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


def ladder_corners(keys, sizes, rows):
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


# Simple routes for edges no group layout drew: between two boxes anywhere in the picture.

FLOW_X = 0.5   # vertical edges leave and enter a box at the middle of its width: right of the frames' titles
               # they cross (left-aligned), which a position's column keeps short
ENTRY_DROP = MODEL_TITLE + 2  # and the last this far into a box below is straight down: across a frame's title band
KV_LIFT = 17.0  # key/value arcs between positions' columns run this far above the boxes' tops: over the frame
                # titles (MODEL_TITLE), under the stage above
KV_X = 0.8     # and leave and enter the tops here: clear of the titles at the left and of the data flow's arrow


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
    if by >= ay + ah + 6:        # below: out of the bottom, into the top, the last ENTRY_DROP straight down
        p0, tip = (ax + FLOW_X * aw, ay + ah), (bx + FLOW_X * bw, by)  # (through the title band of b's frame,
        drop = min(ENTRY_DROP, max(0.0, tip[1] - p0[1] - 12))           # right of its title)
        q = (tip[0], tip[1] - drop)
        d = max(6.0, (q[1] - p0[1]) / 2)
        p3 = (tip[0], tip[1] - 5)
        curve = (p0, (p0[0], p0[1] + d), (q[0], q[1] - d), q)
        return (curve + (q, p3, p3) if drop > 5 else curve[:3] + (p3,)), tip
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
