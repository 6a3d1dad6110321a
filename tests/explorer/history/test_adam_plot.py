"""explorer/history/adam_plot.py: a click on a weight grid's cell fills "Parameter over time" with that
parameter (as selecting a scalar parameter does); the replay that collects the run's gradients says what it
does, can be stopped, and leaves the garbage collector on. Clicking weight after weight while the panel is
in front keeps it in front (it follows the selection); with any other panel in front, a click shows the
Inspector."""

import gc

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from engine.graph.keys import group_key
from explorer.dock_column import in_front
from explorer.graph import weight_grid


def test_a_grid_cell_click_plots_that_parameter_and_the_replay_can_be_stopped(window, qtbot):
    view, s = window.graph, window.session
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    with qtbot.waitSignal(window.timeline.loaded, timeout=30000):
        window.docks['adam_plot_dock'].raise_()
        window.timeline.ensure_loaded()
    plot = window.adam_plot
    name, row, col = 'layer0.mlp_fc1', 7, 2
    item = view.items_by_key[group_key(s.trace.scope_id(f'params / {name}'))]
    grid, transposed, _, _, cw, ch = weight_grid.cell_rects(item, name, view.weight_cells())
    x, y = (row, col) if transposed else (col, row)
    inside = QPointF(grid.left() + (x + 0.5) * cw, grid.top() + (y + 0.5) * ch)
    view.bring_into_view(item.sceneBoundingRect(), zoom_in=True)
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, view.mapFromScene(item.mapToScene(inside)))
    assert plot.field.text() == plot.param == 'layer0.mlp_fc1[7][2]'
    assert plot.worker.pending('grads') and not plot.progress.isHidden() and not plot.stop.isHidden()
    qtbot.waitUntil(lambda: plot.progress.value() > 0, timeout=30000)
    assert 'Replaying the run once, step' in plot.message.text() and 'of 1,000' in plot.message.text()
    plot.stop.click()
    assert not plot.worker.pending('grads') and plot.progress.isHidden() and plot.stop.isHidden()
    assert plot.message.text().startswith('Stopped replaying the run')
    plot.worker.wait(30000)
    qtbot.wait(50)
    assert gc.isenabled() and plot.grads is None
    for v in (plot.value_view, plot.grad_view, plot.update_view):
        assert v.isHidden()  # nothing half-done is plotted


def test_a_click_keeps_parameter_over_time_in_front(window, qtbot):
    s, docks = window.session, window.docks
    loss_key = s.visible.key_of[s.trace.loss_id]
    docks['adam_plot_dock'].raise_()
    qtbot.waitUntil(lambda: in_front(docks['adam_plot_dock']), timeout=5000)
    window.graph.box_clicked.emit(loss_key)
    qtbot.wait(10)
    assert in_front(docks['adam_plot_dock']) and not in_front(window.inspector_dock)
    window.chain_rule_dock.raise_()
    qtbot.waitUntil(lambda: in_front(window.chain_rule_dock), timeout=5000)
    window.graph.box_clicked.emit(loss_key)
    qtbot.wait(10)
    assert in_front(window.inspector_dock)
