"""Token lines, in the manner of bertviz's head view: queries on the left, keys on the right, one line
from each query to each key it attends to, its opacity the weight, its colour the head's.

Hover a token to see only its lines (a query's to its keys, or a key's from every query); choose the
layer and the heads with the controls above. Several heads at once are drawn side by side in thin
lanes of their own colour, so a line's colour always says whose it is.
"""

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from engine.attention import token_label

from explorer.theme import LIGHT, head_color

FONT_PT = 8.0


def line_geometry(rect, n, font=None):
    """(left token rects, right token rects, line height) for n positions in rect."""
    f = QFont(font) if font is not None else QFont()
    f.setPointSizeF(FONT_PT)
    line = min(40.0, max(8.0, rect.height() / max(1, n)))
    width = min(100.0, rect.width() * 0.3)
    span = min(rect.width(), 2 * width + 320)      # lines no longer than they need to be, centred
    x0 = rect.left() + (rect.width() - span) / 2
    left = [QRectF(x0, rect.top() + i * line, width, line) for i in range(n)]
    right = [QRectF(x0 + span - width, rect.top() + i * line, width, line) for i in range(n)]
    return left, right, line


class TokenLines(QWidget):
    """The drawing: set_trace / set_layer / set_heads; hover isolates a token."""

    query_hovered = Signal(int)  # -1 when the mouse leaves
    token_hovered = Signal(str, int)  # 'q' or 'k' and the position; ('', -1) when the mouse leaves

    def __init__(self, colors=LIGHT, parent=None):
        super().__init__(parent)
        self.trace, self.layer, self.heads, self.colors = None, 0, (0,), colors
        self.hover = None          # ('q' | 'k', position) or None
        self.setMouseTracking(True)
        self.setMinimumSize(120, 90)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self):
        return QSize(260, 300)

    def set_trace(self, trace):
        self.trace, self.hover = trace, None
        self.update()

    def geometry_(self):
        return line_geometry(QRectF(self.rect()).adjusted(6, 22, -6, -4), self.trace.n, self.font())

    def lines(self):
        """[(head, query, key, weight)] drawn now (hover isolates a token's lines)."""
        out = []
        trace = self.trace
        if trace is None or not trace.attention:  # a model without attention (bigram, mlp): no lines
            return out
        for h in self.heads:
            for q, row in enumerate(trace.attention[self.layer][h]):
                for k, w in enumerate(row):
                    if self.hover is None or self.hover == ('q', q) or self.hover == ('k', k):
                        out.append((h, q, k, w))
        return out

    def paintEvent(self, event):
        painter = QPainter(self)
        c = self.colors
        if self.trace is None:
            painter.drawText(self.rect(), Qt.AlignCenter, 'Recording…')
            return
        painter.setRenderHint(QPainter.Antialiasing)
        f = QFont(self.font())
        f.setPointSizeF(FONT_PT)
        painter.setFont(f)
        fm = QFontMetricsF(f)
        painter.setPen(QColor(c['muted']))
        top = QRectF(self.rect()).adjusted(6, 2, -6, 0)
        left, right, line = self.geometry_()
        painter.drawText(QRectF(left[0].left(), top.top(), left[0].width(), 16), Qt.AlignRight | Qt.AlignVCenter,
                         'query')
        painter.drawText(QRectF(right[0].left(), top.top(), right[0].width(), 16), Qt.AlignLeft | Qt.AlignVCenter,
                         'key')
        lanes = len(self.heads)
        for h, q, k, w in self.lines():
            lane = self.heads.index(h)
            dy = (lane - (lanes - 1) / 2) * min(3.0, line / (2 * max(1, lanes)))
            color = QColor(head_color(h))
            color.setAlphaF(max(0.0, min(1.0, w)))
            painter.setPen(QPen(color, 2.0))
            a = QPointF(left[q].right() + 4, left[q].center().y() + dy)
            b = QPointF(right[k].left() - 4, right[k].center().y() + dy)
            path = QPainterPath(a)
            mid = (a.x() + b.x()) / 2
            path.cubicTo(QPointF(mid, a.y()), QPointF(mid, b.y()), b)
            painter.drawPath(path)
        trace = self.trace
        for i in range(trace.n):
            for side, rects in (('q', left), ('k', right)):
                r = rects[i]
                hovered = self.hover == (side, i)
                if hovered:
                    painter.fillRect(r, QColor(c['group']))
                painter.setPen(QColor(c['text'] if hovered or self.hover is None else c['muted']))
                text = token_label(trace, i)
                if side == 'q':
                    nxt = trace.token_texts[i + 1]
                    text = fm.elidedText(f'{text} → {nxt}', Qt.ElideRight, r.width() - 2)
                painter.drawText(r.adjusted(2, 0, -2, 0),
                                 (Qt.AlignRight if side == 'q' else Qt.AlignLeft) | Qt.AlignVCenter, text)
        painter.end()

    def token_at(self, pos):
        if self.trace is None:
            return None
        left, right, _ = self.geometry_()
        for side, rects in (('q', left), ('k', right)):
            for i, r in enumerate(rects):
                if r.contains(pos):
                    return side, i
        return None

    def mouseMoveEvent(self, event):
        hover = self.token_at(event.position())
        if hover != self.hover:
            self.hover = hover
            self.setCursor(Qt.PointingHandCursor if hover else Qt.ArrowCursor)
            self.update()
            self.query_hovered.emit(hover[1] if hover and hover[0] == 'q' else -1)
            self.token_hovered.emit(*(hover or ('', -1)))

    def leaveEvent(self, event):
        if self.hover is not None:
            self.hover = None
            self.update()
            self.query_hovered.emit(-1)
            self.token_hovered.emit('', -1)


class TokenLinesView(QWidget):
    """The token lines with their controls: which layer, which heads (one toggle per head, in its colour)."""

    def __init__(self, colors=LIGHT, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(2)
        self.layer = QComboBox()
        self.layer.setToolTip('Which layer\'s heads the lines show')
        self.layer.currentIndexChanged.connect(self._on_layer)
        row.addWidget(self.layer)
        self.head_row = QHBoxLayout()
        self.head_row.setSpacing(1)
        row.addLayout(self.head_row)
        row.addStretch(1)
        layout.addLayout(row)
        self.lines = TokenLines(colors)
        layout.addWidget(self.lines, 1)
        self.note = QLabel('Line opacity: the weight. Hover a token to see only its lines.')
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {colors['hint_text']};")
        layout.addWidget(self.note)
        self.buttons = []

    def set_colors(self, colors):
        self.lines.colors = colors
        self.lines.update()

    def set_trace(self, trace):
        config = trace.config
        if self.layer.count() != config.attention_layers or len(self.buttons) != config.n_head:
            self.layer.blockSignals(True)
            self.layer.clear()
            self.layer.addItems([f'layer {l}' for l in range(config.attention_layers)])
            self.layer.blockSignals(False)
            for b in self.buttons:
                b.deleteLater()
            self.buttons = []
            for h in range(config.n_head):
                b = QToolButton()
                b.setText(str(h))
                b.setCheckable(True)
                b.setChecked(True)
                b.setToolTip(f'Show head {h}\'s lines')
                color = head_color(h).name()
                b.setStyleSheet(f'QToolButton {{ border: 2px solid {color}; border-radius: 3px; padding: 0 3px; }}'
                                f'QToolButton:checked {{ background: {color}; color: {self.lines.colors["text_on_strong"]}; font-weight: bold; }}')
                b.toggled.connect(self._on_heads)
                self.head_row.addWidget(b)
                self.buttons.append(b)
            self.lines.layer = 0
        self.lines.heads = self.checked_heads()
        self.lines.set_trace(trace)

    def checked_heads(self):
        return tuple(h for h, b in enumerate(self.buttons) if b.isChecked())

    def set_heads(self, heads, layer=None):
        for h, b in enumerate(self.buttons):
            b.blockSignals(True)
            b.setChecked(h in heads)
            b.blockSignals(False)
        if layer is not None and layer != self.layer.currentIndex():
            self.layer.setCurrentIndex(layer)
        self._on_heads()

    def _on_layer(self, index):
        self.lines.layer = max(0, index)
        self.lines.update()

    def _on_heads(self, *_):
        self.lines.heads = self.checked_heads()
        self.lines.update()
