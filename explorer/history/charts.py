"""The charts of the run's history, one way: step_chart (series over training steps, with an optional marker
of the step shown), LossChart (a click on it names a step) and the smoothing of a loss curve. The Training,
Timeline and Parameter-over-time panels all draw with these."""

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPainter

SMOOTHING = 0.95  # the smoothed loss curve: an exponential moving average


def smooth(ema, loss):
    """The moving average after one more loss (ema None before the first)."""
    return loss if ema is None else SMOOTHING * ema + (1 - SMOOTHING) * loss


def smoothed(losses):
    """The moving average after each loss of a run."""
    ema, out = None, []
    for loss in losses:
        ema = smooth(ema, loss)
        out.append(ema)
    return out


class LossChart(QChartView):
    """A chart view whose click says which step it was on (step_clicked)."""

    step_clicked = Signal(int)

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton and self.chart().series():
            x = self.chart().mapToValue(QPointF(event.position()), self.chart().series()[0]).x()
            self.step_clicked.emit(round(x))
            return
        super().mousePressEvent(event)


def step_chart(names, y_title, x_title='', title='', marker_size=None, ticks=None, y_format=None, min_height=200,
               view=QChartView):
    """A view of line series over the steps, one per name, and a marker series ('shown') if marker_size is
    given: (view, {name: series}, marker or None, (x_axis, y_axis)). Below min_height Qt Charts elides the
    step labels to '…'."""
    chart = QChart()
    if title:
        chart.setTitle(title)
    x_axis, y_axis = QValueAxis(), QValueAxis()
    x_axis.setTitleText(x_title)
    x_axis.setLabelFormat('%d')
    y_axis.setTitleText(y_title)
    if y_format:
        y_axis.setLabelFormat(y_format)
    if ticks:  # 0, middle, last: a narrow panel still has room for every label
        x_axis.setTickCount(ticks)
        y_axis.setTickCount(ticks)
    chart.addAxis(x_axis, Qt.AlignBottom)
    chart.addAxis(y_axis, Qt.AlignLeft)
    series = {}
    for name in names:
        series[name] = QLineSeries()
        series[name].setName(name)
    marker = None
    if marker_size:
        marker = QScatterSeries()
        marker.setName('shown')
        marker.setMarkerSize(marker_size)
    for s in (*series.values(), *([marker] if marker else [])):
        chart.addSeries(s)
        s.attachAxis(x_axis)
        s.attachAxis(y_axis)
    chart.legend().setAlignment(Qt.AlignTop)
    chart.setMargins(chart.margins() * 0)
    chart_view = view(chart)
    chart_view.setRenderHint(QPainter.Antialiasing)
    chart_view.setMinimumHeight(min_height)
    return chart_view, series, marker, (x_axis, y_axis)
