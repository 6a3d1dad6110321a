"""Running engine work off the UI thread: one background thread, results delivered as signals.

Jobs run on one worker thread, in order. A job whose result is no longer wanted (a newer request of
the same kind came in, or it was cancelled) is dropped when it arrives. A job that is a generator
(engine.trace.iter_record) reports each value it yields as progress and, once abandoned, is stopped
at its next yield (superqt's GeneratorWorker); its return value is the result. Layouts do not run
here: Graphviz holds the interpreter, so they run in a child process (engine.graph.layout_process).
"""

import inspect
import threading

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(int, object)
    failed = Signal(int, object)
    progress = Signal(int, object)
    dropped = Signal(int)


class _Job(QRunnable):
    def __init__(self, ticket, fn, signals):
        super().__init__()
        self.ticket, self.fn, self.signals = ticket, fn, signals
        self.abandoned = threading.Event()

    def run(self):
        try:
            if self.abandoned.is_set():
                self.signals.dropped.emit(self.ticket)
                return
            result = self.fn()
            if inspect.isgenerator(result):
                steps, result = result, None
                while True:
                    if self.abandoned.is_set():
                        steps.close()
                        self.signals.dropped.emit(self.ticket)
                        return
                    try:
                        self.signals.progress.emit(self.ticket, next(steps))
                    except StopIteration as stop:
                        result = stop.value
                        break
        except Exception as e:  # delivered to the UI, which shows it; never lost in the thread
            self.signals.failed.emit(self.ticket, e)
        else:
            self.signals.done.emit(self.ticket, result)


class Worker(QObject):
    """`submit(kind, fn, on_done, on_error, on_progress)`: run fn in the background; only the latest
    of a kind reports, and a newer one abandons a generator job of the same kind."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._ticket = 0
        self._latest = {}     # kind -> ticket
        self._jobs = {}       # ticket -> _Job
        self._callbacks = {}  # ticket -> (kind, on_done, on_error, on_progress)
        self.signals = _Signals()
        self.signals.done.connect(self._on_done)
        self.signals.failed.connect(self._on_failed)
        self.signals.progress.connect(self._on_progress)
        self.signals.dropped.connect(self._on_dropped)

    def submit(self, kind, fn, on_done, on_error=None, on_progress=None):
        self.cancel(kind)
        self._ticket += 1
        self._latest[kind] = self._ticket
        self._callbacks[self._ticket] = (kind, on_done, on_error, on_progress)
        job = self._jobs[self._ticket] = _Job(self._ticket, fn, self.signals)
        self.pool.start(job)
        return self._ticket

    def cancel(self, kind):
        """Drop the result of the running job of this kind; a generator job stops at its next yield.
        Returns True if there was one."""
        ticket = self._latest.pop(kind, None)
        job = self._jobs.get(ticket)
        if job is not None:
            job.abandoned.set()
        return ticket in self._callbacks

    def pending(self, kind):
        """True while the latest job of this kind has not reported."""
        return self._latest.get(kind) in self._callbacks

    def busy(self):
        return bool(self._callbacks)

    def wait(self, msecs=-1):
        return self.pool.waitForDone(msecs)

    def _take(self, ticket):
        self._jobs.pop(ticket, None)
        kind, on_done, on_error, _ = self._callbacks.pop(ticket)
        return (on_done, on_error) if self._latest.get(kind) == ticket else (None, None)

    def _on_done(self, ticket, result):
        on_done, _ = self._take(ticket)
        if on_done:
            on_done(result)

    def _on_failed(self, ticket, error):
        _, on_error = self._take(ticket)
        if on_error:
            on_error(error)

    def _on_progress(self, ticket, value):
        kind, _, _, on_progress = self._callbacks.get(ticket, (None, None, None, None))
        if on_progress and self._latest.get(kind) == ticket:
            on_progress(value)

    def _on_dropped(self, ticket):
        self._take(ticket)
