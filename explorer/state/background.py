"""One piece of engine work on a thread of its own, reported as signals (superqt's GeneratorWorker shape).

The engine gives a function; if it returns a generator, each yielded item is reported as `yielded`
and `abort()` is checked between items, so a long loop stops within one item. The return value
(the generator's, or the function's) comes as `returned`, an exception as `failed`. Everything is
delivered on the UI thread; after `abort()` nothing more is delivered.
"""

import types

from PySide6.QtCore import QObject, QRunnable, Signal


class BackgroundJob(QObject):
    yielded = Signal(object)
    returned = Signal(object)
    failed = Signal(object)   # the exception

    def __init__(self, fn, parent=None):
        super().__init__(parent)
        self._fn = fn
        self.aborted = False
        self.running = False
        self.yielded.connect(self._forward_yielded)   # relays that drop what arrives after abort()
        self.returned.connect(lambda value: self._done(self.on_returned, value))
        self.failed.connect(lambda error: self._done(self.on_failed, error))
        self.on_yielded = self.on_returned = self.on_failed = None

    def start(self, pool, on_yielded=None, on_returned=None, on_failed=None):
        self.on_yielded, self.on_returned, self.on_failed = on_yielded, on_returned, on_failed
        self.running = True
        pool.start(_Run(self))
        return self

    def abort(self):
        self.aborted = True

    def _forward_yielded(self, item):
        if not self.aborted and self.on_yielded:
            self.on_yielded(item)

    def _done(self, handler, value):
        self.running = False
        if handler and not self.aborted:
            handler(value)

    def _run(self):  # on the pool's thread
        try:
            result = self._fn()
            if isinstance(result, types.GeneratorType):
                while not self.aborted:
                    try:
                        item = next(result)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    self.yielded.emit(item)
                else:
                    result.close()
                    result = None
        except Exception as e:  # delivered to the UI, never lost in the thread
            self.failed.emit(e)
        else:
            self.returned.emit(result)


class _Run(QRunnable):
    def __init__(self, job):
        super().__init__()
        self.job = job

    def run(self):
        self.job._run()
