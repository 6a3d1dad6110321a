"""explorer/panels/inspector.py: what the selected box is: a parameter's name, data, grad (not reached
yet at step 0) and Adam's next update, each number in 4 digits; every digit is one link away ('copy exact')."""

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from engine.numbers import shown
from explorer.panels.inspector import COPY_EXACT
from tests.explorer.conftest import long_numbers


def test_inspector_shows_a_known_parameter(window, qtbot):
    s = window.session
    node = next(i for i in s.trace.params if s.trace.param_name(i) == 'layer0.attn_wq[3][5]')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{node}')
    html = window.inspector.toPlainText()
    assert 'layer0.attn_wq[3][5]' in html and f'data\n{shown(s.trace.data[node])}' in html
    assert 'not reached yet' in html  # backprop starts at step 0
    assert 'Adam, next update' in html and 'decayed to 0' in html  # the checkpoint ends its schedule
    assert s.visible.key_of[node] in s.layout.boxes  # in its matrix's grid, still selected
    assert s.selected == f'n{node}'


def test_every_digit_is_copied_on_demand_not_shown(window, qtbot):
    """Issue 21: 16-digit numbers filled the Inspector (and every tooltip); they are now one link away."""
    s, bp = window.session, window.session.backprop
    bp.seek(9000)
    node = next(n for n in range(len(s.trace)) if bp.reached(n) and bp.grads[n] and s.trace.op[n] == '*')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{node}')
    text = window.inspector.toPlainText()
    assert long_numbers(text) == [] and shown(bp.grads[node]) in text and 'copy exact' in text
    assert len(repr(s.trace.data[node])) > 12  # a number whose repr is long: the check above means something
    window.inspector.anchorClicked.emit(QUrl(COPY_EXACT))
    copied = QGuiApplication.clipboard().text()
    assert copied.endswith(f'data {s.trace.data[node]!r}, grad {bp.grads[node]!r}')
    assert 'copied' in window.inspector.toPlainText() and s.selected == f'n{node}'
