"""The window labels scalars by their names in the code, the same in every place: graph, tooltip,
inspector, chain rule, breadcrumb, breakpoints and search."""


def node_named(trace, path, name):
    [node] = [i for i in range(len(trace)) if trace.scope_path(i) == path and trace.name(i) == name]
    return node


def test_a_scalar_is_called_by_its_name_everywhere(window, qtbot):
    s = window.session
    q3 = node_named(s.trace, 'pos 2 / layer 0 / attention / q / q[3]', 'q[3]')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{q3}')
    box = s.visible.boxes[[b.key for b in s.visible.boxes].index(f'n{q3}')]
    assert box.title == 'q[3]'
    assert window.graph.tooltip(box).startswith('q[3] = + — pos 2 / layer 0 / attention / q / q[3]')
    text = window.inspector.toPlainText()
    assert '\nname\nq[3]\nop\n+\n' in text
    assert 'q[3] (Σ 0..14)' in text and 'wq[3][15]·x[15]' in text  # its children, in its own position
    assert 'parents (3)\nq[3]·keys[0][3], q[3]·keys[1][3], q[3]·keys[2][3]' in text  # head 0's scores
    assert '#' not in text
    assert window.breadcrumb.text().endswith('<b>q[3]</b>')
    assert s.backprop.describe(f'n{q3}') == 'pos 2 · q[3]'


def test_the_chain_rule_names_the_node_and_its_children(window, qtbot):
    bp, trace = window.session.backprop, window.session.trace
    bp.seek(2)  # the seed, then loss = sum(losses) · 1/n
    text = window.chain_rule.toPlainText()
    assert 'loss in loss' in text and 'sum(losses) · local' in text and '1/n · local' in text
    for _ in range(40):  # into position 4: the links carry the position
        record = bp.step()
    text = window.chain_rule.toPlainText()
    assert trace.qualified_name(record.node) in text and '#' not in text
    for c in record.contributions:
        assert trace.qualified_name(c.child, record.node) + ' · local' in text


def test_find_by_name_selects_and_says_which(window, qtbot):
    s = window.session
    window.search_field.setText('pos 3 · total')
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        window.find_next()
    node = int(s.selected[1:])
    assert s.trace.name(node) == 'total' and s.trace.position(node) == 3
    assert any(m.startswith('Match 1 of ') and m.endswith(': pos 3 · total') for m in messages)
