"""explorer/panels/scope_tree.py: the scope tree is a keyboard route through the model. A click on a row
only selects; the arrow keys and Return open and close scopes; the tree follows the graph's selection."""

import pytest
from PySide6.QtCore import Qt


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
    window.activateWindow()
    tree.setFocus()
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


def test_a_timeline_step_keeps_the_tree_as_it_was_opened(window, qtbot):
    """The same scopes with other numbers: the tree is not rebuilt, so what the learner expanded stays."""
    from engine import history as history_io
    from engine.paths import DEFAULT_CHECKPOINT
    s, tree = window.session, window.scope_tree
    pos2 = tree.scopes.scope_index(s.trace.scope_id('pos 2'))
    tree.expand(pos2)
    history = history_io.load_for(DEFAULT_CHECKPOINT, s.checkpoint)
    history.mark_checked()
    step = history_io.checkpoint_at(history, 30)
    resets = []
    tree.scopes.modelReset.connect(lambda: resets.append(1))
    s.show_weights(step, s.current.retraced(step.model))
    assert tree.scopes.trace is s.trace and tree.isExpanded(pos2) and not resets
