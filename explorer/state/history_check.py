"""HistoryCheck: a history its checkpoint does not name by content (an older one, the shipped one) replayed
whole in a child process at low priority (engine.job.check_history_process), once per file on this machine:
the SHA-256s of the files checked are kept in the settings. Until it is done, each step the timeline reaches
is still checked as it is replayed (engine.history); when it is, the history is marked checked, so the loss
curve and update sizes it draws are the run's; a disagreement is one sentence (`failed`)."""

from PySide6.QtCore import QObject, QSettings, Signal

from engine import checkpoint as ckpt_io
from engine.job import ChildJob, check_history_process

from explorer.state.job_watcher import JobWatcher

KEY = 'timeline/checked_histories'
KEEP = 20  # files remembered as checked


class HistoryCheck(QObject):
    progress = Signal(float)   # the fraction of the run replayed
    checked = Signal()         # the whole history replays as it records
    failed = Signal(str)       # one sentence: where it does not

    def __init__(self, settings=None, parent=None):
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.job = self.watcher = self.history = None

    @property
    def running(self):
        return self.job is not None

    def start(self, history, run, path):
        """Check `history` (read from `path`, the history of the Checkpoint `run`), unless this file was."""
        self.cancel()
        if history.sha256 in self._known():
            history.mark_checked()
            self.checked.emit()
            return
        self.history, self.job = history, ChildJob()
        self.watcher = JobWatcher(self.job, 100, self)
        self.watcher.message.connect(self._on_message)
        self.watcher.vanished.connect(self.cancel)  # a child killed from outside: steps are still checked one by one
        self.job.start(check_history_process, ckpt_io.to_json(run), str(path), self.job.messages,
                       self.job.pause_event, self.job.stop_event)
        self.watcher.start()

    def cancel(self):
        """Stop a check under way (another checkpoint, the window closing)."""
        if self.job is not None:
            self.watcher.stop()
            self.job.stop_event.set()
            self.job.kill()
        self.job = self.watcher = self.history = None

    def _known(self):
        return [str(x) for x in (self.settings.value(KEY, [], type=list) or [])]

    def _on_message(self, message):
        kind, history = message[0], self.history
        if kind == 'progress':
            self.progress.emit(message[1])
            return
        self.cancel()
        if kind == 'checked' and message[1] == history.sha256:
            history.mark_checked()
            self.settings.setValue(KEY, [message[1], *[k for k in self._known() if k != message[1]]][:KEEP])
            self.checked.emit()
        elif kind == 'failed':
            self.failed.emit(message[1])
