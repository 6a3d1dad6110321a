"""Token lines and heatmaps are linked: hovering a token in the lines frames its row (a query) or its
column (a key) in that layer's heatmaps."""

from PySide6.QtGui import QColor

from explorer.attention.heatmap import hovered_rect


def frame_pixels(panel, side, i):
    """The colours along the top edge of the frame a hovered token would get, in every head of layer 0."""
    image = panel.grid.grab().toImage()
    out = []
    for box in panel.grid.boxes:
        r = hovered_rect(box, side, i).adjusted(-1, -1, 1, 1)
        y = int(r.top())
        out += [image.pixelColor(int(x), y).name() for x in range(int(r.left()) + 2, int(r.right()) - 2)]
    return out


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
