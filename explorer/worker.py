"""Running engine work off the UI thread: one background thread, results delivered as signals.

Graphviz is not re-entrant, so every job runs on one worker thread, in order. A job whose result is
no longer wanted (a newer request of the same kind came in) is simply dropped when it arrives.
"""

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(int, object)
    failed = Signal(int, object)


class _Job(QRunnable):
    def __init__(self, ticket, fn, signals):
        super().__init__()
        self.ticket, self.fn, self.signals = ticket, fn, signals

    def run(self):
        try:
            result = self.fn()
        except Exception as e:  # delivered to the UI, which shows it; never lost in the thread
            self.signals.failed.emit(self.ticket, e)
        else:
            self.signals.done.emit(self.ticket, result)


class Worker(QObject):
    """`submit(kind, fn, on_done, on_error)`: run fn in the background; only the latest of a kind reports."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._ticket = 0
        self._latest = {}     # kind -> ticket
        self._callbacks = {}  # ticket -> (kind, on_done, on_error)
        self.signals = _Signals()
        self.signals.done.connect(self._on_done)
        self.signals.failed.connect(self._on_failed)

    def submit(self, kind, fn, on_done, on_error=None):
        self._ticket += 1
        self._latest[kind] = self._ticket
        self._callbacks[self._ticket] = (kind, on_done, on_error)
        self.pool.start(_Job(self._ticket, fn, self.signals))
        return self._ticket

    def cancel(self, kind):
        """Drop the result of the running job of this kind when it comes (the thread itself runs on)."""
        self._latest.pop(kind, None)

    def pending(self, kind):
        """True while the latest job of this kind has not reported."""
        return self._latest.get(kind) in self._callbacks

    def busy(self):
        return bool(self._callbacks)

    def wait(self, msecs=-1):
        return self.pool.waitForDone(msecs)

    def _take(self, ticket):
        kind, on_done, on_error = self._callbacks.pop(ticket)
        return (on_done, on_error) if self._latest.get(kind) == ticket else (None, None)

    def _on_done(self, ticket, result):
        on_done, _ = self._take(ticket)
        if on_done:
            on_done(result)

    def _on_failed(self, ticket, error):
        _, on_error = self._take(ticket)
        if on_error:
            on_error(error)
