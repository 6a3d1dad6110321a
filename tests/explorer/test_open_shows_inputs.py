"""Opening a head puts it in view at a readable scale, with the q, k and v linears that feed it beside it
when the window has the room for both; when it has not, the head itself comes first."""

import pytest

from engine.graph.keys import group_key

HEAD = 'pos 2 / layer 0 / attention / head 1'


def opened_head(make_window, qtbot, width, height):
    win = make_window(width, height)
    session = win.session
    with qtbot.waitSignal(session.view_changed, timeout=20000):
        session.open_group(session.trace.scope_id(HEAD))
    qtbot.waitUntil(lambda: not win.graph.building(), timeout=20000)
    return win


def in_view(view, key):
    rect = view.mapFromScene(view.items_by_key[key].sceneBoundingRect()).boundingRect()
    return view.viewport().rect().contains(rect)


@pytest.mark.slow  # two new windows, one opened head each
@pytest.mark.parametrize('width, height, with_inputs', [(2000, 1200, True), (1280, 720, False)])
def test_an_opened_head_shows_with_what_feeds_it_when_there_is_room(make_window, qtbot, width, height,
                                                                    with_inputs):
    win = opened_head(make_window, qtbot, width, height)
    view, trace = win.graph, win.session.trace
    assert in_view(view, group_key(trace.scope_id(HEAD)))  # what was opened: always whole
    linears = [group_key(trace.scope_id(f'pos 2 / layer 0 / attention / {n}')) for n in 'qkv']
    assert all(in_view(view, k) for k in linears) == with_inputs
