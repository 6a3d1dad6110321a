"""The weights as grids of cells, as llm-viz draws tensors: each matrix once, in the weights' band, a cell
per parameter coloured by its value, and by its gradient once backprop has reached it; a badge on every
box that reads a matrix (`wq wk wv wo` on attention) and, while a matrix or a badge is hovered, every
box that reads it outlined. Geometry (cell sizes, which matrices lie on their side) is engine.graph.geometry's."""

from array import array

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPaintEngine, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from engine.graph.geometry import BADGE_PAD, GRID_LABEL, badge_rect, badge_words, grid_geometry
from engine.graph.keys import is_weight_box, weight_matrix
from engine.model import param_shapes
from engine.numbers import shown
from engine.trace import short_param_name

from explorer.theme import grad_color, value_color, value_colors

class WeightCells:
    """For one recording: which node is each parameter (None: the document never reads it), every
    parameter's value, and each matrix's largest |value| (its colour scale)."""

    def __init__(self, trace, state_dict, like=None):
        """`like`: the cells of another recording of the same document (a timeline step), whose parameter
        nodes these share: only the values are read again."""
        shapes = param_shapes(trace.config, len(trace.vocabulary) + 1)
        if like is not None and like.params is trace.params:
            self.params, self.nodes, self.used, self.unused = like.params, like.nodes, like.used, like.unused
        else:
            self.params = trace.params
            self.nodes = {name: [[None] * cols for _ in range(rows)] for name, (rows, cols) in shapes.items()}
            for node, (name, row, col) in trace.params.items():
                self.nodes[name][row][col] = node
            self.used, self.unused = {}, {}  # name -> [(row, column, node)]: the cells backprop can change, the others
            for name, mat in self.nodes.items():
                cells = [(r, c, n) for r, row in enumerate(mat) for c, n in enumerate(row)]
                self.used[name] = [cell for cell in cells if cell[2] is not None]
                self.unused[name] = [cell for cell in cells if cell[2] is None]
        self.values = {name: [[float(getattr(v, 'data', v)) for v in row] for row in mat]
                       for name, mat in state_dict.items() if name in shapes}
        self.largest = {name: max((abs(v) for row in mat for v in row), default=0.0) or 1.0
                        for name, mat in self.values.items()}
        self._rgbs = {}  # (matrix, palette) -> [row][column] its cells' colours by value, as rgb

    def shape(self, name):
        return len(self.nodes[name]), len(self.nodes[name][0])

    def value_color(self, name, row, col, colors):
        """A parameter's colour by its value (paler where the document never reads it)."""
        color = value_color(self.values[name][row][col], self.largest[name], colors)
        return color if self.nodes[name][row][col] is not None else _paler(color, QColor(colors['background']).getRgbF()[:3])

    def value_rgbs(self, name, colors):
        """value_color(…).rgb() of every parameter of a matrix, row after row, made at once (a timeline step
        changes them all)."""
        key = (name, colors['scalar'], colors['value_negative'], colors['value_positive'], colors['background'])
        if key not in self._rgbs:
            flat = value_colors([v for row in self.values[name] for v in row], self.largest[name], colors)
            rgbs = [color.rgb() for color in flat]
            back = QColor(colors['background']).getRgbF()[:3]
            cols = self.shape(name)[1]
            for r, c, _ in self.unused[name]:  # the document never reads them: paler, as value_color makes them
                rgbs[r * cols + c] = _paler(flat[r * cols + c], back).rgb()
            self._rgbs[key] = rgbs
        return self._rgbs[key]


def _paler(color, back):
    """A parameter the document never reads: its colour halfway to the background (`back`, its getRgbF)."""
    r, g, b, _ = color.getRgbF()
    return QColor.fromRgbF(0.5 * r + 0.5 * back[0], 0.5 * g + 0.5 * back[1], 0.5 * b + 0.5 * back[2])


def matrix_of(box):
    """The parameter matrix a closed weight box shows ('layer0.attn_wq'), or None."""
    return box.title if box.shape else None


def readers(visible, scopes):
    """{matrix name: keys of the boxes that read it} from the view's edges out of the weights (drawn or not)."""
    out = {}
    by_key = {b.key: b for b in visible.boxes}
    for src, dst, _count in visible.edges:
        box = by_key[src]
        if is_weight_box(box, scopes) and not is_weight_box(by_key[dst], scopes):
            name = weight_matrix(scopes[box.scope].path)
            if name is not None:
                out.setdefault(name, set()).add(dst)
    return out


def badges(visible, scopes):
    """{box key: [matrix names it reads, in the order the model declares them]} (the badge texts): what
    grouping recorded in each box (`Box.reads`), which the layout gave room on its title's line."""
    return {b.key: list(b.reads) for b in visible.boxes if b.reads}


def cell_rects(item, name, cells):
    """(grid rectangle in item coordinates, transposed, columns across, rows down, cell w, cell h)."""
    rows, cols = cells.shape(name)
    transposed, across, down, cw, ch = grid_geometry(rows, cols)
    return QRectF(0, GRID_LABEL, across * cw, down * ch), transposed, across, down, cw, ch


def cell_at(item, name, cells, pos):
    """(row, column) of the parameter under item point `pos`, or None."""
    grid, transposed, across, down, cw, ch = cell_rects(item, name, cells)
    if not grid.contains(pos):
        return None
    i = min(across - 1, int((pos.x() - grid.left()) / cw))
    j = min(down - 1, int((pos.y() - grid.top()) / ch))
    return (i, j) if transposed else (j, i)


def cell_color(cells, name, row, col, bp, colors):
    """A cell's colour now: its grad (on the graph's grad scale) once backprop has reached it, else its value."""
    node = cells.nodes[name][row][col]
    if node is not None and bp.reached(node):
        grad = bp.grads[node]
        return grad_color(grad, colors) if grad else QColor(colors['zero_grad'])  # too small to hatch: grey
    return cells.value_color(name, row, col, colors)


def grid_image(cells, name, bp, colors):
    """The grid as an image of one pixel per cell (drawn scaled, without smoothing)."""
    rows, cols = cells.shape(name)
    transposed, across, down, _, _ = grid_geometry(rows, cols)
    by_value, reached = cells.value_rgbs(name, colors), bp.reached
    if not transposed and bp.position == 0:  # nothing reached yet (a timeline step starts backprop again)
        pixels = array('I', by_value)
    else:
        pixels = array('I', bytes(4 * across * down))
        for r, nodes in enumerate(cells.nodes[name]):
            for c, node in enumerate(nodes):
                rgb = by_value[r * cols + c] if node is None or not reached(node) else \
                    cell_color(cells, name, r, c, bp, colors).rgb()
                pixels[c * across + r if transposed else r * across + c] = rgb
    return QImage(pixels.tobytes(), across, down, QImage.Format_RGB32).copy()  # its own pixels, not the buffer's


def grid_state(cells, name, bp):
    """What each used cell shows now: its grad once reached, else None (its value)."""
    if bp.position == 0:
        return [None] * len(cells.used[name])
    grads, reached = bp.grads, bp.reached
    return [grads[n] if reached(n) else None for _, _, n in cells.used[name]]


def update_grid_image(image, old, cells, name, bp, colors):
    """Redraw only the cells whose state changed since `old` (a backprop step touches a few); the new state."""
    new = grid_state(cells, name, bp)
    transposed = grid_geometry(*cells.shape(name))[0]
    for (r, c, _), was, now in zip(cells.used[name], old, new):
        if was != now:
            x, y = (r, c) if transposed else (c, r)
            image.setPixel(x, y, cell_color(cells, name, r, c, bp, colors).rgb())
    return new


def paint_grid(item, painter):
    """Paint a weight box as its matrix's grid: the short name above, the cells below, the selected
    parameter and the one backprop applied last outlined."""
    view, box = item.view, item.box
    c, name, cells = view.colors, box.title, view.weight_cells()
    bp = view.session.backprop
    theme = (c['scalar'], c['background'], c['value_negative'], c['zero_grad'])
    if getattr(item, '_grid_theme', None) != theme:  # the whole grid once, then the cells that change
        item._grid_theme, item._grid_image = theme, grid_image(cells, name, bp, c)
        item._grid_state, item._grid_at = grid_state(cells, name, bp), bp.position
    elif item._grid_at != bp.position:
        item._grid_state = update_grid_image(item._grid_image, item._grid_state, cells, name, bp, c)
        item._grid_at = bp.position
    grid, transposed, across, down, cw, ch = cell_rects(item, name, cells)
    painter.save()
    painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
    if painter.paintEngine() is not None and painter.paintEngine().type() == QPaintEngine.SVG:
        image = item._grid_image  # an SVG export: every cell a rectangle (vectors, not an embedded image)
        painter.setPen(Qt.NoPen)
        for y in range(image.height()):
            for x in range(image.width()):
                painter.fillRect(QRectF(grid.left() + x * cw, grid.top() + y * ch, cw, ch), image.pixelColor(x, y))
    else:
        painter.drawImage(grid, item._grid_image)
    painter.setRenderHint(QPainter.Antialiasing, False)
    lit = name in view.highlighted_weights
    painter.setPen(QPen(QColor(c['param_border']), 2.0 if lit else 0.8))
    painter.setBrush(Qt.NoBrush)
    painter.drawRect(grid)
    for node, color, width in ((view.selected_node(), c['selection'], 1.2), (bp.focus_node(), c['current'], 1.2)):
        where = view.session.trace.params.get(node) if node is not None else None
        if where and where[0] == name:
            x, y = (where[1], where[2]) if transposed else (where[2], where[1])
            painter.setPen(QPen(QColor(color), width))
            painter.drawRect(QRectF(grid.left() + x * cw - 1, grid.top() + y * ch - 1, cw + 2, ch + 2))
    painter.restore()
    if painter.worldTransform().m11() < 0.35:
        return
    painter.setFont(view.small_font)
    painter.setPen(QColor(c['text']))
    label = short_param_name(name)
    painter.drawText(QRectF(0, 0, max(grid.width(), 40), GRID_LABEL), Qt.AlignLeft | Qt.AlignVCenter, label)


def cell_tooltip(view, name, row, col):
    """`wq[3][5]`, its data and grad (or why it has none)."""
    cells, bp = view.weight_cells(), view.session.backprop
    node = cells.nodes[name][row][col]
    head = f'{short_param_name(name)}[{row}][{col}] — {name}'
    if node is None:
        value = cells.values[name][row][col]
        return f'{head}\ndata {shown(value)}\nnot read by this document: its grad stays 0'
    data, reached = view.session.trace.data[node], bp.reached(node)
    grad = f'grad {shown(bp.grads[node])}' if reached else 'grad not reached yet'
    return f'{head}\ndata {shown(data)}\n{grad}\nclick to select (inspector: grad, Adam\'s next update)'


def matrix_tooltip(view, box):
    rows, cols = view.weight_cells().shape(box.title)
    uses = len(view.weight_readers.get(box.title, ()))
    return (f'{box.title}: {rows}×{cols}, one cell per parameter; colour: value (purple −, orange +), then grad once '
            f'backprop reaches it\nread by {uses} box{"es" if uses != 1 else ""} here (outlined while hovered)')


class BadgeItem(QGraphicsItem):
    """`wq wk wv wo` at the right end of the title's line of a box that reads those matrices (a scalar's: in a
    cell of its own), where the layout made room for it; hovering a name outlines the matrix and every box
    that reads it."""

    def __init__(self, view, key, names, box_rect):
        super().__init__()
        self.view, self.key, self.names = view, key, names
        self.label_px = view.small_font.pixelSize()
        metrics = QFontMetricsF(view.small_font)
        bx, by, bw, bh = box_rect
        x, y, w, h = badge_rect(view.session.visible.box(key), bw, bh)
        self.words, left, space = [], BADGE_PAD, metrics.horizontalAdvance(' ')
        for word, name in badge_words(names):  # LayerNorm's gain and bias: one 'ln' (its gain when hovered)
            width = metrics.horizontalAdvance(word)
            self.words.append((name, QRectF(left, 0, width, h), word))
            left += width + space
        self.rect = QRectF(0, 0, w, h)
        self.setPos(bx + x, by + y)
        self.setZValue(3)
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.NoButton)
        self.setToolTip(f'reads {", ".join(names)} (hover a name: the matrix and every box that reads it)')

    def boundingRect(self):
        return self.rect

    def paint(self, painter, option, widget=None):
        c = self.view.colors
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(QColor(c['param_border']), 1))
        painter.setBrush(QColor(c['param']))
        painter.drawRoundedRect(self.rect, 4, 4)
        if painter.worldTransform().m11() < 0.35:
            return
        painter.setFont(self.view.small_font)
        for name, r, word in self.words:  # the matrix hovered: underlined (bold would be wider than its room)
            lit = name in self.view.highlighted_weights
            painter.setPen(QColor(c['text']))
            font = painter.font()
            font.setUnderline(lit)
            painter.setFont(font)
            painter.drawText(r, Qt.AlignLeft | Qt.AlignVCenter, word)

    def word_at(self, pos):
        return next((name for name, r, _ in self.words if r.adjusted(-3, 0, 3, 0).contains(pos)), None)

    def hoverMoveEvent(self, event):
        self.view.highlight_weight(self.word_at(event.pos()) or (self.names[0] if len(self.names) == 1 else None))

    def hoverLeaveEvent(self, event):
        self.view.highlight_weight(self.view.selected_matrix())  # a selected grid stays highlighted

