"""explorer/gradient/nudge_panel.py: Nudge shows the central difference for the selected weight, tints what
it changed, and answers an unknown name with one sentence, changing nothing."""

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
