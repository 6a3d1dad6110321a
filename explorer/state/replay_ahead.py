"""ReplayAhead: while the timeline plays, a child process replays the run a few steps ahead of it
(engine.job.replay_process) and the steps it sends wait in the history (History.offer), so the seek of the
next step finds its weights there: the training step that replay costs (~15 ms) runs on another core, not
between the window's frames. Nothing it sends is shown as it comes: the timeline still asks for each step."""

import multiprocessing

from PySide6.QtCore import QObject

from engine import checkpoint as ckpt_io
from engine.job import ChildJob, replay_process

from explorer.state.job_watcher import JobWatcher

POLL_MS = 10  # how often the child's steps are taken in


class ReplayAhead(QObject):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.job = self.watcher = self.history = None
        self._asked = None  # the shared int: the step the window asked for last

    @property
    def running(self):
        return self.job is not None

    def start(self, history, run, step):
        """Replay `history` (of the Checkpoint `run`, read from its history_file) from `step` on; a history
        not yet known to replay as recorded is checked stretch by stretch in the child first."""
        self.stop()
        ctx = multiprocessing.get_context('spawn')
        self.history, self.job, self._asked = history, ChildJob(), ctx.Value('i', step, lock=False)
        self.watcher = JobWatcher(self.job, POLL_MS, self)
        self.watcher.message.connect(self._on_message)
        self.watcher.vanished.connect(self.stop)
        self.job.start(replay_process, ckpt_io.to_json(run), str(run.history_file), history.sha256, step,
                       history.trusted, self.job.messages, self._asked, self.job.stop_event)
        self.watcher.start()

    def ask(self, step):
        """The window asked for `step`: the child goes on to AHEAD steps beyond it."""
        if self._asked is not None:
            self._asked.value = step

    def stop(self):
        if self.job is not None:
            self.watcher.stop()
            self.job.stop_event.set()
            self.job.kill()
        self.job = self.watcher = self.history = self._asked = None

    def _on_message(self, message):
        if message[0] == 'state':
            self.history.offer(message[1])
        else:  # the child's replay disagreed: the window's own replay says so when it gets there
            self.stop()
