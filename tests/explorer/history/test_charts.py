"""explorer/history/charts.py: the one way the history's charts are made: the smoothed loss curve, a chart
of named series over the steps with an optional marker, and a loss chart whose click names a step."""

import pytest
from PySide6.QtCore import QPointF, Qt

from explorer.history.charts import SMOOTHING, LossChart, smooth, smoothed, step_chart


def test_the_smoothed_curve_starts_at_the_first_loss_and_moves_slowly():
    assert smooth(None, 3.3) == 3.3
    assert smooth(2.0, 1.0) == pytest.approx(SMOOTHING * 2.0 + (1 - SMOOTHING) * 1.0)
    curve = smoothed([3.0, 1.0, 1.0])
    assert curve[0] == 3.0 and curve[1] == smooth(3.0, 1.0) and curve[2] == smooth(curve[1], 1.0)
    assert smoothed([]) == [] and smoothed([2.5] * 5) == [2.5] * 5


def test_a_step_chart_has_a_series_per_name_on_shared_axes_and_its_marker(qapp):
    view, series, marker, (x_axis, y_axis) = step_chart(['loss', 'smoothed'], 'loss', 'step', marker_size=8,
                                                        ticks=3, y_format='%.2f', min_height=180)
    assert list(series) == ['loss', 'smoothed'] and [s.name() for s in series.values()] == ['loss', 'smoothed']
    assert marker is not None and marker.name() == 'shown' and marker.markerSize() == 8
    assert set(view.chart().series()) == {*series.values(), marker}
    assert all(s.attachedAxes() == [x_axis, y_axis] for s in view.chart().series())
    assert x_axis.titleText() == 'step' and x_axis.labelFormat() == '%d' and y_axis.labelFormat() == '%.2f'
    assert x_axis.tickCount() == 3 and view.minimumHeight() == 180
    _, _, none, _ = step_chart(['loss'], 'loss')
    assert none is None


def test_a_click_on_the_loss_chart_names_the_step_under_it(qtbot):
    view, series, _, (x_axis, y_axis) = step_chart(['loss'], 'loss', view=LossChart)
    series['loss'].append([QPointF(x, 3.0 - x / 1000) for x in range(0, 1001, 50)])
    x_axis.setRange(0, 1000)
    y_axis.setRange(2, 3)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    chart = view.chart()
    at_600 = chart.mapToPosition(QPointF(600, 2.5), series['loss']).toPoint()
    with qtbot.waitSignal(view.step_clicked) as clicked:
        qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=view.mapFromScene(at_600))
    assert abs(clicked.args[0] - 600) <= 5
