"""Clicking weight after weight while Parameter over time is in front keeps it in front (it follows the
selection); with any other panel in front, a click shows the Inspector."""


def in_front(dock):
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


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
