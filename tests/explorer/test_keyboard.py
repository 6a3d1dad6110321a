"""Keys go where the learner is typing: Return in a text field is that field's, the graph's
single-key shortcuts act only in the graph and the scope tree, and the tree is a keyboard route."""

import pytest
from PySide6.QtCore import Qt


def focus(window, widget):
    window.activateWindow()
    widget.setFocus()


def test_return_in_the_document_field_records_it(window, qtbot):
    s = window.session
    field = window.document.field
    focus(window, field)
    field.selectAll()
    qtbot.keyClicks(field, 'anna')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        qtbot.keyClick(field, Qt.Key_Return)
    assert s.trace.doc == 'anna'
    qtbot.keyClick(field, Qt.Key_Backspace)  # deletes a character, closes no group
    assert field.text() == 'ann' and s.trace.doc == 'anna'


def test_return_in_the_find_field_selects_the_match(window, qtbot):
    s = window.session
    field = window.search_field
    focus(window, field)
    qtbot.keyClicks(field, 'wte[4][3]')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        qtbot.keyClick(field, Qt.Key_Return)
    assert s.trace.param_name(int(s.selected[1:])) == 'wte[4][3]'


def test_single_keys_do_not_act_in_text_fields(window, qtbot):
    bp = window.session.backprop
    field = window.search_field
    focus(window, field)
    for key in (Qt.Key_Right, Qt.Key_Space, Qt.Key_End, Qt.Key_F, Qt.Key_M):
        qtbot.keyClick(field, key)
    assert bp.position == 0 and not bp.playing and window.minimap_act.isChecked()
    assert field.text() == ' fm'
    focus(window, window.graph)
    qtbot.keyClick(window.graph, Qt.Key_Right)
    qtbot.keyClick(window.graph, Qt.Key_M)
    assert bp.position == 1 and not window.minimap_act.isChecked()


def tree_row(window, path):
    s = window.session
    return window.scope_tree.scopes.scope_index(s.trace.scope_id(path))


@pytest.mark.fresh_window  # the scope tree's rows where a new window puts them
def test_a_click_in_the_tree_only_selects(window, qtbot):
    s, tree = window.session, window.scope_tree
    pos0 = s.trace.scope_id('pos 0')
    assert pos0 in s.opened  # the overview shows each position as an open frame
    opened = s.opened
    rect = tree.visualRect(tree_row(window, 'pos 0'))
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
    assert s.selected == f'g{pos0}' and s.opened == opened
    assert not s.worker.pending('layout')


def test_the_tree_opens_and_closes_scopes_from_the_keyboard(window, qtbot):
    s, tree = window.session, window.scope_tree
    attention = s.trace.scope_id('pos 2 / layer 0 / attention')
    focus(window, tree)
    tree.setCurrentIndex(tree_row(window, 'pos 2 / layer 0 / attention'))
    assert s.selected == f'g{attention}'  # the graph's selection follows the tree
    assert attention not in s.opened
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        qtbot.keyClick(tree, Qt.Key_Right)
    assert attention in s.opened and s.backprop.position == 0
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        qtbot.keyClick(tree, Qt.Key_Left)
    assert attention not in s.opened and f'g{attention}' in s.layout.boxes
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        qtbot.keyClick(tree, Qt.Key_Return)  # the row that is current, not the box selected before
    assert attention in s.opened
    qtbot.keyClick(tree, Qt.Key_Down)
    assert s.selected != f'g{attention}' and tree.currentIndex().internalId() == int(s.selected[1:])


def test_the_tree_follows_the_graph(window, qtbot):
    s, tree = window.session, window.scope_tree
    node = next(i for i in s.trace.params if s.trace.param_name(i) == 'wte[4][3]')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{node}')
    assert tree.currentIndex().internalId() == s.trace.scope_of[node]
    assert s.selected == f'n{node}'  # following the graph does not turn the selection into the scope
