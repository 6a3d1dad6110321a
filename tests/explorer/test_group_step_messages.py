"""What a group step says in the status bar, and when that message stops being true."""


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


def test_the_linear_summary_names_the_largest_magnitude_as_a_magnitude(window):
    bp = window.session.backprop
    while not any('lm_head' in u.path for u in bp.landed):
        window.step_group_act.trigger()
    note = next(line for line in window.chain_rule.toPlainText().splitlines() if 'the largest |∂L/∂y| is' in line)
    value = note.split('the largest |∂L/∂y| is ')[1].rstrip('.')
    assert float(value.replace('−', '-')) > 0
