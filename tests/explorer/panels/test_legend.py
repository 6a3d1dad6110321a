"""explorer/panels/legend.py: every mark explained. The legend names every colour the graph paints and
says what each mark means; it is a panel of its own, whole without scrolling at 1280×720, and Help › Legend
brings it to the front."""

import re
from pathlib import Path

from explorer.panels.legend import legend_colors, legend_texts

GRAPH = Path(__file__).resolve().parents[3] / 'explorer' / 'graph'  # the wing that paints the graph
PLAIN = {'background', 'text', 'muted'}  # the page and its writing, not marks


def test_the_legend_names_every_colour_the_graph_paints():
    painted = {name for path in GRAPH.glob('*.py') for name in re.findall(r"(?:\bc|colors)\['(\w+)'\]", path.read_text())}
    assert painted - PLAIN, 'found no colours in explorer/graph/: the pattern is stale'
    assert painted - PLAIN <= legend_colors(), f'not in the legend: {sorted(painted - PLAIN - legend_colors())}'


def test_the_legend_says_what_each_mark_means(window):
    text = '\n'.join(legend_texts())
    for mark in ('blue negative, red positive', 'not reached', 'exactly 0', 'hatched', 'last step applied',
                 'green', '3/5', '∂', 'breakpoint', 'selected', 'weight', 'open group'):
        assert mark in text, mark
    legend = window.legend
    assert legend.toolTip() == text and legend.minimumHeight() >= 17 * 13


def test_help_legend_shows_the_whole_legend_at_1280_by_720(make_window, qtbot):
    win = make_window(1280, 720)
    dock = win.docks['legend_dock']
    dock.close()
    win.legend_act.trigger()
    qtbot.waitUntil(lambda: dock.isVisible() and not win.legend.visibleRegion().isEmpty(), timeout=5000)
    whole = lambda: win.legend.visibleRegion().boundingRect().height() >= win.legend.minimumHeight()  # noqa: E731
    qtbot.waitUntil(whole, timeout=5000)  # not cut: no scrolling to read it
    assert not win.inspector_dock.isFloating() and win.attention_dock.height() >= 150  # the panel below keeps room
    assert win.legend_act.toolTip().endswith('(Shift+F1)')
