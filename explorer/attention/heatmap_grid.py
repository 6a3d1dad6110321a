"""HeatmapGrid: the attention heatmaps of one recording as a widget; hover a cell for its numbers, click
a cell, a query's label or a head's title (the attention panel it is given says what to frame and in what colours)."""

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolTip, QWidget

from engine.attention import query_nodes, recorded, token_label
from engine.numbers import shown

from explorer.attention.heatmap import QUANTITIES, minimum_size, paint_heads


class HeatmapGrid(QWidget):
    """The heatmaps of one recording; hover for its numbers, click a cell, a query's label or a head's title."""

    cell_clicked = Signal(int, int, int, int)  # layer, head, query, key
    row_clicked = Signal(int, int, int)        # layer, head, query
    head_clicked = Signal(int, int)            # layer, head
    export_head = Signal(int, int)

    def __init__(self, panel, parent=None):
        super().__init__(parent)
        self.panel = panel
        self.trace = None
        self.title = ''
        self.value = None          # (l, h, q, k) -> number or None
        self.quantity = 'weight'
        self.boxes = []
        self.squeezed = False      # one head shown because all would be unreadable
        self.scale = None          # the colour scale drawn last
        self.shared_scale = None   # a scale given by the panel (two models side by side share one), or None
        self.painted_size = QSize()  # the size `boxes` were laid out for
        self.setMouseTracking(True)
        self.setMinimumSize(120, 90)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self):
        return QSize(320, 300)

    def show_trace(self, trace, value, title, quantity='weight', scale=None):
        self.trace, self.value, self.title, self.quantity = trace, value, title, quantity
        self.shared_scale = scale
        if trace is not None:  # never smaller than one readable head: the dock scrolls instead
            self.setMinimumSize(*minimum_size(trace, self.font(), bool(title)))
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        if self.trace is None:
            self.boxes = []
            painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self.title or waiting_text(getattr(self.panel, 'session', None)))
            return
        p = self.panel
        self.boxes, self.squeezed, self.scale = paint_heads(
            painter, self.rect().toRectF().adjusted(6, 4, -6, -4), self.trace, self.value, p.colors(),
            self.quantity, p.selected_place(self.trace), p.only, self.title, self.font(), p.focus_head(),
            self.shared_scale, p.hovered_token(self.trace))
        self.painted_size = self.size()
        painter.end()

    def _hit(self, pos):
        for box in self.boxes:
            if box.header.contains(pos):
                return box, None, None
            cell = box.cell_at(pos)
            if cell is not None:
                return box, cell, None
            row = box.row_at(pos)
            if row is not None:
                return box, None, row
        return None, None, None

    def mouseMoveEvent(self, event):
        box, cell, row = self._hit(event.position())
        self.setCursor(Qt.PointingHandCursor if box else Qt.ArrowCursor)
        if cell is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(box.layer, box.head, *cell), self)
        elif row is not None:
            QToolTip.showText(event.globalPosition().toPoint(),
                              f'query {token_label(self.trace, row)}: click to see its computation step by step', self)
        else:
            QToolTip.hideText()

    def describe(self, layer, head, q, k):
        trace = self.trace
        if not recorded(trace, q):
            return '\n'.join([f'layer {layer} · head {head}',
                              f'query {q} {trace.token_texts[q]!r} → key {k} {trace.token_texts[k]!r}',
                              f'weight {shown(trace.attention[layer][head][q][k])} (computed with numpy)',
                              f'not recorded: the graph has the first {trace.part.n} positions'])
        nodes = query_nodes(trace, layer, head, q)
        lines = [f'layer {layer} · head {head}',
                 f'query {q} {trace.token_texts[q]!r} (predicting {trace.token_texts[q + 1]!r}) → key {k} '
                 f'{trace.token_texts[k]!r}',
                 f'score (attn_logits) {shown(trace.data[nodes.logits[k]])}',
                 f'weight {shown(trace.attention[layer][head][q][k])}']
        v = self.value(layer, head, q, k)
        other = self.quantity not in ('weight', 'score')
        if other:
            lines.append(f'{QUANTITIES[self.quantity][0]} {"not reached yet" if v is None else shown(v)}')
        lines.append('click: the graph opens to it (every digit: the Inspector)')
        return '\n'.join(lines)

    def mousePressEvent(self, event):
        box, cell, row = self._hit(event.position())
        if box is None or event.button() != Qt.LeftButton:
            return
        if cell is not None:
            self.cell_clicked.emit(box.layer, box.head, *cell)
        elif row is not None:
            self.row_clicked.emit(box.layer, box.head, row)
        else:
            self.head_clicked.emit(box.layer, box.head)

    def contextMenuEvent(self, event):
        box, cell, row = self._hit(event.pos())
        if box is None:
            return
        menu = QMenu(self)
        query = cell[0] if cell else row
        if query is not None:
            menu.addAction(f'Query {token_label(self.trace, query)} step by step',
                           lambda: self.row_clicked.emit(box.layer, box.head, query))
        menu.addAction('Show this head alone' if self.panel.only is None else 'Show all heads',
                       lambda: self.head_clicked.emit(box.layer, box.head))
        menu.addAction('Export this head as PNG…', lambda: self.export_head.emit(box.layer, box.head))
        menu.exec(event.globalPos())


def waiting_text(session):
    """What an empty heatmap says: a recording on its way, or none asked for (a large model's question declined)."""
    if session is None or session.recording is not None:
        return 'Recording…'
    return 'Nothing recorded: type a document in the field above the graph and press Enter.'
