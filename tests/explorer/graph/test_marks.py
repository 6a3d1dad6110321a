"""explorer.graph.marks: what the view marks over its boxes: the box backprop applied last and the gradient
its step sent along the edges (FlowItems), a weight matrix's readers outlined, and a panel's tint (each box
at the strength of its strongest node, with a label for the status bar)."""

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


def test_a_weight_highlight_outlines_its_readers_and_clears(window, qtbot):
    view, _ = built(window, qtbot)
    view.highlight_weight('wte')
    assert view.highlighted_weights == {'wte'} and view.highlighted_readers == set(view.weight_readers['wte'])
    assert view.highlighted_readers
    view.highlight_weight(None)
    assert not view.highlighted_weights and not view.highlighted_readers
