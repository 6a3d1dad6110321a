"""explorer/workspaces.py: each workspace gives its task's panels their room in a 1280×720 window (the
Timeline's slider and loss curve beside a graph that still shows its numbers in Learn, the Code panel's
longest line whole while stepping in Backprop, …); switching moves only docks (no layout, no rebuild) and
comes back to the workspace as the learner left it; Reset workspace brings its first arrangement back;
the workspaces are in View › Workspaces with their keys and in Help."""

import pytest
from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractScrollArea

from explorer.dock_column import in_front
from explorer.panels.help import panels_html
from explorer.workspaces import BY_NAME, FIRST, WORKSPACES

SIZE = QSize(1280, 720)


def go(window, qtbot, name):
    if window.size() != SIZE:
        window.resize(SIZE)
        qtbot.wait(20)
    window.workspaces.actions[name].trigger()
    qtbot.wait(20)  # the dock layout settles, as it does before the next paint


def shown_whole(widget):
    """On screen, not cut by its dock or the window (a chart or list: what its viewport shows)."""
    if isinstance(widget, QAbstractScrollArea):
        widget = widget.viewport()
    return widget.isVisible() and widget.visibleRegion().boundingRect().size() == widget.size()


def open_docks(window):
    return {name for name, dock in window.docks.items() if not dock.isHidden()}


def named_docks(name):
    return {n for g in BY_NAME[name].groups for n in g.docks}


def test_each_workspace_shows_its_panels_and_only_them_with_their_front_tabs(window, qtbot):
    for w in WORKSPACES:
        go(window, qtbot, w.name)
        assert window.workspaces.current == w.name and window.workspaces.actions[w.name].isChecked()
        assert open_docks(window) == named_docks(w.name), w.name
        for group in w.column:
            assert in_front(window.docks[group.first]), (w.name, group.first)
            assert window.dockWidgetArea(window.docks[group.first]) == Qt.RightDockWidgetArea
        assert window.graph.width() >= 0.45 * SIZE.width(), w.name  # the graph keeps about half, or more


def test_graph_gives_the_graph_most_of_the_window(window, qtbot):
    go(window, qtbot, 'Graph')
    assert window.graph.width() >= 0.75 * SIZE.width() and window.graph.height() >= 0.8 * SIZE.height()
    assert in_front(window.inspector_dock)


def test_learn_gives_the_timeline_a_long_slider_and_its_loss_curve_beside_the_graph(window, qtbot):
    go(window, qtbot, 'Learn')
    qtbot.waitUntil(lambda: window.timeline.history is not None, timeout=30000)  # read once it shows
    panel = window.timeline_panel
    qtbot.wait(20)
    assert in_front(window.docks['timeline_dock'])
    assert panel.slider.width() >= 300
    assert shown_whole(panel.chart) and panel.chart.height() >= 150
    assert shown_whole(panel.spin) and shown_whole(panel.play_button)
    assert window.graph.width() >= 500 and window.graph.height() >= 450  # the numbers changing stay readable
    window.docks['training_dock'].raise_()
    qtbot.wait(20)
    training = window.training
    for field in (*training.fields.values(), training.start_button, training.stop_button):
        assert shown_whole(field), field


def test_backprop_shows_the_longest_line_of_code_whole_and_keeps_code_in_front_while_stepping(window, qtbot):
    go(window, qtbot, 'Backprop')
    code = window.code_panel
    assert in_front(window.gradient_dock) and window.gradient_dock.tabs.currentWidget().widget() is code
    table = code.table
    assert shown_whole(table) and table.viewport().height() >= 6 * table.visualItemRect(code.items[1]).height()
    assert window.chain_rule_dock.height() >= 240  # the column keeps the window's height: Code runs under the graph
    metrics, left = table.fontMetrics(), table.header().sectionPosition(3)
    for number in code.nodes_of:  # every line the stepper can show: its code whole, from its first character
        code.show_line(number)
        text = code.items[number].text(3).rstrip()
        start = left + metrics.horizontalAdvance(text[:len(text) - len(text.lstrip())]) - table.horizontalScrollBar().value()
        assert 0 <= start and start + metrics.horizontalAdvance(text.lstrip()) <= table.viewport().width(), text
    assert max(len(code.items[n].text(3).rstrip()) for n in code.nodes_of) > 120  # the attention lines are here
    window.step_act.trigger()  # the loss seeded: a node with children next
    for _ in range(6):
        window.step_act.trigger()
        qtbot.wait(5)
        assert in_front(window.gradient_dock) and in_front(window.chain_rule_dock)
        assert code.applying is not None
        row = table.visualItemRect(code.items[code.applying])  # the forward line of the node applied …
        assert 0 <= row.top() and row.bottom() < table.viewport().height()
        assert shown_whole(code.chain) and 'child.grad += local_grad * v.grad' in code.chain.text()  # … and Value's


def test_attention_gives_the_heatmaps_room_and_stepping_never_covers_them(window, qtbot):
    go(window, qtbot, 'Attention')
    attention = window.docks['attention_dock']
    assert in_front(attention) and attention.width() >= 500 and attention.height() >= 420
    for _ in range(3):
        window.step_act.trigger()
    window.end_act.trigger()
    assert in_front(attention) and not in_front(window.chain_rule_dock)


def test_gradient_puts_nudge_above_the_inspector(window, qtbot):
    go(window, qtbot, 'Gradient')
    assert in_front(window.gradient_dock) and window.gradient_dock.tabs.currentWidget().widget() is window.nudge_panel
    assert in_front(window.inspector_dock) and window.inspector_dock.height() >= 150
    assert window.gradient_dock.width() >= 450


def layout_of(window):
    """Each open panel: where it is if in front of its tabs (a tab behind has no place of its own)."""
    return {name: dock.geometry() if in_front(dock) else 'behind' for name, dock in window.docks.items()
            if not dock.isHidden()}


def test_switching_moves_only_docks_and_coming_back_restores_the_workspace(window, qtbot):
    s, view = window.session, window.graph
    items = dict(view.items_by_key)
    go(window, qtbot, 'Learn')
    learn = layout_of(window)
    with qtbot.assertNotEmitted(s.layout_started), qtbot.assertNotEmitted(s.view_changed):
        for name in ('Graph', 'Backprop', 'Learn', 'Attention', 'Learn'):
            go(window, qtbot, name)
    assert layout_of(window) == learn
    assert view.items_by_key == items and all(view.items_by_key[k] is items[k] for k in items)  # not rebuilt


def test_a_learners_change_is_kept_for_its_workspace_until_reset(window, qtbot):
    go(window, qtbot, 'Learn')
    first = layout_of(window)
    timeline = window.docks['timeline_dock']
    window.resizeDocks([timeline], [760], Qt.Horizontal)  # the learner drags the column wider …
    window.docks['adam_plot_dock'].close()                  # … and closes a panel
    qtbot.wait(20)
    changed = layout_of(window)
    assert timeline.width() >= 740 and 'adam_plot_dock' not in changed
    go(window, qtbot, 'Graph')
    assert timeline.isHidden()
    go(window, qtbot, 'Learn')
    assert layout_of(window) == changed
    window.workspaces.reset_act.trigger()
    qtbot.wait(20)
    assert layout_of(window) == first


def test_the_workspace_and_its_changes_outlive_the_window(make_window, qtbot, tmp_path):
    settings = QSettings(str(tmp_path / 'kept.ini'), QSettings.IniFormat)
    win = make_window(1280, 720, settings, record=False)
    win.workspaces.switch('Backprop')
    qtbot.wait(20)
    win.resizeDocks([win.gradient_dock], [300], Qt.Vertical)
    qtbot.wait(20)
    height = win.gradient_dock.height()
    win.workspaces.switch('Learn')
    win.close()
    again = make_window(1280, 720, settings, record=False)
    assert again.workspaces.current == 'Learn' and again.workspaces.actions['Learn'].isChecked()
    assert in_front(again.docks['timeline_dock'])
    again.workspaces.switch('Backprop')
    qtbot.wait(20)
    assert abs(again.gradient_dock.height() - height) <= 2


def test_workspaces_are_in_the_view_menu_with_free_keys_and_in_help(window):
    names = [a.text() for a in window.workspaces_menu.actions() if a.isCheckable()]
    assert names == [w.name for w in WORKSPACES] and names[0] == FIRST
    keys = [a.shortcut().toString() for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    for w in WORKSPACES:
        assert keys.count(QKeySequence(w.key).toString()) == 1, f'{w.key} is taken twice'
    html = panels_html(window.docks_menu.actions(), window.workspaces_menu.actions())
    for w in WORKSPACES:
        assert f'<b>{w.name}</b>' in html and f'<code>{QKeySequence(w.key).toString()}</code>' in html
    assert 'Reset workspace' in {a.text().replace('&', '') for a in window.workspaces_menu.actions()}


@pytest.mark.parametrize('name', [w.name for w in WORKSPACES])
def test_every_workspace_fits_a_1600_by_1000_window_too(window, qtbot, name):
    window.resize(1600, 1000)
    qtbot.wait(20)
    window.workspaces.actions[name].trigger()
    qtbot.wait(20)
    assert window.graph.width() >= 780 and window.graph.height() >= 450
    for group in BY_NAME[name].column:
        dock = window.docks[group.first]
        assert in_front(dock) and dock.height() >= 120


def test_the_window_opens_on_all_panels_with_backprop_and_attention_in_front(make_window):
    win = make_window(1280, 720, record=False)
    assert win.workspaces.current == FIRST
    assert in_front(win.docks['backprop_dock']) and in_front(win.attention_dock)
    assert win.docks['backprop_dock'].width() >= 300 and win.graph.width() >= 0.55 * 1280


def test_a_panel_popped_out_is_docked_by_a_workspace_and_its_button_says_so(window, qtbot):
    go(window, qtbot, 'Learn')
    panel, dock = window.timeline_panel, window.docks['timeline_dock']
    panel.pop_button.click()
    assert dock.isFloating() and panel.pop_button.text() == 'Dock'
    window.workspaces.reset_act.trigger()
    qtbot.wait(20)
    assert not dock.isFloating() and in_front(dock) and panel.pop_button.text() == 'Pop out'


def test_a_narrower_graph_area_shows_the_graphs_start_not_its_middle(window, qtbot):
    """The whole overview in view, then Learn leaves the graph about half the width: it shows the start, pos 0
    and the weights, readable (it kept the old centre, and pos 0 was cut off on the left)."""
    view = window.graph
    go(window, qtbot, 'All panels')
    qtbot.waitUntil(lambda: not view.building(), timeout=60000)
    view.first_view()
    content = view._content()
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(content)  # the whole overview
    for name in ('Learn', 'Attention', 'Gradient'):
        go(window, qtbot, name)
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        assert shown.left() <= content.left() + 1 and view.smallest_label_px() >= 10, name
        go(window, qtbot, 'All panels')
        view.first_view()


def test_learn_gives_the_timeline_the_keys(window, qtbot):
    """A reviewer pressed Page Up and End in Learn: the graph scrolled and backprop ran to its end, the timeline
    stayed. Arriving in Learn, the Timeline's slider has the keyboard."""
    go(window, qtbot, 'Graph')
    window.activateWindow()
    window.graph.setFocus()
    go(window, qtbot, 'Learn')
    slider = window.timeline_panel.slider  # usable once the run's history is read: it takes the keys then
    qtbot.waitUntil(lambda: window.focusWidget() is slider, timeout=60000)
    go(window, qtbot, 'Graph')
    window.graph.setFocus()
    go(window, qtbot, 'Learn')  # already usable: at once
    assert window.focusWidget() is slider
