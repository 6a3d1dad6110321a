"""explorer.graph.view (GraphView) acting on a box: Return on a vector box goes to the box that computes it; a
weight matrix asked to open (Scopes tab, Return) is selected and its uses outlined instead; the open head's
frame hides the KV edges that only pass by; the minimap never covers what the view brings into sight; every
text the view draws (the overview, an open head, the gradient each step sends) is whole, in its room, and
under no box, badge, other text or arrow."""

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainterPathStroker

from engine.graph.geometry import GRID_LABEL, vector_lines
from engine.graph.keys import group_key, vector_key
from engine.trace import short_param_name
from explorer.graph import weight_grid
from explorer.graph.items import BoxItem, ClusterItem, EdgeItem, FlowItem, FlowLabel
from explorer.graph.vector_strip import cell_rects

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


# Every text the view draws: where it is, the room it has, what it covers.

def placed(rect, font, text, align=Qt.AlignCenter):
    """The rectangle `text` takes when QPainter.drawText(rect, align, text) draws it in `font`."""
    metrics = QFontMetricsF(font)
    w, h = metrics.horizontalAdvance(text), metrics.height()
    x = rect.left() if align & Qt.AlignLeft else rect.right() - w if align & Qt.AlignRight else rect.center().x() - w / 2
    y = rect.top() if align & Qt.AlignTop else rect.center().y() - h / 2
    return QRectF(x, y, w, h)


def box_texts(view, item):
    """(text rect, room, text) of each text a box paints, in its own coordinates (its painter's own functions)."""
    box, bp, out = item.box, view.session.backprop, []
    if view.is_param_box(box) and weight_grid.matrix_of(box):
        room = QRectF(0, 0, item.rect.width(), GRID_LABEL)
        name = short_param_name(box.title)
        out.append((placed(QRectF(0, 0, max(item.rect.width(), 40), GRID_LABEL), view.small_font, name,
                           Qt.AlignLeft | Qt.AlignVCenter), room, name))
    elif box.node >= 0:
        for r, font, text in item.scalar_labels():
            out.append((placed(r, font, text), r, text))
        cell = QRectF(item.cells_x()[2], 0, item._grad_end - item.cells_x()[2], item.rect.height())
        for r, font, text, _ in item.grad_labels(bp.grads[box.node], *bp.arrived(box.node)):
            align = Qt.AlignCenter if font is view.small_font else Qt.AlignLeft | Qt.AlignTop
            out.append((placed(r, font, text, align), cell, text))
    elif box.is_vector:
        title, detail = (QRectF(*r) for r in vector_lines(item.rect.width()))
        out += [(placed(title, view.bold_font, box.title), title, box.title),
                (placed(detail, view.small_font, box.detail), detail, box.detail)]
        if box.rows > 1:
            cells = cell_rects(box, item.rect.width())
            cols = len(cells) // box.rows
            for node_cell, (x, y, _, h) in zip(box.cells[::cols], cells[::cols]):
                text = f'pos {view.session.trace.position(node_cell[0])}'
                room = QRectF(0, y, x - 4, h)
                out.append((placed(room, view.small_font, text, Qt.AlignRight | Qt.AlignVCenter), room, text))
    else:
        done, size = bp.group_progress(box.scope)
        for r, font, text in item.group_labels(done, size, bp.group_reached(box.scope)):
            out.append((placed(r, font, text), r, text))
    return out


def drawn_texts(view):
    """(owner item, text rect, room, text) of every text on the scene, in scene coordinates."""
    out = []
    for item in view.scene().items():
        if not item.isVisible():
            continue
        if isinstance(item, BoxItem):
            out += [(item, item.mapRectToScene(r), item.mapRectToScene(room), text) for r, room, text in box_texts(view, item)]
        elif isinstance(item, ClusterItem):
            r = item.title_rect()
            out.append((item, item.mapRectToScene(placed(r, view.title_font, item.title, Qt.AlignLeft | Qt.AlignTop)),
                        item.mapRectToScene(QRectF(r.left(), 0, item.rect.width() - 2 * r.left(), 22)), item.title))
        elif isinstance(item, weight_grid.BadgeItem):
            for name, r, text in item.words:
                out.append((item, item.mapRectToScene(placed(r, view.small_font, text, Qt.AlignLeft | Qt.AlignVCenter)),
                            item.sceneBoundingRect(), text))
        elif isinstance(item, FlowLabel):
            out.append((item, placed(item.rect, view.small_font, item.text), item.rect, item.text))
    return out


def ancestors(view, frame):
    """The frames that hold `frame` (itself included)."""
    path = view.scope_path(frame.scope)
    return [f for f in view.items_by_key.values() if isinstance(f, ClusterItem)
            and (path + ' / ').startswith(view.scope_path(f.scope) + ' / ')]


def hidden_texts(view, kind=object):
    """Every text (of items of `kind`) that is cut, wider than its room, or under or over something it must
    leave visible."""
    texts, bad = drawn_texts(view), []
    boxes = [i for i in view.scene().items() if isinstance(i, BoxItem) and i.isVisible()]
    badges = [i for i in view.scene().items() if isinstance(i, weight_grid.BadgeItem)]
    edges = [i for i in view.scene().items() if isinstance(i, EdgeItem) and i.isVisible()]
    flows = [i for i in view.scene().items() if isinstance(i, FlowItem)]
    for owner, rect, room, text in texts:
        if not isinstance(owner, kind):
            continue
        inner = rect.adjusted(0.05, 0.05, -0.05, -0.05)  # touching is not covering
        if '…' in text or rect.width() > room.width() + 0.01 or rect.left() < room.left() - 0.01 \
                or rect.right() > room.right() + 0.01:
            bad.append(f'{text!r} is cut or wider than its room ({rect.width():.1f} > {room.width():.1f})')
        for box in boxes:  # another box, or one of its own lines over another
            own = box is owner or isinstance(owner, weight_grid.BadgeItem) and owner.key == box.box.key
            if not own and box.sceneBoundingRect().adjusted(2, 2, -2, -2).intersects(inner):
                bad.append(f'{text!r} of {describe(owner)} is under box {box.box.title!r}')
        for badge in badges:
            if badge is not owner and badge.sceneBoundingRect().intersects(inner):
                bad.append(f'{text!r} of {describe(owner)} is under the badge of {badge.key}')
        for other, r, _, t in texts:  # (boxes do not overlap: their own texts cannot)
            if other is not owner and not (isinstance(owner, BoxItem) and isinstance(other, BoxItem)) \
                    and r.intersects(inner):
                bad.append(f'{text!r} of {describe(owner)} overlaps {t!r} of {describe(other)}')
        if isinstance(owner, BoxItem):  # one line of a box over another of its own
            bad += [f'{text!r} overlaps {t!r} in {owner.box.title!r}' for other, r, _, t in texts
                    if other is owner and t != text and r.intersects(inner)]
        if isinstance(owner, ClusterItem):  # a frame's title: under no other frame, crossed by no arrow
            holding = ancestors(view, owner)
            bad += [f'title {text!r} is under frame {f.title!r}' for f in view.items_by_key.values()
                    if isinstance(f, ClusterItem) and f not in holding and f.sceneBoundingRect().intersects(inner)]
            for edge in edges + flows:
                line = edge if isinstance(edge, EdgeItem) else edge.edge
                if edge.zValue() > owner.zValue() and stroke(line, edge).intersects(inner):
                    bad.append(f'title {text!r} is crossed by the edge {line.key}')
        if isinstance(owner, FlowLabel):  # and no arrowhead under a gradient's label
            for edge in edges:
                head = edge.path().toSubpathPolygons()[-1] if edge.tip is not None else None
                if head is not None and head.boundingRect().intersects(inner):
                    bad.append(f'{text!r} covers the arrowhead of {edge.key}')
    return bad


def stroke(line, item):
    """The outline an edge (or the gradient drawn over it) covers."""
    stroker = QPainterPathStroker()
    stroker.setWidth(2.6 if isinstance(item, FlowItem) else item.pen().widthF())
    return stroker.createStroke(line.path())


def describe(item):
    return getattr(getattr(item, 'box', None), 'title', None) or getattr(item, 'title', None) or type(item).__name__


def flow_steps(session, per_edge=3):
    """Positions at which backprop sends a gradient along each edge of the view: its first, middle and last."""
    trace, key_of, visible = session.trace, session.visible.key_of, session.visible
    applied = session.backprop.schedule.applied_at
    along = {}
    for node, children in enumerate(trace.children):
        for child in children:
            a, b = key_of[child], key_of[node]
            if a is not None and b is not None and a != b:
                along.setdefault((a, b), []).append(applied[node])
            for v in visible.vectors_of.get(child, ()):
                along.setdefault((v, b), []).append(applied[node])
    steps = set()
    for positions in along.values():
        positions.sort()
        steps.update({positions[0], positions[len(positions) // 2], positions[-1]})
    return sorted(steps)


@pytest.mark.parametrize('opened', [None, 'pos 1 / layer 0 / attention / head 0', 'pos 0 / embedding / tok + pos'])
def test_every_text_is_whole_in_its_room_and_under_nothing(window, qtbot, opened):
    s, view = window.session, window.graph
    wait_built(window, qtbot)
    if opened:
        with qtbot.waitSignal(s.view_changed, timeout=20000):
            s.open_group(s.trace.scope_id(opened))
        wait_built(window, qtbot)
    assert hidden_texts(view) == []
    flows = 0
    for step in flow_steps(s):
        s.backprop.seek(step)
        labels = [i for i in view.scene().items() if isinstance(i, FlowLabel)]
        flows += len(labels)
        if labels:
            assert hidden_texts(view, FlowLabel) == [], step
    assert flows > 100


def test_a_boxs_tooltip_says_what_its_in_and_out_sizes_count(window, qtbot):
    """Issue 24's reviewer: '16→48' on an attention box was unexplained. pos 0's attention reads x (16) and its
    own scalars are read as its output (16) and as the key and value later positions read (16 + 16)."""
    from explorer.graph.view import sizes_note
    s = window.session
    wait_built(window, qtbot)
    box = window.graph.items_by_key[group_key(s.trace.scope_id('pos 0 / layer 0 / attention'))].box
    assert '16→48' in box.detail
    tip = window.graph.tooltip(box)
    assert '16→48: 16 scalars come in from outside this box; 48 of its own are read outside it' in tip
    assert 'keys and values are read by later positions' in tip
    assert sizes_note('27×16 · 64 used') == ''


def test_the_weight_grids_drawn_before_a_new_checkpoints_recording_are_the_old_recordings(window, qtbot):
    """Between opening another checkpoint and its recording, the graph still shows the old recording: its
    grids read the weights that recording was made with (the bigram's 27×27 wte cells were read for microgpt's
    27×16 grid: IndexError in paint)."""
    from engine.presets import shipped_checkpoint
    s = window.session
    wait_built(window, qtbot)
    old = s.current.model
    assert s.load_checkpoint(shipped_checkpoint('bigram'))
    window.graph._weight_cells = None  # as after a layout that came just before
    cells = window.graph.weight_cells()
    assert s.model is not old and cells.values['wte'] == [[p.data for p in row] for row in old.state_dict['wte']]
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        pass  # the bigram's own recording and layout
    assert window.graph.weight_cells().shape('wte') == (27, 27)
