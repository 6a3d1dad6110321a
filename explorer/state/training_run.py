"""One training run in a second process (engine.job), seen from the window as Qt signals.

The child process uses the second core and can never stall the window; the window reads its queue
on a timer.
"""

import time

from PySide6.QtCore import QObject, Signal

from engine import checkpoint as ckpt_io
from engine.job import ChildJob, train_process

from explorer.state.job_watcher import JobWatcher


class TrainingRun(QObject):
    """One training run in a child process; `step` per step, `finished` with the checkpoint at the end."""

    started = Signal(int, int, int)          # docs, vocab size, params
    step = Signal(int, int, float, str)      # step, num_steps, loss, doc
    finished = Signal(object, str, object)   # Checkpoint, why ('finished', 'stopped' or a sentence), every loss
    failed = Signal(str)

    def __init__(self, data_path, model_config, train_config, parent=None, backend='scalar'):
        super().__init__(parent)
        self.job = ChildJob()
        self._args = (str(data_path), model_config.to_dict(), train_config.to_dict(),
                      self.job.messages, self.job.pause_event, self.job.stop_event, backend)
        self.watcher = JobWatcher(self.job, 30, self)
        self.watcher.message.connect(self._on_message)
        self.watcher.vanished.connect(
            lambda: self.failed.emit('The training process ended without a word; nothing was changed.'))

    @property
    def running(self):
        return self.watcher.running

    def start(self):
        self.job.start(train_process, *self._args)
        self.watcher.start()

    def pause(self, paused=True):
        self.job.pause_event.set() if paused else self.job.pause_event.clear()

    @property
    def paused(self):
        return self.job.pause_event.is_set()

    def stop(self):
        """Ask the child to stop after its current step; `finished` still brings the weights."""
        self.job.stop_event.set()
        self.job.pause_event.clear()

    def wait(self, timeout=10.0):
        """Stop and wait for the weights (closing the window while training)."""
        self.stop()
        end = time.monotonic() + timeout
        while self.running and time.monotonic() < end:
            self.watcher.poll(block=True)
        self.job.terminate()

    def _on_message(self, message):
        kind = message[0]
        if kind == 'started':
            self.started.emit(*message[1:])
        elif kind == 'step':
            self.step.emit(*message[1:])
        elif kind == 'done':
            self.watcher.stop()
            ckpt = ckpt_io.from_json(message[2])
            ckpt.history_file, ckpt.history_sha256 = message[3], message[4]  # loaded only if unchanged
            self.finished.emit(ckpt, message[1], message[5])
        elif kind == 'failed':
            self.watcher.stop()
            self.failed.emit(message[1])
