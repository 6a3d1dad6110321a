"""Compare runs: the loss curves of several training runs over one another (issue 23, "compare rungs").

`RunCurves` keeps the runs this window has seen: the history of each checkpoint opened (as the Timeline
reads it: once a panel that needs it is raised, Training included, and for each checkpoint after) and
each run trained here. `CompareRuns` lists them with a box each and draws the ticked ones, smoothed, on a loss chart given to it (the Training panel's),
each named with its parameter count and last smoothed loss, so that rungs of different sizes can be set
side by side: bigger is not always lower."""

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from engine.numbers import shown

from explorer.history.charts import smoothed
from explorer.theme import run_color

MAX_POINTS = 1000  # points drawn per curve: a 100,000-step run is thinned, its shape kept


@dataclass(frozen=True)
class Run:
    name: str           # what the learner knows it by: the checkpoint's file, or "trained here …"
    params: int         # how many scalars it learns
    losses: tuple       # the training loss at each step, from step 1
    key: object         # the same run seen again is not listed twice (a history's SHA-256, a run's id)

    @property
    def label(self):
        last = smoothed(self.losses)[-1] if self.losses else float('nan')
        return f'{self.name} · {self.params:,} params · {len(self.losses):,} steps · loss {shown(last)}'


class RunCurves(QObject):
    """The runs seen in this window, oldest first; `timeline` brings each checkpoint's history as it is read."""

    added = Signal(object)  # the Run

    def __init__(self, session, timeline, parent=None):
        super().__init__(parent)
        self.session, self.timeline = session, timeline
        self.runs = []
        timeline.loaded.connect(self._on_history)

    def add(self, name, params, losses, key):
        if not losses or any(r.key == key for r in self.runs):
            return None
        run = Run(name, int(params), tuple(float(x) for x in losses), key)
        self.runs.append(run)
        self.added.emit(run)
        return run

    def want_history(self):
        """A view of the runs is shown: read the checkpoint's history, if it has one (off the UI thread)."""
        self.timeline.ensure_loaded()

    def _on_history(self):
        history, run = self.timeline.history, self.timeline.run
        if history is None or run is None:
            return
        name = self.session.checkpoint_name if self.session.checkpoint is run else run.history_name or 'a run'
        key = getattr(run, 'history_sha256', None) or ('file', str(run.history_file))  # read again: listed once
        self.add(name, len(run.model.params), history.losses, key)


class CompareRuns(QWidget):
    """The runs with a box each; the ticked ones drawn on `chart` (a QChartView with x and y axes)."""

    def __init__(self, runs, chart, axes, parent=None):
        super().__init__(parent)
        self.runs, self.chart, (self.x_axis, self.y_axis) = runs, chart.chart(), axes
        self.series = {}  # run key: its QLineSeries while ticked
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel('Compare runs (tick one to draw its smoothed loss):')
        title.setToolTip('Every checkpoint opened and every run trained in this window, with how many '
                         'parameters it learns: a rung of the ladder against another')
        layout.addWidget(title)
        self.list = QListWidget()
        self.list.setMinimumHeight(48)
        self.list.setMaximumHeight(80)
        self.list.itemChanged.connect(self._on_ticked)
        layout.addWidget(self.list)
        self.empty = QLabel('No run yet: open a checkpoint with a history, or train one.')
        self.empty.setEnabled(False)
        layout.addWidget(self.empty)
        for run in runs.runs:
            self._on_added(run)
        runs.added.connect(self._on_added)

    def _on_added(self, run):
        self.empty.hide()
        item = QListWidgetItem(run.label)
        item.setToolTip(run.label)
        item.setData(Qt.UserRole, run.key)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Unchecked)
        item.setForeground(run_color(self.list.count()))
        self.list.addItem(item)

    def shown_keys(self):
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.Checked]

    def _on_ticked(self, item):
        from PySide6.QtCharts import QLineSeries
        key = item.data(Qt.UserRole)
        run = next(r for r in self.runs.runs if r.key == key)
        if item.checkState() == Qt.Checked and key not in self.series:
            series = QLineSeries()
            short = run.name.removeprefix('trained here (').removesuffix(')')  # the legend has little room
            series.setName(f'{short} · {run.params:,}')
            pen = QPen(item.foreground().color())
            pen.setWidthF(1.6)
            pen.setStyle(Qt.DashLine)
            series.setPen(pen)
            series.replace(curve_points(run.losses))
            self.chart.addSeries(series)
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
            self.series[key] = series
        elif item.checkState() != Qt.Checked and key in self.series:
            self.chart.removeSeries(self.series.pop(key))
        self.fit_axes()

    def fit_axes(self):
        """The axes cover every ticked run (and what the chart showed before)."""
        runs = [r for r in self.runs.runs if r.key in self.series]
        if not runs:
            return
        steps = max(len(r.losses) for r in runs)
        top = max(max(smoothed(r.losses)) for r in runs)
        self.x_axis.setRange(1, max(steps, int(self.x_axis.max())))
        self.y_axis.setRange(0, max(top, self.y_axis.max()))
        self.y_axis.applyNiceNumbers()


def curve_points(losses):
    """The smoothed losses as (step, loss) points, at most MAX_POINTS of them (every k-th, and the last)."""
    from PySide6.QtCore import QPointF
    ema = smoothed(losses)
    k = max(1, -(-len(ema) // MAX_POINTS))
    steps = list(range(0, len(ema), k))
    if steps[-1] != len(ema) - 1:
        steps.append(len(ema) - 1)
    return [QPointF(i + 1, ema[i]) for i in steps]
