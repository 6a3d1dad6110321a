"""explorer.attention.panel, the attention dock in the window: right values in the right cells, hover, links
both ways with the graph (a lone head is the one selected there; a hovered token frames its row or column),
gradients, like-for-like comparison with a difference view, a query's steps, export."""

import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QColor

from engine.attention import cell_node, query_nodes, to_csv
from engine.backprop import Schedule, Stepper
from engine.graph.keys import group_key
from engine.numbers import shown as written
from explorer.attention.heatmap import hovered_rect
from explorer.main_window import MainWindow
from explorer.state.session import Session


def center_of(grid, layer, head, q, k):
    box = next(b for b in grid.boxes if (b.layer, b.head) == (layer, head))
    return QPointF(box.cells.left() + (k + 0.5) * box.cell, box.cells.top() + (q + 0.5) * box.cell)


def shown(window, qtbot):
    """The panel popped out, with room for every head (docked at the test window's size, one head is
    shown large instead)."""
    panel = window.attention
    window.attention_dock.raise_()
    if not window.attention_dock.isFloating():
        panel.toggle_pop_out()
        window.attention_dock.resize(1200, 800)  # the offscreen screen is small; a real one is not
    qtbot.waitUntil(lambda: panel.grid.height() > 500 and panel.grid.painted_size == panel.grid.size(), timeout=5000)
    return panel


def test_known_weights_are_in_their_cells_and_the_mask_is_blank(window, qtbot):
    panel, trace = shown(window, qtbot), window.session.trace
    grid = panel.grid
    assert len(grid.boxes) == trace.config.n_layer * trace.config.n_head == 4
    for q in range(trace.n):
        for k in range(trace.n):
            box = next(b for b in grid.boxes if (b.layer, b.head) == (0, 2))
            hit = box.cell_at(center_of(grid, 0, 2, q, k))
            assert hit == ((q, k) if k <= q else None)  # keys after the query are no cells at all
            if k <= q:
                assert grid.value(0, 2, q, k) == trace.attention[0][2][q][k]


def test_hover_names_the_tokens_and_the_exact_weight(window, qtbot):
    panel, trace = shown(window, qtbot), window.session.trace
    text = panel.grid.describe(0, 2, 3, 1)
    assert "query 3 'm' (predicting 'a') → key 1 'e'" in text
    assert written(trace.attention[0][2][3][1]) in text


def test_clicking_a_cell_opens_the_graph_down_to_that_weight(window, qtbot):
    panel, s = shown(window, qtbot), window.session
    node = cell_node(s.trace, 0, 2, 3, 1)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        qtbot.mouseClick(panel.grid, Qt.LeftButton, pos=center_of(panel.grid, 0, 2, 3, 1).toPoint())
    assert s.selected == f'n{node}' and f'n{node}' in s.layout.boxes
    assert s.trace.scope_path(node) == 'pos 3 / layer 0 / attention / head 2 / softmax'
    place = panel.selected_place(s.trace)
    assert (place.layer, place.head, place.query, place.key) == (0, 2, 3, 1)


def test_selecting_inside_a_head_frames_its_row(window, qtbot):
    panel, s = shown(window, qtbot), window.session
    s.select(f"g{s.trace.scope_id('pos 2 / layer 0 / attention / head 1 / scores')}")
    place = panel.selected_place(s.trace)
    assert (place.layer, place.head, place.query, place.key) == (0, 1, 2, -1)
    s.select(f'n{s.trace.loss_id}')
    assert panel.selected_place(s.trace) is None


def test_gradients_follow_the_stepper(window, qtbot):
    panel, s = shown(window, qtbot), window.session
    panel.set_quantity('grad_weight')
    assert panel.grid.value(0, 0, 4, 0) is None  # not reached before backprop
    window.end_act.trigger()
    node = cell_node(s.trace, 0, 0, 4, 0)
    assert panel.grid.value(0, 0, 4, 0) == s.backprop.grads[node] != 0
    assert 'dloss/dweight' in panel.grid.describe(0, 0, 4, 0)


def test_compare_with_fresh_random_weights(window, qtbot):
    panel = shown(window, qtbot)
    panel.compare.setCurrentIndex(1)
    with qtbot.waitSignal(window.session.worker.signals.done, timeout=20000):
        panel.compare.activated.emit(1)  # as choosing the item does
    assert panel.other_grid.isVisible() and panel.other_trace is not None
    assert panel.other_trace.doc == 'emma'
    assert panel.other_trace.attention != window.session.trace.attention
    assert 'fresh random (seed 42)' in panel.other_grid.title
    panel._on_compare(0)
    assert not panel.other_grid.isVisible()


def test_head_alone_and_back(window, qtbot):
    panel = shown(window, qtbot)
    header = panel.grid.boxes[3].header.center().toPoint()
    qtbot.mouseClick(panel.grid, Qt.LeftButton, pos=header)
    panel.grid.repaint()
    assert panel.only == (0, 3) and len(panel.grid.boxes) == 1 and panel.heads.currentText() == 'layer 0 · head 3'
    panel.heads.activated.emit(0)  # as choosing 'all heads' does
    panel.grid.repaint()
    assert panel.only is None and len(panel.grid.boxes) == 4


def test_exports_from_the_window(window, qtbot, tmp_path):
    panel = shown(window, qtbot)
    with qtbot.waitSignal(window.session.worker.signals.done, timeout=20000):
        panel.write(tmp_path / 'a.csv', 'csv')  # a full backward pass first, off the UI thread
    panel.write(tmp_path / 'a.png', 'png')
    panel.write(tmp_path / 'h.png', 'png', only=(0, 1))
    assert (tmp_path / 'a.csv').read_text() == to_csv(window.session.trace)
    assert (tmp_path / 'a.png').read_bytes().startswith(b'\x89PNG')
    assert (tmp_path / 'h.png').read_bytes().startswith(b'\x89PNG')


@pytest.mark.fresh_window  # the panel's quantity and heads as a new window shows them
def test_two_layers_of_eight_heads(window, qtbot, tmp_path):
    import random

    from engine import checkpoint as ckpt_io
    from engine.model import GPTConfig, Model
    s = window.session
    wide = Model.init(GPTConfig(n_layer=2, n_embd=16, n_head=8), s.model.tokenizer, random.Random(1))
    ckpt_io.save(tmp_path / 'wide.json', ckpt_io.Checkpoint(wide))
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        assert s.load_checkpoint(tmp_path / 'wide.json')
    panel = shown(window, qtbot)
    panel.grid.repaint()
    every = [(l, h) for l in range(2) for h in range(8)]
    shown_heads = sorted((b.layer, b.head) for b in panel.grid.boxes)
    assert shown_heads == every or (panel.grid.squeezed == 'layer' and shown_heads == every[:8]) or (
        panel.grid.squeezed == 'head' and shown_heads == [panel.focus])  # one layer, or one head, large
    from PySide6.QtCore import QRectF

    from explorer.attention.heatmap import arrange
    boxes, squeezed = arrange(QRectF(0, 0, 1800, 900), s.trace)
    assert sorted((b.layer, b.head) for b in boxes) == every and not squeezed
    assert panel.grid.value(1, 7, 4, 2) == s.trace.attention[1][7][4][2]
    assert s.backprop.position == 0 and s.backprop.total == len(s.trace) + 1  # a new model resets backprop


def _compare_random(window, qtbot):
    panel = window.attention
    window.attention_dock.raise_()
    qtbot.waitUntil(lambda: bool(panel.grid.boxes), timeout=5000)
    panel.compare.setCurrentIndex(1)
    with qtbot.waitSignal(window.session.worker.signals.done, timeout=20000):
        panel.compare.activated.emit(1)
    return panel


def test_comparison_shows_the_same_quantity_on_both_sides(window, qtbot):
    panel, s = _compare_random(window, qtbot), window.session
    other = panel.other_trace
    assert panel.grid.quantity == panel.other_grid.quantity == 'weight'
    assert panel.other_grid.value(0, 1, 4, 2) == other.attention[0][1][4][2]
    node = query_nodes(other, 0, 1, 4).weights[2]
    at = Schedule(s.trace).reached_at[node]
    s.backprop.seek(at)  # the weight's gradient holds its first contribution, not yet all of them
    panel.set_quantity('grad_weight')
    assert panel.grid.quantity == panel.other_grid.quantity == 'grad_weight'
    reference, full = Stepper(other), Stepper(other)
    reference.seek(at)  # the other model's gradients after as many backprop steps
    full.run_to_end()
    assert s.backprop.reached(node) and reference.grads[node] != full.grads[node]
    assert panel.other_grid.value(0, 1, 4, 2) == reference.grads[node] != 0
    assert panel.grid.value(0, 1, 4, 2) == s.backprop.grads[node]
    late = query_nodes(other, 0, 1, 0).weights[0]
    assert not s.backprop.reached(late) and panel.other_grid.value(0, 1, 0, 0) is None
    panel.set_quantity('score')
    assert panel.other_grid.value(0, 1, 4, 2) == other.data[query_nodes(other, 0, 1, 4).logits[2]]


def test_both_sides_share_one_colour_scale(window, qtbot):
    """Equal colours mean equal numbers: the bar spans the largest magnitude either model shows."""
    panel, s = _compare_random(window, qtbot), window.session
    s.backprop.run_to_end()
    panel.set_quantity('grad_score')
    cells = [(0, h, q, k) for h in range(4) for q in range(s.trace.n) for k in range(q + 1)]
    top = max(abs(g.value(*c)) for g in (panel.grid, panel.other_grid) for c in cells)
    assert panel.grid.shared_scale == panel.other_grid.shared_scale
    assert (panel.grid.shared_scale.lo, panel.grid.shared_scale.hi) == (-top, top)
    panel.grid.grab()
    panel.other_grid.grab()
    assert panel.grid.scale == panel.other_grid.scale == panel.grid.shared_scale


def test_difference_view_is_this_minus_the_other(window, qtbot):
    panel, s = _compare_random(window, qtbot), window.session
    panel.compare_how.setCurrentIndex(1)
    panel.compare_how.activated.emit(1)
    assert panel.other_grid.quantity == 'diff_weight'
    a, b = s.trace.attention[0][3][4][1], panel.other_trace.attention[0][3][4][1]
    assert panel.other_grid.value(0, 3, 4, 1) == a - b != 0
    panel.other_grid.grab()
    assert panel.other_grid.scale.diverging and panel.other_grid.scale.hi > 0


def test_a_query_label_opens_its_steps_and_a_step_selects_its_node(window, qtbot):
    panel, s = window.attention, window.session
    window.attention_dock.raise_()
    qtbot.waitUntil(lambda: bool(panel.grid.boxes), timeout=5000)
    box = panel.grid.boxes[0]
    point = box.cells.topLeft() + type(box.cells.topLeft())(-box.row_w / 2, 2.5 * box.cell)
    assert box.row_at(point) == 2
    panel.grid.row_clicked.emit(box.layer, box.head, 2)
    assert panel.tabs.currentWidget() is panel.steps and panel.steps.place == (box.layer, box.head, 2)
    logit = query_nodes(s.trace, box.layer, box.head, 2).logits[1]
    assert f'node:{logit}' in panel.steps.toHtml()
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        panel.steps.node_clicked.emit(logit)
    assert s.selected == f'n{logit}' and f'n{logit}' in s.layout.boxes


@pytest.mark.slow
def test_the_lone_head_is_the_one_selected_in_the_graph(qtbot, tmp_path):
    session = Session()
    win = MainWindow(session, QSettings(str(tmp_path / 'w.ini'), QSettings.IniFormat))
    win.resize(1280, 720)
    win.show()
    try:
        assert session.load_checkpoint()
        with qtbot.waitSignal(session.view_changed, timeout=20000):
            session.record('emma')
        panel = win.attention
        assert panel.focus_head() == (0, 0)
        trace = session.trace
        session.select(group_key(trace.scope_id('pos 2 / layer 0 / attention / head 1 / scores')))
        assert panel.focus_head() == (0, 1)
        assert panel.selected_place(trace).query == 2
        session.select(group_key(trace.scope_id('pos 3 / layer 0 / attention / head 3')))
        assert panel.focus_head() == (0, 3)
    finally:
        session.unsaved = False
        win.close()
        session.worker.wait()


def frame_pixels(panel, side, i):
    """The colours along the top edge of the frame a hovered token would get, in every head of layer 0."""
    image = panel.grid.grab().toImage()
    out = []
    for box in panel.grid.boxes:
        r = hovered_rect(box, side, i).adjusted(-1, -1, 1, 1)
        y = int(r.top())
        out += [image.pixelColor(int(x), y).name() for x in range(int(r.left()) + 2, int(r.right()) - 2)]
    return out


@pytest.mark.fresh_window  # pops the panel out itself: one left floating by an earlier test would dock again
def test_hovering_a_token_frames_its_row_and_column_in_the_heatmaps(window, qtbot):
    panel = window.attention
    window.attention_dock.raise_()
    panel.toggle_pop_out()  # a window of its own: the lines beside the heatmaps
    window.attention_dock.resize(1200, 800)
    qtbot.waitUntil(lambda: panel.wide and bool(panel.grid.boxes) and panel.grid.painted_size == panel.grid.size())
    text = QColor(panel.colors()['text']).name()
    assert text not in frame_pixels(panel, 'q', 2)
    lines = panel.lines.lines
    left, right, _ = lines.geometry_()
    qtbot.mouseMove(lines, left[2].center().toPoint())
    qtbot.waitUntil(lambda: panel.hovered_token(panel.session.trace) == ('q', 2, 0))
    assert set(frame_pixels(panel, 'q', 2)) == {text}
    qtbot.mouseMove(lines, right[1].center().toPoint())
    qtbot.waitUntil(lambda: panel.hovered_token(panel.session.trace) == ('k', 1, 0))
    box = panel.grid.boxes[0]
    image = panel.grid.grab().toImage()
    r = hovered_rect(box, 'k', 1).adjusted(-1, -1, 1, 1)
    assert image.pixelColor(int(r.left()), int(r.center().y())).name() == text  # the column's left edge


def test_the_ladders_rungs_without_learned_attention(window, qtbot, tmp_path):
    """The mlp rung has no attention: one sentence instead of heatmaps, no token lines, nothing raised. The
    average rung's weights are 1/(t+1): shown as weights, its scores said not to exist, its query page
    says nothing chooses where to look."""
    import random

    from engine import checkpoint as ckpt_io
    from engine.model import Model
    from engine.presets import no_attention, preset_config
    s, panel = window.session, window.attention
    for rung in ('mlp', 'average'):
        model = Model.init(preset_config(rung), s.model.tokenizer, random.Random(1))
        ckpt_io.save(tmp_path / f'{rung}.json', ckpt_io.Checkpoint(model))
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        assert s.load_checkpoint(tmp_path / 'mlp.json')
    window.attention_dock.raise_()
    panel.grid.repaint()
    panel.lines.lines.repaint()
    assert panel.grid.trace is None and panel.grid.title == no_attention(s.trace.config) and 'mlp rung' in panel.grid.title
    assert panel.heads.count() == 1 and panel.lines.lines.lines() == []

    with qtbot.waitSignal(s.view_changed, timeout=30000):
        assert s.load_checkpoint(tmp_path / 'average.json')
    qtbot.waitUntil(lambda: bool(panel.grid.boxes), timeout=5000)
    assert [panel.grid.value(0, 3, 3, k) for k in range(4)] == [0.25] * 4
    panel.set_quantity('score')
    assert panel.grid.trace is None and 'no scores' in panel.grid.title
    panel.set_quantity('weight')
    panel.grid.row_clicked.emit(0, 1, 2)
    page = panel.steps.toHtml()
    assert panel.steps.place == (0, 1, 2) and 'uniform weights' in page and '1/3' in page and 'q·k' not in page


def test_a_part_recorded_shows_the_whole_documents_attention_and_links_only_what_was_recorded(window, qtbot,
                                                                                                monkeypatch):
    """Issue 24: a model too large to record 'emma' whole; its first 2 positions recorded. Every query's weights
    are drawn (computed with numpy, equal to the whole recording's), a recorded cell opens the graph, one beyond
    the part says why it cannot."""
    import engine.recording_cost as recording_cost
    s = window.session
    whole = s.trace
    monkeypatch.setattr(recording_cost, 'ASK_ABOVE', 20_000)
    monkeypatch.setattr(s, 'ask_part', lambda doc, model, n: 2)
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.record('emma')
    panel = shown(window, qtbot)
    grid = panel.grid
    said = lambda: window.statusBar().currentMessage()  # noqa: E731
    assert s.trace.n == 2 and grid.trace.n == 5 and grid.trace.part is s.trace
    assert all(abs(grid.value(0, h, q, k) - whole.attention[0][h][q][k]) < 1e-15
               for h in range(4) for q in range(5) for k in range(q + 1))
    assert 'computed with numpy' in grid.describe(0, 2, 3, 1) and 'score' in grid.describe(0, 2, 1, 0)
    qtbot.mouseClick(grid, Qt.LeftButton, pos=center_of(grid, 0, 2, 3, 1).toPoint())
    assert said().startswith('Position 3 is not recorded: the graph has the first 2 of 5.')
    assert s.selected is None
    node = cell_node(s.trace, 0, 2, 1, 0)
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        qtbot.mouseClick(grid, Qt.LeftButton, pos=center_of(grid, 0, 2, 1, 0).toPoint())
    assert s.selected == f'n{node}'
    panel.quantity = 'score'
    assert panel._value(grid.trace)(0, 2, 3, 1) is None and panel._value(grid.trace)(0, 2, 1, 0) is not None
    from explorer.attention import heatmap
    lines = []
    monkeypatch.setattr(heatmap, 'paint_part_line', lambda painter, box, recorded, *_: lines.append(recorded))
    grid.repaint()
    assert lines and set(lines) == {2}  # each head marks where the graph's rows end and numpy's begin
    assert '2–4: numpy (not in the graph)' in panel._title()
