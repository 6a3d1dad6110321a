"""explorer.graph.marks: what the view marks over its boxes: the box backprop applied last and the gradient
its step sent along the edges (FlowItems), a weight matrix's readers outlined, and a panel's tint (each box
at the strength of its strongest node, with a label for the status bar)."""

import pytest

from explorer.graph.items import BoxItem, FlowItem


def built(window, qtbot):
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    return window.graph, window.session


def test_a_step_marks_its_box_and_the_gradient_it_sent(window, qtbot):
    view, s = built(window, qtbot)
    bp, key_of = s.backprop, s.visible.key_of
    assert view.focus_key == key_of[s.trace.loss_id] and view.flows == {}
    while not view.flows:  # the first steps stay inside the loss's box: no edge carries them
        record = bp.step()
    assert view.focus_key == key_of[record.node]
    assert all(b == key_of[record.node] or b in {v for vs in s.visible.vectors_of.values() for v in vs}
               for _, b in view.flows)
    flows = [i for i in view.scene().items() if isinstance(i, FlowItem)]
    assert len(flows) == len([k for k in view.flows if view.edges_by_key[k].isVisible()]) > 0
    bp.seek(0)
    assert view.flows == {} and not any(isinstance(i, FlowItem) for i in view.scene().items())


def test_the_box_backprop_is_at_is_painted_again_when_a_build_in_slices_marks_it(window, qtbot, monkeypatch):
    """A build in slices can be painted before its last slice sets the current box (the loss, at the
    start); its picture is cached, so the box is told to paint again, or it showed no mark at first paint."""
    view, s = built(window, qtbot)
    monkeypatch.setattr('explorer.graph.scene_build.BUILD_SLICE_S', 0.0)  # a slice per item
    painted_again = []
    update = BoxItem.update
    monkeypatch.setattr(BoxItem, 'update', lambda item, *a: (painted_again.append((item.box.key, view.focus_key)),
                                                             update(item, *a)))
    view._on_view_changed()
    assert view.building()
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    loss = s.visible.key_of[s.trace.loss_id]
    assert view.focus_key == loss and (loss, loss) in painted_again


def test_a_tint_lights_each_box_at_its_strongest_node(window, qtbot):
    view, s = built(window, qtbot)
    key_of = s.visible.key_of
    nodes = {}
    for n in range(len(s.trace)):
        nodes.setdefault(key_of[n], []).append(n)
    a, b = next(ns for key, ns in nodes.items() if key is not None and len(ns) >= 2)[:2]  # one box, two nodes
    view.set_tint({a: 0.2, b: 0.9}, 'two nodes')
    assert view.tinted_keys() == {key_of[a]: 0.9} and view.tint_label() == 'two nodes'
    view.set_tint(None)
    assert view.tinted_keys() == {} and view.tint_label() == ''


def test_a_scale_of_strengths_spreads_over_the_boxes_shown(window, qtbot):
    """A nudge's log scale put every overview box within a few tenths of the strongest: rings all alike.
    The boxes shown spread from thin to thick, in the same order; a Cone's one strength per colour stays."""
    view, s = built(window, qtbot)
    key_of, first = s.visible.key_of, {}
    for n in range(len(s.trace)):
        if key_of[n] is not None:
            first.setdefault(key_of[n], n)
    (ka, a), (kb, b), (kc, c), (kd, d) = list(first.items())[:4]
    view.set_tint({a: 0.80, b: 0.85, c: 0.90, d: -0.5})
    assert view.tinted_keys() == pytest.approx({ka: 0.1, kb: 0.55, kc: 1.0, kd: -0.5})
    view.set_tint({a: 1.0, b: 1.0, d: -1.0})
    assert view.tinted_keys() == {ka: 1.0, kb: 1.0, kd: -1.0}


def test_a_weight_highlight_outlines_its_readers_and_clears(window, qtbot):
    view, _ = built(window, qtbot)
    view.highlight_weight('wte')
    assert view.highlighted_weights == {'wte'} and view.highlighted_readers == set(view.weight_readers['wte'])
    assert view.highlighted_readers
    view.highlight_weight(None)
    assert not view.highlighted_weights and not view.highlighted_readers


def test_stepping_a_closed_group_labels_what_it_has_sent_along_each_edge(window, qtbot):
    """Issue 21: 16 group steps from the start land inside pos 4's closed attention; the edges out of it (its
    input from the embedding, the KV cache into earlier positions) carry what it has sent back so far, as the
    stepper's numbers say, each label readable and under nothing."""
    from engine.gradient.box_flows import sent_text
    from engine.graph.keys import group_key
    from explorer.graph.items import FlowLabel
    from tests.explorer.graph.test_view import hidden_texts
    view, s = built(window, qtbot)
    bp, trace, key_of = s.backprop, s.trace, s.visible.key_of
    for _ in range(16):
        window.step_group_act.trigger()
    attention = group_key(trace.scope_id('pos 4 / layer 0 / attention'))
    assert view.focus_key == attention
    inside = set(s.current.hierarchy.nodes_in(trace.scope_id('pos 4 / layer 0 / attention')))
    expected = {}  # what the box's applied nodes sent to each child shown in another box, counted anew
    for node in inside:
        if bp.schedule.applied_at[node] <= bp.position:
            for child, local in zip(trace.children[node], trace.local_grads[node]):
                edge = view.edges_by_key.get((key_of[child], attention))
                if edge is not None and edge.isVisible():  # not the weights' hidden edges
                    per_child = expected.setdefault((key_of[child], attention), {})
                    per_child[child] = per_child.get(child, 0.0) + local * bp.grads[node]
    assert view.box_flows.keys() == expected.keys()
    for key, per_child in expected.items():
        assert view.box_flows[key] == pytest.approx(per_child, rel=1e-12, abs=1e-15)
    embedding = group_key(trace.scope_id('pos 4 / embedding'))
    kv = [k for k in expected if k in s.visible.kv_edges]
    assert (embedding, attention) in expected and len(kv) == 4  # the KV cache of pos 0-3
    labels = {i.text for i in view.scene().items() if isinstance(i, FlowLabel)}
    shown = {sent_text(per_child) for per_child in expected.values()}
    assert shown <= labels and len(shown) >= 5
    assert hidden_texts(view, FlowLabel) == []
    now = lambda: {sent_text(per_child) for per_child in view.box_flows.values()}  # noqa: E731
    while now() == shown:  # node steps inside the box, until one sends enough across its side to change a label
        bp.step()
        assert view.focus_key == attention
    assert {i.text for i in view.scene().items() if isinstance(i, FlowLabel)} == now()  # written in place


@pytest.mark.parametrize('opened', [None, 'pos 4 / layer 0 / attention', 'pos 3 / layer 0 / mlp'])
def test_at_every_group_step_the_gradients_labels_are_readable(window, qtbot, opened):
    """Wherever a group step lands (every unit of the model, every position), on the overview or with a group
    open, the labels of what the group being stepped sent are whole and under no box, title, badge, arrowhead
    or other label."""
    from explorer.graph.items import FlowLabel
    from tests.explorer.graph.test_view import hidden_texts
    view, s = built(window, qtbot)
    if opened:
        with qtbot.waitSignal(s.view_changed, timeout=20000):
            s.open_group(s.trace.scope_id(opened))
        built(window, qtbot)
    bp, labelled = s.backprop, 0
    for end in sorted({u.end for u in bp.unit_steps().units}):
        bp.seek(end)
        labels = [i for i in view.scene().items() if isinstance(i, FlowLabel)]
        labelled += bool(view.box_flows)
        if labels:
            assert hidden_texts(view, FlowLabel) == [], (end, view.focus_key)
    assert labelled > 20
