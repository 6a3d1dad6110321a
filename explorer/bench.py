"""`python main.py bench`: one JSON object of the figures the issues set targets for (benchmarks, not tests)."""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import checkpoint as ckpt_io
from engine.attention import to_csv as attention_csv
from engine.graph.grouping import Hierarchy
from engine.graph.keys import group_key
from engine.graph.layout import layout
from engine.model import FAST
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import literal_loss, record
from explorer.bench_backends import backend_figures, large_figures, mini_gpt_figures, numpy_history_figures

ROOT = Path(__file__).resolve().parent.parent
LONG_NAME = 'abcdefghijklmno'  # 15 letters: the longest names in names.txt


def ms(seconds):
    return round(seconds * 1000, 1)


def timed(fn, repeat=3):
    best, result = float('inf'), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def training_step_ms(model, doc, literal):
    """One training step's forward + backward, fused (as `train` runs) or literal (microgpt's own graph)."""
    tokens, n = model.positions(doc)

    def step():
        if literal:
            loss, _ = literal_loss(model, doc)
        else:
            loss = model.loss(tokens, n, FAST)
        loss.backward()
        for p in model.params:
            p.grad = 0
    return timed(step, 5)[0]


def warm_bytecode():
    """The project's modules compiled to bytecode in __pycache__, as Python caches them on a first start, so
    that first_paint_ms times a start as every start after the first is. A machine whose environment forbids
    the cache (PYTHONDONTWRITEBYTECODE, as in some sandboxes) compiled every edited module on every start:
    about a fifth of the start, measured."""
    import compileall
    for folder in ('engine', 'explorer'):
        compileall.compile_dir(ROOT / folder, quiet=1)


def app_run(doc):
    """Start the app offscreen as a user would, its bytecode cached; when it first paints the graph, it
    reports and exits."""
    warm_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / 'report'
        env = dict(os.environ, QT_QPA_PLATFORM='offscreen', MICROGPT_BENCH_REPORT=str(report))
        start = time.time()
        subprocess.run([sys.executable, str(ROOT / 'main.py'), '--doc', doc, '--screenshot', str(Path(tmp) / 's.png')],
                       env=env, capture_output=True, timeout=300, cwd=ROOT)
        painted, rss = report.read_text().split()
        return ms(float(painted) - start), round(float(rss), 1)


def window_figures(doc):
    """In a real (offscreen) window on the default view: each backprop step's time including its
    repaint; Play at full speed through every step, by node and by group, with the longest time the
    event loop was kept from a 5 ms timer (how responsive the window stays); the heatmaps' paint."""
    os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from explorer.main_window import MainWindow
    from explorer.state.session import Session
    app = QApplication.instance() or QApplication([])
    tmp = tempfile.TemporaryDirectory()
    session = Session()
    window = MainWindow(session, QSettings(str(Path(tmp.name) / 'bench.ini'), QSettings.IniFormat))
    window.resize(1400, 900)
    window.show()
    session.load_checkpoint()
    loop = QEventLoop()
    session.view_changed.connect(loop.quit)
    session.record(doc)
    loop.exec()
    app.processEvents()
    expand = expand_position_figures(app, window)  # first: nothing of pos 2 is laid out or cached yet
    screen = screen_figures(app, window, Path(tmp.name))
    bp = session.backprop
    steps = []
    for _ in range(400):
        t = time.perf_counter()
        bp.step()
        app.processEvents()  # delivers the repaint of what the step changed
        steps.append(time.perf_counter() - t)
    steps.sort()
    out = {**screen, **expand, 'backprop_step_ms_p50': ms(steps[len(steps) // 2]), 'backprop_step_ms_p95': ms(steps[len(steps) * 95 // 100])}

    for by_group in (False, True):
        bp.reset()
        bp.set_by_group(by_group)
        bp.set_speed(0)
        clock, gaps, moves = QElapsedTimer(), [], [0]
        probe = QTimer()
        probe.setInterval(5)
        probe.timeout.connect(lambda: gaps.append(clock.restart()))
        count = lambda _changed: moves.__setitem__(0, moves[0] + 1)  # noqa: E731
        bp.moved.connect(count)
        done = QEventLoop()
        stop = lambda playing: None if playing else done.quit()  # noqa: E731
        bp.playing_changed.connect(stop)
        clock.start()
        probe.start()
        t = time.perf_counter()
        bp.play()
        done.exec()
        elapsed = time.perf_counter() - t
        probe.stop()
        bp.moved.disconnect(count)
        bp.playing_changed.disconnect(stop)
        if by_group:
            out.update({'backprop_group_steps': moves[0], 'backprop_play_by_group_s': round(elapsed, 2)})
        else:
            out.update({'backprop_play_steps_per_s': round(bp.total / elapsed),
                        'backprop_play_all_s': round(elapsed, 2),
                        'backprop_play_max_stall_ms': max(gaps, default=5) - 5})

    # The attention panel after a new recording: what _on_recorded does, then a synchronous paint.
    window.attention_dock.raise_()
    app.processEvents()
    paints = []
    for _ in range(20):
        t = time.perf_counter()
        window.attention._on_recorded()
        window.attention.grid.repaint()
        paints.append(time.perf_counter() - t)
    out['heatmap_paint_ms'] = ms(sorted(paints)[len(paints) // 2])
    out.update(attention_view_figures(app, window))
    out.update(training_figures(app, window, Path(tmp.name)))
    session.unsaved = False  # the bench's trained weights are not worth a question
    window.close()
    session.worker.wait()
    tmp.cleanup()
    return out


def graph_fraction(window):
    viewport = window.graph.viewport()
    return round(viewport.width() * viewport.height() / (window.width() * window.height()), 3)


def screen_figures(app, window, tmp, frames=80):
    """The 1400×900 window just recorded: the graph's share of it and the smallest label of the first view
    (device pixels); a fresh 1280×720 window's share; then, with `pos 2` open (to scalars if that is laid
    out within 20 s, else to the vector level), the 95th percentile of a pan frame: scroll 40 px, paint, over
    the busiest window-sized part of it (`pan_boxes_in_view` boxes): a learner pans where there is something to read."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from explorer.main_window import MainWindow
    from explorer.state.session import Session
    out = {'graph_area_fraction': graph_fraction(window),
           'first_paint_min_label_px': round(window.graph.smallest_label_px() or 0, 1)}
    small = MainWindow(Session(), QSettings(str(tmp / 'small.ini'), QSettings.IniFormat))
    small.session.load_checkpoint()  # the model's name in the tool bar, as in use
    small.resize(1280, 720)
    small.show()
    app.processEvents()
    out['graph_area_fraction_small'] = graph_fraction(small)
    small.close()

    session, view = window.session, window.graph
    shown = session.visible
    pos2 = session.trace.scope_id('pos 2')
    h = session.current.hierarchy
    inside = [s for s in h.descendants(pos2) if h.descendants(s) != [s]]  # groups that hold groups
    def wait_view(change, limit_ms):
        """Make a change, then wait for the view it asks for (it may come at once, from the cache)."""
        seen, done = [], QEventLoop()
        on_view = lambda: (seen.append(1), done.quit())  # noqa: E731
        session.view_changed.connect(on_view)
        QTimer.singleShot(limit_ms, done.quit)
        change()
        if not seen:
            done.exec()
        session.view_changed.disconnect(on_view)
    for scopes, limit_ms in ((h.descendants(pos2), 20000), (inside, 60000)):
        wait_view(lambda: session.set_open(session.opened | set(scopes) | {pos2}, focus=group_key(pos2)), limit_ms)
        if session.visible is not shown:
            break
        session.cancel_layout()
    while view.building():  # panning the drawn view: making its items is expand_position_draw_max_stall_ms
        app.processEvents(QEventLoop.WaitForMoreEvents, 50)
    app.processEvents()
    out['pan_view_boxes'] = len(session.layout.boxes)
    out['pan_boxes_in_view'] = busiest_view(app, view)
    bar, times = view.horizontalScrollBar(), []
    for i in range(frames):
        t = time.perf_counter()
        bar.setValue(bar.value() + (40 if (i // 20) % 2 == 0 else -40))
        app.processEvents()
        times.append(time.perf_counter() - t)
    times.sort()
    out['pan_frame_ms_p95'] = ms(times[len(times) * 95 // 100])
    wait_view(session.collapse_all, 20000)  # back to the overview for the figures that follow
    app.processEvents()
    return out


def busiest_view(app, view):
    """Centre the view (at its scale) on the window-sized part of the layout with the most boxes, as a learner
    pans where there is something to read (the top-left of an opened position is mostly empty frame); the
    number of boxes there."""
    from collections import Counter

    from PySide6.QtCore import QPointF
    scale = view.transform().m11()
    half_w, half_h = view.viewport().width() / scale / 2, view.viewport().height() / scale / 2
    cells = Counter()
    for x, y, w, h in view.session.layout.boxes.values():  # box centres in half-window cells
        cells[int((x + w / 2) // half_w), int((y + h / 2) // half_h)] += 1
    windows = Counter()  # a window is 2×2 half-window cells, named by its top-left cell
    for (i, j), n in cells.items():
        for di in (0, 1):
            for dj in (0, 1):
                windows[i - di, j - dj] += n
    (i, j), count = windows.most_common(1)[0]
    view.centerOn(QPointF((i + 1) * half_w, (j + 1) * half_h))
    app.processEvents()
    return count


def expand_position_figures(app, window, esc_after_s=0.15):
    """Open `pos 2` to scalars (~7,700 boxes, composed from small layouts in the layout process):
    press Esc while it is still being laid out (the time from Esc to the window's next turn of its
    event loop; the view must stay as it was), then open it again and wait for it to be drawn. The
    longest the event loop was kept from a 5 ms timer is the stall: while opening and cancelling
    (`expand_position_max_stall_ms`), and while the finished view is received and drawn
    (`expand_position_draw_max_stall_ms`)."""
    from PySide6.QtCore import QEventLoop, QTimer

    session = window.session
    shown = session.visible
    pos2 = session.trace.scope_id('pos 2')
    boxes = session.boxes_if_opened(session.opened | set(session.current.hierarchy.descendants(pos2)))
    ticks, answered, pressed = [], [], []
    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    done = QEventLoop()

    def press_esc():
        if not session.layout_pending:  # already laid out: nothing to cancel
            done.quit()
            return
        pressed.append(time.perf_counter())
        window.cancel_layout_act.trigger()
        QTimer.singleShot(0, lambda: answered.append(time.perf_counter()))
        QTimer.singleShot(500, done.quit)
    probe.start()
    ticks.append(time.perf_counter())
    session.open_group(pos2, to_scalars=True)
    QTimer.singleShot(int(esc_after_s * 1000), press_esc)
    done.exec()
    if pressed:
        assert session.visible is shown, 'the view changed although the layout was cancelled'
    drawn = QEventLoop()
    session.view_changed.connect(drawn.quit)
    t = time.perf_counter()
    session.open_group(pos2, to_scalars=True)
    if session.layout_pending:
        drawn.exec()
    while window.graph.building():  # every item made, the view placed: what the learner waits for
        app.processEvents(QEventLoop.WaitForMoreEvents, 50)
    opened_s = time.perf_counter() - t
    session.view_changed.disconnect(drawn.quit)
    app.processEvents()
    probe.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:]) if b <= t]        # opening, then Esc
    draw_gaps = [b - a for a, b in zip(ticks, ticks[1:]) if b > t]    # opening again, to the last item drawn
    session.collapse_all()
    app.processEvents()
    window.graph.first_view()  # as the recording first showed it, for the screen figures that follow
    return {'expand_position_boxes': boxes,
            'expand_position_window_ms': ms(opened_s),
            'expand_position_max_stall_ms': ms(max(gaps, default=0.005) - 0.005),
            'expand_position_draw_max_stall_ms': ms(max(draw_gaps, default=0.005) - 0.005),
            'expand_position_cancel_ms': ms(answered[0] - pressed[0]) if answered else None}


def layout_figures(h, trace):
    """Opening each closed group of the overview in turn: the worst layout time (engine.graph.layout's part) with no cached group
    layouts and with the cache warm, and the pairs of other boxes whose order flips (0: in place);
    pos 2 opened to scalars: its layout time from cold, and its Graphviz runs."""
    from engine.graph import layout as L
    overview = h.overview()
    L.clear_cache()
    before = layout(h.visible(overview))
    worst = {False: 0.0, True: 0.0}
    flips = 0
    closed = [b.scope for b in h.visible(overview).boxes if b.node < 0]
    for cached in (False, True):
        for s in closed:
            if not cached:
                L.clear_cache()
            visible = h.visible(overview | {s})  # grouping's part, the same with or without the cache
            t = time.perf_counter()
            lay = layout(visible)
            worst[cached] = max(worst[cached], time.perf_counter() - t)
            if not cached:
                flips += L.order_flips(before, lay)
    pos2 = h.visible(overview | set(h.descendants(trace.scope_id('pos 2'))))
    L.clear_cache()
    t = time.perf_counter()
    lay = layout(pos2)
    expand = time.perf_counter() - t
    return {'layout_order_flips': flips, 'open_any_group_max_ms': ms(worst[False]),
            'open_any_group_cached_max_ms': ms(worst[True]), 'expand_position_layout_ms': ms(expand),
            'expand_position_graphviz_runs': len(lay.runs), 'expand_position_max_run_boxes': max(lay.runs, default=0)}


def training_figures(app, window, tmp, steps=200):
    """Training in the window (a child process) against the same steps run as `main.py train` runs them,
    and the longest the window's event loop waited meanwhile (a 10 ms timer's worst lateness)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from engine.data import find_names, load_docs
    from engine.model import GPTConfig
    from engine.optim import TrainConfig
    from engine.train import Trainer
    data = find_names() or (ROOT.parent / 'shared' / 'data' / 'names.txt')
    if not data.is_file():
        data = tmp / 'names.txt'
        data.write_text('\n'.join(['emma', 'olivia', 'ava', 'isabella', 'sophia', 'mia', 'charlotte']) + '\n')
    trainer = Trainer(load_docs(data), GPTConfig(), TrainConfig(num_steps=steps))
    t = time.perf_counter()
    for _ in trainer.run():
        pass
    cli_rate = steps / (time.perf_counter() - t)

    panel = window.training
    panel.set_dataset(str(data))
    panel.fields['steps'].setValue(steps)
    times, lateness = [], []
    clock = [time.perf_counter()]

    def probe():
        now = time.perf_counter()
        lateness.append(now - clock[0] - 0.010)
        clock[0] = now
    timer = QTimer()
    timer.timeout.connect(probe)
    done = QEventLoop()
    panel.start()
    panel.run.step.connect(lambda *_: times.append(time.perf_counter()))
    panel.run.finished.connect(lambda *_: done.quit())
    panel.run.failed.connect(lambda *_: done.quit())
    timer.start(10)
    done.exec()
    timer.stop()
    app_rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {'train_app_steps_per_s': round(app_rate, 1), 'train_cli_steps_per_s': round(cli_rate, 1),
            'train_app_vs_cli': round(app_rate / cli_rate, 2), 'train_max_stall_ms': ms(max(lateness, default=0))}


def timeline_run():
    """timeline_figures in a window of its own, in a process of its own, as a learner opens the app and scrubs
    (the other figures' windows, views and memory left out of it)."""
    env = dict(os.environ, QT_QPA_PLATFORM='offscreen')
    code = f'import sys; sys.path.insert(0, {str(ROOT)!r}); from explorer.bench import timeline_main; timeline_main()'
    done = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=1200, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def timeline_main():
    """The window as window_figures makes it (1400×900, 'emma' recorded), then timeline_figures as one JSON line."""
    os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from explorer.main_window import MainWindow
    from explorer.state.session import Session
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        session = Session()
        window = MainWindow(session, QSettings(str(Path(tmp) / 'bench.ini'), QSettings.IniFormat))
        window.resize(1400, 900)
        window.show()
        session.load_checkpoint()
        loop = QEventLoop()
        session.view_changed.connect(loop.quit)
        session.record('emma')
        loop.exec()
        app.processEvents()
        print(json.dumps(timeline_figures(app, window)), flush=True)
        window.close()
        session.worker.wait()


def timeline_figures(app, window, samples=10):
    """Issue 21, the training timeline in the window, end to end: from the slider moved (as a key or a drag
    moves it) to the graph's frame painted with that step's numbers, once the history has been checked
    against its run (in the background, once per file). The next step from the one shown, a step seen a
    moment before, any step (nothing of the history's replay kept: `History.forget`), the worst of
    `samples` each; Play from step 0 to the end: how long, how many steps it showed, and the processor time
    the window's process took meanwhile (its replay-ahead child runs on another core)."""
    import random

    from PySide6.QtCore import QEventLoop, QTimer
    timeline, panel = window.timeline, window.timeline_panel
    wait = QEventLoop()
    timeline.checked.connect(wait.quit)
    QTimer.singleShot(300000, wait.quit)
    window.docks['timeline_dock'].raise_()
    timeline.ensure_loaded()
    wait.exec()
    frames = TimelineFrames(app, window)
    rng, history = random.Random(21), timeline.history
    steps = rng.sample(range(1, history.step - 1), samples)
    nexts, seen, cold = [], [], []
    for s in steps:
        frames.go(s)
        nexts.append(frames.go(s + 1))
        seen.append(frames.go(s))      # shown a moment ago
    for s in steps:
        history.forget()
        cold.append(frames.go(rng.randrange(history.step)))
    frames.go(0)
    frames.settled.clear()
    done = QEventLoop()
    panel.play_button.toggled.connect(lambda on: None if on else done.quit())
    t, cpu = time.perf_counter(), time.process_time()
    panel.play_button.setChecked(True)
    done.exec()
    play_s, play_cpu = time.perf_counter() - t, time.process_time() - cpu
    shown = len({s for s, _ in frames.settled})
    frames.close()
    return {'timeline_next_step_ms': ms(max(nexts)), 'timeline_next_step_ms_p50': ms(sorted(nexts)[samples // 2]),
            'timeline_seen_step_ms': ms(max(seen)), 'timeline_any_step_ms': ms(max(cold)),
            'timeline_any_step_ms_p50': ms(sorted(cold)[samples // 2]),
            'timeline_play_s': round(play_s, 1), 'timeline_play_steps_shown': shown,
            'timeline_play_cpu_s': round(play_cpu, 1)}  # the window's process alone, whatever else the machine runs


class TimelineFrames:
    """When the graph paints, and when the timeline says a step is shown whole: `go(step)` is the seconds from
    the slider set to the graph's first frame painted after that step is in."""

    def __init__(self, app, window):
        from PySide6.QtCore import QEvent, QObject
        self.app, self.window, self.painted, self.settled = app, window, [], []
        painted = self.painted

        class Paints(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Paint:
                    painted.append(time.perf_counter())
                return False
        self.filter = Paints()
        window.graph.viewport().installEventFilter(self.filter)
        window.timeline.settled.connect(self._on_settled)

    def _on_settled(self, step):
        self.settled.append((step, time.perf_counter()))

    def go(self, step):
        from PySide6.QtCore import QEventLoop
        self.settled.clear()
        t = time.perf_counter()
        self.window.timeline_panel.set_step(step)
        while not (self.settled and self.settled[-1][0] == step and not self.window.graph.building()):
            self.app.processEvents(QEventLoop.WaitForMoreEvents, 5)
        at = self.settled[-1][1]
        while not any(p >= at for p in self.painted):
            self.app.processEvents(QEventLoop.WaitForMoreEvents, 5)
        return min(p for p in self.painted if p >= at) - t

    def close(self):
        self.window.graph.viewport().removeEventFilter(self.filter)
        self.window.timeline.settled.disconnect(self._on_settled)


def attention_view_figures(app, window):
    """The attention panel's other views: the token lines' paint, one query's page (built and shown)."""
    panel = window.attention
    panel.tabs.setCurrentWidget(panel.split if panel.wide else panel.lines)
    app.processEvents()
    lines, steps = [], []
    for _ in range(10):
        t = time.perf_counter()
        panel.lines.lines.repaint()
        lines.append(time.perf_counter() - t)
    for _ in range(10):
        t = time.perf_counter()
        panel.show_query(0, 1, window.session.trace.n - 1)
        app.processEvents()
        steps.append(time.perf_counter() - t)
    return {'token_lines_paint_ms': ms(sorted(lines)[5]), 'query_steps_show_ms': ms(sorted(steps)[5])}
def gradient_figures(model, trace):
    """Issue 13: nudging wte[4][3] (both sides, on the tape) and checking all 4,192 parameters."""
    from engine.gradient.gradcheck import iter_gradcheck
    from engine.model import finish
    from engine.gradient.nudge import Tape
    from engine.gradient.provenance import resolve
    tape = Tape(trace)
    node = resolve(trace, 'wte[4][3]')
    nudge_s, _ = timed(lambda: tape.nudge(node, 1e-4))
    check_s, _ = timed(lambda: finish(iter_gradcheck(model, trace)), 1)
    return {'nudge_wte_ms': ms(nudge_s), 'gradcheck_s': round(check_s, 1)}
def history_figures():
    """The shipped run's history: its size, how long loading it takes, and reaching a step (weights,
    gradients, Adam state) over a spread of steps: snapshot steps (the slowest: their gradient is
    replayed from the snapshot before) and steps between them."""
    from engine import history as history_io
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    path = history_io.history_path(DEFAULT_CHECKPOINT)
    load_s, history = timed(lambda: history_io.load_for(DEFAULT_CHECKPOINT, ckpt), 1)
    steps = sorted(set(range(1, history.step + 1, 37)) | {8, 500, history.step})
    def cold(s):  # what seek keeps is dropped first: a step never reached before
        history.forget()
        return history.seek(s)
    seeks = sorted(timed(lambda s=s: cold(s))[0] for s in steps)  # best of 3 each: the machine is shared
    cpu = []
    for s in steps:  # the processor time alone: what a seek costs whatever else the machine runs
        history.forget()
        t = time.process_time()
        history.seek(s)
        cpu.append(time.process_time() - t)
    nexts = []
    for s in steps[:-1]:  # play: the step after the one shown (replays one step from the last seek)
        history.forget()
        history.seek(s)
        t = time.perf_counter()
        history.seek(s + 1)
        nexts.append(time.perf_counter() - t)
    nexts.sort()
    return {'history_mb': round(path.stat().st_size / 2**20, 1), 'history_load_ms': ms(load_s),
            'history_seek_ms': ms(seeks[-1]), 'history_seek_p95_ms': ms(seeks[int(0.95 * (len(seeks) - 1))]),
            'history_seek_median_ms': ms(seeks[len(seeks) // 2]), 'history_seek_cpu_ms': ms(max(cpu)),
            'history_seek_next_ms': ms(nexts[-1]), 'history_seek_next_median_ms': ms(nexts[len(nexts) // 2])}


def main(argv=()):
    history = history_figures()  # first, in a process that has not built windows and traces yet
    model = ckpt_io.load(DEFAULT_CHECKPOINT).model
    doc = 'emma'
    record_s, trace = timed(lambda: record(model, doc))
    h = Hierarchy(trace)
    overview = h.overview()
    overview_s, lay = timed(lambda: layout(h.visible(overview)))
    head = trace.scope_id('pos 2 / layer 0 / attention / head 1')
    opened = h.open_path(head, overview) | {head}
    head_s, _ = timed(lambda: layout(h.visible(opened)))
    layouts = layout_figures(h, trace)
    long_s, long_trace = timed(lambda: record(model, LONG_NAME), 1)
    csv_s, _ = timed(lambda: attention_csv(trace))            # with a full backward pass
    long_csv_s, _ = timed(lambda: attention_csv(long_trace), 1)
    fused = training_step_ms(model, doc, literal=False)
    literal = training_step_ms(model, doc, literal=True)
    backends = backend_figures()  # scalar_step_ms, numpy_step_ms, numpy_batched_tokens_per_s side by side
    backends.update(mini_gpt_figures())  # mini_gpt_100_iters_s: the mini GPT's 100 iterations, batch 32, 1 MB
    backends.update(numpy_history_figures())  # numpy_history_seek_ms: the middle of its history's interval, cold
    backends.update(large_figures())  # large_tokens_per_s: the large recipe with torch on the CPU (None without it)
    gradient = gradient_figures(model, trace)
    stepping = window_figures(doc)
    timeline = timeline_run()
    first_paint, rss = app_run(doc)
    first_paint_long, rss_long = app_run(LONG_NAME)
    out = {
        'doc': doc, 'scalars': len(trace), 'record_ms': ms(record_s),
        'overview_boxes': len(lay.boxes), 'overview_layout_ms': ms(overview_s),
        'open_head_layout_ms': ms(head_s), **layouts,
        'first_paint_ms': first_paint, 'scene_items': len(lay.boxes) + len(lay.edges) + len(lay.clusters),
        'peak_rss_mb': rss,
        'long_doc': LONG_NAME, 'long_scalars': len(long_trace), 'long_record_ms': ms(long_s),
        'long_first_paint_ms': first_paint_long, 'long_peak_rss_mb': rss_long,
        'attention_csv_ms': ms(csv_s), 'long_attention_csv_ms': ms(long_csv_s),
        'train_step_ms': ms(fused), 'literal_graph_step_ms': ms(literal),
        'train_vs_literal_ratio': round(fused / literal, 3), **backends,
        **gradient,
        **stepping,
        **timeline,
        **history,
        'bench_peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(out))
    return 0
