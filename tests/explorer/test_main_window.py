"""The explorer window, offscreen, driven as a user drives it (pytest-qt)."""

import pytest

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


def test_bad_character_keeps_the_graph_and_says_why(window):
    s = window.session
    before = s.trace
    bar_height = window.document.height()
    window.document.field.setText('zoë')
    window.document.field.returnPressed.emit()
    assert s.trace is before
    assert "'ë' is not in the vocabulary" in window.document.message.toolTip()
    assert 'abcdefghijklmnopqrstuvwxyz' in window.document.message.toolTip()
    assert window.document.message.text().startswith("'ë' is not in the vocabulary")
    window.document.layout().activate()
    assert window.document.sizeHint().height() <= bar_height  # beside the field: the tool bar keeps its height


@pytest.mark.slow  # records a document of 16 positions
def test_over_long_document_is_cut_with_a_notice(window, qtbot):
    with qtbot.waitSignal(window.session.view_changed, timeout=30000):
        window.session.record('a' * 20)
    assert window.document.message.toolTip() == ("block_size 16 cuts 'aaaaaaaaaaaaaaaaaaaa' (20 characters): "
                                                 "recorded its first 16 positions, as microgpt trains it; "
                                                 "not predicted: 'aaaa' and the end of the document.")


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


def test_inspector_shows_a_known_parameter(window, qtbot):
    s = window.session
    node = next(i for i in s.trace.params if s.trace.param_name(i) == 'layer0.attn_wq[3][5]')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{node}')
    html = window.inspector.toPlainText()
    assert 'layer0.attn_wq[3][5]' in html and repr(s.trace.data[node]) in html
    assert 'not reached yet' in html  # backprop starts at step 0
    assert 'Adam, next update' in html and 'decayed to 0' in html  # the checkpoint ends its schedule
    assert s.visible.key_of[node] in s.layout.boxes  # in its matrix's grid, still selected
    assert s.selected == f'n{node}'


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
