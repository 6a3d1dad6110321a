"""explorer/panels/chain_rule.py: the Chain rule panel spells out the step just applied (a multiplication's
local gradients) and, after a group step, the unit's summary (a linear's largest |∂L/∂y| as a magnitude)."""

from PySide6.QtCore import QUrl


def test_chain_rule_panel_spells_out_a_multiplication(window, qtbot):
    s, bp = window.session, window.session.backprop
    while True:  # to the first '*' whose chain rule has been applied
        record = bp.step()
        if s.trace.op[record.node] == '*' and not record.seed:
            break
    text = window.chain_rule.toPlainText()
    assert 'mul: ∂(a·b)/∂a = b' in text
    a, b = record.contributions
    assert 'local b = ' in text and 'local a = ' in text
    assert a.local_grad == s.trace.data[b.child] and b.local_grad == s.trace.data[a.child]
    window.chain_rule.anchorClicked.emit(QUrl(f'n{a.child}'))
    assert s.selected == f'n{a.child}'


def test_the_linear_summary_names_the_largest_magnitude_as_a_magnitude(window):
    bp = window.session.backprop
    while not any('lm_head' in u.path for u in bp.landed):
        window.step_group_act.trigger()
    note = next(line for line in window.chain_rule.toPlainText().splitlines() if 'the largest |∂L/∂y| is' in line)
    value = note.split('the largest |∂L/∂y| is ')[1].rstrip('.')
    assert float(value.replace('−', '-')) > 0


def test_the_relu_summary_names_only_marks_the_view_draws(window, qtbot):
    """Issue 21: the relu summary spoke of hatched boxes while mlp was closed and nothing of the kind was drawn.
    Now it says they are not drawn, with a link that shows fc1, and then points at fc1's grey cells."""
    s, bp = window.session, window.session.backprop
    while not any(u.kind == 'relu' for u in bp.landed):
        window.step_group_act.trigger()
    relu = next(u for u in bp.landed if u.kind == 'relu')
    text = window.chain_rule.toPlainText()
    assert 'hatched' not in text
    assert 'grad exactly 0: not drawn while mlp is closed — show fc1' in text
    fc1 = s.trace.scope_id(relu.path.rsplit(' / ', 1)[0] + ' / fc1')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        window.chain_rule.anchorClicked.emit(QUrl(f'g{fc1}'))  # the link
    text = window.chain_rule.toPlainText()
    assert 'grey cells in the strip of fc1 on the graph' in text and 'not drawn' not in text
    box = s.visible.box(f'g{fc1}')
    zeros = [n for n, _, _ in box.cells if bp.grads[n] == 0]
    assert zeros and all(bp.reached(n) for n in zeros)  # what the grey cells are: reached, grad exactly 0
