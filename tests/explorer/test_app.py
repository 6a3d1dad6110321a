"""explorer/app.py: the command line of the explorer (its defaults, a repeatable --open, a bad option in
one line and exit 2 before Qt starts, --size), the first-paint report `bench` asks for and --screenshot's
picture size."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from engine.paths import DEFAULT_CHECKPOINT
from explorer import app

ROOT = Path(__file__).resolve().parents[2]


def test_the_defaults_are_emma_on_the_shipped_checkpoint():
    args = app.parse([])
    assert args.doc == 'emma' and args.checkpoint == str(DEFAULT_CHECKPOINT)
    assert args.screenshot is None and args.open == [] and args.step == 0 and args.theme is None


def test_open_repeats_and_the_options_are_read():
    args = app.parse(['--doc', 'ava', '--open', 'pos 0', '--open', 'pos 1 / mlp', '--step', '7', '--theme', 'dark',
                      '--select', 'n12'])
    assert args.doc == 'ava' and args.open == ['pos 0', 'pos 1 / mlp']
    assert args.step == 7 and args.theme == 'dark' and args.select == 'n12'


def test_a_bad_option_is_one_line_and_exit_2(capsys):
    assert app.main(['--theme', 'blue']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: main.py: ') and 'blue' in err and err.count('\n') == 1


def test_the_first_paint_is_reported_only_when_asked(tmp_path, monkeypatch):
    report = tmp_path / 'report'
    monkeypatch.delenv('MICROGPT_BENCH_REPORT', raising=False)
    app.report_first_paint()
    assert not report.exists()
    monkeypatch.setenv('MICROGPT_BENCH_REPORT', str(report))
    app.report_first_paint()
    when, rss_mb = map(float, report.read_text().split())
    assert when > 1.7e9 and rss_mb > 1  # a time since the epoch, this process's peak memory in MB


def test_size_reads_w_by_h_and_refuses_anything_else_in_one_line(capsys):
    assert app.parse(['--size', '1280x720']).size == (1280, 720) and app.parse([]).size is None
    assert app.parse(['--size', '1600X1000']).size == (1600, 1000)
    for bad in ('1280', '1280x', 'x720', '0x720', '1280x99999', 'wide', '-1280x720'):
        assert app.main(['--size', bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith('error: main.py: argument --size: ') and err.count('\n') == 1 and 'e.g. 1280x720' in err


def screenshot(tmp_path, *args):
    out = tmp_path / 'shot.png'
    proc = subprocess.run([sys.executable, str(ROOT / 'main.py'), '--screenshot', str(out), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, QT_QPA_PLATFORM='offscreen'))
    assert proc.returncode == 0, proc.stderr
    return QImage(str(out))


@pytest.mark.window
def test_a_screenshot_is_1400_by_900_unless_a_size_is_given(tmp_path):
    """It was the offscreen screen's first window size, 784×752, with the graph cut (issue 21 item 10)."""
    shot = screenshot(tmp_path)
    assert (shot.width(), shot.height()) == app.SCREENSHOT_SIZE == (1400, 900)
    shot = screenshot(tmp_path, '--size', '1280x720')
    assert (shot.width(), shot.height()) == (1280, 720)


def test_after_paint_waits_for_the_widgets_next_paint(qtbot):
    """The first paint is reported once the graph has painted, not when a repaint was asked for: before
    its window is exposed, a repaint paints nothing."""
    from PySide6.QtWidgets import QWidget
    widget, calls = QWidget(), []
    qtbot.addWidget(widget)
    app.after_paint(widget, lambda: calls.append(widget.isVisible()))
    qtbot.wait(50)
    assert calls == []  # not shown, not painted
    widget.show()
    qtbot.waitUntil(lambda: calls == [True], timeout=5000)
    widget.repaint()
    qtbot.wait(50)
    assert calls == [True]  # once


def test_the_collector_waits_for_the_first_paint_and_then_skips_what_the_start_made():
    """explorer.app pauses the cycle collector from the start to the first painted graph, then freezes what
    exists (it lives as long as the app) and collects again; a collector someone else paused stays paused."""
    import gc
    from engine import gc_pause
    from explorer.app import _Collector
    collector, frozen = _Collector(), gc.get_freeze_count()
    try:
        collector.hold()
        assert not gc.isenabled()
        made = [[] for _ in range(1000)]  # what the start makes
        collector.release()
        assert gc.isenabled() and gc.get_freeze_count() >= frozen + len(made)
        with gc_pause.paused():  # a big graph being built meanwhile, say
            collector.hold()
            collector.release(freeze=False)
            assert not gc.isenabled()  # still paused for the other pauser
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_bad_tour_is_one_line_exit_2_and_nothing_written(tmp_path, capsys):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"tour": 1, "title": "T", "goal": "G", "doc": "emma", "steps": [{"text": "a", '
                   '"target": {"box": "layer 9"}}]}')
    out = tmp_path / 'out.png'
    assert app.main(['--tour', str(bad), '--screenshot', str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "error: Step 1 names box 'layer 9', which this model does not have (the recording of 'emma').\n"
    assert not out.exists()


@pytest.mark.window
def test_a_tour_screenshot_is_its_first_step(tmp_path):
    """--tour FILE --screenshot: the window at the tour's first step, its panel beside the graph and the rest dimmed."""
    plain = screenshot(tmp_path, '--size', '1280x720')
    shot = screenshot(tmp_path, '--size', '1280x720', '--tour', str(ROOT / 'assets/tours/1-reading-the-picture.json'))
    assert (shot.width(), shot.height()) == (1280, 720)
    corner = (1270, 300)  # the panels' column: dimmed by the spotlight (pos 0 is its target)
    assert shot.pixelColor(*corner).lightness() < plain.pixelColor(*corner).lightness() - 20


def test_positions_is_a_whole_number_of_at_least_one(capsys):
    assert app.parse(['--positions', '3']).positions == 3 and app.parse([]).positions is None
    for bad in ('0', '-1', 'x', '2.5'):
        assert app.main(['--positions', bad]) == 2
        err = capsys.readouterr().err
        assert err == f"error: main.py: argument --positions: must be a whole number ≥ 1, not {bad!r}\n"


def test_positions_answers_the_first_question_and_the_window_asks_every_later_one():
    class Session:
        ask_part = None
    s, asked = Session(), []
    dialog = lambda doc, model, whole: asked.append(doc) or 2  # noqa: E731
    s.ask_part = app.part_asker(3, dialog, s)
    assert s.ask_part('emma', None, 5) == 3 and asked == []
    assert s.ask_part('emma', None, 5) == 2 and asked == ['emma']  # Enter in the field: asked, to record more
    assert app.part_asker(None, dialog, s) is dialog


def test_the_first_recording_declined_is_not_asked_about_again(qtbot, monkeypatch):
    """The fresh-eyes reviewer had to click Not now twice: the start fell back to recording 'emma', asked again."""
    import engine.recording_cost as recording_cost
    from explorer.state.session import Session
    monkeypatch.setattr(recording_cost, 'ASK_ABOVE', 20_000)
    session = Session()
    asked = []
    session.ask_part = lambda doc, model, whole: asked.append(doc) or 0
    assert session.load_checkpoint()
    app.first_recording(session, 'emma')
    assert asked == ['emma'] and session.recording is None and session.trace is None
    app.first_recording(session, 'Émile')  # a document it cannot read: emma instead (asked about, declined)
    assert asked == ['emma', 'emma']
    session.worker.wait()
    session.close()
