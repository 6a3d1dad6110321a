"""The attention dock: heatmaps per (layer, head) beside bertviz-style token lines, and one query's
computation step by step, all linked both ways with the graph.

Click a cell to open the graph down to that softmax weight (and show its query step by step); click a
query's label to see its steps; select anything inside a head in the graph and its row (or cell) is
framed here. Show the weights, the scores (softmax's input) or, as backprop gets there, dloss/dweight
and dloss/dscore. Compare like with like: a second model (fresh random weights or any checkpoint)
shows the same quantity, side by side or as a difference. Narrow (a dock at 1280×720): one head large
when all would be unreadable, the views one above the other; "Pop out" floats the dock as its own window.
"""

import random
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu,
                               QMessageBox, QSplitter, QTabWidget, QToolButton, QVBoxLayout, QWidget)

from engine import checkpoint as ckpt_io
from engine.attention import cell_node, place_of, query_nodes, recorded, to_csv
from engine.backprop import Stepper
from engine.files import write_atomic
from engine.graph.keys import node_key, split_key
from engine.model import Model
from engine.presets import no_attention
from engine.trace import record

from explorer.attention.heatmap import png_bytes, scale_for, svg_bytes
from explorer.attention.heatmap_grid import HeatmapGrid
from explorer.attention.query_steps import QuerySteps, steps_html
from explorer.dock_column import dock_of, pop_out
from explorer.theme import LIGHT
from explorer.attention.token_lines import TokenLinesView

POP_OUT_SIZE = QSize(1400, 900)  # the panel popped out at most: room for every head side by side
MODE_NAMES = (('weight', 'weights'), ('score', 'scores q·k/√d'), ('grad_weight', 'dloss/dweight'),
              ('grad_score', 'dloss/dscore'))


class AttentionPanel(QWidget):
    """Heatmaps and token lines of the current recording (and of a second model, to compare), and one query's steps."""

    def __init__(self, session, host, colors=LIGHT, parent=None):
        super().__init__(parent)
        self.session, self.host = session, host
        self._colors = colors            # the graph's, set by the window when the theme changes
        self.quantity = 'weight'
        self.only = None                 # (layer, head) shown alone, or None for the grid
        self.focus = (0, 0)              # the head shown when space allows only one
        self.other = None                # (label, model) compared with, or None
        self.other_trace = None
        self._other_stepper = None       # backprop of the other recording, kept at the stepper's position
        self.difference = False          # compare as this − other instead of side by side
        self.query = None                # (layer, head, query) shown step by step
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self._mode_row())
        layout.addLayout(self._compare_row())
        layout.addWidget(self._views(colors), 1)
        for combo in (self.mode, self.heads, self.compare, self.compare_how):  # narrow enough for a dock at 1280x720
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        self.hint = QLabel('Click a cell to find its weight in the graph, a query\'s label for its steps.')
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {colors['hint_text']};")
        layout.addWidget(self.hint)
        session.recorded.connect(self._on_recorded)
        session.selection_changed.connect(self._on_selection)
        session.backprop.moved.connect(self._on_moved)

    def _mode_row(self):
        """What the cells show, and which heads."""
        row = QHBoxLayout()
        self.mode = QComboBox()
        self.mode.addItems([label for _, label in MODE_NAMES])
        self.mode.setToolTip('What the cells show: the weights, the scores (softmax\'s input), or the gradient of '
                             'the loss with respect to each (as far as backprop has got)')
        self.mode.currentIndexChanged.connect(self._on_mode)
        self.heads = QComboBox()
        self.heads.setToolTip('Every head, or one head large')
        self.heads.activated.connect(self._on_heads)
        row.addWidget(self.mode)
        row.addWidget(self.heads)
        row.addStretch(1)
        return row

    def _compare_row(self):
        """A second model to compare with and how, Export and Pop out."""
        row = QHBoxLayout()
        self.compare = QComboBox()
        self.compare.addItems(['no compare', 'fresh random weights', 'checkpoint…'])
        self.compare.setToolTip('Show the same quantity of the same document under a second model')
        self.compare.activated.connect(self._on_compare)
        self.compare_how = QComboBox()
        self.compare_how.addItems(['side by side', 'difference'])
        self.compare_how.setToolTip('The two models side by side, or this one minus the other')
        self.compare_how.activated.connect(self._on_compare_how)
        self.compare_how.hide()  # shown while comparing
        self.export_button = QToolButton()
        self.export_button.setText('Export')
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        self.export_button.setToolTip('Save the heatmaps as PNG or SVG, or every score, weight and gradient as CSV')
        menu = QMenu(self.export_button)
        menu.addAction('PNG image…', lambda: self.export('png'))
        menu.addAction('SVG (vector, for papers and slides)…', lambda: self.export('svg'))
        menu.addAction('CSV (layer, head, query, key, tokens, score, weight, gradients)…', lambda: self.export('csv'))
        self.export_button.setMenu(menu)
        self.pop_button = QToolButton()
        self.pop_button.setText('Pop out')
        self.pop_button.setToolTip('Show the attention views in a window of their own (again to dock them back)')
        self.pop_button.clicked.connect(self.toggle_pop_out)
        row.addWidget(self.compare)
        row.addWidget(self.compare_how)
        row.addStretch(1)
        row.addWidget(self.export_button)
        row.addWidget(self.pop_button)
        return row

    def _views(self, colors):
        """The tabs: Heatmaps (this model's and the other's grids), Token lines, One query."""
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.split = QSplitter(Qt.Horizontal)   # wide: the heatmaps beside the token lines
        self.split.setChildrenCollapsible(False)
        grids_box = QWidget()
        self.grids = grids = QBoxLayout(QBoxLayout.LeftToRight, grids_box)
        grids.setContentsMargins(0, 0, 0, 0)
        self.grid = HeatmapGrid(self)
        self.other_grid = HeatmapGrid(self)
        self.other_grid.hide()
        for grid in (self.grid, self.other_grid):
            grid.cell_clicked.connect(self._on_cell_clicked)
            grid.row_clicked.connect(self._on_row_clicked)
            grid.head_clicked.connect(lambda l, h: self.show_only(None if self.only else (l, h)))
            grid.export_head.connect(self.export_head)
            grids.addWidget(grid, 1)
        self.lines = TokenLinesView(colors)
        self.hover_token = None          # ('q' | 'k', position) hovered in the token lines: framed in the heatmaps
        self.lines.lines.token_hovered.connect(self._on_token_hovered)
        self.split.addWidget(grids_box)
        self.steps = QuerySteps()
        self.steps.node_clicked.connect(lambda node: self.session.reveal(node_key(node)))
        self.steps.box_clicked.connect(self.session.reveal)
        self.tabs.addTab(self.split, 'Heatmaps')
        self.tabs.addTab(self.lines, 'Token lines')
        self.tabs.addTab(self.steps, 'One query')
        self.tabs.setTabToolTip(1, 'bertviz\'s head view: each query\'s lines to its keys, opacity the weight')
        self.tabs.setTabToolTip(2, 'One query\'s computation step by step: q, keys, q·k, ÷√d, mask, softmax, '
                                   'weighted sum')
        self.wide = False
        self.tabs.currentChanged.connect(lambda _: self._show_steps())
        return self.tabs

    @property
    def gradients(self):
        return self.quantity in ('grad_weight', 'grad_score')

    # What the grids ask

    def hasHeightForWidth(self):
        """No: its wrapped labels would make the dock's scroll area give the panel its preferred height
        (the heatmaps then run below the dock's edge) instead of the height the dock has."""
        return False

    def heightForWidth(self, width):
        return -1

    def resizeEvent(self, event):
        """Wide: the token lines beside the heatmaps; narrow: in a tab of their own. Two models compared:
        side by side in a wide panel, one above the other in a tall one."""
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self):
        self._arrange(self.width() >= (1300 if self.other is not None else 700))
        self.hint.setVisible(self.height() >= 420)  # short: the heatmaps get the room, the tooltips say it
        tall = self.height() > self.width()
        self.grids.setDirection(QBoxLayout.TopToBottom if tall else QBoxLayout.LeftToRight)

    def _arrange(self, wide):
        if wide == self.wide:
            return
        self.wide = wide
        current = self.tabs.currentWidget()
        if wide:
            self.tabs.removeTab(self.tabs.indexOf(self.lines))
            self.split.addWidget(self.lines)
            self.split.setStretchFactor(0, 3)
            self.split.setStretchFactor(1, 2)
            self.split.setSizes([self.width() * 3 // 5, self.width() * 2 // 5])
            self.lines.show()  # a tab page it was, hidden unless current
            self.tabs.setTabText(0, 'Heatmaps and token lines')
        else:
            self.tabs.insertTab(1, self.lines, 'Token lines')
            self.tabs.setTabText(0, 'Heatmaps')
        self.tabs.setCurrentWidget(self.split if current is self.lines and wide else current)

    def colors(self):
        return self._colors

    def set_colors(self, colors):
        self._colors = colors
        self.lines.set_colors(colors)
        self.grid.update()
        self.other_grid.update()

    def _view(self):
        """What the heatmaps show: the recording, or with a part of the document recorded, the whole document
        (engine.attention.WholeAttention: its weights computed with numpy, its first queries linked to the graph)."""
        current = self.session.current
        return current.attention_view or current.trace if current is not None else None

    def _ours(self, trace):
        return trace is not None and getattr(trace, 'part', trace) is self.session.trace

    def hovered_token(self, trace):
        """('q' | 'k', position, layer) hovered in the token lines, for the heatmaps of `trace`, or None."""
        if self.hover_token is None or not self._ours(trace):
            return None
        return (*self.hover_token, self.lines.lines.layer)

    def _on_token_hovered(self, side, position):
        self.hover_token = (side, position) if side else None
        self.grid.update()

    def focus_head(self):
        return self.focus

    def selected_place(self, trace):
        key = self.session.selected
        if not self._ours(trace) or not key:
            return None
        kind, index = split_key(key)
        return place_of(trace, node=index) if kind == 'n' else place_of(trace, scope=index)

    def _value(self, trace, quantity=None, grads=None):
        """The number a cell of `trace` shows for the quantity (None: backprop has not reached it)."""
        quantity = quantity or self.quantity
        if quantity == 'weight':
            return lambda l, h, q, k: trace.attention[l][h][q][k]
        if quantity == 'score':
            return lambda l, h, q, k: trace.data[query_nodes(trace, l, h, q).logits[k]] if recorded(trace, q) else None
        field = 'weights' if quantity == 'grad_weight' else 'logits'
        bp = self.session.backprop
        if grads is None:
            grads = bp.grads

        def grad(l, h, q, k):
            if not recorded(trace, q):
                return None
            node = getattr(query_nodes(trace, l, h, q), field)[k]
            return float(grads[node]) if bp.reached(node) else None
        return grad

    def _other_value(self):
        """The same quantity for the compared model; its gradients at the same backprop position."""
        if not self.gradients:
            return self._value(self.other_trace)
        stepper = self._other_stepper
        if stepper.position != self.session.backprop.position:
            stepper.seek(self.session.backprop.position)
        return self._value(self.other_trace, grads=stepper.grads)

    def _difference(self, mine, other):
        def diff(l, h, q, k):
            a, b = mine(l, h, q, k), other(l, h, q, k)
            return None if a is None or b is None else a - b
        return diff

    # Session -> panel

    def _on_recorded(self):
        config = self.session.trace.config
        if self.only is not None and not self._fits(self.only):
            self.only = None
        if not self._fits(self.focus):
            self.focus = (0, 0)
        if self.query is not None and (not self._fits(self.query[:2]) or self.query[2] >= self.session.trace.n):
            self.query = None
        self.heads.clear()
        self.heads.addItem('all heads')
        self.heads.addItems([f'layer {l} · head {h}' for l in range(config.attention_layers) for h in range(config.n_head)])
        self.heads.setCurrentIndex(0 if self.only is None else 1 + self.only[0] * config.n_head + self.only[1])
        self.lines.set_trace(self._view())
        if self.other is not None:
            self.other_trace = None
            self._record_other()
        self._show()

    def _fits(self, head):
        config = self.session.trace.config
        return head[0] < config.attention_layers and head[1] < config.n_head

    def _comparable(self):
        a, b = self.session.trace, self.other_trace
        return b is not None and len(a.op) == len(b.op) and a.config == b.config

    def _show(self):
        trace = self._view()
        if trace is None:
            return
        if not trace.config.attention_layers:  # the bigram and mlp rungs: nothing looks at another position
            self.grid.show_trace(None, None, no_attention(trace.config))
            self.other_grid.show_trace(None, None, '')
            return
        if self.quantity in ('score', 'grad_score') and trace.config.attention == 'uniform':
            self.grid.show_trace(None, None, 'This model has no scores: it is the average rung, without q and k, '
                                             'so every weight is 1/(t+1). Choose weights or dloss/dweight.')
            self.other_grid.show_trace(None, None, '')
            self._show_steps()
            return
        name = self.session.checkpoint_name
        mine = self._value(trace)
        self.grid.show_trace(trace, mine, self._title(), self.quantity)
        if self.other_trace is not None:
            if self.gradients and not self._comparable():
                self.other_grid.show_trace(None, None, f'{self.other[0]} has another shape: its gradients '
                                                       'cannot follow this backprop step by step.')
            elif self.difference and self._comparable():
                self.other_grid.show_trace(trace, self._difference(mine, self._other_value()),
                                           f'{trace.doc!r} · {name} − {self.other[0]}', 'diff_' + self.quantity)
            else:  # the same quantity on one colour scale, so equal colours mean equal numbers
                theirs = self._other_value()
                scale = self._shared_scale(mine, theirs)
                self.grid.shared_scale = scale
                self.other_grid.show_trace(self.other_trace, theirs, f'{self.other_trace.doc!r} · {self.other[0]}',
                                           self.quantity, scale)
        self._show_steps()

    def _shared_scale(self, mine, theirs):
        """One colour scale for both sides: the largest magnitude either shows."""
        trace, other = self.session.trace, self.other_trace
        cells = [(l, h, q, k) for l in range(trace.config.attention_layers) for h in range(trace.config.n_head)
                 for q in range(trace.n) for k in range(q + 1)]
        values = [mine(*c) for c in cells]
        if other.config.attention_layers == trace.config.attention_layers and other.config.n_head == trace.config.n_head \
                and other.n == trace.n:
            values += [theirs(*c) for c in cells]
        return scale_for(values, self.quantity)

    def _title(self):
        """The title above the heatmaps: what model, and in gradient mode how far backprop has got."""
        trace, name, bp = self.session.trace, self.session.checkpoint_name, self.session.backprop
        parts = [f'{trace.doc!r} · {name}'] if self.other or self.gradients else []
        if self.gradients:
            parts.append(f'backprop step {bp.position:,} of {bp.total:,}')
        if trace.whole_n is not None:
            rows = f'row {trace.n}' if trace.n == trace.whole_n - 1 else f'rows {trace.n}–{trace.whole_n - 1}'
            parts.append(f'{rows}: numpy (not in the graph)')
        return ' · '.join(parts) or None

    def _show_steps(self):
        """Write one query's page (only while its tab is shown: it is rewritten when the tab is chosen)."""
        trace = self.session.trace
        if self.query is None or trace is None or self.tabs.currentWidget() is not self.steps:
            return
        bp = self.session.backprop
        grads = bp.grads if self.gradients else None
        self.steps.show_page(steps_html(trace, *self.query, grads, bp.reached, self._colors), self.query)

    def _on_selection(self):
        place = self.selected_place(self.session.trace) if self.session.trace is not None else None
        if place is not None and (place.layer, place.head, place.query) != self.query:
            self.query = (place.layer, place.head, place.query)
            self._show_steps()
        if place is not None and place.head is not None and (place.layer, place.head) != self.focus:
            self.focus = (place.layer, place.head)  # the head shown alone when space is short: the one selected in the graph
            self._show()
            return
        self.grid.update()

    def _on_moved(self, _changed):
        if self.gradients and self.session.trace is not None:
            if self.other_trace is not None:
                self._show()
            else:
                self.grid.title = self._title()
                self.grid.update()
                if self.tabs.currentWidget() is self.steps:
                    self._show_steps()

    def _on_mode(self, index):
        self.quantity = MODE_NAMES[index][0]
        if self.session.trace is not None:
            self._show()
        if self.gradients and self.session.backprop.position == 0:
            self.host.show_message('No gradient yet: step backprop (→, or End for all of it).')

    def set_quantity(self, quantity):
        self.mode.setCurrentIndex([q for q, _ in MODE_NAMES].index(quantity))

    def _on_heads(self, index):
        config = self.session.trace.config
        self.show_only(None if index <= 0 else divmod(index - 1, config.n_head))

    def show_only(self, head):
        self.only = head
        if head is not None:
            self.focus = head
            self.lines.set_heads((head[1],), head[0])
        config = self.session.trace.config if self.session.trace is not None else None
        if config is not None:
            self.heads.setCurrentIndex(0 if head is None else 1 + head[0] * config.n_head + head[1])
            self._show()

    def _on_cell_clicked(self, layer, head, q, k):
        grid = self.sender()
        self.focus = (layer, head)
        if grid is self.other_grid:
            self.host.show_message('That is the comparison model; its graph is not the one shown.')
            return
        if self._unrecorded(q):
            return
        self.query = (layer, head, q)
        self._show_steps()
        self.session.reveal(node_key(cell_node(self.session.trace, layer, head, q, k)))

    def _unrecorded(self, q):
        """True, and the status bar says why, if query q is beyond the part of the document recorded."""
        trace = self.session.trace
        if trace is None or q < trace.n:
            return False
        self.host.show_message(f'Position {q} is not recorded: the graph has the first {trace.n} of {trace.whole_n}. '
                               'Its weights here are computed with numpy; press Enter in the document field to '
                               'record more.')
        return True

    def _on_row_clicked(self, layer, head, q):
        self.show_query(layer, head, q)

    def show_query(self, layer, head, q):
        """One query's computation step by step, in the 'One query' tab."""
        if self._unrecorded(q):
            return
        self.focus = (layer, head)
        self.query = (layer, head, q)
        if self.tabs.currentWidget() is self.steps:
            self._show_steps()
        else:
            self.tabs.setCurrentWidget(self.steps)  # which writes the page

    # Pop out

    def toggle_pop_out(self):
        dock = dock_of(self)
        if dock is not None:
            pop_out(dock, self.pop_button, POP_OUT_SIZE)

    # Comparing

    def _on_compare(self, index):
        if index == 0:
            self.other, self.other_trace, self._other_stepper = None, None, None
            self.other_grid.hide()
            self.compare_how.hide()
            self._relayout()
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
            self.compare_with_file(path)
            return
        self._record_other()

    def compare_with_file(self, path):
        try:
            other = ckpt_io.load(path)
        except ckpt_io.CheckpointError as e:
            QMessageBox.warning(self, 'Compare', str(e))
            self.compare.setCurrentIndex(0 if self.other is None else self.compare.currentIndex())
            return
        self.other = (Path(path).name, other.model)
        self.compare.setCurrentIndex(2)
        self._record_other()

    def _on_compare_how(self, index):
        self.difference = index == 1
        self._show()

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
        self._relayout()  # two models need the width the token lines had: they go to their tab
        self._other_stepper = Stepper(trace)
        self.compare_how.setVisible(self._comparable())
        if not self._comparable():
            self.difference = False
            self.compare_how.setCurrentIndex(0)
        self._show()

    # Export

    def _panels(self):
        trace = self.session.trace
        name = self.session.checkpoint_name
        panels = [(trace, self._value(trace), f'{trace.doc!r} · {name}', self.quantity)]
        if self.other_trace is not None and (not self.gradients or self._comparable()):
            if self.difference and self._comparable():
                panels.append((trace, self._difference(panels[0][1], self._other_value()),
                               f'{trace.doc!r} · {name} − {self.other[0]}', 'diff_' + self.quantity))
            else:
                theirs = self._other_value()
                scale = self._shared_scale(panels[0][1], theirs)
                panels = [(*panels[0], scale), (self.other_trace, theirs,
                                                 f'{self.other_trace.doc!r} · {self.other[0]}', self.quantity, scale)]
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
        if fmt == 'csv':  # a full backward pass first: off the UI thread
            trace = self.session.trace
            self.session.worker.submit('export', lambda: write_atomic(path, to_csv(trace)),
                                       lambda _: self.host.show_message(f'Saved {path}'),
                                       lambda e: QMessageBox.warning(self, 'Export', f'Could not write {path}: '
                                                                     f'{getattr(e, "strerror", None) or e}'))
            return
        try:
            if fmt == 'svg':
                write_atomic(path, svg_bytes(self._panels(), self.colors(), only or self.only))
            else:
                write_atomic(path, png_bytes(self._panels(), self.colors(), only or self.only))
        except OSError as e:
            QMessageBox.warning(self, 'Export', f'Could not write {path}: {e.strerror or e}')
        else:
            self.host.show_message(f'Saved {path}')
