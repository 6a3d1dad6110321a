"""explorer/gradient/provenance_panel.py: Provenance splits a weight's grad by use and by prediction, the
bars sum to the grad, and a bar or the light cone lights a path."""

from engine.graph.keys import node_key
from engine.gradient.provenance import resolve


def test_provenance_panel_bars_sum_to_the_grad_and_light_a_path(window, qtbot):
    s, panel = window.session, window.provenance_panel
    wte = resolve(window.session.trace, 'wte[4][3]')
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


def test_the_cone_lights_what_a_node_depends_on_apart_from_what_depends_on_it(window, qtbot):
    from engine.gradient.provenance import ancestors, descendants
    s, panel = window.session, window.provenance_panel
    node = resolve(s.trace, 'pos 1 / softmax / logits[2] - max_val')
    s.select(node_key(node))
    qtbot.waitUntil(lambda: panel.node == node, timeout=20000)
    with qtbot.waitSignal(panel.tint_requested, timeout=20000) as lit:
        panel.light_cone()
    strengths, label = lit.args
    up, down = ancestors(s.trace, node), descendants(s.trace, node)
    assert {n for n, x in strengths.items() if x < 0} == up and {n for n, x in strengths.items() if x > 0} == down | {node}
    assert f'teal, the {len(up):,} nodes it depends on; amber, the {len(down):,} that depend on it' in label
    window.set_tint(strengths, label)
    keys = window.graph.tinted_keys()  # a box is lit in its strongest node's colour ...
    assert any(v < 0 for v in keys.values()) and any(v > 0 for v in keys.values())
    both = window.graph.tinted_both()  # ... and one holding both kinds has the other colour's ring inside
    holder = s.visible.key_of[node]    # the closed group holding the node holds its inputs and what it feeds
    assert holder in both and (both[holder] < 0) != (keys[holder] < 0)
    assert all((both[k] < 0) != (keys[k] < 0) for k in both)
    window.set_tint({}, '')


def test_the_cone_of_a_box_says_it_is_a_scalars_and_lights_nothing(window, qtbot):
    from PySide6.QtGui import QAction
    s = window.session
    head = s.trace.scope_id('pos 2 / layer 0 / attention')
    from engine.graph.keys import group_key
    with qtbot.waitSignal(s.recorded, timeout=30000):
        s.record('emma')  # a new recording: no scalar in the panel
    s.select(group_key(head))
    action = next(a for a in window.findChildren(QAction) if a.text().replace('&', '') == 'Light the cone')
    lit = []
    window.provenance_panel.tint_requested.connect(lambda *args: lit.append(args))
    action.trigger()
    assert window.statusBar().currentMessage().startswith("The cone is a scalar's: a box is selected.")
    qtbot.wait(200)
    assert not lit
