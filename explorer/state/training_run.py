"""One training run in a second process (engine.job), seen from the window as Qt signals.

The child process uses the second core and can never stall the window; the window reads its queue
on a timer.
"""

import multiprocessing
import queue
import time

from PySide6.QtCore import QObject, QTimer, Signal

from engine import checkpoint as ckpt_io
from engine.job import train_process


class TrainingRun(QObject):
    """One training run in a child process; `step` per step, `finished` with the checkpoint at the end."""

    started = Signal(int, int, int)          # docs, vocab size, params
    step = Signal(int, int, float, str)      # step, num_steps, loss, doc
    finished = Signal(object, str)           # Checkpoint, why ('finished', 'stopped' or a sentence)
    failed = Signal(str)

    def __init__(self, data_path, model_config, train_config, parent=None):
        super().__init__(parent)
        ctx = multiprocessing.get_context('spawn')  # a fresh interpreter: no Qt state copied into it
        self.messages = ctx.Queue()
        self.pause_event, self.stop_event = ctx.Event(), ctx.Event()
        self.process = ctx.Process(target=train_process, daemon=True,
                                   args=(str(data_path), model_config.to_dict(), train_config.to_dict(),
                                         self.messages, self.pause_event, self.stop_event))
        self.timer = QTimer(self)
        self.timer.setInterval(30)
        self.timer.timeout.connect(self._poll)
        self.running = False

    def start(self):
        self.process.start()
        self.running = True
        self.timer.start()

    def pause(self, paused=True):
        self.pause_event.set() if paused else self.pause_event.clear()

    @property
    def paused(self):
        return self.pause_event.is_set()

    def stop(self):
        """Ask the child to stop after its current step; `finished` still brings the weights."""
        self.stop_event.set()
        self.pause_event.clear()

    def wait(self, timeout=10.0):
        """Stop and wait for the weights (closing the window while training)."""
        self.stop()
        end = time.monotonic() + timeout
        while self.running and time.monotonic() < end:
            self._poll(block=True)
        if self.process.is_alive():
            self.process.terminate()

    def _poll(self, block=False):
        deadline = time.monotonic() + 0.015  # read for at most 15 ms per tick: the window stays smooth
        while time.monotonic() < deadline or block:
            try:
                message = self.messages.get(timeout=0.1) if block else self.messages.get_nowait()
            except queue.Empty:
                if block and not self.process.is_alive():
                    self._end()
                return
            kind = message[0]
            if kind == 'started':
                self.started.emit(*message[1:])
            elif kind == 'step':
                self.step.emit(*message[1:])
            elif kind == 'done':
                self._end()
                ckpt = ckpt_io.from_json(message[2])
                ckpt.history_file = message[3] if len(message) > 3 else None
                self.finished.emit(ckpt, message[1])
                return
            elif kind == 'failed':
                self._end()
                self.failed.emit(message[1])
                return
        if not self.process.is_alive() and self.messages.empty() and self.running:
            self._end()
            self.failed.emit('The training process ended without a word; nothing was changed.')

    def _end(self):
        self.running = False
        self.timer.stop()
