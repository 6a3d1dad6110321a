"""JobWatcher: an engine.job.ChildJob seen from the window. A timer reads the child's queue (at most 15 ms a
tick, so the window stays smooth) and hands each message on as a Qt signal; a child that died without a last
word is said once (`vanished`)."""

import time

from PySide6.QtCore import QObject, QTimer, Signal


class JobWatcher(QObject):
    message = Signal(object)   # a tuple the child put on its queue
    vanished = Signal()        # the child is gone and its queue is empty, and stop() was not called

    def __init__(self, job, interval, parent=None):
        super().__init__(parent)
        self.job = job
        self.timer = QTimer(self)
        self.timer.setInterval(interval)
        self.timer.timeout.connect(self.poll)
        self.running = False

    def start(self):
        self.running = True
        self.timer.start()

    def stop(self):
        """Read no more (the owner has its result, or gave up on the child)."""
        self.running = False
        self.timer.stop()

    def poll(self, block=False):
        """Hand on what the child said; with block, wait for it (0.1 s at a time) until stop() or the child is gone."""
        deadline = time.monotonic() + 0.015
        while self.running and (block or time.monotonic() < deadline):
            message = self.job.next_message(0.1 if block else None)
            if message is None:
                if not self.job.is_alive() and self.job.empty():
                    self.stop()
                    self.vanished.emit()
                return
            self.message.emit(message)
