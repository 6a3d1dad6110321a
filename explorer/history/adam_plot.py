"""One parameter over the run: its value, gradient, Adam's m and √v, the learning rate and the update at
every step; for a whole matrix, the size (L2 norm) of its update per step. The gradients come from one
replay of the run in the background (engine.history.History.run_grads), kept for every parameter."""

import math

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QVBoxLayout

from engine.graph.keys import split_key
from engine.history import HistoryError
from engine.numbers import shown

from explorer.history.charts import step_chart
from explorer.history.history_panel import HistoryPanel, pop_out_button
from explorer.state.worker import Worker

PLOT = dict(marker_size=8, ticks=3, y_format='%.2g')  # titles say 'per step': the x axis is the step
GRADS_KEPT_MB = 256  # a run whose every gradient is larger (a numpy run of a big model) replays once per parameter


def _fit(axes, series, first, last):
    values = [p.y() for s in series for p in s.points()]
    if not values:
        return
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1e-12
    axes[0].setRange(first, last)
    axes[1].setRange(lo - pad, hi + pad)


class AdamPlot(HistoryPanel):
    def __init__(self, timeline, session, parent=None):
        super().__init__(parent)
        self.timeline, self.session = timeline, session
        self.worker = Worker(self)
        self.grads = None          # run_grads of the history in use
        self.rows = None           # series of the parameter shown
        self.param = None
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel('Parameter:'))
        self.field = QLineEdit()
        self.field.setPlaceholderText('wte[4][3], layer0.attn_wq[3][5] or a matrix: layer0.mlp_fc1')
        self.field.setToolTip('Select a weight in the graph, or type its name (Enter)')
        self.field.returnPressed.connect(lambda: self.show_param(self.field.text().strip()))
        row.addWidget(self.field, 1)
        self.pop_button = pop_out_button(self, 'the parameter’s plots')
        row.addWidget(self.pop_button)
        layout.addLayout(row)
        self.message = QLabel('Select a weight in the graph (open a weight grid and click a cell), or type a name.')
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.stop = QPushButton('Stop')
        self.stop.setToolTip('Stop replaying the run (select a parameter again to start over)')
        self.stop.clicked.connect(self.stop_replay)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.stop)
        layout.addLayout(bar)
        self._show_progress(False)
        self.value_view, self.value_series, self.value_marker, self.value_axes = step_chart(
            ['data'], 'value', title='value after each step', **PLOT)
        self.grad_view, self.grad_series, self.grad_marker, self.grad_axes = step_chart(
            ['grad', 'm', '√v'], 'per step', title='gradient and Adam’s moments', **PLOT)
        self.update_view, self.update_series, self.update_marker, self.update_axes = step_chart(
            ['update', 'lr (step size)'], 'per step', title='update and step size', **PLOT)
        for view in (self.value_view, self.grad_view, self.update_view):
            layout.addWidget(view, 1)
            view.hide()  # until there is something to plot
        timeline.loaded.connect(self._on_history)
        timeline.unavailable.connect(self._on_unavailable)
        timeline.step_changed.connect(self._show_marker)
        session.selection_changed.connect(self._on_selection)

    def _show_progress(self, shown):
        self.progress.setVisible(shown)
        self.stop.setVisible(shown)

    def stop_replay(self):
        """Stop the replay that collects the run's gradients; what is plotted stays."""
        if not self.worker.pending('grads'):
            return
        self.worker.cancel('grads')
        self._show_progress(False)
        self.message.setText(f'Stopped replaying the run at {self.progress.value()}%. Select a parameter '
                             '(or press Enter in the field) to start again.')

    def _on_unavailable(self, reason):
        self.grads = None
        self.worker.cancel('grads')
        self._show_progress(False)
        if reason:
            self.message.setText(reason)

    def _on_history(self):
        self.grads = None
        if self.param:
            self.show_param(self.param)

    def _on_selection(self):
        key, trace = self.session.selected, self.session.trace
        if not key or trace is None:
            return
        kind, index = split_key(key)
        name = trace.param_name(index) if kind == 'n' else None
        if name:
            self.field.setText(name)
            self.show_param(name)

    def show_param(self, name):
        """Plot parameter `name` ('wte[4][3]') or matrix ('wte') over the run; one sentence if it is not one."""
        h = self.timeline.history
        if h is None:
            self.param = name  # plotted when the history is in
            self.message.setText('Reading the training history…' if self.timeline.worker.pending('load')
                                 else self.timeline.reason)
            return
        if '[' not in name:
            if name not in h.update_norms:
                self.message.setText(f'There is no matrix {name!r}; the model has ' + ', '.join(h.shapes) + '.')
                return
            self.param = name
            self._show_matrix(name)
            return
        try:
            index = h.param_index(name)
        except ValueError as e:
            self.message.setText(str(e))  # what is plotted stays
            return
        self.param = name
        if self.grads is None:
            alone = self._grads_mb(h) > GRADS_KEPT_MB  # this parameter's rows only (param_series: a replay of the run)
            if self.worker.pending('grads') and not alone:  # on its way: this parameter is plotted when it is in
                self.message.setText(self._replaying(h, name))
                return
            self.message.setText(self._replaying(h, name))
            self.progress.setValue(0)
            self._show_progress(True)
            if alone:
                self.worker.submit('grads', lambda: h.param_series(index), lambda rows: self._on_rows(h, name, rows),
                                   self._on_failed, lambda done: self._on_progress(h, done))
                return
            self.worker.submit('grads', h.run_grads, lambda grads: self._on_grads(h, grads), self._on_failed,
                               lambda done: self._on_progress(h, done))
            return
        self.rows = h.series(index, self.grads)
        self._plot_rows(name)

    @staticmethod
    def _grads_mb(h):
        return h.step * h.num_params * 8 / 2**20

    def _replaying(self, h, name, done=0.0):
        mb = self._grads_mb(h)
        if mb > GRADS_KEPT_MB:
            return (f'Replaying the run, step {int(done * h.step):,} of {h.step:,}, for {name}’s gradient at every '
                    f'step (every parameter’s would be {mb:,.0f} MB, more than is kept: each parameter asked for '
                    'replays the run; the window stays usable).')
        return (f'Replaying the run once, step {int(done * h.step):,} of {h.step:,}, to collect every step’s '
                f'gradient (about {mb:.0f} MB, kept for every parameter; the window stays usable). '
                f'{name} is plotted when it is done.')

    def _on_rows(self, history, name, rows):
        """One parameter's rows, replayed for it alone (a run too big to keep every gradient)."""
        self._show_progress(False)
        if history is self.timeline.history and name == self.param:
            self.rows = rows
            self._plot_rows(name)

    def _on_progress(self, h, done):
        self.progress.setValue(int(100 * done))
        self.message.setText(self._replaying(h, self.param, done))

    def _on_failed(self, error):
        self._show_progress(False)
        self.message.setText(str(error))
        if isinstance(error, HistoryError):  # the replay disagreed with the file: no view may use it
            self.timeline.refuse(str(error))

    def _on_grads(self, history, grads):
        self._show_progress(False)
        if history is self.timeline.history:
            self.grads = grads
            self.show_param(self.param)

    def _plot_rows(self, name):
        rows, n = self.rows, len(self.rows)
        self.value_series['data'].replace([QPointF(r['step'], r['data']) for r in rows])
        self.grad_series['grad'].replace([QPointF(r['step'], r['grad']) for r in rows])
        self.grad_series['m'].replace([QPointF(r['step'], r['m']) for r in rows])
        self.grad_series['√v'].replace([QPointF(r['step'], math.sqrt(r['v'])) for r in rows])
        self.update_series['update'].replace([QPointF(r['step'], r['update']) for r in rows])
        self.update_series['lr (step size)'].replace([QPointF(r['step'], r['lr']) for r in rows])
        for view, series, axes in ((self.value_view, self.value_series, self.value_axes),
                                   (self.grad_view, self.grad_series, self.grad_axes),
                                   (self.update_view, self.update_series, self.update_axes)):
            view.show()
            _fit(axes, series.values(), 0, n)
        self.value_view.chart().setTitle(f'{name}: value after each step')
        self.grad_view.chart().setTitle('gradient of the step, Adam’s m and √v after it')
        self.update_view.chart().setTitle('update (what the step subtracted); Adam keeps it within about ±lr')
        changed = sum(1 for r in rows if r['grad'] != 0)
        self.message.setText(f'{name}: a gradient at {changed:,} of {n:,} steps (0 where the step’s document '
                             'does not use it); last update {}.'.format(shown(rows[-1]['update'])))
        self._show_marker(self.timeline.step if self.timeline.step is not None else n)

    def _show_matrix(self, name):
        h = self.timeline.history
        self.rows = None
        norms = h.update_norms[name]
        self.update_series['update'].replace([QPointF(i + 1, x) for i, x in enumerate(norms)])
        self.update_series['lr (step size)'].clear()
        self.value_view.hide()
        self.grad_view.hide()
        self.update_view.show()
        self.update_view.chart().setTitle(f'{name}: size (L2 norm) of its update at each step')
        _fit(self.update_axes, self.update_series.values(), 0, h.step)
        self.message.setText(f'{name}: {len(norms):,} updates; the largest {shown(max(norms))} at step '
                             f'{norms.index(max(norms)) + 1:,}.')
        self._show_marker(self.timeline.step if self.timeline.step is not None else h.step)

    def _show_marker(self, step):
        rows = self.rows
        if rows and 1 <= step <= len(rows):
            r = rows[step - 1]
            self.value_marker.replace([QPointF(step, r['data'])])
            self.grad_marker.replace([QPointF(step, r['grad'])])
            self.update_marker.replace([QPointF(step, r['update'])])
        elif rows is None and self.timeline.history and self.param in self.timeline.history.update_norms and \
                1 <= step <= self.timeline.history.step:
            self.update_marker.replace([QPointF(step, self.timeline.history.update_norms[self.param][step - 1])])
        else:
            for m in (self.value_marker, self.grad_marker, self.update_marker):
                m.clear()
