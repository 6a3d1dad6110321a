"""The attention heatmaps in the window: right values in the right cells, hover, links, gradients, compare, export."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

from engine.attention import cell_node, to_csv

ROOT = Path(__file__).resolve().parents[3]


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
    assert repr(trace.attention[0][2][3][1]) in text


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


def test_headless_attention_command(tmp_path):
    out_csv, out_png = tmp_path / 'w.csv', tmp_path / 'w.png'
    for out in (out_csv, out_png):
        proc = subprocess.run([sys.executable, str(ROOT / 'main.py'), 'attention', '--doc', 'emma', '-o', str(out)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
    table = list(csv.reader(io.StringIO(out_csv.read_text())))
    assert table[0] == ['layer', 'head', 'query', 'key', 'query_token', 'key_token', 'score', 'weight',
                        'grad_weight', 'grad_score']
    assert len(table) == 1 + 4 * 15 and out_png.read_bytes().startswith(b'\x89PNG')
    bad = subprocess.run([sys.executable, str(ROOT / 'main.py'), 'attention', '--doc', 'zoë', '-o', str(out_csv)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.count('\n') == 1 and "'ë'" in bad.stderr


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
