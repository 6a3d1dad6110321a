"""explorer.graph.weight_grid, weights as grids: badges name what each box reads, hovering a matrix outlines
its readers, a cell shows its value and then its grad as backprop reaches it (grey when that grad is exactly
0, as the legend says), a click on a cell selects that parameter, and the weight edges are off until
View › Weight edges turns them on."""

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from engine.graph.geometry import grid_geometry
from engine.graph.keys import group_key
from explorer.graph import weight_grid
from explorer.panels.legend import legend_texts
from explorer.theme import grad_color, value_color

STAGE_READS = {'embedding': ['wte', 'wpe'],
               'layer 0 / attention': ['layer0.attn_wq', 'layer0.attn_wk', 'layer0.attn_wv', 'layer0.attn_wo'],
               'layer 0 / mlp': ['layer0.mlp_fc1', 'layer0.mlp_fc2'], 'lm_head': ['lm_head'],
               'softmax': None, '-log p': None}


@pytest.fixture
def view(window, qtbot):
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    return window.graph


def param_node(trace, name, row, col):
    return next(n for n, where in trace.params.items() if where == (name, row, col))


def test_badges_name_the_matrices_each_box_reads(view):
    trace = view.session.trace
    badges = {b.key: b.names for b in view.badge_items}
    for p in range(trace.n):
        for stage, names in STAGE_READS.items():
            assert badges.get(group_key(trace.scope_id(f'pos {p} / {stage}'))) == names, (p, stage)
    assert len(badges) == 4 * trace.n  # nothing else reads a weight


def test_hovering_a_matrix_or_a_badge_name_outlines_every_box_that_reads_it(view):
    trace = view.session.trace
    attention = {group_key(trace.scope_id(f'pos {p} / layer 0 / attention')) for p in range(trace.n)}
    badge = next(b for b in view.badge_items if b.key in attention)
    name, rect, _ = badge.words[2]
    assert name == 'layer0.attn_wv' and badge.word_at(rect.center()) == name
    view.highlight_weight(badge.word_at(rect.center()))
    assert view.highlighted_readers == attention and view.highlighted_weights == {name}
    view.highlight_weight('wte')
    assert view.highlighted_readers == {group_key(trace.scope_id(f'pos {p} / embedding')) for p in range(trace.n)}
    view.highlight_weight(None)
    assert not view.highlighted_readers


def test_a_cell_shows_its_value_then_its_grad_once_backprop_reaches_it(view):
    s, bp = view.session, view.session.backprop
    cells, colors = view.weight_cells(), view.colors
    name, row, col = 'layer0.attn_wq', 3, 5
    node = param_node(s.trace, name, row, col)
    reached = bp.schedule.reached_at[node]
    value = value_color(s.trace.data[node], cells.largest[name], colors)
    bp.seek(reached - 1)
    assert weight_grid.cell_color(cells, name, row, col, bp, colors) == value
    bp.seek(reached)
    grad = bp.grads[node]
    assert grad != 0
    assert weight_grid.cell_color(cells, name, row, col, bp, colors) == grad_color(grad, colors)
    image = weight_grid.grid_image(cells, name, bp, colors)  # what the grid item draws, one pixel per cell
    transposed = grid_geometry(*cells.shape(name))[0]
    x, y = (row, col) if transposed else (col, row)
    assert image.pixel(x, y) == grad_color(grad, colors).rgb()
    bp.seek(reached - 1)  # back: the value again
    assert weight_grid.grid_image(cells, name, bp, colors).pixel(x, y) == value.rgb()
    assert 'wq[3][5]' in weight_grid.cell_tooltip(view, name, row, col)


def test_a_document_never_reads_most_of_wte_and_its_cells_say_so(view):
    cells = view.weight_cells()
    unused = [(r, c) for r, row in enumerate(cells.nodes['wte']) for c, n in enumerate(row) if n is None]
    assert unused  # 'emma' reads 4 of 27 tokens
    assert 'not read by this document' in weight_grid.cell_tooltip(view, 'wte', *unused[0])


def test_clicking_a_cell_selects_that_parameter_and_survives_a_relayout(window, view, qtbot):
    s = view.session
    name, row, col = 'layer0.mlp_fc1', 7, 2
    node = param_node(s.trace, name, row, col)
    item = view.items_by_key[group_key(s.trace.scope_id(f'params / {name}'))]
    grid, transposed, _, _, cw, ch = weight_grid.cell_rects(item, name, view.weight_cells())
    x, y = (row, col) if transposed else (col, row)
    inside = QPointF(grid.left() + (x + 0.5) * cw, grid.top() + (y + 0.5) * ch)
    assert weight_grid.cell_at(item, name, view.weight_cells(), inside) == (row, col)
    view.bring_into_view(item.sceneBoundingRect(), zoom_in=True)
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, view.mapFromScene(item.mapToScene(inside)))
    assert s.selected == f'n{node}'
    assert 'fc1[7][2]' in window.inspector.toPlainText() and 'Adam' in window.inspector.toPlainText()
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.open_group(s.trace.scope_id('pos 1 / softmax'))
    s.select(f'n{node}')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.close_group(s.trace.scope_id('pos 1 / softmax'))
    s.select(f'n{node}')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        s.reveal(f'n{node}')  # as Find does: the parameter stays selected, shown in its grid
    assert s.selected == f'n{node}'


def test_weight_edges_are_hidden_until_the_toggle_shows_them(window, view):
    weight = {k for k in view.edges_by_key if k[0] in view._weight_keys}
    assert len(weight) == 9 * view.session.trace.n  # wte wpe, wq wk wv wo, fc1 fc2, lm_head into every position
    assert not any(view.edges_by_key[k].isVisible() for k in weight)
    assert all(view.edges_by_key[k].isVisible() for k in view.edges_by_key.keys() - weight)
    assert window.weight_edges_act.toolTip().endswith('(W)')
    window.weight_edges_act.trigger()
    assert all(view.edges_by_key[k].isVisible() for k in weight)
    window.weight_edges_act.trigger()
    assert not any(view.edges_by_key[k].isVisible() for k in weight)


def test_every_grid_at_the_start_of_backprop_is_its_cells_colours_one_by_one(view):
    """A timeline step starts backprop again and draws every grid at once: each pixel is the cell's colour,
    a matrix on its side too, and a parameter the document never reads is paler."""
    bp, s = view.session.backprop, view.session
    bp.seek(0)
    cells, colors = view.weight_cells(), view.colors
    again = weight_grid.WeightCells(s.trace, s.model.state_dict, like=cells)  # the next step's, sharing its nodes
    assert again.nodes is cells.nodes and again.values == cells.values
    for name in cells.nodes:
        image, transposed = weight_grid.grid_image(again, name, bp, colors), grid_geometry(*cells.shape(name))[0]
        rows, cols = cells.shape(name)
        assert [image.pixel(*((r, c) if transposed else (c, r))) for r in range(rows) for c in range(cols)] == \
            [weight_grid.cell_color(cells, name, r, c, bp, colors).rgb() for r in range(rows) for c in range(cols)], name


def test_a_grid_redrawn_step_by_step_is_the_grid_drawn_afresh(view):
    """The grid item keeps its image and redraws only the cells a step changed: the same picture."""
    bp = view.session.backprop
    cells, colors, name = view.weight_cells(), view.colors, 'lm_head'
    image = weight_grid.grid_image(cells, name, bp, colors)
    state = weight_grid.grid_state(cells, name, bp)
    for position in (2000, 2500, 30000, 1200):
        bp.seek(position)
        state = weight_grid.update_grid_image(image, state, cells, name, bp, colors)
        assert image == weight_grid.grid_image(cells, name, bp, colors), position


def test_a_weight_cell_with_grad_exactly_zero_is_grey(window, qtbot):
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    view, bp = window.graph, window.session.backprop
    cells, colors = view.weight_cells(), view.colors
    bp.seek(bp.total)
    zero = [(name, r, c) for name, used in cells.used.items() for r, c, n in used if bp.grads[n] == 0]
    some = [(name, r, c) for name, used in cells.used.items() for r, c, n in used if bp.grads[n] != 0]
    assert zero and some, 'this document has no parameter whose grad is exactly 0 (relu stops none)'
    for name, r, c in zero[:5]:
        assert weight_grid.cell_color(cells, name, r, c, bp, colors) == QColor(colors['zero_grad'])
    name, r, c = some[0]
    assert weight_grid.cell_color(cells, name, r, c, bp, colors) == grad_color(bp.grads[cells.nodes[name][r][c]],
                                                                               colors)
    assert any('grad is exactly 0: grey' in t for t in legend_texts())
