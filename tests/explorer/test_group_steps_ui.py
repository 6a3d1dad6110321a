"""Group steps in the window: by the model's structure whatever is open, each ending on its summary."""

from engine.gradient.group_steps import units


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
