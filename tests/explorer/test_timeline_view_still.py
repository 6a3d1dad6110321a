"""A timeline step changes only the numbers: the graph's view stays exactly still (scale, scroll), as
iongraph's pass slider does, whatever group the learner opened and whichever box is selected."""

import pytest

pytestmark = pytest.mark.slow  # records at several steps of the run


def view_state(view):
    t = view.transform()
    return (t.m11(), t.m22(), t.dx(), t.dy(), view.horizontalScrollBar().value(), view.verticalScrollBar().value())


def test_a_timeline_step_keeps_the_view_exactly_still(window, qtbot):
    s, view = window.session, window.graph
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.open_group(s.trace.scope_id('pos 2 / layer 0 / attention'))  # the focus a relayout keeps in place
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 37)  # the learner scrolled away
    view.verticalScrollBar().setValue(view.verticalScrollBar().value() - 23)
    view.scale(1.13, 1.13)                                                        # and zoomed
    with qtbot.waitSignal(window.timeline.loaded, timeout=30000):
        window.docks['timeline_dock'].raise_()
        window.timeline.ensure_loaded()
    before = view_state(view)
    for step in (100, 1, 1000):
        with qtbot.waitSignal(s.view_changed, timeout=30000):
            window.timeline_panel.set_step(step)
        qtbot.waitUntil(lambda: not view.building(), timeout=20000)
        qtbot.wait(20)
        assert view_state(view) == before, step
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())  # the selected box out of sight
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    assert s.selected in view.items_by_key
    before = view_state(view)
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        window.timeline_panel.set_step(300)
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    qtbot.wait(20)
    assert view_state(view) == before  # not scrolled back to the selection
