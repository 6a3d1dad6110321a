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


def test_a_run_too_big_to_keep_every_gradient_replays_for_the_parameter_asked(window, qtbot, monkeypatch):
    """A numpy run of a big model (the mini GPT's 1000 steps: 4.6 GB of gradients) is replayed for the parameter
    asked for alone: its rows are the replay's (here the shipped run, with the limit set to 0 MB)."""
    from explorer.history import adam_plot
    monkeypatch.setattr(adam_plot, 'GRADS_KEPT_MB', 0)
    window.docks['adam_plot_dock'].raise_()
    window.timeline.ensure_loaded()
    qtbot.waitUntil(lambda: window.timeline.history is not None, timeout=30000)
    window.adam_plot.grads = None  # as a run's gradients are before its first replay
    plot, history = window.adam_plot, window.timeline.history
    plot.show_param('wte[4][3]')
    assert plot.worker.pending('grads') and 'for wte[4][3]’s gradient at every step' in plot.message.text()
    plot.show_param('wte[5][3]')  # another parameter: its own replay, the first one's dropped
    qtbot.waitUntil(lambda: not plot.worker.pending('grads'), timeout=120000)
    assert plot.grads is None and plot.param == 'wte[5][3]'
    index, rows = history.param_index('wte[5][3]'), plot.rows
    assert [r['step'] for r in rows] == list(range(1, 1001))
    for step in (1, 500, 999):
        state = history.seek(step)
        assert (rows[step - 1]['data'], rows[step - 1]['grad']) == (state.weights[index], state.grads[index])
    assert not plot.value_view.isHidden() and plot.message.text().startswith('wte[5][3]: a gradient at')
