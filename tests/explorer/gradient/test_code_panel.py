"""explorer/gradient/code_panel.py: the Code panel marks the selected node's line, lights what a line made,
follows backprop and sums the grads at the end; it names which linear: a dot product made inside `linear`
marks line 112 and the line that called it (`q = linear(...)`); a parameter marks the line that reads its
matrix; what is lit is said in the status bar, not over the graph."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItem

from engine.graph.keys import node_key
from engine.gradient.provenance import resolve
from engine.presets import preset_config

from explorer import theme


def test_code_panel_marks_the_selected_nodes_line_and_lights_what_a_line_made(window, qtbot):
    s, code = window.session, window.code_panel
    window.show_gradient_tab(code)
    exps = resolve(window.session.trace, 'pos 3 / softmax / exps[2]')
    s.select(node_key(exps))
    number = int(s.trace.line(exps).split(':')[1])
    assert code.marked == {number} and 'exps = [' in code.items[number].text(3)
    assert int(code.items[number].text(1).replace(',', '')) == len(code.nodes_of[number])
    with qtbot.waitSignal(code.tint_requested) as lit:
        code.table.itemClicked.emit(code.items[number], 0)
    strengths, label = lit.args
    assert set(strengths) == {i for i in range(len(s.trace)) if s.trace.line(i) == s.trace.line(exps)}
    assert f'made {len(strengths):,} nodes' in label
    assert window.graph.tinted_keys()  # the overview's boxes holding them are lit


def test_code_panel_follows_backprop_and_sums_grads_at_the_end(window):
    s, code = window.session, window.code_panel
    for _ in range(4):
        window.step_act.trigger()
    applied = s.backprop.stepper.last_node()
    assert code.applying == code.line_of(applied) and 'child.grad += local_grad * v.grad' in code.chain.text()
    assert code.items[code.applying].text(2) == ''  # |grad| only after the backward pass
    window.end_act.trigger()
    number = next(iter(code.nodes_of))
    assert float(code.items[number].text(2)) > 0


def test_a_dot_product_marks_its_helper_line_and_the_call_site(window):
    s, code = window.session, window.code_panel
    window.show_gradient_tab(code)
    q3 = resolve(s.trace, 'pos 2 / layer 0 / attention / q / q[3] / q[3]')
    s.select(node_key(q3))
    (made,) = code.marked
    assert 'def linear' not in code.source[made - 1] and 'ops.dot(wo, x' in code.source[made - 1]
    (call,) = code.calls
    assert code.source[call - 1].strip().startswith('q = linear(')
    assert f'called from line {call}' in code.where_label.text() and 'in <code>linear</code>' in code.where_label.text()


def test_the_value_projection_is_told_apart_from_the_query_projection(window):
    s, code = window.session, window.code_panel
    v3 = resolve(s.trace, 'pos 2 / layer 0 / attention / v / v[3] / v[3]')
    s.select(node_key(v3))
    (call,) = code.calls
    assert code.source[call - 1].strip().startswith('v = linear(')


def test_a_parameter_marks_the_line_that_reads_its_matrix(window):
    s, code = window.session, window.code_panel
    s.select(node_key(resolve(s.trace, 'wte[4][3]')))
    (line,) = code.marked
    assert "tok_emb = state_dict['wte'][token_id]" in code.source[line - 1]
    s.select(node_key(resolve(s.trace, 'layer0.attn_wq[3][5]')))
    (line,) = code.marked
    assert code.source[line - 1].strip().startswith('q = linear(')
    assert 'a parameter, read at line' in code.where_label.text()


def test_what_is_lit_is_said_in_the_status_bar(window):
    code = window.code_panel
    number = next(iter(code.nodes_of))
    code.table.itemClicked.emit(code.items[number], 0)
    assert f'line {number} made' in window.statusBar().tint.text() and window.statusBar().tint.isVisibleTo(window)
    window.set_tint({})
    assert window.statusBar().tint.text() == ''


def test_only_rows_whose_mark_changed_are_painted_again_and_an_unmarked_row_is_plain_again(window, monkeypatch):
    """Setting a row's font makes the tree measure every row (its code column fits its contents): painting
    all 262 rows on each recording and selection held the window ~1.4 s at start (issue 21 item 10)."""
    s, code = window.session, window.code_panel
    s.select(node_key(resolve(s.trace, 'pos 3 / softmax / exps[2]')))
    (line,) = code.marked
    before = {line} | code.calls
    assert code.items[line].font(3).bold() and code.items[line].background(3).style() != Qt.NoBrush
    fonts = []
    set_font = QTreeWidgetItem.setFont
    monkeypatch.setattr(QTreeWidgetItem, 'setFont', lambda item, *a: (fonts.append(int(item.text(0))),
                                                                       set_font(item, *a)))
    s.select(node_key(resolve(s.trace, 'wte[4][3]')))
    (other,) = code.marked
    assert sorted(fonts) == sorted(before | {other} | code.calls)  # rows unmarked and rows marked, no other
    assert not code.items[line].font(3).bold() and code.items[line].background(3).style() == Qt.NoBrush


def code_in_view(code, number):
    """(x of the line's first character, x of its last) in the table's viewport."""
    table, text = code.table, code.items[number].text(3).rstrip()
    left = table.header().sectionViewportPosition(3)
    metrics = table.fontMetrics()
    return (left + metrics.horizontalAdvance(text[:len(text) - len(text.lstrip())]),
            left + metrics.horizontalAdvance(text))


def test_a_deep_line_in_a_narrow_panel_is_scrolled_to_its_code_and_every_line_says_itself_whole(window, qtbot):
    """The head's lines of the model are indented 20 spaces or more: in the narrow column the code column
    showed their indentation and nothing else. Shown, a line is scrolled sideways to its first character."""
    s, code = window.session, window.code_panel
    window.show_gradient_tab(code)
    window.resize(1280, 720)
    qtbot.wait(20)
    table = code.table
    deep = max(code.nodes_of, key=lambda n: len(code.source[n - 1]) - len(code.source[n - 1].lstrip()))
    assert len(code.source[deep - 1]) - len(code.source[deep - 1].lstrip()) >= 20
    assert table.horizontalScrollBar().maximum() > 0  # the column is wider than the panel here
    code.show_line(deep)
    start, end = code_in_view(code, deep)
    assert 0 <= start < table.viewport().width() // 2  # its code, not only its indentation
    for number, item in code.items.items():
        line = code.source[number - 1].strip()
        assert item.toolTip(3) == (f'line {number}: {line}' if line else '')
    s.select(node_key(resolve(s.trace, 'wte[4][3]')))
    assert "<code>tok_emb = state_dict[&#x27;wte&#x27;][token_id]</code>" in code.where_label.text()  # whole


def test_a_step_through_a_constant_still_shows_values_chain_rule_line(window):
    s, code = window.session, window.code_panel
    trace = s.trace
    while True:
        window.step_act.trigger()
        node = s.backprop.stepper.last_node()
        if not trace.children[node]:
            break
    assert 'has no children' in code.chain.text() and 'child.grad += local_grad * v.grad' in code.chain.text()


def test_with_nothing_selected_or_stepped_the_panel_opens_at_the_first_line_that_ran(window, qtbot):
    """A reviewer opened Code and saw the module's docstring (line 1): nothing said where the forward pass is."""
    s, code = window.session, window.code_panel
    window.show_gradient_tab(code)
    s.select(None)
    s.backprop.reset()
    with qtbot.waitSignal(s.view_changed, timeout=60000):
        s.record('ava')
    first = min(code.nodes_of)
    assert not code.marked and code.applying is None and first > 1
    rect, port = code.table.visualItemRect(code.items[first]), code.table.viewport().rect()
    assert port.intersects(rect) and not port.intersects(code.table.visualItemRect(code.items[1]))


def test_a_parameter_read_in_two_places_marks_the_one_that_ran(window, qtbot, tmp_path):
    """wv is read by microgpt's attention and by the average rung's uniform attention: an average model's
    wv marks the line of uniform_attention, which ran."""
    import random

    from engine import checkpoint as ckpt_io
    from engine.model import Model
    from engine.presets import preset_config
    s, code = window.session, window.code_panel
    model = Model.init(preset_config('average'), s.model.tokenizer, random.Random(1))
    ckpt_io.save(tmp_path / 'average.json', ckpt_io.Checkpoint(model))
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        assert s.load_checkpoint(tmp_path / 'average.json')
    s.select(node_key(resolve(s.trace, 'layer0.attn_wv[3][5]')))
    (line,) = code.marked
    start = next(i for i, text in enumerate(code.source, 1) if text.startswith('def uniform_attention('))
    assert code.source[line - 1].strip().startswith('v = linear(') and line > start


def test_the_bigram_rungs_table_marks_the_line_that_returns_its_row(window, qtbot, tmp_path):
    import random

    from engine import checkpoint as ckpt_io
    from engine.model import Model
    from engine.presets import preset_config
    s, code = window.session, window.code_panel
    model = Model.init(preset_config('bigram'), s.model.tokenizer, random.Random(1))
    ckpt_io.save(tmp_path / 'bigram.json', ckpt_io.Checkpoint(model))
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        assert s.load_checkpoint(tmp_path / 'bigram.json')
    s.select(node_key(resolve(s.trace, 'wte[4][3]')))
    (line,) = code.marked
    assert code.source[line - 1].strip().startswith("return state_dict['wte'][token_id]")


def test_the_lines_this_model_does_not_run_are_grey_and_the_diff_takes_the_tables_place(window):
    s, code = window.session, window.code_panel
    window.show_gradient_tab(code)
    def grey(text):
        number = next(i for i, line in enumerate(code.source, 1) if text in line)
        return code.items[number].foreground(3).color().name() == theme.current()['faint_text']

    assert grey("return state_dict['wte'][token_id]  # [vocab_size]")  # the bigram's line: microgpt never runs it
    assert not grey('for h in range(n_head):')  # run, though it makes no node
    assert not grey('exps = [(val - max_val).exp()')
    assert 'Rung <b>microgpt</b>' in code.rung.summary.text() and code.rung.changes.text() == 'Changes from one-head'
    code.rung.changes.setChecked(True)  # microgpt runs one-head's lines: the note says so, the code stays
    assert not code.table.isHidden() and code.rung.diff.isHidden() and 'n_head 1 → 4' in code.rung.note.text()
    code.rung.changes.setChecked(False)
    code.rung.show_model(preset_config('average'), s.model.tokenizer, code.source)  # a rung whose lines differ
    code.rung.changes.setChecked(True)
    assert code.table.isHidden() and not code.rung.diff.isHidden() and 'attention none → uniform' in code.rung.note.text()
    code.rung.changes.setChecked(False)
    assert not code.table.isHidden() and code.rung.diff.isHidden()
    code.rung.show_model(s.trace.config, s.model.tokenizer, code.source)
