"""explorer.attention.heatmap_grid: the heatmaps as a widget: 'Recording…' until a trace comes, then one box
per head; a click on a cell, a query's label or a head's title says which; a cell's tooltip gives the
numbers, and a gradient not reached yet says so."""

import pytest
from PySide6.QtCore import QPointF, Qt

from engine.attention import query_nodes
from engine.numbers import shown
from explorer.attention.heatmap import weights_of
from explorer.attention.heatmap_grid import HeatmapGrid
from explorer.theme import LIGHT
from tests.explorer.conftest import long_numbers


class FakePanel:
    """What the grid asks of the attention panel: colours, what to frame, which head alone."""
    only = None

    def colors(self):
        return LIGHT

    def selected_place(self, trace):
        return None

    def focus_head(self):
        return (0, 0)

    def hovered_token(self, trace):
        return None


@pytest.fixture
def grid(qtbot, emma_trace):
    grid = HeatmapGrid(FakePanel())
    qtbot.addWidget(grid)
    grid.resize(1400, 900)
    grid.show_trace(emma_trace, weights_of(emma_trace), '')
    grid.grab()  # paints: lays out the boxes
    return grid


def test_before_a_trace_there_is_nothing_to_click(qtbot):
    grid = HeatmapGrid(FakePanel())
    qtbot.addWidget(grid)
    grid.resize(400, 300)
    grid.grab()
    assert grid.boxes == []


def test_an_empty_grid_says_whether_a_recording_is_on_its_way():
    from types import SimpleNamespace
    from explorer.attention.heatmap_grid import waiting_text
    assert waiting_text(SimpleNamespace(recording='emma')) == 'Recording…'
    assert waiting_text(SimpleNamespace(recording=None)).startswith('Nothing recorded: type a document')


def test_every_head_gets_a_box(grid):
    assert sorted((b.layer, b.head) for b in grid.boxes) == [(0, h) for h in range(4)] and not grid.squeezed


def test_clicks_on_a_cell_a_query_and_a_title_say_which(grid, qtbot):
    box = next(b for b in grid.boxes if b.head == 1)
    cell = QPointF(box.cells.left() + 1.5 * box.cell, box.cells.top() + 2.5 * box.cell)  # query 2, key 1
    with qtbot.waitSignal(grid.cell_clicked) as clicked:
        qtbot.mouseClick(grid, Qt.LeftButton, pos=cell.toPoint())
    assert clicked.args == [0, 1, 2, 1]
    label = QPointF(box.cells.left() - box.row_w / 2, box.cells.top() + 2.5 * box.cell)
    with qtbot.waitSignal(grid.row_clicked) as clicked:
        qtbot.mouseClick(grid, Qt.LeftButton, pos=label.toPoint())
    assert clicked.args == [0, 1, 2]
    with qtbot.waitSignal(grid.head_clicked) as clicked:
        qtbot.mouseClick(grid, Qt.LeftButton, pos=box.header.center().toPoint())
    assert clicked.args == [0, 1]


def test_a_cells_tooltip_gives_its_numbers_in_4_digits(grid, emma_trace):
    text = grid.describe(0, 1, 2, 1)
    weight = emma_trace.attention[0][1][2][1]
    score = emma_trace.data[query_nodes(emma_trace, 0, 1, 2).logits[1]]
    assert text.startswith('layer 0 · head 1') and shown(weight) in text and shown(score) in text
    assert long_numbers(text) == []  # every digit is the Inspector's, once a click selects the cell's node
    grid.show_trace(emma_trace, lambda *cell: None, '', quantity='grad_weight')
    assert 'not reached yet' in grid.describe(0, 1, 2, 1)
