"""With a head open, its own edges (q, keys and values in, scores to softmax to the weighted sum, out to
wo) are drawn full strength and every other edge paler, so the head reads first; the overview fades
nothing."""

from PySide6.QtGui import QColor

HEAD = 'pos 2 / layer 0 / attention / head 1'


def test_edges_that_do_not_touch_the_open_head_are_paler(window, qtbot):
    s, view = window.session, window.graph
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    assert not any(e.faded for e in view.edges_by_key.values())
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id(HEAD))
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    inside = {b.key for b in s.visible.boxes
              if s.trace.scopes[b.scope].path == HEAD or s.trace.scopes[b.scope].path.startswith(HEAD + ' / ')}
    touching = [e for (a, b), e in view.edges_by_key.items() if a in inside or b in inside]
    others = [e for (a, b), e in view.edges_by_key.items() if a not in inside and b not in inside]
    assert len(touching) >= 10 and others
    assert not any(e.faded for e in touching) and all(e.faded for e in others)
    edge, background = QColor(view.colors['edge']), QColor(view.colors['background'])
    for e in others:  # mixed towards the background, and opaque (translucent curves slow panning down)
        c = e.pen().color()
        assert c.alphaF() == 1.0 and abs(c.lightness() - background.lightness()) < abs(edge.lightness() - background.lightness())


def test_a_position_opened_whole_fades_nothing(window, qtbot):
    s, view = window.session, window.graph
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id('pos 1 / layer 0 / attention'), to_scalars=True)  # every head open
    qtbot.waitUntil(lambda: not view.building(), timeout=30000)
    assert not any(e.faded for e in view.edges_by_key.values())
