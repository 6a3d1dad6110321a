"""explorer.graph.view (GraphView) acting on a box: Return on a vector box goes to the box that computes it; a
weight matrix asked to open (Scopes tab, Return) is selected and its uses outlined instead; the open head's
frame hides the KV edges that only pass by; the minimap never covers what the view brings into sight."""

from PySide6.QtCore import QRectF

from engine.graph.keys import group_key, vector_key
from explorer.graph.items import BoxItem, EdgeItem

HEAD = 'pos 2 / layer 0 / attention / head 1'


def wait_built(window, qtbot):
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)


def open_head(window, qtbot):
    s = window.session
    head = s.trace.scope_id(HEAD)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(head)
    wait_built(window, qtbot)
    return head


def test_return_on_a_vector_box_selects_the_box_that_computes_it(window, qtbot):
    s = window.session
    head = open_head(window, qtbot)
    s.select(vector_key(head, 'q'))
    window._open_selected(False)  # Return
    assert s.selected == group_key(s.trace.scope_id('pos 2 / layer 0 / attention / q'))
    s.select(vector_key(head, 'keys'))  # the KV cache: its first row was made at pos 0, in its closed attention
    window._open_selected(False)
    assert s.selected == group_key(s.trace.scope_id('pos 0 / layer 0 / attention'))
    assert head in s.opened  # nothing closed on the way


def test_opening_a_weight_matrix_selects_its_grid_and_outlines_its_readers(window, qtbot):
    s, view = window.session, window.graph
    wait_built(window, qtbot)
    wq = s.trace.scope_id('params / layer0.attn_wq')
    opened = s.opened
    s.open_group(wq)  # what a double-click or Return on it in the Scopes tab asks
    wait_built(window, qtbot)
    assert s.opened == opened and s.selected == group_key(wq)
    assert view.selected_matrix() == 'layer0.attn_wq'
    assert view.highlighted_weights == {'layer0.attn_wq'} and view.highlighted_readers
    s.select(group_key(s.trace.scope_id('pos 2')))
    assert view.highlighted_weights == frozenset()


def test_kv_edges_that_only_pass_an_open_head_go_under_its_frame(window, qtbot):
    s, view = window.session, window.graph
    head = open_head(window, qtbot)
    frame = view.items_by_key[group_key(head)]
    inside = {k for k, i in view.items_by_key.items() if isinstance(i, BoxItem)
              and (s.trace.scopes[i.box.scope].path + ' / ').startswith(HEAD + ' / ')}
    edges = [e for e in view.edges_by_key.values() if isinstance(e, EdgeItem)]
    passing = [e for e in edges if e.key[0] not in inside and e.key[1] not in inside
               and e.sceneBoundingRect().intersects(frame.sceneBoundingRect())]
    touching = [e for e in edges if e.key[0] in inside or e.key[1] in inside]
    assert passing and touching
    assert all(e.zValue() < frame.zValue() for e in passing)
    assert all(e.zValue() > frame.zValue() for e in touching)
    assert all(view.items_by_key[k].zValue() > frame.zValue() for k in inside)


def test_z_on_a_large_selection_keeps_it_clear_of_the_minimap(window, qtbot):
    s, view = window.session, window.graph
    window.resize(1280, 720)
    wait_built(window, qtbot)
    view.set_minimap(True)
    rect = QRectF(0, 0, 600, 380)  # centred at its best fit it would fill the window, corner and all
    view.bring_into_view(rect, zoom_in=True)
    scale = view.transform().m11()
    assert scale >= view.readable_scale()
    shown, minimap = view._clear_rects(view._topleft(), scale)
    assert shown.contains(rect) and (minimap is None or not minimap.intersects(rect))
    loss = view.items_by_key[s.visible.key_of[s.trace.loss_id]].sceneBoundingRect()  # the graph's corner
    view._set_scale(view.readable_scale() * 1.5)
    view.bring_into_view(loss)
    shown, minimap = view._clear_rects(view._topleft(), view.transform().m11())
    assert shown.contains(loss) and (minimap is None or not minimap.intersects(loss))
