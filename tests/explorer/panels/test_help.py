"""explorer/panels/help.py: Help shows how to read the picture (once on first start, never blocking) and
every shortcut; every tooltip carries its key."""

from PySide6.QtGui import QAction

from html import escape

from explorer.panels.help import key_text, panels_html


def shortcut_actions(window):
    return [a for a in window.findChildren(QAction) if a.shortcuts() and not a.shortcut().isEmpty()]


def test_every_action_tooltip_carries_its_key(window):
    actions = shortcut_actions(window)
    assert len(actions) >= 25
    for action in actions:
        assert action.toolTip().endswith(f'({key_text(action.shortcut())})'), action.text()
    assert window.step_group_act.toolTip().endswith('(Shift+→)')
    assert window.back_act.toolTip().endswith('(←)')


def test_keyboard_shortcuts_lists_every_shortcut_action(window):
    assert window.shortcuts_act in window.menus()[-1].actions()
    dialog = window.show_shortcuts()
    assert dialog.isVisible() and not dialog.isModal()
    text = dialog.text.toPlainText()
    for action in shortcut_actions(window):
        line = f'{key_text(action.shortcut())}\t{action.text().replace("&", "")}'
        assert action.text().replace('&', '') in text and key_text(action.shortcut()) in text, line
    assert 'Shift+→' in text and 'Double-click a box' in text


def test_how_to_read_shows_once_on_first_start_and_never_offscreen(window, qtbot):
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: window.width() == 1600)
    assert window.maybe_show_intro() is None  # offscreen, as tests and --screenshot run: never shown
    assert not window.settings.value('how_to_read_shown', False, type=bool)
    dialog = window.maybe_show_intro(offscreen=False)
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    text = dialog.text.toPlainText()
    for phrase in ('A frame is one position of the document', 'keys and values from earlier ones',
                   'The loss is the mean of −log p over positions', 'The grids are the weights, shared by every position'):
        assert phrase in text
    graph = window.graph.viewport()  # over the panels' column, not over the graph
    graph_right = graph.mapToGlobal(graph.rect().topRight()).x()
    assert dialog.frameGeometry().left() >= graph_right and dialog.width() >= 280
    window.cancel_layout_act.trigger()  # Esc on the graph (the help does not take the keys): nothing to stop, so it closes
    assert not dialog.isVisible()
    assert window.settings.value('how_to_read_shown', False, type=bool)
    assert window.maybe_show_intro(offscreen=False) is None  # remembered
    window.how_to_read_act.trigger()  # Help brings it back
    assert dialog.isVisible()
    assert window.how_to_read_act in window.menus()[-1].actions()


def test_help_panels_names_every_panel_with_its_key_and_what_it_teaches(window):
    from explorer.panels.help import PANELS
    html = panels_html(window.docks_menu.actions())
    titles = {a.text().replace('&', '') for a in window.docks_menu.actions() if a.text()}
    assert titles - {'Hide panels'} == set(PANELS)
    for title, line in PANELS.items():
        assert f'<b>{title}</b>' in html and escape(line) in html
    assert '<code>Alt+1</code>' in html and '<code>Alt+9</code>' in html
    panels = [a for a in window.docks_menu.actions() if a.text() and a.text() != 'Hide panels']
    keys = [a.shortcut().toString() for a in panels]
    assert all(keys) and len(set(keys)) == len(keys)  # every panel has a key of its own
    assert {'Alt+0', 'Alt+Shift+1', 'Alt+Shift+2'} <= set(keys)


def test_a_panel_behind_a_tab_comes_forward_from_the_menu_and_hides_when_in_front(window, qtbot):
    from explorer.dock_column import in_front
    action = next(a for a in window.docks_menu.actions() if a.text() == 'Timeline')
    assert not in_front(window.docks['timeline_dock'])
    action.trigger()
    assert in_front(window.docks['timeline_dock']) and action.isChecked()
    action.trigger()
    assert window.docks['timeline_dock'].isHidden() and not action.isChecked()
    action.trigger()
    assert in_front(window.docks['timeline_dock'])
