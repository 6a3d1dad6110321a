"""explorer/main_window.py: the explorer window, offscreen, driven as a user drives it (pytest-qt). Keys go
where the learner is typing: Return in a text field is that field's, the graph's single-key shortcuts act
only in the graph and the scope tree. Scalars are called by their names in the code, the same in every
place: graph, tooltip, inspector, chain rule, breadcrumb, breakpoints and search. On a window too narrow
for every toolbar in one row, the Backprop toolbar (the same buttons as the Backprop panel) is not a second
row taking the graph's room; hiding the panels brings it back, since then it is the only place those
buttons are, and showing them hides it again."""

from PySide6.QtCore import QSettings, Qt

from explorer.graph.export import export_view
from explorer.main_window import MainWindow
from explorer.state.session import Session


def test_window_opens_on_the_overview(window):
    s = window.session
    assert s.trace.doc == 'emma' and len(s.trace) == 43091
    assert 30 <= len(s.layout.boxes) <= 150
    titles = {b.title for b in s.visible.boxes}
    assert {'embedding', 'attention', 'mlp', 'lm_head', 'softmax', '-log p', 'wte', 'lm_head'} <= titles
    assert window.graph.items_by_key.keys() >= s.layout.boxes.keys()
    assert 'microgpt-names.json' in window.model_label.text()


def test_typing_a_document_records_it(window, qtbot):
    s = window.session
    window.document.field.setText('ava')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        window.document.field.returnPressed.emit()
    assert s.trace.doc == 'ava' and s.trace.n == 4
    assert 'ava' in window.stats_label.text()


def test_open_down_to_one_attention_score_and_close_again(window, qtbot):
    s = window.session
    for path in ['pos 2 / layer 0 / attention', 'pos 2 / layer 0 / attention / head 1',
                 'pos 2 / layer 0 / attention / head 1 / scores',
                 'pos 2 / layer 0 / attention / head 1 / scores / q·k[0]']:
        with qtbot.waitSignal(s.view_changed, timeout=20000):
            s.open_group(s.trace.scope_id(path))
    score = s.trace.scope_id('pos 2 / layer 0 / attention / head 1 / scores / q·k[0]')
    scalars = [b for b in s.visible.boxes if b.node >= 0 and b.scope == score]
    assert [b.title for b in sorted(scalars, key=lambda b: b.node)] == [  # named as in the code; sum()'s 0 is hidden
        'q[4]·keys[0][4]', 'q·k[0] (Σ 0..0)', 'q[5]·keys[0][5]', 'q·k[0] (Σ 0..1)',
        'q[6]·keys[0][6]', 'q·k[0] (Σ 0..2)', 'q[7]·keys[0][7]', 'q·k[0]']
    assert score in s.layout.clusters
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.close_group(s.trace.scope_id('pos 2 / layer 0 / attention'))
    assert f"g{s.trace.scope_id('pos 2 / layer 0 / attention')}" in s.layout.boxes
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.set_show_constants(True)
    assert any(b.title == '1/n' for b in s.visible.boxes)  # the constant of the mean loss


def test_search_finds_a_parameter(window, qtbot):
    window.search_field.setText('attn_wk[2][7]')
    with qtbot.waitSignal(window.session.view_changed, timeout=20000):
        window.find_next()
    assert window.session.trace.param_name(int(window.session.selected[1:])) == 'layer0.attn_wk[2][7]'


def test_exports_are_valid_files(window, tmp_path):
    for fmt, magic in (('svg', b'<?xml'), ('png', b'\x89PNG'), ('dot', b'digraph')):
        path = tmp_path / f'view.{fmt}'
        export_view(window.graph, window.session.layout, path, fmt)
        assert path.read_bytes().startswith(magic)


def test_corrupt_checkpoint_keeps_the_model(window, tmp_path, qtbot, monkeypatch):
    s = window.session
    shown = []
    monkeypatch.setattr('explorer.main_window.QMessageBox.warning', lambda *a: shown.append(a[2]))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"nope": 1}')
    model = s.model
    assert not s.load_checkpoint(bad)
    assert s.model is model and shown and 'not a microgpt-explorer checkpoint' in shown[0]


def test_settings_remember_geometry(window):
    """Closing saves size and place; a new window on the same settings opens exactly there."""
    window.resize(760, 560)
    window.move(20, 30)
    saved = window.geometry()
    screen = window.screen().availableGeometry()
    # A size that fits the screen, so that restoreGeometry has no reason to move or shrink it.
    assert saved.size().toTuple() == (760, 560) and screen.contains(window.frameGeometry()), \
        f'the window is {saved.width()}×{saved.height()} at least, larger than the {screen.width()}×{screen.height()} screen'
    window.close()
    again = MainWindow(Session(), window.settings)
    again.show()
    try:
        assert again.geometry() == saved
    finally:
        again.close()
        again.session.worker.wait()


def test_a_slow_layout_can_be_cancelled(window, qtbot):
    s = window.session
    shown = s.visible
    s.open_group(s.trace.scope_id('pos 4 / lm_head'), to_scalars=True)
    assert s.cancel_layout()
    assert s.opened == shown.open and 'cancelled' in window.statusBar().currentMessage()
    s.worker.wait()
    qtbot.wait(50)  # the dropped result arrives and is ignored
    assert s.visible is shown
    assert not s.cancel_layout()  # nothing running any more


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


def node_named(trace, path, name):
    [node] = [i for i in range(len(trace)) if trace.scope_path(i) == path and trace.name(i) == name]
    return node


def test_a_scalar_is_called_by_its_name_everywhere(window, qtbot):
    s = window.session
    q3 = node_named(s.trace, 'pos 2 / layer 0 / attention / q / q[3]', 'q[3]')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{q3}')
    box = s.visible.boxes[[b.key for b in s.visible.boxes].index(f'n{q3}')]
    assert box.title == 'q[3]'
    assert window.graph.tooltip(box).startswith('q[3] = + — pos 2 / layer 0 / attention / q / q[3]')
    text = window.inspector.toPlainText()
    assert '\nname\nq[3]\nop\n+\n' in text
    assert 'q[3] (Σ 0..14)' in text and 'wq[3][15]·x[15]' in text  # its children, in its own position
    assert 'parents (3)\nq[3]·keys[0][3], q[3]·keys[1][3], q[3]·keys[2][3]' in text  # head 0's scores
    assert '#' not in text
    assert window.breadcrumb.text().endswith('<b>q[3]</b>')
    assert s.backprop.describe(f'n{q3}') == 'pos 2 · q[3]'


def test_the_chain_rule_names_the_node_and_its_children(window, qtbot):
    bp, trace = window.session.backprop, window.session.trace
    bp.seek(2)  # the seed, then loss = sum(losses) · 1/n
    text = window.chain_rule.toPlainText()
    assert 'loss in loss' in text and 'sum(losses) · local' in text and '1/n · local' in text
    for _ in range(40):  # into position 4: the links carry the position
        record = bp.step()
    text = window.chain_rule.toPlainText()
    assert trace.qualified_name(record.node) in text and '#' not in text
    for c in record.contributions:
        assert trace.qualified_name(c.child, record.node) + ' · local' in text


def test_find_by_name_selects_and_says_which(window, qtbot):
    s = window.session
    window.search_field.setText('pos 3 · total')
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        window.find_next()
    node = int(s.selected[1:])
    assert s.trace.name(node) == 'total' and s.trace.position(node) == 3
    assert any(m.startswith('Match 1 of ') and ': pos 3 · total' in m for m in messages)


def make(qtbot, tmp_path, width, height):
    session = Session()
    win = MainWindow(session, QSettings(str(tmp_path / 'w.ini'), QSettings.IniFormat))
    win.resize(width, height)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_the_backprop_toolbar_gives_its_row_to_the_graph_and_comes_back_with_the_panels_hidden(qtbot, tmp_path):
    win = make(qtbot, tmp_path, 1100, 720)  # offscreen fonts are narrower: 1100 is what 1280 is on a screen
    try:
        bar = win.backprop_bar
        assert bar.isHidden() and win.docks['backprop_dock'].isVisible()
        graph_height = win.graph.height()
        assert bar.toggleViewAction() in win.toolbars_menu.actions()  # View › Toolbars brings it back by hand
        win.toggle_panels()
        qtbot.wait(20)
        assert not bar.isHidden() and not win.docks['backprop_dock'].isVisible()
        win.toggle_panels()
        qtbot.wait(20)
        assert bar.isHidden() and win.docks['backprop_dock'].isVisible()
        assert win.graph.height() == graph_height
    finally:
        win.close()
        win.session.worker.wait()


def test_a_window_wide_enough_for_one_row_keeps_the_backprop_toolbar(qtbot, tmp_path):
    win = make(qtbot, tmp_path, 2400, 1000)
    try:
        assert not win.backprop_bar.isHidden()
    finally:
        win.close()
        win.session.worker.wait()


def test_the_status_bar_says_what_is_shown_whole_as_soon_as_a_view_is_in(make_window, qtbot):
    """At the first paint the stats read "'e": the label had its text but not yet its width."""
    window = make_window(1280, 720, record=False)
    label, widths = window.stats_label, []
    window.session.view_changed.connect(lambda: widths.append((label.width(), label.sizeHint().width())))
    with qtbot.waitSignal(window.session.view_changed, timeout=20000):
        window.session.record('emma')
    (width, wanted), = widths
    assert 'loss' in label.text() and width >= wanted


def test_what_was_lit_goes_with_its_recording(window, qtbot):
    """Nodes lit by Nudge, Provenance or Code are ids of the recording they were lit in: another document
    (a shorter one: fewer nodes) painted them as an IndexError in every frame until something was lit again."""
    s = window.session
    last = len(s.trace) - 1
    window.set_tint({last: 1.0}, 'nudge of loss')
    assert window.statusBar().tint.isVisibleTo(window)
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.record('ann')
    assert window.graph.tinted_keys() == {} and window.graph.tint_label() == ''
    assert not window.statusBar().tint.isVisibleTo(window)
