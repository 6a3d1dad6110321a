"""explorer/panels/rich_text.py: a node's link names it as the code does (with its position unless the
context gives it), a link selects its box, and Adam's next update of a parameter is laid out from the
checkpoint's state."""

from PySide6.QtCore import QUrl

from engine.gradient.provenance import resolve
from engine.numbers import shown
from explorer.panels.rich_text import LinkBrowser, adam_html, node_link


def test_a_node_link_names_it_with_its_position_unless_the_context_gives_it(window):
    trace = window.session.trace
    q3 = resolve(trace, 'pos 2 / layer 0 / attention / q / q[3] / q[3]')
    k0 = resolve(trace, 'pos 0 / layer 0 / attention / k / k[0] / k[0]')
    assert node_link(trace, q3) == f'<a href="n{q3}">pos 2 · q[3]</a>'
    assert node_link(trace, q3, context=q3) == f'<a href="n{q3}">q[3]</a>'
    assert node_link(trace, q3, context=k0) == f'<a href="n{q3}">pos 2 · q[3]</a>'


def test_a_link_in_the_browser_selects_its_box(window, qtbot):
    s = window.session
    browser = LinkBrowser(s)
    wte = resolve(s.trace, 'wte[4][3]')
    with qtbot.waitSignal(s.selection_changed, timeout=20000):
        browser.anchorClicked.emit(QUrl(f'n{wte}'))
    assert s.selected == f'n{wte}'
    browser.deleteLater()


def test_adams_update_is_the_checkpoints_next_step(window):
    s = window.session
    wte = resolve(s.trace, 'wte[4][3]')
    name, row, col = s.trace.params[wte]
    a = s.checkpoint.adam_preview(name, row, col, s.backprop.grads[wte])
    html = adam_html(s, wte)
    assert html.startswith('<p><b>Adam, next update</b>')
    assert f'<td>lr_t</td><td>{shown(a.lr_t)}</td>' in html
    assert f'<b>{shown(a.delta)}</b>' in html
    assert f'{shown(s.trace.data[wte])} → {shown(a.data_next)}' in html
    assert 'decayed to 0' in html  # the shipped checkpoint ends its schedule
