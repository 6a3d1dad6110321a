"""explorer/panels/backprop.py: stepping through backprop in the window, node by node and by the model's
units (group steps): the controls, the graph's marks, breakpoints and play, a parameter's Adam update, and
what a group step says in the status bar and when that message stops being true."""

from PySide6.QtCore import Qt

from engine.gradient.group_steps import units
from engine.numbers import shown
from engine.trace import literal_loss


def open_path(s, qtbot, path):
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id(path))


def test_controls_step_back_and_reset(window, qtbot):
    s, bp = window.session, window.session.backprop
    assert bp.position == 0 and 'Nothing applied yet' in window.chain_rule.toPlainText()
    window.step_act.trigger()
    assert bp.position == 1 and bp.grads[s.trace.loss_id] == 1
    assert 'Seed' in window.chain_rule.toPlainText()
    snapshot = list(bp.grads)
    for _ in range(30):
        window.step_act.trigger()
    assert window.backprop_panel.position_label.text() == f'step 31 of {bp.total:,}'
    assert window.backprop_panel.timeline.value() == 31
    for _ in range(30):
        window.back_act.trigger()
    assert bp.grads == snapshot and bp.position == 1
    window.reset_act.trigger()
    assert bp.position == 0 and not any(bp.grads)


def test_run_to_end_equals_loss_backward(window):
    """Every grad the window shows at the end is microgpt's own loss.backward(), bit for bit."""
    s = window.session
    window.end_act.trigger()
    loss, literal = literal_loss(s.model, 'emma')
    loss.backward()
    for node, (name, row, col) in s.trace.params.items():
        assert s.backprop.grads[node] == literal.state_dict[name][row][col].grad
    assert 'Backprop is done' in window.chain_rule.toPlainText()


def test_timeline_seeks_both_ways(window):
    bp = window.session.backprop
    window.backprop_panel.timeline.setValue(5000)
    assert bp.position == 5000
    at_5000 = list(bp.grads)
    window.backprop_panel.timeline.setValue(20000)
    window.backprop_panel.timeline.setValue(5000)
    assert bp.grads == at_5000


def test_the_graph_marks_the_current_node_and_the_gradient_flowing(window, qtbot):
    s, bp, graph = window.session, window.session.backprop, window.graph
    open_path(s, qtbot, 'pos 4 / softmax')
    bp.seek(8)  # the '*' of probs[target] = exp · total**-1 has just sent grads to both factors
    record = bp.stepper.last_record()
    assert s.trace.op[record.node] == '*' and s.trace.scope_path(record.node) == 'pos 4 / softmax'
    assert graph.focus_key == f'n{record.node}'
    flows = {key: total for key, (total, _) in graph.flows.items()}
    assert flows == {(f'n{c.child}', f'n{record.node}'): c.contribution for c in record.contributions}
    assert all(bp.reached(c.child) for c in record.contributions)
    unreached = next(b.node for b in s.visible.boxes if b.node >= 0 and not bp.reached(b.node))
    assert bp.grads[unreached] == 0


def test_breakpoint_stops_play_where_the_gradient_first_arrives(window, qtbot):
    s, bp = window.session, window.session.backprop
    target = s.trace.scope_id('pos 2 / lm_head')
    s.select(f'g{target}')
    window.breakpoint_act.trigger()
    assert window.backprop_panel.breakpoints.count() == 1
    window.backprop_panel.speed.setCurrentIndex(window.backprop_panel.speed.count() - 1)  # full speed
    window.play_act.trigger()
    qtbot.waitUntil(lambda: not bp.playing, timeout=30000)
    assert bp.position == s.current.schedule.reached(s.current.hierarchy.nodes_in(target))
    assert bp.group_reached(target)
    assert 'Breakpoint' in window.statusBar().currentMessage()
    window.clear_breakpoints_act.trigger()
    assert not bp.breakpoints


def test_play_at_full_speed_runs_every_step(window, qtbot):
    bp = window.session.backprop
    window.backprop_panel.speed.setCurrentIndex(window.backprop_panel.speed.count() - 1)
    window.play_act.trigger()
    assert window.play_act.text() == 'Pause'
    qtbot.waitUntil(lambda: bp.stepper.at_end, timeout=60000)
    assert not bp.playing and window.play_act.text() == 'Play'
    assert bp.stepper.arrived == bp.schedule.needed


def test_a_new_document_resets_the_stepper(window, qtbot):
    s, bp = window.session, window.session.backprop
    bp.seek(1000)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.record('ava')
    assert bp.position == 0 and bp.total == len(s.trace) + 1 and not any(bp.grads)


def test_parameter_shows_its_adam_update(window, qtbot):
    s, bp = window.session, window.session.backprop
    node = next(i for i in s.trace.params if s.trace.param_name(i) == 'wte[4][3]')
    bp.run_to_end()
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{node}')
    text = window.inspector.toPlainText()
    assert shown(bp.grads[node]) in text and 'Adam, next update' in text
    assert f'{shown(s.trace.data[node])} → {shown(s.trace.data[node])}' in text  # lr has decayed to 0


def test_keyboard_steps_in_the_graph_but_not_in_the_scope_tree(window, qtbot):
    bp = window.session.backprop
    window.activateWindow()
    window.graph.setFocus()
    qtbot.keyClick(window.graph, Qt.Key_Right)
    qtbot.keyClick(window.graph, Qt.Key_Right)
    assert bp.position == 2
    qtbot.keyClick(window.graph, Qt.Key_Left)
    assert bp.position == 1
    qtbot.keyClick(window.graph, Qt.Key_End)
    assert bp.stepper.at_end
    qtbot.keyClick(window.graph, Qt.Key_Home)
    assert bp.position == 0
    window.scope_tree.setFocus()
    qtbot.keyClick(window.scope_tree, Qt.Key_Down)
    assert bp.position == 0


def unit_ends(window):
    rec = window.session.current
    return units(rec.trace, rec.schedule, rec.hierarchy)


def test_group_steps_land_on_the_models_units_and_summarise_them(window):
    bp, chain = window.session.backprop, window.chain_rule
    expected = unit_ends(window)
    window.step_group_act.trigger()
    assert bp.position == expected[0].end and [u.path for u in bp.landed] == ['loss']
    assert 'the mean' in chain.toPlainText() and '1/n = 1/5' in chain.toPlainText()
    assert window.statusBar().currentMessage().startswith('Done: loss')
    for unit in expected[1:4]:
        window.step_group_act.trigger()
        assert bp.position == unit.end and bp.landed == (unit,)
    text = chain.toPlainText()
    assert 'pos 4 / lm_head' in text and '∂L/∂x = Wᵀ·∂L/∂y' in text and '∂L/∂W += ∂L/∂y·xᵀ' in text
    assert 'agrees' in text and 'disagrees' not in text
    window.back_group_act.trigger()
    assert bp.position == expected[2].end and 'probs − onehot(target)' in chain.toPlainText()
    window.step_act.trigger()  # a single step shows that step again, not the group
    assert not bp.landed and 'per child' in chain.toPlainText()
    window.back_group_act.trigger()
    assert bp.position == expected[2].end


def test_group_steps_do_not_depend_on_what_is_open(window, qtbot):
    s, bp = window.session, window.session.backprop
    expected = [u.end for u in unit_ends(window)][:12]
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id('pos 4 / layer 0 / attention / head 1'))
    got = []
    for _ in expected:
        window.step_group_act.trigger()
        got.append(bp.position)
    assert got == expected


def test_play_by_group_stops_only_at_unit_ends(window, qtbot):
    bp, panel = window.session.backprop, window.backprop_panel
    ends = {u.end for u in unit_ends(window)}
    panel.by_group.setChecked(True)
    panel.speed.setCurrentIndex(panel.speed.count() - 1)
    seen = []
    bp.moved.connect(lambda _: seen.append(bp.position))
    window.play_act.trigger()
    qtbot.waitUntil(lambda: len(seen) >= 6, timeout=30000)
    window.play_act.trigger()
    assert seen and all(p in ends for p in seen)


def test_a_node_step_after_a_group_step_clears_its_done_message(window):
    window.step_group_act.trigger()
    assert window.statusBar().currentMessage().startswith('Done: loss')
    window.step_act.trigger()  # the group's summary is gone from the Chain rule panel; so is its message
    assert window.statusBar().currentMessage() == ''


def test_an_unrelated_message_survives_a_node_step(window):
    window.step_group_act.trigger()
    window.statusBar().showMessage('Saved the model.', 10000)
    window.step_act.trigger()
    assert window.statusBar().currentMessage() == 'Saved the model.'
