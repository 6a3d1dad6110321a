"""The attention dock: one heatmap per (layer, head), linked both ways with the graph.

Click a cell to open the graph down to that softmax weight; select anything inside a head in the
graph and its row (or cell) is framed here. Show the weights or, as backprop gets there, the
gradient of the loss with respect to each weight. Compare with a second checkpoint side by side.
"""

import random
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu, QMessageBox, QPushButton,
                               QSizePolicy, QToolTip, QVBoxLayout, QWidget)

from engine import checkpoint as ckpt_io
from engine.attention import cell_node, place_of, to_csv
from engine.files import write_atomic
from engine.grouping import node_key, split_key
from engine.model import Model
from engine.trace import record

from .heatmap import paint_heads, render
from .theme import LIGHT


class HeatmapGrid(QWidget):
    """The heatmaps of one recording; hover for the exact value, click a cell or a head's title."""

    cell_clicked = Signal(int, int, int, int)  # layer, head, query, key
    head_clicked = Signal(int, int)            # layer, head
    export_head = Signal(int, int)

    def __init__(self, panel, parent=None):
        super().__init__(parent)
        self.panel = panel
        self.trace = None
        self.title = ''
        self.value = None          # (l, h, q, k) -> number or None
        self.gradients = False     # value gives gradients (diverging scale), not weights
        self.boxes = []
        self.setMouseTracking(True)
        self.setMinimumSize(200, 160)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self):
        return QSize(320, 300)

    def show_trace(self, trace, value, title, gradients=False):
        self.trace, self.value, self.title, self.gradients = trace, value, title, gradients
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        if self.trace is None:
            painter.drawText(self.rect(), Qt.AlignCenter, self.title or 'Recording…')
            return
        p = self.panel
        self.boxes = paint_heads(painter, QRectF(self.rect()).adjusted(6, 4, -6, -4), self.trace, self.value,
                                 p.colors(), self.gradients, p.selected_place(self.trace), p.only, self.title,
                                 self.font())
        painter.end()

    def _hit(self, pos):
        for box in self.boxes:
            if box.header.contains(pos):
                return box, None
            cell = box.cell_at(pos)
            if cell is not None:
                return box, cell
        return None, None

    def mouseMoveEvent(self, event):
        box, cell = self._hit(event.position())
        if cell is None:
            QToolTip.hideText()
            self.setCursor(Qt.PointingHandCursor if box else Qt.ArrowCursor)
            return
        self.setCursor(Qt.PointingHandCursor)
        QToolTip.showText(event.globalPosition().toPoint(), self.describe(box.layer, box.head, *cell), self)

    def describe(self, layer, head, q, k):
        trace = self.trace
        weight = trace.attention[layer][head][q][k]
        lines = [f'layer {layer} · head {head}',
                 f'query {q} {trace.token_texts[q]!r} (predicting {trace.token_texts[q + 1]!r}) → key {k} '
                 f'{trace.token_texts[k]!r}',
                 f'weight {weight!r}']
        if self.gradients and self.value(layer, head, q, k) is not None:
            lines.append(f'∂loss/∂weight {self.value(layer, head, q, k)!r}')
        return '\n'.join(lines)

    def mousePressEvent(self, event):
        box, cell = self._hit(event.position())
        if box is None or event.button() != Qt.LeftButton:
            return
        if cell is None:
            self.head_clicked.emit(box.layer, box.head)
        else:
            self.cell_clicked.emit(box.layer, box.head, *cell)

    def contextMenuEvent(self, event):
        box, _ = self._hit(event.pos())
        if box is None:
            return
        menu = QMenu(self)
        menu.addAction('Show this head alone' if self.panel.only is None else 'Show all heads',
                       lambda: self.head_clicked.emit(box.layer, box.head))
        menu.addAction('Export this head as PNG…', lambda: self.export_head.emit(box.layer, box.head))
        menu.exec(event.globalPos())


class AttentionPanel(QWidget):
    """Heatmaps of the current recording (and of a second checkpoint, to compare)."""

    MODES = ('weights', 'gradients')

    def __init__(self, session, host, colors=LIGHT, parent=None):
        super().__init__(parent)
        self.session, self.host = session, host
        self._colors = colors            # the graph's, set by the window when the theme changes
        self.gradients = False
        self.only = None                 # (layer, head) shown alone, or None for the grid
        self.other = None                # (label, model) compared with, or None
        self.other_trace = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.mode = QComboBox()
        self.mode.addItems(['weights', '∂loss/∂weight'])
        self.mode.setToolTip('Show the attention weights, or the gradient of the loss with respect to each '
                             '(as far as backprop has got)')
        self.mode.currentIndexChanged.connect(self._on_mode)
        self.compare = QComboBox()
        self.compare.addItems(['no comparison', 'fresh random weights', 'checkpoint…'])
        self.compare.setToolTip('Show the same document under a second model beside this one')
        self.compare.activated.connect(self._on_compare)
        self.all_heads = QPushButton('All heads')
        self.all_heads.setToolTip('Back to every head (click a head\'s title to show it alone)')
        self.all_heads.clicked.connect(lambda: self.show_only(None))
        self.all_heads.hide()
        export_png = QPushButton('PNG…')
        export_png.setToolTip('Save the heatmaps as shown as a PNG image')
        export_png.clicked.connect(lambda: self.export('png'))
        export_csv = QPushButton('CSV…')
        export_csv.setToolTip('Save every attention weight: layer,head,query,key,query_token,key_token,weight')
        export_csv.clicked.connect(lambda: self.export('csv'))
        for combo in (self.mode, self.compare):  # narrow enough for a dock at 1280x720
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(9)
        for w in (self.mode, self.compare, self.all_heads):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(export_png)
        row.addWidget(export_csv)
        layout.addLayout(row)
        self.grids = grids = QBoxLayout(QBoxLayout.LeftToRight)
        self.grid = HeatmapGrid(self)
        self.other_grid = HeatmapGrid(self)
        self.other_grid.hide()
        for grid in (self.grid, self.other_grid):
            grid.cell_clicked.connect(self._on_cell_clicked)
            grid.head_clicked.connect(lambda l, h: self.show_only(None if self.only else (l, h)))
            grid.export_head.connect(self.export_head)
            grids.addWidget(grid, 1)
        layout.addLayout(grids, 1)
        self.hint = QLabel('Click a cell to find its weight in the graph; a head\'s title to show it alone.')
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet('color: gray;')
        layout.addWidget(self.hint)
        session.recorded.connect(self._on_recorded)
        session.selection_changed.connect(self._repaint)
        session.backprop.moved.connect(self._on_moved)

    # What the grids ask

    def resizeEvent(self, event):
        """Two models compared: side by side in a wide panel, one above the other in a tall one."""
        super().resizeEvent(event)
        tall = self.height() > self.width()
        self.grids.setDirection(QBoxLayout.TopToBottom if tall else QBoxLayout.LeftToRight)

    def colors(self):
        return self._colors

    def set_colors(self, colors):
        self._colors = colors
        self.grid.update()
        self.other_grid.update()

    def selected_place(self, trace):
        key = self.session.selected
        if trace is not self.session.trace or not key:
            return None
        kind, index = split_key(key)
        return place_of(trace, node=index) if kind == 'n' else place_of(trace, scope=index)

    def _value(self, trace):
        """Weights, or for the recording backprop steps through and in gradient mode, its gradients."""
        if not self._shows_gradients(trace):
            return lambda l, h, q, k: trace.attention[l][h][q][k]
        bp = self.session.backprop

        def grad(l, h, q, k):
            node = cell_node(trace, l, h, q, k)
            return bp.grads[node] if bp.reached(node) else None
        return grad

    def _shows_gradients(self, trace):
        return self.gradients and trace is self.session.trace

    # Session -> panel

    def _on_recorded(self):
        if self.only is not None and not self._fits(self.only):
            self.only = None
        self._show()
        if self.other is not None:
            self._record_other()

    def _fits(self, head):
        config = self.session.trace.config
        return head[0] < config.n_layer and head[1] < config.n_head

    def _show(self):
        trace = self.session.trace
        name = self.session.checkpoint_name
        self.grid.show_trace(trace, self._value(trace), f'{trace.doc!r} · {name}' if self.other else None,
                             self.gradients)
        if self.other_trace is not None:
            self.other_grid.show_trace(self.other_trace, self._value(self.other_trace),
                                       f'{self.other_trace.doc!r} · {self.other[0]}')
        self.all_heads.setVisible(self.only is not None)

    def _repaint(self):
        self.grid.update()

    def _on_moved(self, _changed):
        if self.gradients and self.session.trace is not None:
            self.grid.update()

    def _on_mode(self, index):
        self.gradients = index == 1
        if self.session.trace is not None:
            self._show()
        if self.gradients and self.session.backprop.position == 0:
            self.host.show_message('No gradient yet: step backprop (→, or End for all of it).')

    def show_only(self, head):
        self.only = head
        if self.session.trace is not None:
            self._show()

    def _on_cell_clicked(self, layer, head, q, k):
        grid = self.sender()
        if grid is self.other_grid:
            self.host.show_message('That is the comparison model; its graph is not the one shown.')
            return
        self.session.reveal(node_key(cell_node(self.session.trace, layer, head, q, k)))

    # Comparing

    def _on_compare(self, index):
        if index == 0:
            self.other, self.other_trace = None, None
            self.other_grid.hide()
            self._show()
            return
        model = self.session.model
        if index == 1:
            seed = self.session.checkpoint.seed
            self.other = (f'fresh random (seed {seed})',
                          Model.init(model.config, model.tokenizer, random.Random(seed)))
        else:
            path, _ = QFileDialog.getOpenFileName(self, 'Compare with checkpoint', str(self.host.last_dir()),
                                                  'Checkpoints (*.json)')
            if not path:
                self.compare.setCurrentIndex(0 if self.other is None else self.compare.currentIndex())
                return
            try:
                other = ckpt_io.load(path)
            except ckpt_io.CheckpointError as e:
                QMessageBox.warning(self, 'Compare', str(e))
                self.compare.setCurrentIndex(0)
                return
            self.other = (Path(path).name, other.model)
        self._record_other()

    def _record_other(self):
        label, model = self.other
        doc = self.session.doc
        try:
            model.tokenizer.encode(doc)
        except ValueError as e:
            QMessageBox.warning(self, 'Compare', f'{label} cannot read {doc!r}: {e}')
            return
        self.other_grid.show_trace(None, None, f'Recording {doc!r} under {label}…')
        self.other_grid.show()
        self.session.worker.submit('compare', lambda: record(model, doc), self._on_other_recorded,
                                   lambda e: QMessageBox.warning(self, 'Compare', f'Could not record: {e}'))

    def _on_other_recorded(self, trace):
        self.other_trace = trace
        self._show()

    # Export

    def _panels(self):
        trace = self.session.trace
        name = self.session.checkpoint_name
        panels = [(trace, self._value(trace), f'{trace.doc!r} · {name}', self.gradients)]
        if self.other_trace is not None:
            panels.append((self.other_trace, self._value(self.other_trace),
                           f'{self.other_trace.doc!r} · {self.other[0]}', False))
        return panels

    def export(self, fmt, only=None):
        if self.session.trace is None:
            return
        suffix = f'-l{only[0]}h{only[1]}' if only else ''
        path, _ = QFileDialog.getSaveFileName(self, f'Export attention as {fmt.upper()}', str(
            self.host.last_dir() / f'{self.session.doc}-attention{suffix}.{fmt}'), f'*.{fmt}')
        if path:
            self.write(path, fmt, only)

    def export_head(self, layer, head):
        self.export('png', (layer, head))

    def write(self, path, fmt, only=None):
        try:
            if fmt == 'csv':
                write_atomic(path, to_csv(self.session.trace))
            else:
                image = render(self._panels(), colors=self.colors(), only=only or self.only)
                buffer = QBuffer()
                buffer.open(QIODevice.WriteOnly)
                image.save(buffer, 'PNG')
                write_atomic(path, bytes(buffer.data()))
        except OSError as e:
            QMessageBox.warning(self, 'Export', f'Could not write {path}: {e.strerror or e}')
        else:
            self.host.show_message(f'Saved {path}')

