"""The explorer application: `python main.py [--doc NAME] [--checkpoint FILE] [--screenshot OUT.png] [--size WxH]`."""

import argparse
import gc
import os
import re
import signal
import sys
import time

from engine import gc_pause
from engine.cli.parsing import Parser, UsageError
from engine.paths import DEFAULT_CHECKPOINT

from explorer.display import no_display_message, no_display_reason

SCREENSHOT_SIZE = (1400, 900)  # --screenshot's window without --size: the same picture on every machine
SIZES = range(200, 16385)      # pixels a side --size takes


def window_size(text):
    """--size: 'WxH' in pixels, e.g. 1280x720."""
    m = re.fullmatch(r'\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*', text)
    if not m or int(m[1]) not in SIZES or int(m[2]) not in SIZES:
        raise argparse.ArgumentTypeError(f'{text!r} is not a size WxH of {SIZES.start} to {SIZES.stop - 1} '
                                         'pixels a side, e.g. 1280x720')
    return int(m[1]), int(m[2])


def positions(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f'must be a whole number ≥ 1, not {text!r}')
    return int(text)


def part_asker(positions, ask, session):
    """Session.ask_part: `positions` (--positions K) answers the first question only, `ask` (the dialog, or None:
    the suggested part) every later one, so Enter in the document field asks to record more."""
    if positions is None:
        return ask

    def first(doc, model, whole):
        session.ask_part = ask
        return positions
    return first


def first_recording(session, doc):
    """Record `doc`, or 'emma' when the model cannot read it; a document the user chose not to record (the
    question of a model too large to record it whole) is left so, not asked about twice."""
    if not session.record(doc) and not session.model.tokenizer.can_read(doc):
        session.record('emma')


def parse(argv):
    parser = Parser(prog='main.py', description='microgpt explorer')
    parser.add_argument('--doc', default='emma', help='the document to record (default: emma)')
    parser.add_argument('--checkpoint', default=str(DEFAULT_CHECKPOINT), help='weights to load (JSON)')
    parser.add_argument('--screenshot', metavar='OUT.png', help='render the window offscreen to a PNG and exit')
    parser.add_argument('--size', type=window_size, metavar='WxH',
                        help='the window\'s size in pixels, e.g. 1280x720 (default: as last time; with '
                             '--screenshot %dx%d)' % SCREENSHOT_SIZE)
    parser.add_argument('--open', action='append', default=[], metavar='SCOPE',
                        help="open a scope path, e.g. 'pos 2 / layer 0 / attention / head 1' (repeatable)")
    parser.add_argument('--step', type=int, default=0, metavar='K',
                        help='run backprop to step K before showing (with --screenshot: before the picture)')
    parser.add_argument('--theme', choices=('light', 'dark'), help='colours to use (default: as last time)')
    parser.add_argument('--select', metavar='KEY', help="select a box by key, e.g. 'n43089' or 'g740'")
    parser.add_argument('--tour', metavar='FILE', help='play a tour (with --screenshot: its first step)')
    parser.add_argument('--positions', type=positions, metavar='K',
                        help='a model too large to record a document whole: record its first K positions at '
                             'the start (the window asks about any later one; with --screenshot and without '
                             '--positions, as many as record in seconds)')
    return parser.parse_args(argv)


def main(argv):
    try:
        args = parse(argv)
    except UsageError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    if args.tour and not _tour_playable(args.tour):
        return 2
    if args.screenshot:
        os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
    # numpy's work in the window is one document at a time (a large model's attention, its sampler): matrices
    # of at most block_size rows, where OpenBLAS's threads only fight the window, the layout process and a
    # training run for the cores (a 64-position forward pass: 86 ms on one thread, 1 s on two under load).
    os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
    reason = no_display_reason(os.environ)
    if reason:
        print(no_display_message(reason), file=sys.stderr)
        return 2
    _collector.hold()
    try:
        return _run(args)
    finally:
        _collector.release(freeze=False)


def _tour_playable(path):
    """--tour: the file read and every name in it checked on its recording; else one sentence on stderr."""
    from engine import tours
    from explorer.tours.room import KNOWN
    try:
        tours.prepare(tours.load(path), KNOWN)
    except tours.TourError as e:
        print(f'error: {e}', file=sys.stderr)
        return False
    return True


def _run(args):
    from engine.graph.layout_process import LayoutClient
    layouter = LayoutClient()  # on the other core, while Qt and the window load here, its child loads
    layouter.record(args.checkpoint, args.doc)  # Graphviz and records the document (the session checks it)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from explorer import part_dialog
    from explorer.main_window import MainWindow
    from explorer.state.session import Session
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName('microgpt-explorer')
    app.setApplicationName('microgpt explorer')
    app.setStyle('Fusion')
    handlers = _exit_on_signals(app)
    session = Session(layouter=layouter)
    settings = None
    if args.screenshot:  # the same picture on every machine: default size, user settings untouched
        from PySide6.QtCore import QSettings
        import tempfile
        settings = QSettings(os.path.join(tempfile.mkdtemp(), 'screenshot.ini'), QSettings.IniFormat)
    window = MainWindow(session, settings)
    session.ask_part = part_asker(args.positions, None if args.screenshot else part_dialog.asker(window, session),
                                  session)
    size = args.size or (SCREENSHOT_SIZE if args.screenshot else None)
    if size:
        window.resize(*size)
    if args.theme:
        window.dark_act.setChecked(args.theme == 'dark')
        window.set_dark(args.theme == 'dark')
    if not session.load_checkpoint(args.checkpoint):
        if args.checkpoint == str(DEFAULT_CHECKPOINT) or not session.load_checkpoint(DEFAULT_CHECKPOINT):
            return 2
    window.show()
    _show_the_graph(args, app, session, window)
    QTimer.singleShot(15000, startup_done)  # a first graph that never comes (a recording that failed)
    code = app.exec()
    for s, handler in handlers.items():
        signal.signal(s, handler)  # main.py's again while the window goes
    session.worker.wait()
    del window, session  # before the interpreter tears Qt down
    return code


def _show_the_graph(args, app, session, window):
    """Once the window stands (its first paint: its panels in place, so the graph's first view is chosen
    for the room it really has), take the recording; open the --open scopes one layout after another; then
    step, select, report the first paint once the graph is drawn whole, and take the --screenshot."""
    from PySide6.QtCore import QTimer
    pending = list(args.open)

    def on_view():
        trace = session.trace
        while pending:
            path = pending.pop(0)
            scope = trace.scope_id(path)
            if scope is None:
                print(f'error: no scope {path!r} in the recording', file=sys.stderr)
                continue
            session.open_group(scope)
            return  # wait for that layout
        session.view_changed.disconnect(on_view)
        when_drawn(lambda: (report_first_paint(), startup_done()))
        if args.step:
            session.backprop.seek(args.step)
        if args.select:
            session.reveal(args.select)
        if args.tour:
            if args.screenshot:  # the tour's first step, drawn
                window.tours.player.step_shown.connect(lambda _: when_drawn(
                    lambda: QTimer.singleShot(250, take_screenshot)))
            window.tours.open_file(args.tour)
        elif args.screenshot:
            QTimer.singleShot(250, take_screenshot)  # docks that refresh on a timer catch up

    def when_drawn(then):  # every item of the view made (a build goes in slices), then painted
        if window.graph.building() or session.layout_pending:
            QTimer.singleShot(5, lambda: when_drawn(then))
        else:
            after_paint(window.graph.viewport(), then)

    def take_screenshot():
        if args.open and not args.tour:
            window.graph.zoom_to_selection()
        window.tours.spotlight.refresh()
        window.grab().save(args.screenshot)
        window.close()
        app.quit()

    def start_recording():
        window.document.field.setText(args.doc)  # the document the first recording (or its question) is about
        first_recording(session, args.doc)
    session.view_changed.connect(on_view)
    session.record_failed.connect(lambda message: print(f'error: {message}', file=sys.stderr))
    after_paint(window.graph.viewport(), start_recording)


def _exit_on_signals(app):
    """Ctrl-C and SIGTERM end the app with 130 and 143, as they end every command: the event loop stops
    without closing the window (no "save first?", nothing written); a timer lets Python see a signal while
    Qt waits for events. A signal before the loop runs ends it as soon as it starts. The handlers it replaced."""
    from PySide6.QtCore import QTimer
    stopping = []

    def on_signal(signum, frame):
        if not stopping:
            stopping.append(signum)
            QTimer.singleShot(0, lambda: app.exit(128 + signum))
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(s, on_signal)
    tick = QTimer(app)
    tick.timeout.connect(lambda: None)
    tick.start(200)
    return previous


def after_paint(widget, then):
    """Call then() once, right after the widget next paints (its window shown and exposed): a repaint
    asked for before the window is exposed paints nothing."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Watch(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Paint:
                watched.removeEventFilter(self)
                QTimer.singleShot(0, then)  # after this paint is done
            return False
    widget.installEventFilter(Watch(widget))
    widget.update()


class _Collector:
    """The cycle collector is paused (engine.gc_pause) from the start until the window has painted its first
    graph: the start made ~200 collections (~60 ms) of objects that were all still in use. Then what exists
    (Qt's and the modules' objects, the window, the first recording) lives as long as the app, so the collector
    stops walking it (gc.freeze) and collects again from there."""

    def __init__(self):
        self.holding = False

    def hold(self):
        if not self.holding:
            gc_pause.pause()
            self.holding = True

    def release(self, freeze=True):
        if self.holding:
            if os.environ.get('MICROGPT_GC_REPORT'):
                print('cyclic garbage at the first paint:', gc.collect(), file=sys.stderr)
            if freeze:
                gc.freeze()
            gc_pause.resume()
            self.holding = False


_collector = _Collector()


def startup_done():
    """The first graph is painted (or will not be): the collector is back."""
    _collector.release()


def report_first_paint():
    """For `bench`: the time from process start to the first painted graph, when asked for."""
    target = os.environ.get('MICROGPT_BENCH_REPORT')
    if target:
        # VmHWM is this process's own peak: ru_maxrss would include the parent's at fork time.
        with open('/proc/self/status') as status:
            rss_mb = next(int(line.split()[1]) for line in status if line.startswith('VmHWM')) / 1024
        with open(target, 'w') as f:
            f.write(f'{time.time()} {rss_mb}\n')
