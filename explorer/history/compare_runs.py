"""Compare runs: the loss curves of several training runs over one another (issue 23, "compare rungs").

`RunCurves` keeps the runs this window has seen: the shipped ladder's (each rung trained on names.txt, read by
explorer.history.shipped_ladder when a view of the runs is first shown), the history of each checkpoint opened
(as the Timeline reads it: once a panel that needs it is raised, Training included, and for each checkpoint
after) and each run trained here. `CompareRuns` lists them with a box each, the shipped rungs first in ladder
order, and draws the ticked ones, smoothed, on a loss chart given to it (the Training panel's), each named
with its parameter count and last smoothed loss, so that rungs of different sizes can be set side by side:
bigger is not always lower. "Draw the ladder" ticks every shipped rung at once."""

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from engine.numbers import shown
from engine.presets import RUNGS, shipped_rung

from explorer.history.charts import smoothed
from explorer.history.shipped_ladder import ShippedLadder, run_key, shipped_name
from explorer.theme import run_color

MAX_POINTS = 1000  # points drawn per curve: a 100,000-step run is thinned, its shape kept


@dataclass(frozen=True)
class Run:
    name: str           # what the learner knows it by: the checkpoint's file, or "trained here …"
    params: int         # how many scalars it learns
    losses: tuple       # the training loss at each step, from step 1
    key: object         # the same run seen again is not listed twice (a history's SHA-256, a run's id)
    rung: str = None    # the ladder rung, for a shipped rung's own run (listed first, in ladder order)

    @property
    def rank(self):
        """Where a shipped rung stands on the ladder (0 bigram … 4 microgpt), or None."""
        return None if self.rung is None else RUNGS.index(self.rung)

    @property
    def label(self):
        last = smoothed(self.losses)[-1] if self.losses else float('nan')
        return f'{self.name} · {self.params:,} params · loss {shown(last)} · {len(self.losses):,} steps'


class RunCurves(QObject):
    """The runs seen in this window, oldest first; `timeline` brings each checkpoint's history as it is read."""

    added = Signal(object)  # the Run

    def __init__(self, session, timeline, parent=None):
        super().__init__(parent)
        self.session, self.timeline = session, timeline
        self.runs = []
        self._ladder = None  # explorer.history.shipped_ladder, made when a view first wants the runs
        timeline.loaded.connect(self._on_history)

    def add(self, name, params, losses, key, rung=None):
        if not losses or any(r.key == key for r in self.runs):
            return None
        run = Run(name, int(params), tuple(float(x) for x in losses), key, rung)
        self.runs.append(run)
        self.added.emit(run)
        return run

    def want_history(self):
        """A view of the runs is shown: read the checkpoint's history, if it has one, and the shipped ladder's
        (off the UI thread)."""
        self.timeline.ensure_loaded()
        self.ladder.load()

    @property
    def ladder(self):
        if self._ladder is None:
            self._ladder = ShippedLadder(self, self)
        return self._ladder

    def _on_history(self):
        history, run = self.timeline.history, self.timeline.run
        if history is None or run is None:
            return
        ours = self.session.checkpoint is run
        rung = shipped_rung(self.session.checkpoint_path) if ours and self.session.checkpoint_path else None
        name = shipped_name(rung) if rung else self.session.checkpoint_name if ours else run.history_name or 'a run'
        self.add(name, len(run.model.params), history.losses, run_key(run), rung)


class CompareRuns(QWidget):
    """The runs with a box each; the ticked ones drawn on `chart` (a QChartView with x and y axes)."""

    def __init__(self, runs, chart, axes, parent=None):
        super().__init__(parent)
        self.runs, self.chart, (self.x_axis, self.y_axis) = runs, chart.chart(), axes
        self.series = {}  # run key: its QLineSeries while ticked
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel('Compare runs (tick one to draw its smoothed loss):')
        title.setToolTip('The shipped ladder (each rung trained 1,000 steps on names.txt), every checkpoint opened '
                         'and every run trained in this window, with how many parameters it learns')
        self.ladder_box = QCheckBox('Draw the ladder')
        self.ladder_box.setToolTip('Tick every shipped rung, bigram to microgpt, to overlay their curves')
        self.ladder_box.toggled.connect(self._on_ladder_toggled)
        title.setWordWrap(True)  # the panel may be narrow: the words wrap, nothing is pushed out of sight
        row = QHBoxLayout()
        row.addWidget(title, 1)
        row.addWidget(self.ladder_box, 0, Qt.AlignTop)
        layout.addLayout(row)
        self.list = QListWidget()
        self.list.setMinimumHeight(48)
        self.list.setMaximumHeight(80)
        self.list.itemChanged.connect(self._on_ticked)
        layout.addWidget(self.list)
        self.gaps = QLabel()  # the ticked runs' last smoothed losses side by side: curves 0.01 apart overlap
        self.gaps.setWordWrap(True)
        self.gaps.hide()
        layout.addWidget(self.gaps)
        self.empty = QLabel('No run yet: open a checkpoint with a history, or train one.')
        self.empty.setEnabled(False)
        layout.addWidget(self.empty)
        for run in runs.runs:
            self._on_added(run)
        runs.added.connect(self._on_added)

    def _on_added(self, run):
        """A shipped rung goes among the others in ladder order, in its rung's colour; any other run after them,
        each in a colour of its own."""
        self.empty.hide()
        item = QListWidgetItem(run.label)
        item.setToolTip(run.label)
        item.setData(Qt.UserRole, run.key)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        ranks = [self._run(self.list.item(i)).rank for i in range(self.list.count())]
        if run.rank is None:
            color, row = len(RUNGS) + sum(r is None for r in ranks), len(ranks)
        else:
            color, row = run.rank, sum(r is not None and r < run.rank for r in ranks)
        item.setForeground(run_color(color))
        item.setCheckState(Qt.Unchecked)
        self.list.insertItem(row, item)
        if run.rank is not None and self.ladder_box.isChecked():
            item.setCheckState(Qt.Checked)  # the ladder is drawn: so is a rung that arrives after the tick

    def _run(self, item):
        key = item.data(Qt.UserRole)
        return next(r for r in self.runs.runs if r.key == key)

    def _on_ladder_toggled(self, on):
        for i in range(self.list.count()):
            item = self.list.item(i)
            if self._run(item).rank is not None:
                item.setCheckState(Qt.Checked if on else Qt.Unchecked)

    def shown_keys(self):
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.Checked]

    def _on_ticked(self, item):
        from PySide6.QtCharts import QLineSeries
        key, run = item.data(Qt.UserRole), self._run(item)
        if item.checkState() == Qt.Checked and key not in self.series:
            series = QLineSeries()
            short = run.rung or run.name.removeprefix('trained here (').removesuffix(')')  # the legend has little room
            series.setName(f'{short} · {run.params:,}')
            pen = QPen(item.foreground().color())
            pen.setWidthF(1.6)
            pen.setStyle(Qt.DashLine)
            series.setPen(pen)
            series.replace(curve_points(run.losses))
            self.chart.addSeries(series)
            for marker in self.chart.legend().markers(series):  # the list is its legend, in its colour: five
                marker.setVisible(False)                         # rungs' names would not fit over the chart
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
            self.series[key] = series
        elif item.checkState() != Qt.Checked and key in self.series:
            self.chart.removeSeries(self.series.pop(key))
        self.fit_axes()
        self._say_gaps()

    def _say_gaps(self):
        """Two or more runs drawn: each one's smoothed loss at its last step, and how far below the one before it
        (in ladder order) it ends: the rungs above bigram end a hundredth or less apart, and their curves overlap."""
        runs = sorted((r for r in self.runs.runs if r.key in self.series and r.losses),
                      key=lambda r: (r.rank is None, r.rank or 0))
        self.gaps.setVisible(len(runs) > 1)
        words, before = [], None
        for run in runs:
            last = smoothed(run.losses)[-1]
            gap = '' if before is None else f' ({"−" if last < before else "+"}{shown(abs(last - before))})'
            words.append(f'{run.rung or run.name} {shown(last)}{gap}')
            before = last
        self.gaps.setText('At the last step (smoothed): ' + ' · '.join(words) if len(runs) > 1 else '')

    def fit_axes(self):
        """The axes cover every ticked run (and what the chart showed before). With no run of the panel's own
        drawn, the loss axis spans the ticked curves only, not from 0: rungs a tenth apart are told apart."""
        runs = [r for r in self.runs.runs if r.key in self.series]
        if not runs:
            return
        steps = max(len(r.losses) for r in runs)
        curves = [smoothed(r.losses) for r in runs]
        top = max(max(c) for c in curves)
        own = any(s.count() for s in self.chart.series() if s not in self.series.values())
        self.x_axis.setRange(1, max(steps, int(self.x_axis.max())))
        if own:
            self.y_axis.setRange(0, max(top, self.y_axis.max()))
        else:
            self.y_axis.setRange(max(0.0, min(min(c) for c in curves) - 0.05), top + 0.05)
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
