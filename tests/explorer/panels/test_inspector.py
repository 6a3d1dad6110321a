"""explorer/panels/inspector.py: what the selected box is: a parameter's name, data, grad (not reached
yet at step 0) and Adam's next update."""


def test_inspector_shows_a_known_parameter(window, qtbot):
    s = window.session
    node = next(i for i in s.trace.params if s.trace.param_name(i) == 'layer0.attn_wq[3][5]')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{node}')
    html = window.inspector.toPlainText()
    assert 'layer0.attn_wq[3][5]' in html and repr(s.trace.data[node]) in html
    assert 'not reached yet' in html  # backprop starts at step 0
    assert 'Adam, next update' in html and 'decayed to 0' in html  # the checkpoint ends its schedule
    assert s.visible.key_of[node] in s.layout.boxes  # in its matrix's grid, still selected
    assert s.selected == f'n{node}'
