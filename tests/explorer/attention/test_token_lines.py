"""explorer.attention.token_lines: queries on the left, keys on the right, a line for each (head, query, key)
with its weight; hovering a token keeps only its lines and says which token; the head toggles choose whose
lines are drawn."""

from PySide6.QtCore import QRectF

from explorer.attention.token_lines import TokenLines, TokenLinesView, line_geometry


def test_queries_left_keys_right_one_row_per_position():
    left, right, line = line_geometry(QRectF(0, 0, 600, 300), 6)
    assert len(left) == len(right) == 6 and line == 40.0  # capped at 40 px a row
    assert all(l.right() < r.left() for l, r in zip(left, right))
    assert [r.top() for r in left] == [i * line for i in range(6)] == [r.top() for r in right]
    small, _, line = line_geometry(QRectF(0, 0, 600, 30), 6)
    assert line == 8.0  # never under 8 px


def test_every_weight_is_a_line_and_hover_keeps_a_tokens_own(qtbot, emma_trace):
    lines = TokenLines()
    qtbot.addWidget(lines)
    lines.resize(400, 300)
    lines.show()
    qtbot.waitExposed(lines)
    lines.set_trace(emma_trace)
    lines.heads = (0, 2)
    n, attn = emma_trace.n, emma_trace.attention
    assert sorted(lines.lines()) == sorted((h, q, k, attn[0][h][q][k]) for h in (0, 2) for q in range(n)
                                           for k in range(len(attn[0][h][q])))
    left, right, _ = lines.geometry_()
    with qtbot.waitSignal(lines.token_hovered) as hovered:
        qtbot.mouseMove(lines, right[1].center().toPoint())
    assert hovered.args == ['k', 1] and lines.hover == ('k', 1)
    assert {k for _, _, k, _ in lines.lines()} == {1}
    with qtbot.waitSignal(lines.query_hovered) as hovered:
        qtbot.mouseMove(lines, left[3].center().toPoint())
    assert hovered.args == [3] and {q for _, q, _, _ in lines.lines()} == {3}


def test_the_head_toggles_choose_whose_lines_are_drawn(qtbot, emma_trace):
    view = TokenLinesView()
    qtbot.addWidget(view)
    view.set_trace(emma_trace)
    assert len(view.buttons) == emma_trace.config.n_head and view.lines.heads == (0, 1, 2, 3)
    view.buttons[1].click()
    assert view.lines.heads == (0, 2, 3) and 1 not in {h for h, *_ in view.lines.lines()}
    view.set_heads({2})
    assert view.checked_heads() == (2,) and {h for h, *_ in view.lines.lines()} == {2}
    assert view.buttons[2].isChecked() and not view.buttons[0].isChecked()
