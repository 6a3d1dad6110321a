"""explorer/history/compare_runs.py: the runs seen in the window (the shipped ladder, the checkpoint's history,
runs trained here) listed once each with their parameter count, the shipped rungs first in ladder order, and
the ticked ones drawn smoothed over the Training panel's loss chart, thinned but ending on their last step;
"Draw the ladder" ticks every shipped rung."""

import pytest
from PySide6.QtCore import Qt

from engine.numbers import shown

from explorer.history.charts import smoothed
from explorer.history.compare_runs import MAX_POINTS, curve_points
from explorer.theme import run_color


def test_the_shipped_run_is_listed_and_drawn_when_ticked(window, qtbot):
    runs, compare = window.runs, window.training.compare
    runs.want_history()  # as showing the Training panel does
    qtbot.waitUntil(lambda: compare.list.count() == 5 and window.timeline.history is not None, timeout=30000)
    shipped = next(r for r in runs.runs if r.rung == 'microgpt')  # brought by the Timeline: it is in use
    assert shipped.name == 'microgpt (shipped)' and len(shipped.losses) == 1000
    assert shipped.params == len(window.session.model.params) == 4192
    assert list(shipped.losses) == window.timeline.history.losses
    item = compare.list.item(4)  # the top of the ladder, whichever of them was read first
    assert item.text().startswith('microgpt (shipped) · 4,192 params · loss ') and '1,000 steps' in item.text()
    chart = window.training.chart.chart()
    before = len(chart.series())
    item.setCheckState(Qt.Checked)
    assert len(chart.series()) == before + 1
    series = chart.series()[-1]
    points = series.points()
    assert len(points) <= MAX_POINTS and points[-1].x() == 1000
    assert points[-1].y() == pytest.approx(smoothed(shipped.losses)[-1])
    assert compare.x_axis.max() >= 1000 and compare.y_axis.max() >= max(smoothed(shipped.losses))
    runs.want_history()  # read again: still one entry each
    assert compare.list.count() == 5
    item.setCheckState(Qt.Unchecked)
    assert len(chart.series()) == before and not compare.series


def test_a_run_is_listed_once_each_in_its_own_colour(window):
    runs, compare = window.runs, window.training.compare
    first = runs.add('rung a', 27 * 27, [3.3, 3.0, 2.8], key='a')
    assert runs.add('rung a again', 27 * 27, [3.3, 3.0, 2.8], key='a') is None
    assert runs.add('no steps', 10, [], key='empty') is None
    runs.add('rung b', 4192, [3.3, 2.9, 2.5], key='b')
    names = [compare.list.item(i).text() for i in range(compare.list.count())]
    assert [n for n in names if n.startswith('rung')] == [first.label, runs.runs[-1].label]
    assert '729 params' in first.label and '3 steps' in first.label
    colours = {compare.list.item(i).foreground().color().name() for i in range(compare.list.count())}
    assert len(colours) == compare.list.count()


def test_a_long_run_is_thinned_to_its_shape_and_keeps_its_last_step():
    losses = [3.0 - i / 10000 for i in range(25_001)]
    points = curve_points(losses)
    assert len(points) <= MAX_POINTS + 1 and points[0].x() == 1 and points[-1].x() == len(losses)
    assert points[-1].y() == pytest.approx(smoothed(losses)[-1])
    assert [p.x() for p in curve_points([2.0, 1.0])] == [1, 2]


def test_a_checkpoint_opened_while_the_list_is_shown_joins_it(window, qtbot, tmp_path):
    import io
    from engine.cli.commands import main as cli_main
    data = tmp_path / 'names.txt'
    data.write_text('emma\nolivia\nava\nmia\n')
    out = tmp_path / 'tiny.json'
    assert cli_main(['train', '--data', str(data), '--steps', '6', '--n-embd', '8', '--num-samples', '0',
                     '--history-every', '3', '--out', str(out)], io.StringIO()) == 0
    window.docks['training_dock'].raise_()
    compare = window.training.compare
    qtbot.waitUntil(lambda: compare.list.count() >= 5, timeout=30000)  # the shipped runs, read on showing
    listed = compare.list.count()
    assert window.session.load_checkpoint(str(out))
    qtbot.waitUntil(lambda: compare.list.count() == listed + 1, timeout=30000)
    tiny = window.runs.runs[-1]
    assert tiny.name == 'tiny.json' and len(tiny.losses) == 6 and tiny.params == len(window.session.model.params)


def test_the_ladder_is_listed_first_in_order_whenever_it_comes(window):
    """Shipped rungs go above every other run in ladder order, each in its rung's colour, whichever arrives first;
    a rung that arrives while "Draw the ladder" is ticked is drawn at once."""
    runs, compare = window.runs, window.training.compare
    runs.ladder.started = True  # this test adds the rungs itself
    runs.add('mine', 100, [3.0, 2.0], key='mine')
    compare.ladder_box.setChecked(True)
    runs.add('average (shipped)', 3680, [3.0, 2.5], key='avg', rung='average')
    runs.add('bigram (shipped)', 729, [3.0, 2.7], key='bi', rung='bigram')
    texts = [compare.list.item(i).text() for i in range(compare.list.count())]
    assert [t.split(' ·')[0] for t in texts] == ['bigram (shipped)', 'average (shipped)', 'mine']
    assert compare.shown_keys() == ['bi', 'avg']  # ticked by the box, not the run of one's own
    colours = [compare.list.item(i).foreground().color() for i in range(3)]
    assert colours[:2] == [run_color(0), run_color(2)] and colours[2] == run_color(5)
    assert {s.name() for s in compare.series.values()} == {'bigram · 729', 'average · 3,680'}
    assert not any(m.isVisible() for s in compare.series.values() for m in compare.chart.legend().markers(s))
    low = min(min(smoothed([3.0, 2.5])), min(smoothed([3.0, 2.7])))
    assert 2.5 < compare.y_axis.min() <= low and compare.y_axis.max() >= 3.0  # the curves', not from 0
    bi, avg = smoothed([3.0, 2.7])[-1], smoothed([3.0, 2.5])[-1]  # the last smoothed losses, in ladder order
    assert compare.gaps.text() == (f'At the last step (smoothed): bigram {shown(bi)} · average {shown(avg)} '
                                   f'(−{shown(bi - avg)})') and not compare.gaps.isHidden()
    compare.ladder_box.setChecked(False)
    assert compare.shown_keys() == [] and not compare.series and compare.gaps.isHidden()
