"""explorer/gradient/nudge_panel.py: Nudge shows the central difference for the selected weight, tints what
it changed, and answers an unknown name, or an h at which the loss has no value, with one sentence."""

from engine.graph.keys import node_key
from engine.gradient.provenance import resolve


def test_nudge_panel_shows_the_central_difference_and_tints_what_changed(window, qtbot):
    s, panel = window.session, window.nudge_panel
    window.show_gradient_tab(panel)
    wte = resolve(window.session.trace, 'wte[4][3]')
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



def test_nudge_panel_says_in_one_sentence_where_the_loss_cannot_be_evaluated(window, qtbot):
    panel = window.nudge_panel
    window.show_gradient_tab(panel)
    node = resolve(window.session.trace, 'pos 0 / softmax / probs[target]')  # 0.05124: log(x - 0.1) has no value
    with qtbot.waitSignal(panel.tint_requested, timeout=20000):
        panel.set_node(node)
    with qtbot.waitSignal(panel.tint_requested, timeout=20000):
        panel.sign.setChecked(True)                    # h = -1e-4: a nudge that works
    assert not panel.message.isVisibleTo(panel)
    with qtbot.waitSignal(panel.tint_requested, timeout=20000) as cleared:
        panel.slider.setValue(panel.slider.maximum())  # h = -1e-1: x + h = -0.04876
    assert cleared.args == [{}, '']                     # the last nudge's colours go with its numbers
    assert panel.message.isVisibleTo(panel) and panel.message.text() == (
        'At x + h = -0.04876 the loss cannot be evaluated: pos 0 · log(probs[target]) would be log(-0.04876), '
        'the log of a negative number.')
    assert all(label.text() == '—' for key, label in panel.values.items() if key != 'node')
    with qtbot.waitSignal(panel.tint_requested, timeout=20000) as lit:
        panel.slider.setValue(0)                       # h = -1e-8: numbers again, and the sentence goes
    assert lit.args[0] and not panel.message.isVisibleTo(panel) and panel.values['rel'].text() != '—'


def test_a_nudge_that_comes_back_to_a_hidden_panel_lights_nothing(window, qtbot):
    """Leaving a tour switched workspace while the Nudge panel's nudge was on its way: it came back to a hidden
    panel and lit 19,309 nodes no panel on screen explained."""
    s, panel = window.session, window.nudge_panel
    window.show_gradient_tab(panel)
    qtbot.waitUntil(lambda: panel.job is None or not panel.job.running, timeout=20000)
    window.set_tint({})  # what an earlier test lit
    wte = resolve(s.trace, 'wte[4][3]')
    s.reveal(node_key(wte))
    assert panel.job.running
    window.workspaces.switch('Attention')  # the Gradient panel behind
    assert not panel.isVisible()
    qtbot.waitUntil(lambda: panel.job is None or not panel.job.running, timeout=20000)
    qtbot.wait(50)
    assert window.graph.tint_label() == ''
