"""explorer.attention.heatmap, the heatmaps drawn: labels that never overlap at 16 positions and 2 layers × 8
heads, one readable head when all would be too small for numbers, every head when there is room, a colour
bar that matches the data, vector SVG."""

import itertools
import random

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetricsF, QImage, QPainter

from engine.attention import query_nodes, token_label
from engine.backprop import Stepper
from engine.model import GPTConfig, Model
from engine.numbers import compact
from engine.tokenizer import Tokenizer
from engine.trace import record
from explorer.attention.heatmap import (FONT_PT, LEGEND_H, MIN_CELL, NUMBER_CELL, arrange, paint_heads,
                                        scale_for, svg_bytes, weights_of)

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


def test_a_short_document_in_a_small_panel_shows_one_head_with_room_for_numbers(qapp, emma_trace):
    boxes, squeezed = arrange(QRectF(0, 0, 330, 300), emma_trace, fallback=(0, 2))  # all four would be 17 px
    assert squeezed == 'head' and [(b.layer, b.head) for b in boxes] == [(0, 2)]
    assert boxes[0].cell >= NUMBER_CELL


def test_with_room_every_head_is_shown(qapp, emma_trace):
    boxes, squeezed = arrange(QRectF(0, 0, 1800, 900), emma_trace)
    assert not squeezed and len(boxes) == 4 and all(b.cell >= NUMBER_CELL for b in boxes)
