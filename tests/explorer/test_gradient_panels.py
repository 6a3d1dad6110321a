"""Issue 13 in the window: the Code panel, Nudge, Gradcheck (background, cancel) and Provenance, and the tint."""

from engine.graph.keys import node_key
from engine.gradient.provenance import resolve


def node(window, name):
    return resolve(window.session.trace, name)


def test_code_panel_marks_the_selected_nodes_line_and_lights_what_a_line_made(window, qtbot):
    s, code = window.session, window.code_panel
    window.show_gradient_tab(code)
    exps = node(window, 'pos 3 / softmax / exps[2]')
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


def test_nudge_panel_shows_the_central_difference_and_tints_what_changed(window, qtbot):
    s, panel = window.session, window.nudge_panel
    window.show_gradient_tab(panel)
    wte = node(window, 'wte[4][3]')
    with qtbot.waitSignal(window.nudge_panel.tint_requested, timeout=20000) as lit:
        s.reveal(node_key(wte))
    strengths, label = lit.args
    assert wte in strengths and 'wte[4][3]' in label and len(strengths) > 1000
    assert panel.values['rel'].text() != '—' and float(panel.values['rel'].text()) < 1e-5
    assert not any(s.trace.position(i) == 0 for i in strengths)  # the input at position 1 changes nothing before


def test_nudge_panel_unknown_name_one_sentence_nothing_changes(window):
    panel = window.nudge_panel
    window.show_gradient_tab(panel)
    before = panel.node
    panel.field.setText('no such node')
    panel.field.returnPressed.emit()
    assert panel.message.isVisibleTo(panel) and panel.message.text().startswith('No node is called')
    assert panel.node == before


def test_gradcheck_runs_in_the_background_and_can_be_cancelled(window, qtbot):
    panel = window.gradcheck_panel
    window.show_gradient_tab(panel)
    with qtbot.waitSignal(panel.progress.valueChanged, timeout=20000):
        panel.start()
    assert panel.running and not panel.start_button.isEnabled()
    assert panel.cancel()
    assert not panel.running and panel.start_button.isEnabled() and panel.result is None


def test_provenance_panel_bars_sum_to_the_grad_and_light_a_path(window, qtbot):
    s, panel = window.session, window.provenance_panel
    wte = node(window, 'wte[4][3]')
    s.select(node_key(wte))
    qtbot.waitUntil(lambda: bool(panel.parts), timeout=20000)
    assert len(panel.by_use.rows) == 1 and 'exactly' in panel.use_label.text()
    assert [p for p, _, _ in sorted(panel.parts)] == list(range(s.trace.n))
    with qtbot.waitSignal(panel.tint_requested, timeout=20000) as lit:
        panel.by_prediction.clicked.emit(0)
    assert wte in lit.args[0] and s.trace.loss_id not in lit.args[0]
    with qtbot.waitSignal(panel.tint_requested, timeout=20000) as lit:
        panel.light_cone()
    assert s.trace.loss_id in lit.args[0] and wte in lit.args[0]
