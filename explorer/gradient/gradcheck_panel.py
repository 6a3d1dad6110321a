"""The Gradcheck panel: central differences for every parameter against backprop, in the background (issue 13).

Check runs engine.gradient.gradcheck over all parameters in a child process (engine.gradient.gradcheck.gradcheck_process:
it shares no GIL with the window, which the thread it used to run in did), with a progress bar and Cancel, which
kills the process; the
result is a scatter of numeric against analytic gradients (on the diagonal when they agree; axes in
symmetric log, sign kept) and the parameters with the largest relative error, each clickable to
select it in the graph (`param_chosen`).
"""

import math

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from engine.gradient.gradcheck import GradCheck, ParamCheck, gradcheck_process
from engine.job import ChildJob
from engine.numbers import exact, shown

from explorer import theme
from explorer.state.job_watcher import JobWatcher

WORST = 12          # parameters listed
FLOOR = 1e-8        # |grad| below this is drawn at 0 on the symlog axes
REPORT_EVERY = 64   # parameters between progress reports


def symlog(x):
    """sign(x)·log10(|x|/FLOOR): a gradient on an axis that shows 1e-8 and 1e-1 alike, sign kept."""
    return 0.0 if abs(x) < FLOOR else math.copysign(math.log10(abs(x) / FLOOR), x)


class GradcheckPanel(QWidget):
    param_chosen = Signal(int)   # a node id the user clicked in the worst list

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.job = None              # the ChildJob while checking
        self.watcher = None
        self.result = None
        self.start_button = QPushButton('Check all parameters')
        self.start_button.setToolTip('Central differences (h = 1e-4) for every parameter, against backprop')
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton('Cancel')
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat('%v / %m')
        self.summary = QLabel('Numeric against analytic gradients of every parameter of the recorded document.')
        self.summary.setWordWrap(True)
        self.chart = QChart()
        self.chart.legend().hide()
        self.chart.setMargins(self.chart.margins() * 0)
        self.view = QChartView(self.chart)
        self.view.setRenderHint(QPainter.Antialiasing)
        self.view.setMinimumHeight(220)
        self.worst = QListWidget()
        self.worst.setToolTip('The largest relative errors; click one to select it in the graph')
        self.worst.itemClicked.connect(lambda item: self.param_chosen.emit(item.data(Qt.UserRole)))
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 2)
        layout.addWidget(QLabel('Largest relative errors (click to select):'))
        layout.addWidget(self.worst, 1)
        session.recorded.connect(self._on_recorded)

    def _on_recorded(self):
        self.cancel()
        self.result = None
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        self.worst.clear()
        self.progress.reset()
        self.summary.setText(f'Numeric against analytic gradients of every parameter, for '
                             f'{self.session.trace.doc!r}.')

    def start(self):
        """Run the check in a child process (its own interpreter and core: the
        window never waits for it); progress arrives on a queue read by a timer."""
        trace, model = self.session.trace, self.session.model
        if trace is None or self.job is not None:
            return
        self.job = ChildJob()
        self.job.start(gradcheck_process, model.config, model.tokenizer, model.floats(), trace.doc,
                       self.job.messages, REPORT_EVERY)
        self.watcher = JobWatcher(self.job, 50, self)
        self.watcher.message.connect(self._on_message)
        self.watcher.vanished.connect(self._on_vanished)
        self.watcher.start()
        self.progress.setRange(0, 0)  # busy until the child has recorded the document
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.summary.setText('Checking in a separate process… (Cancel stops it at once)')

    def cancel(self):
        """Kill the child process: nothing is kept."""
        if self.job is None:
            return False
        self._stop()
        self.summary.setText('Cancelled; nothing was kept.')
        return True

    def _stop(self):
        job, self.job = self.job, None
        self.watcher.stop()
        job.kill()
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_vanished(self):
        self._stop()
        self.summary.setText('The check process ended without a result; nothing was changed.')

    def _on_message(self, message):
        if message[0] == 'progress':
            self._on_progress(message[1:])
        elif message[0] == 'done':
            self._stop()
            _, h, params = message
            self._on_done(GradCheck(h, tuple(ParamCheck(*p) for p in params)))
        else:
            self._stop()
            self._on_failed(message[1])

    @property
    def running(self):
        return self.job is not None

    def _on_progress(self, item):
        done, total = item
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _on_failed(self, error):
        self.summary.setText(f'The check failed: {error}.')

    def _on_done(self, result):
        self.result = result
        self._draw(result)

    def _draw(self, result):
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        used = [p for p in result.params if p.node >= 0]
        dots = QScatterSeries()
        dots.setMarkerSize(5)
        dots.setColor(QColor(theme.current()['chart_points']))
        dots.setBorderColor(QColor(theme.current()['chart_points']))
        dots.append([QPointF(symlog(p.analytic), symlog(p.numeric)) for p in used])
        span = max((abs(symlog(p.analytic)) for p in used), default=1) + 0.5
        diagonal = QLineSeries()
        diagonal.setColor(QColor(theme.current()['chart_reference']))
        diagonal.append([QPointF(-span, -span), QPointF(span, span)])
        self.chart.addSeries(diagonal)
        self.chart.addSeries(dots)
        for orientation, title in ((Qt.Horizontal, 'analytic'), (Qt.Vertical, 'numeric')):
            axis = QValueAxis()
            axis.setRange(-span, span)
            axis.setTitleText(title)
            axis.setLabelFormat('%.0f')
            self.chart.addAxis(axis, Qt.AlignBottom if orientation == Qt.Horizontal else Qt.AlignLeft)
            diagonal.attachAxis(axis)
            dots.attachAxis(axis)
        worst = result.worst(1)[0]
        unused = len(result.params) - len(used)
        self.summary.setText(f'{len(result.params):,} parameters (h = {result.h:g}): max relative error '
                             f'{shown(result.max_rel_error)} ({worst.name}); {unused:,} the document does not use '
                             'have both 0. Axes: sign · log10(|grad| / 1e-8).')
        self.worst.clear()
        for p in result.worst(WORST):
            item = QListWidgetItem(f'{shown(p.rel_error)}  {p.name}')
            item.setToolTip(f'{p.name}: analytic {exact(p.analytic)}, numeric {exact(p.numeric)}, relative error {shown(p.rel_error)}')
            item.setData(Qt.UserRole, p.node)
            self.worst.addItem(item)
