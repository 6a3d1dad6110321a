"""explorer/breadcrumb.py: above the graph, model › the groups around the selection › the selected scalar;
a click on a group closes back to it, a click on "model" closes everything."""

import re

from engine.gradient.provenance import resolve


def links(label):
    return re.findall(r'<a href="(\w+)">([^<]*)</a>', label.text())


def test_the_path_runs_from_the_model_to_the_selected_scalar(window, qtbot):
    s, crumb = window.session, window.breadcrumb
    q3 = resolve(s.trace, 'pos 2 / layer 0 / attention / q / q[3] / q[3]')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{q3}')
    assert links(crumb)[0] == ('collapse', 'model')
    assert [name for _, name in links(crumb)[1:]] == ['pos 2', 'layer 0', 'attention', 'q', 'q[3]']
    assert crumb.text().endswith(f' › <b>{s.trace.name(q3)}</b>')
    s.select(None)
    assert crumb.text() == '<a href="collapse">model</a>'


def test_a_click_on_a_group_closes_back_to_it_and_on_the_model_closes_all(window, qtbot):
    s, crumb = window.session, window.breadcrumb
    overview = s.opened
    attention = s.trace.scope_id('pos 2 / layer 0 / attention')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{resolve(s.trace, "pos 2 / layer 0 / attention / q / q[3] / q[3]")}')
    assert attention in s.opened
    assert (f'g{attention}', 'attention') in links(crumb)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        crumb.linkActivated.emit(f'g{attention}')
    assert attention not in s.opened
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        crumb.linkActivated.emit('collapse')
    assert s.opened == overview
