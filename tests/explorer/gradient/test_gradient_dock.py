"""explorer/gradient/gradient_dock.py: Code, Nudge, Gradcheck and Provenance are tabs of one dock; its menu
raises each by its key, lights the cone, runs the whole check and clears what is lit."""

from PySide6.QtWidgets import QWidget


def test_show_tab_brings_the_dock_and_that_panel_to_the_front(window, qtbot):
    dock = window.gradient_dock
    assert [dock.tabs.tabText(i) for i in range(dock.tabs.count())] == ['Code', 'Nudge', 'Gradcheck', 'Provenance']
    for panel in (dock.nudge_panel, dock.provenance_panel, dock.code_panel):
        dock.show_tab(panel)
        assert dock.isVisible() and dock.tabs.currentWidget().widget() is panel


def test_the_menu_raises_each_tab_by_its_key_and_clears_the_lit_nodes(window, qtbot):
    dock, parent, cleared = window.gradient_dock, QWidget(), []
    menu = dock.create_menu(parent, lambda: cleared.append(True))
    actions = {a.text(): a for a in menu.actions() if not a.isSeparator()}
    assert list(actions) == ['Show Code', 'Show Nudge', 'Show Gradcheck', 'Show Provenance', 'Light the &cone',
                             'Check &all gradients', 'C&lear the lit nodes']
    assert actions['Show Nudge'].shortcut().toString() == 'Ctrl+Shift+N'
    actions['Show Gradcheck'].trigger()
    assert dock.tabs.currentWidget().widget() is dock.gradcheck_panel
    actions['C&lear the lit nodes'].trigger()
    assert cleared == [True]


def test_check_all_starts_the_gradcheck_in_front(window, qtbot):
    dock = window.gradient_dock
    dock.show_tab(dock.code_panel)
    dock.check_all()
    try:
        assert dock.tabs.currentWidget().widget() is dock.gradcheck_panel and dock.gradcheck_panel.running
    finally:
        assert dock.gradcheck_panel.cancel()


def test_the_panels_are_made_when_the_dock_first_shows_and_catch_up_with_the_session(make_window, qtbot):
    """Behind the Inspector's tab at start, they cost the first paint ~0.1 s (issue 21 item 10); made later,
    they show what they would have: the recording's lines, the selection's line marked."""
    from engine.gradient.provenance import resolve
    from engine.graph.keys import node_key
    window = make_window(1400, 900)
    dock, s = window.gradient_dock, window.session
    assert dock._panels is None  # behind the Inspector
    exps = resolve(s.trace, 'pos 3 / softmax / exps[2]')
    s.select(node_key(exps))
    assert dock._panels is None
    dock.raise_()
    qtbot.waitUntil(lambda: dock._panels is not None, timeout=5000)
    code = dock.code_panel
    assert dock.tabs.currentWidget().widget() is code and code.nodes_of and code.marked == {
        int(s.trace.line(exps).split(':')[1])}
    assert dock.nudge_panel.node == exps == dock.provenance_panel.node
    with qtbot.waitSignal(code.tint_requested):  # connected by the window once made
        code.table.itemClicked.emit(code.items[next(iter(code.nodes_of))], 0)
    assert window.statusBar().tint.text().startswith('lit: line ')
