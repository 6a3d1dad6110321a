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
