"""Embeddings that move: the rows of wte (one per token) or wpe (one per position) on the plane of their
two principal components, a basis fixed from the run's final weights (engine.pca), with each row's
trajectory over the run's snapshots; the labelled points are the step shown. Hover gives the step."""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolTip, QVBoxLayout, QWidget

from engine.pca import pca_basis, project

from explorer.history.history_panel import HistoryPanel, pop_out_button

HOVER_PX = 8
DOT_R = 3.5


def place_labels(points, sizes, area):
    """Where to draw each point's label (QRectF) so that no two labels overlap and none covers a dot:
    beside its point if there is room (right, left, above, below, the corners), else further out along
    those directions (drawn with a leader line), else None (the crowded point's label is on hover).
    Points in the densest places are placed last, so the isolated ones keep their labels next to them."""
    dots = [QRectF(pt.x() - DOT_R, pt.y() - DOT_R, 2 * DOT_R, 2 * DOT_R) for pt in points]

    def crowd(i):
        return sum(1 for q in points if abs(q.x() - points[i].x()) < 40 and abs(q.y() - points[i].y()) < 20)
    placed, out = [], [None] * len(points)
    for i in sorted(range(len(points)), key=lambda i: (crowd(i), i)):
        pt, (w, h) = points[i], sizes[i]
        for reach in (0, 10, 22, 36):
            gap = 4 + reach
            candidates = (QRectF(pt.x() + gap, pt.y() - h / 2, w, h), QRectF(pt.x() - gap - w, pt.y() - h / 2, w, h),
                          QRectF(pt.x() - w / 2, pt.y() - gap - h, w, h), QRectF(pt.x() - w / 2, pt.y() + gap, w, h),
                          QRectF(pt.x() + gap, pt.y() - gap - h, w, h), QRectF(pt.x() - gap - w, pt.y() - gap - h, w, h),
                          QRectF(pt.x() + gap, pt.y() + gap, w, h), QRectF(pt.x() - gap - w, pt.y() + gap, w, h))
            rect = next((r for r in candidates if area.contains(r) and not any(r.intersects(o) for o in placed)
                         and not any(r.intersects(d) for d in dots)), None)
            if rect is not None:
                placed.append(rect)
                out[i] = rect
                break
    return out


class EmbeddingCanvas(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(220, 220)
        self.labels = []        # label of each row
        self.paths = []         # per row: [(step, x, y)] at the snapshots
        self.current = []       # per row: (x, y) at the step shown
        self.step = None
        self._bounds = None
        self.label_rects = []   # where each label was drawn last (None: crowded out, shown on hover)

    def set_data(self, labels, paths, current, step):
        self.labels, self.paths, self.current, self.step = labels, paths, current, step
        xs = [x for path in paths for _, x, _ in path] + [x for x, _ in current]
        ys = [y for path in paths for _, _, y in path] + [y for _, y in current]
        self._bounds = (min(xs), max(xs), min(ys), max(ys)) if xs else None
        self.update()

    def _map(self):
        x0, x1, y0, y1 = self._bounds
        margin = 22
        w, h = max(1, self.width() - 2 * margin), max(1, self.height() - 2 * margin)
        sx, sy = w / ((x1 - x0) or 1), h / ((y1 - y0) or 1)
        return lambda x, y: QPointF(margin + (x - x0) * sx, margin + (y1 - y) * sy)

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        if not self._bounds:
            p.setPen(pal.text().color())
            p.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, 'No training history to show.')
            return
        at = self._map()
        n = len(self.paths)
        p.setBrush(Qt.NoBrush)
        for i, path in enumerate(self.paths):  # the way to the step shown strong, the way after it faint
            for alpha, width, part in ((0.15, 1.0, [pt for pt in path if pt[0] >= (self.step or 0)]),
                                       (0.75, 1.4, [pt for pt in path if pt[0] <= (self.step or 0)])):
                line = QPainterPath()
                for j, (_, x, y) in enumerate(part):
                    (line.lineTo if j else line.moveTo)(at(x, y))
                p.setPen(QPen(QColor.fromHsvF((i / max(1, n)) % 1.0, 0.6, 0.8, alpha), width))
                p.drawPath(line)
        font = p.font()
        font.setPointSizeF(max(9.0, font.pointSizeF()))
        font.setBold(True)
        p.setFont(font)
        points = [at(x, y) for x, y in self.current]
        metrics = p.fontMetrics()
        sizes = [(metrics.horizontalAdvance(label) + 2, metrics.height()) for label in self.labels[:len(points)]]
        self.label_rects = place_labels(points, sizes, QRectF(self.rect()))
        for i, pt in enumerate(points):
            color = QColor.fromHsvF((i / max(1, n)) % 1.0, 0.8, 0.75)
            p.setPen(Qt.NoPen)
            p.setBrush(color)
            p.drawEllipse(pt, DOT_R, DOT_R)
        for i, rect in enumerate(self.label_rects):
            if rect is None:
                continue
            if not rect.adjusted(-6, -6, 6, 6).contains(points[i]):  # placed further out: a line to its dot
                p.setPen(QPen(pal.mid().color(), 0.8))
                end = QPointF(min(max(points[i].x(), rect.left()), rect.right()),
                              min(max(points[i].y(), rect.top()), rect.bottom()))
                p.drawLine(points[i], end)
            p.setPen(pal.text().color())
            p.drawText(rect, Qt.AlignCenter, self.labels[i])

    def mouseMoveEvent(self, event):
        if not self._bounds:
            return
        at, pos = self._map(), event.position()
        best, hit = HOVER_PX ** 2, None
        for i, path in enumerate(self.paths):
            for step, x, y in path:
                q = at(x, y)
                d = (q.x() - pos.x()) ** 2 + (q.y() - pos.y()) ** 2
                if d <= best:
                    best, hit = d, (i, step)
        for i, (x, y) in enumerate(self.current):
            q = at(x, y)
            d = (q.x() - pos.x()) ** 2 + (q.y() - pos.y()) ** 2
            if d <= best:
                best, hit = d, (i, self.step)
        if hit is None:
            QToolTip.hideText()
            return
        QToolTip.showText(event.globalPosition().toPoint(), f'{self.labels[hit[0]]} at step {hit[1]:,}', self)


def no_matrix(config, name):
    """What the plot says of a model without the matrix chosen (wpe: RoPE's model, the bigram)."""
    if config.position == 'rope':
        return (f'This model has no {name}: with RoPE a position enters attention as a rotation of q and k, '
                'by angles computed from it, not learned rows.')
    return f'This model has no {name}: the bigram reads only the token.'


class EmbeddingPlot(HistoryPanel):
    def __init__(self, timeline, session, parent=None):
        super().__init__(parent)
        self.timeline, self.session = timeline, session
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel('Embedding:'))
        self.matrix = QComboBox()
        self.matrix.addItem('wte: tokens', 'wte')
        self.matrix.addItem('wpe: positions', 'wpe')
        self.matrix.currentIndexChanged.connect(lambda _i: self._rebuild())
        row.addWidget(self.matrix, 1)
        self.pop_button = pop_out_button(self, 'the embeddings')
        row.addWidget(self.pop_button)
        layout.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.canvas = EmbeddingCanvas()
        layout.addWidget(self.canvas, 1)
        self._cache = {}  # matrix name -> (basis, labels, paths)
        timeline.loaded.connect(self._on_history)
        timeline.unavailable.connect(self._on_unavailable)
        timeline.step_changed.connect(lambda _step: self._show_current())

    def _on_unavailable(self, reason):
        self._cache.clear()
        self.canvas.set_data([], [], [], None)
        self.message.setText(reason)

    def _on_history(self):
        self._cache.clear()
        self._rebuild()

    def _rebuild(self):
        h = self.timeline.history
        if h is None:
            return
        name = self.matrix.currentData()
        if name not in h.shapes:  # wpe of a model with RoPE (or of the bigram): nothing to plot
            self.canvas.set_data([], [], [], None)
            self.message.setText(no_matrix(h.config, name))
            return
        if name not in self._cache:
            basis = pca_basis(h.matrix_at(name, h.step))
            steps = sorted(h.snapshots)
            per_step = [project(h.matrix_at(name, s), basis) for s in steps]
            rows = len(per_step[0])
            paths = [[(s, *per_step[k][i]) for k, s in enumerate(steps)] for i in range(rows)]
            if name == 'wte':
                labels = [h.tokenizer.token_text(i) for i in range(rows)]
            else:
                labels = [f'p{i}' for i in range(rows)]
            self._cache[name] = (basis, labels, paths)
        basis = self._cache[name][0]
        self.message.setText(f'{name} on the principal axes of step {h.step:,}, fixed for every step. Lines: every '
                             f'{h.every} steps, strong up to the step shown. Hover: token and step.')
        self._show_current()

    def _show_current(self):
        h, name = self.timeline.history, self.matrix.currentData()
        if h is None or name not in self._cache or name not in h.shapes or self.session.model is None:
            return
        basis, labels, paths = self._cache[name]
        rows = [[p.data for p in row] for row in self.session.model.state_dict[name]]
        step = self.timeline.step if self.timeline.step is not None else h.step
        self.canvas.set_data(labels, paths, project(rows, basis), step)
