"""The training timeline as the views see it: the run's history (read when first wanted, off the UI
thread), the step shown, and moving to a step (seek in the background, then the session records the
probe document with those weights and keeps its layout).

Views (explorer.history.timeline_panel, adam_plot, embedding_plot) take a Timeline and listen to its signals.
"""

from PySide6.QtCore import QObject, Signal

from engine import gc_pause
from engine import history as history_io
from engine import history_files

from explorer.state.history_check import HistoryCheck
from explorer.state.replay_ahead import ReplayAhead
from explorer.state.worker import Worker

NO_HISTORY = ('This checkpoint has no training history beside it: train with the Training panel, or with '
              '`python3 main.py train --history-every K --out FILE`, to scrub through a run.')


class Timeline(QObject):
    loading = Signal()              # the history is being read
    loaded = Signal()               # self.history is in place
    unavailable = Signal(str)       # one sentence: why there is no history to scrub
    step_changed = Signal(int)      # the session now shows the weights after this step
    settled = Signal(int)           # the step asked for last is shown whole: its weights, the probe recorded with them
    seeking = Signal(int)           # a step was asked for and is on its way
    checking = Signal(float)        # the whole history is being replayed against what it records: how far
    checked = Signal()              # it replays as it records (or its checkpoint names it by content)

    def __init__(self, session, parent=None, settings=None):
        super().__init__(parent)
        self.session = session
        self.worker = Worker(self)      # its own thread: a seek never waits behind a recording
        self.check = HistoryCheck(settings, self)  # an older history, replayed whole once in a child process
        self.check.progress.connect(self.checking)
        self.check.checked.connect(self.checked)
        self.check.failed.connect(self.refuse)
        self.ahead = ReplayAhead(self)  # while playing: the next steps replayed in a child process
        self.history = None
        self.run = None                 # the Checkpoint whose history this is (the run's last step)
        self.step = None                # the step shown, or None when the run's own checkpoint is shown
        self.target = None              # the step asked for last
        self._settled = None            # (step, recording) last said to be shown whole
        self._jumped = False            # while playing, a step was asked for that was not the next one
        self._holding = False           # Play holds the cycle collector paused (engine.gc_pause)
        self.reason = NO_HISTORY
        self._wanted = False            # a view is shown that needs the history
        self._refused = False           # the history failed a check: not read again for this checkpoint
        session.checkpoint_changed.connect(self._on_checkpoint_changed)
        session.recorded.connect(self._settle)
        session.record_failed.connect(self._settle)

    @property
    def busy(self):
        """A step is on its way (seek or recording): play waits for it."""
        return self.target is not None and (self.target != self.step or self.session.recording is not None)

    def _on_checkpoint_changed(self):
        self.worker.cancel('load')
        self.worker.cancel('seek')
        self.check.cancel()
        self.ahead.stop()
        self.run, self.history, self.step, self.target = self.session.checkpoint, None, None, None
        self._settled = None
        self.reason, self._refused = NO_HISTORY, False
        if self._wanted:
            self.ensure_loaded()
        else:
            self.unavailable.emit('')  # views forget the old run; the history is read when one is shown

    def ensure_loaded(self):
        """Read the history of the checkpoint in use, if not yet (views call this when they are shown)."""
        self._wanted = True
        run = self.run if self.run is not None else self.session.checkpoint
        if run is None or self.history is not None or self.worker.pending('load'):
            return
        if self._refused:
            self.unavailable.emit(self.reason)
            return
        self.run = run
        path = getattr(run, 'history_file', None)
        if path is None:
            self.reason = NO_HISTORY
            self.unavailable.emit(NO_HISTORY)
            return
        self.loading.emit()
        self.worker.submit('load', lambda: history_files.load(path, run), self._on_loaded, self._on_failed)

    def _on_loaded(self, history):
        self.history = history
        self.loaded.emit()
        if history.bound:
            self.checked.emit()
        else:
            self.check.start(history, self.run, self.run.history_file)

    def _on_failed(self, error):
        self.refuse(str(error))

    def refuse(self, reason):
        """The history cannot be used (it could not be read, or replaying it disagreed with what it records):
        the run's own checkpoint is shown again and every view says why."""
        shown = self.step
        self.worker.cancel('seek')
        self.check.cancel()
        self.ahead.stop()
        self.history, self.step, self.target = None, None, None
        self.reason, self._refused = reason, True
        if shown is not None and self.run is not None and shown != self.run.step:
            self.session.show_weights(self.run)
        self.unavailable.emit(reason)

    def play(self, playing):
        """Play started or paused: while it plays, the steps after the one asked for are replayed ahead of
        it in a child process (ReplayAhead), off the window's interpreter."""
        history = self.history
        self._jumped = False
        if playing and history is not None and history.step > 0:
            at = self.target if self.target is not None else history.step
            self.ahead.start(history, self.run, min(history.step, at + 1))
        else:
            self.ahead.stop()
        self._hold_collector(playing and history is not None)

    def _hold_collector(self, hold):
        """While Play runs, the cycle collector waits (engine.gc_pause): each step makes ~60,000 tuples that live
        as long as the step is shown, which set off ~30 young and a full collection of the window's millions of
        objects every few steps, a third of a step's time. Nothing a step leaves is cyclic (a collection after
        150 steps finds 0 objects): reference counts free it as it goes. At pause the collector runs again."""
        if hold and not self._holding:
            gc_pause.pause()
        elif not hold and self._holding:
            gc_pause.resume()
        self._holding = hold

    def close(self):
        """The window is closing: no child process outlives it."""
        self._hold_collector(False)
        self.check.cancel()
        self.ahead.stop()

    def go_to(self, step):
        """Show the weights after `step` (0 … last); the graph keeps its layout."""
        history = self.history
        if history is None or step == self.target:
            return
        step = max(0, min(history.step, int(step)))
        if self.ahead.running:
            if step != (self.target or 0) + 1:
                self._jumped = True   # a drag or a key while playing: the replay ahead is elsewhere now
            elif self._jumped and step < history.step:
                self._jumped = False  # Play goes on from here: so does the replay ahead (once, not at every move)
                self.ahead.start(history, self.run, step + 1)
            self.ahead.ask(step)
        self.target = step
        self.seeking.emit(step)
        if step == history.step:  # the run's own checkpoint, exactly as loaded (saving it saves the run)
            self.worker.cancel('seek')  # a seek still on its way must not land after this and show its step
            self._on_sought(step, self.run)
            return
        seed, retrace = self.run.seed, self.session.retracer()
        if self.ahead.running and history.ready(step):  # Play, its step replayed ahead: all of it here and now,
            self.worker.cancel('seek')                     # not two threads taking turns on the interpreter
            ckpt = history_io.checkpoint_at(history, step, seed)
            self._on_sought(step, ckpt, retrace(ckpt.model) if retrace is not None else None)
            return

        def seek():  # off the UI thread: the step's weights and, if it can be, the probe recorded with them
            ckpt = history_io.checkpoint_at(history, step, seed)
            return ckpt, retrace(ckpt.model) if retrace is not None else None
        self.worker.submit('seek', seek, lambda got: self._on_sought(step, *got), self._on_failed)

    def _on_sought(self, step, ckpt, rec=None):
        self.step = step
        self.session.show_weights(ckpt, rec)
        self.step_changed.emit(step)
        self._settle()

    def _settle(self, *_):
        """Say `settled` once the step asked for last and the probe's recording with its weights are in (once
        for each: a new probe recorded at the same step says it again)."""
        shown = (self.step, self.session.current)
        if self.target is not None and self.step == self.target and self.session.recording is None and \
                shown != self._settled:
            self._settled = shown
            self.settled.emit(self.step)
