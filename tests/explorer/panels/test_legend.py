"""The legend is a panel of its own, whole without scrolling at 1280×720, and Help › Legend brings it to
the front."""


def test_help_legend_shows_the_whole_legend_at_1280_by_720(make_window, qtbot):
    win = make_window(1280, 720)
    dock = win.docks['legend_dock']
    dock.close()
    win.legend_act.trigger()
    qtbot.waitUntil(lambda: dock.isVisible() and not win.legend.visibleRegion().isEmpty(), timeout=5000)
    whole = lambda: win.legend.visibleRegion().boundingRect().height() >= win.legend.minimumHeight()  # noqa: E731
    qtbot.waitUntil(whole, timeout=5000)  # not cut: no scrolling to read it
    assert not win.inspector_dock.isFloating() and win.attention_dock.height() >= 150  # the panel below keeps room
    assert win.legend_act.toolTip().endswith('(Shift+F1)')
