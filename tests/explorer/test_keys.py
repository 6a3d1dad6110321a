"""explorer/keys.py, where a key acts: a text input keeps the keys it types with and Escape leaves it for the
graph; Return in Find hands the keys to the graph; anywhere else (a list, a tree) the graph's keys of one
letter or F-key act on the graph, never on a list's type-ahead."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from explorer.graph.items import paints_text
from explorer.graph.navigation import MIN_LABEL_PX
from explorer.keys import typing_in


def active(window, qtbot, widget):
    """The window active and `widget` focused, as a click would leave it."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=5000)


def press(qtbot, key, modifier=Qt.NoModifier):
    """A key pressed wherever the focus is, as a learner presses it."""
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def settled(window, qtbot):
    s, view = window.session, window.graph
    qtbot.waitUntil(lambda: not s.layout_pending and not view.building(), timeout=20000)


def test_return_in_find_hands_the_keys_to_the_graph(window, qtbot):
    """Ctrl+F, a name, Return: the match is shown and → then steps backprop (it used to move the find
    field's cursor), at step 0 and at a step further on."""
    bp, field = window.session.backprop, window.search_field
    for start in (0, 5):
        bp.seek(start)
        active(window, qtbot, window.graph)
        window.find_act.trigger()
        assert field.hasFocus()
        field.selectAll()
        qtbot.keyClicks(field, 'wte[4][3]')
        press(qtbot, Qt.Key_Return)
        settled(window, qtbot)
        assert window.graph.hasFocus() and window.session.trace.param_name(int(window.session.selected[1:])) == 'wte[4][3]'
        press(qtbot, Qt.Key_Right)
        assert bp.position == start + 1
        assert field.text() == 'wte[4][3]'


def test_escape_in_a_text_field_gives_the_graph_the_keys(window, qtbot):
    bp = window.session.backprop
    for field in (window.search_field, window.document.field):
        active(window, qtbot, field)
        position = bp.position
        press(qtbot, Qt.Key_Escape)
        assert window.graph.hasFocus()
        press(qtbot, Qt.Key_Right)
        assert bp.position == position + 1


def test_single_keys_do_not_act_in_text_fields(window, qtbot):
    bp = window.session.backprop
    field = window.search_field
    active(window, qtbot, field)
    for key in (Qt.Key_Right, Qt.Key_Space, Qt.Key_End, Qt.Key_F, Qt.Key_M):
        qtbot.keyClick(field, key)
    assert bp.position == 0 and not bp.playing and window.minimap_act.isChecked()
    assert field.text() == ' fm'
    active(window, qtbot, window.graph)
    qtbot.keyClick(window.graph, Qt.Key_Right)
    qtbot.keyClick(window.graph, Qt.Key_M)
    assert bp.position == 1 and not window.minimap_act.isChecked()


def test_the_rule_knows_a_text_input_from_a_list(window):
    assert typing_in(window.search_field) and typing_in(window.document.field)
    assert typing_in(window.sampling.temperature)   # a spin box: digits and letters typed in it
    assert not typing_in(window.sampling.list) and not typing_in(window.scope_tree) and not typing_in(window.graph)
    assert not typing_in(window.inspector)          # read-only text: F still fits


def test_f_after_clicking_a_code_row_fits_the_graph(window, qtbot):
    """A click on a line of the Code panel (a QTreeWidget), then F: the graph fits, readable; the table's
    type-ahead does not jump to a line starting with f."""
    code, view = window.code_panel, window.graph
    window.show_gradient_tab(code)
    qtbot.waitUntil(lambda: not code.table.visibleRegion().isEmpty(), timeout=5000)
    active(window, qtbot, code.table)
    row = code.table.topLevelItem(4)
    code.table.scrollToItem(row)
    qtbot.mouseClick(code.table.viewport(), Qt.LeftButton, pos=QPoint(20, code.table.visualItemRect(row).center().y()))
    line = row.text(0)
    assert code.table.currentItem().text(0) == line and code.table.hasFocus()
    view.zoom(3.0)
    zoomed = view.transform().m11()
    press(qtbot, Qt.Key_F)
    assert code.table.currentItem().text(0) == line              # not moved to a line starting with f
    assert view.readable_scale() <= view.transform().m11() < zoomed  # fitted, and readable
    assert paints_text(view.transform().m11()) and view.smallest_label_px() >= MIN_LABEL_PX


def test_single_letter_keys_act_on_the_graph_from_a_list_but_not_from_a_field(window, qtbot):
    """F fits the graph even with Sampling's list focused (its type-ahead used to jump to a name starting
    with f); in the find field, f is typed."""
    window.graph.zoom(3.0)
    zoomed = window.graph.transform().m11()
    window.docks['sampling_dock'].raise_()
    window.sampling.list.addItems(['anna', 'fiona', 'frank'])
    window.sampling.list.setCurrentRow(0)
    active(window, qtbot, window.sampling.list)
    press(qtbot, Qt.Key_F)
    assert window.sampling.list.currentRow() == 0            # not moved to 'fiona'
    assert window.graph.transform().m11() < zoomed            # fitted
    active(window, qtbot, window.search_field)
    window.search_field.clear()
    press(qtbot, Qt.Key_F)
    assert window.search_field.text() == 'f'


def test_shift_f1_brings_the_legend_from_the_sampling_list(window, qtbot):
    window.docks['sampling_dock'].raise_()
    window.sampling.list.addItems(['anna', 'fiona'])
    active(window, qtbot, window.sampling.list)
    assert window.docks['legend_dock'].widget().visibleRegion().isEmpty()
    press(qtbot, Qt.Key_F1, Qt.ShiftModifier)
    qtbot.waitUntil(lambda: not window.docks['legend_dock'].widget().visibleRegion().isEmpty(), timeout=2000)


def test_a_click_in_scopes_leaves_the_keys_in_the_tree(window, qtbot):
    """A click on a scope shows it in the graph (as Find does) but the arrows go on moving in the tree."""
    tree, s = window.scope_tree, window.session
    active(window, qtbot, tree)
    tree.clicked.emit(tree.scopes.scope_index(s.trace.scope_id('pos 1 / layer 0 / attention / head 1')))
    settled(window, qtbot)
    assert tree.hasFocus() and not window.inspector.visibleRegion().isEmpty()
