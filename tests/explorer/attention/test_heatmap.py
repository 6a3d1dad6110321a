"""The attention views: labels that never overlap at 16 positions and 2 layers × 8 heads, a colour bar
that matches the data, vector SVG, like-for-like comparison with a difference view, one query's steps
linked to the graph."""

import itertools
import random

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetricsF, QImage, QPainter

from engine.attention import query_nodes, token_label
from engine.backprop import Schedule, Stepper
from engine.model import GPTConfig, Model
from engine.numbers import compact
from engine.tokenizer import Tokenizer
from engine.trace import record
from explorer.attention.heatmap import (FONT_PT, LEGEND_H, MIN_CELL, arrange, paint_heads, scale_for, svg_bytes, weights_of)
from explorer.attention.query_steps import steps_html

LONG = 'muhammadibrahim'  # 15 letters: 16 positions, block_size's whole window


@pytest.fixture(scope='module')
def wide_trace():
    model = Model.init(GPTConfig(n_layer=2, n_embd=16, n_head=8), Tokenizer('abdhimrsu'), random.Random(1))
    return record(model, LONG)


def _overlap(a, b):
    return a.intersected(b).width() > 0.5 and a.intersected(b).height() > 0.5


@pytest.mark.parametrize('size', [(330, 420), (330, 360), (1000, 640), (1880, 980)])
def test_no_label_overlaps_anything_at_16_positions_and_2_layers_of_8_heads(qapp, wide_trace, size):
    trace = wide_trace
    assert trace.n == 16 and trace.config.n_layer * trace.config.n_head == 16
    rect = QRectF(0, 0, *size)
    boxes, squeezed = arrange(rect, trace, fallback=(1, 5))
    font = QFont()
    font.setPointSizeF(FONT_PT)
    fm = QFontMetricsF(font)
    if squeezed == 'layer':  # the chosen head's layer rather than sixteen unreadable heads
        assert [(b.layer, b.head) for b in boxes] == [(1, h) for h in range(8)]
    elif squeezed:  # or that one head, large
        assert squeezed == 'head' and [(b.layer, b.head) for b in boxes] == [(1, 5)]
    assert all(b.cell >= MIN_CELL for b in boxes)
    rects = []
    for box in boxes:
        assert rect.contains(box.cells) and rect.contains(box.header)
        labels = box.label_rects()
        assert {i for _, i, kind in labels if kind == 'row'} >= {0} and len(labels) >= 2
        for r, i, kind in labels:
            width = fm.horizontalAdvance(token_label(trace, i))
            assert width <= (r.height() if kind == 'col' and box.upright else r.width()) + 0.5  # the text fits
            assert not _overlap(r, box.cells)
            assert rect.contains(r)
        rects += [r for r, _, _ in labels] + [box.cells, box.header]
    for a, b in itertools.combinations(rects, 2):
        assert not _overlap(a, b)


def test_the_heatmaps_never_get_smaller_than_one_readable_head(window, qtbot, wide_trace):
    """The panel scrolls (it sits in a scroll area) rather than draw cells too small to read."""
    grid = window.attention.grid
    grid.show_trace(wide_trace, weights_of(wide_trace), None)
    size = grid.minimumSize()
    title = 0  # no title: paint_heads says why one head is shown in its header, not on a line of its own
    boxes, _ = arrange(QRectF(6, 4, size.width() - 12, size.height() - 8 - title - LEGEND_H), wide_trace,
                       font=grid.font())
    assert all(b.cell >= MIN_CELL for b in boxes)


def test_big_enough_shows_every_head_and_every_label(qapp, wide_trace):
    boxes, squeezed = arrange(QRectF(0, 0, 2400, 1300), wide_trace)
    assert not squeezed and len(boxes) == 16
    assert all(b.every == 1 for b in boxes)  # every token labelled
    one, _ = arrange(QRectF(0, 0, 330, 420), wide_trace, only=(0, 3))
    assert one[0].cell >= 16 and one[0].every == 1


def _paint(trace, value, quantity):
    image = QImage(900, 700, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        return paint_heads(painter, QRectF(0, 0, 900, 700), trace, value, quantity=quantity)
    finally:
        painter.end()


def test_the_colour_bar_spans_the_data_shown(qapp, emma_trace):
    trace = emma_trace
    grads = Stepper(trace)
    grads.run_to_end()
    values = {}

    def grad(l, h, q, k):
        values[(l, h, q, k)] = v = float(grads.grads[query_nodes(trace, l, h, q).weights[k]])
        return v
    _, _, scale = _paint(trace, grad, 'grad_weight')
    m = max(abs(v) for v in values.values())
    assert (scale.lo, scale.hi) == (-m, m) and scale.diverging
    assert [t for _, t in scale.ticks()] == [compact(-m), '0', compact(m)]
    _, _, scores = _paint(trace, lambda l, h, q, k: trace.data[query_nodes(trace, l, h, q).logits[k]], 'score')
    top = max(abs(trace.data[s]) for l in range(1) for h in range(4) for q in range(trace.n)
              for s in query_nodes(trace, l, h, q).logits)
    assert scores.hi == top
    _, _, weights = _paint(trace, weights_of(trace), 'weight')
    assert (weights.lo, weights.hi, weights.diverging) == (0.0, 1.0, False)
    assert scale_for([None, None], 'grad_score').hi == 0.0  # nothing reached: no invented range


def test_svg_export_is_vector(qapp, emma_trace):
    svg = svg_bytes([(emma_trace, weights_of(emma_trace), 'emma', 'weight')]).decode()
    assert '<svg' in svg and '<text' in svg and ('<rect' in svg or '<path' in svg)
    assert '<image' not in svg
    assert '1 e' in svg and '3 m' in svg  # tokens with positions, as text


def test_one_query_page_links_every_quantity_to_its_node(emma_trace):
    nodes = query_nodes(emma_trace, 0, 2, 3)
    page = steps_html(emma_trace, 0, 2, 3)
    ids = [*nodes.q, *itertools.chain(*nodes.keys), *nodes.dots, *nodes.logits, *nodes.exps, nodes.total,
           *nodes.weights, *itertools.chain(*nodes.values), *nodes.head_out]
    for node in ids:
        assert f'href="node:{node}"' in page
    assert 'masked (after the query)' in page and page.count('masked (after the query)') == emma_trace.n - 4


def test_headless_export_as_svg_and_csv_with_positions(tmp_path):
    import csv
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[3]
    for out in (tmp_path / 'a.svg', tmp_path / 'a.csv'):
        proc = subprocess.run([sys.executable, str(root / 'main.py'), 'attention', '--doc', 'emma', '-o', str(out)],
                              capture_output=True, text=True, timeout=120, cwd=root)
        assert proc.returncode == 0, proc.stderr
    svg = (tmp_path / 'a.svg').read_text()
    assert '<text' in svg and '<image' not in svg and '3 m' in svg
    rows = list(csv.DictReader((tmp_path / 'a.csv').open()))
    assert rows[-1]['query_token'] == '4 a' and rows[-1]['key_token'] == '4 a' and rows[-1]['grad_score'] != ''


@pytest.fixture(scope='module')
def emma_trace():
    from engine import checkpoint as ckpt_io
    from engine.paths import DEFAULT_CHECKPOINT
    return record(ckpt_io.load(DEFAULT_CHECKPOINT).model, 'emma')


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
