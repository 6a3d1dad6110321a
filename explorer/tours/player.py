"""The tour player: a tour (engine.tours) played in the window, step by step (no widgets).

`TourPlayer` checks a tour off the UI thread (its checkpoint loaded, its document recorded, every name
resolved), keeps what the learner had (workspace, checkpoint, document, open groups, selection, backprop
step), puts the app in each step's state, watches for what a "do" step asks, scores predictions (kept per
tour in QSettings), and on leaving puts the learner's own state back. What it needs of the window comes in a
`Stage` (switch workspace, raise a panel, the names the window knows), so the player never holds the window.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine import tours as tour_io
from engine.graph.grouping import ROOT

from explorer.state.worker import Worker

SETTINGS = 'tours'  # tours/<tour>/<step>: the learner's answer to a prediction, as JSON


@dataclass
class Stage:
    """What the player may ask of the window."""
    switch_workspace: object    # name -> None
    workspace: object           # () -> the current workspace's name
    raise_panel: object         # title -> None
    known: tour_io.Known


@dataclass
class Kept:
    """The learner's own state, put back when the tour is left."""
    workspace: str
    checkpoint: object          # Path of the checkpoint in use, or None if the tour did not change it
    doc: str
    opened: frozenset
    show_constants: bool
    selected: str
    position: int
    training_step: int          # the step of the run shown (the timeline), or None


class TourPlayer(QObject):
    started = Signal()          # a tour is on (its first step follows)
    step_shown = Signal(int)    # the step (0-based) is in place: its state applied
    changed = Signal()          # something the panel shows changed (a do step done, an answer)
    left = Signal()             # the tour is over; the learner's state is being put back
    restored = Signal()         # the learner's state is back (their document recorded again, if it had to be)
    message = Signal(str)       # one sentence: why a tour cannot start

    def __init__(self, session, timeline, stage, settings, parent=None):
        super().__init__(parent)
        self.session, self.timeline, self.stage, self.settings = session, timeline, stage, settings
        self.worker = Worker(self)
        self.tour = None
        self.steps = ()
        self.index = 0
        self.completed = set()      # indexes of do steps the learner has done
        self.answers = {}           # index -> (answer, close, sentence), this time through
        self._kept = None
        self._pending = None        # what to do once the recording asked for is in
        session.recorded.connect(self._on_recorded)
        for signal in (session.view_changed, session.selection_changed, session.backprop.moved, timeline.step_changed):
            signal.connect(self._check_do)
        session.selection_changed.connect(self._check_choice)
        self._selected_at_step = None  # what was selected when the step was shown: a click after it answers
        self._applying = False

    @property
    def active(self):
        return self.tour is not None

    @property
    def step(self):
        return self.steps[self.index] if self.active else None

    # Starting and leaving

    def open_file(self, path):
        """Read a tour file and start it; one sentence (message) if it cannot be read."""
        try:
            tour = tour_io.load(path)
        except tour_io.TourError as e:
            self.message.emit(str(e))
            return False
        return self.start(tour)

    def start(self, tour):
        """Check `tour` in the background, then play it from its first step; the app is unchanged if it cannot be played."""
        if self.session.unsaved:
            self.message.emit('The weights trained here are not saved: save them first (File › Save checkpoint as…), '
                              'since a tour uses its own checkpoint.')
            return False
        if self.active:
            self.leave()
        known = self.stage.known
        self.worker.submit('prepare', lambda: tour_io.prepare(tour, known), lambda steps: self._begin(tour, steps),
                           lambda error: self.message.emit(str(error)))
        return True

    def _begin(self, tour, steps):
        s = self.session
        path = tour.checkpoint_path().resolve()
        shown = s.checkpoint_path and Path(s.checkpoint_path).resolve() == path and \
            self.timeline.step in (None, getattr(self.timeline.run, 'step', None))
        self._kept = Kept(self.stage.workspace(), None if shown else s.checkpoint_path, s.doc, s.opened,
                          s.show_constants, s.selected, s.backprop.position, self.training_step())
        self.tour, self.steps, self.index = tour, steps, 0
        self.completed, self.answers = set(), {}
        self.started.emit()
        if not shown:
            s.load_checkpoint(path)  # records the document in use again; the tour's follows
        self._when_recorded(tour.doc, lambda: self.go(0))

    def leave(self):
        """End the tour: the learner's workspace, checkpoint, document, open groups, selection and backprop step back."""
        if not self.active:
            return
        kept, self.tour, self.steps, self._pending = self._kept, None, (), None
        self.left.emit()
        s = self.session
        s.backprop.pause()
        if kept.workspace != self.stage.workspace():
            self.stage.switch_workspace(kept.workspace)
        if kept.checkpoint is not None:
            s.load_checkpoint(kept.checkpoint)

        def put_back():
            if kept.show_constants != s.show_constants:
                s.set_show_constants(kept.show_constants)
            s.set_open(kept.opened, focus=kept.selected)
            s.select(kept.selected)
            s.backprop.seek(kept.position)
            self.restored.emit()
        t = self.timeline
        if kept.checkpoint is None and t.history is not None and self.training_step() != kept.training_step:
            def settled(_step):  # the run's step the learner had (its weights recorded), then the rest
                t.settled.disconnect(settled)
                self._when_recorded(kept.doc, put_back)
            t.settled.connect(settled)
            t.go_to(kept.training_step if kept.training_step is not None else t.history.step)
        else:
            self._when_recorded(kept.doc, put_back)

    def training_step(self):
        """The step of the run whose weights are shown (None: the checkpoint's own, its last)."""
        t = self.timeline
        last = t.history.step if t.history is not None else None
        return None if t.step is None or t.step == last else t.step

    def _when_recorded(self, doc, then):
        """then() once `doc` is the recording in use (recorded now if it is not)."""
        s = self.session
        if s.recording is None and s.doc == doc and s.current is not None:
            self._pending = None
            then()
            return
        self._pending = (doc, then)
        if s.recording != doc and not s.record(doc):
            self._pending = None

    def _on_recorded(self):
        if self._pending is not None and self.session.doc == self._pending[0] and self.session.recording is None:
            then, self._pending = self._pending[1], None
            then()

    # Moving through the steps

    def go(self, index):
        """Show step `index` (0-based): its state applied, its do step not yet done."""
        if not self.active or not 0 <= index < len(self.steps):
            return
        self.index = index
        self.completed.discard(index)
        step = self.step
        s = self.session
        self._applying = True  # what the step selects is not the learner's click
        if step.workspace and step.workspace != self.stage.workspace():
            self.stage.switch_workspace(step.workspace)
        if step.opened or 'open' in self.tour.steps[index].get('state', {}):
            h = s.current.hierarchy
            opened = set(h.overview())
            for scope in step.opened:
                opened |= set(h.opening(scope)) | set(h.ancestors(scope))
            s.set_open(frozenset(opened) | {ROOT}, focus=step.target[1] if step.target and step.target[0] in
                       ('box', 'node') else None)
        if step.select:
            s.reveal(step.select)
        if step.backprop is not None:
            s.backprop.pause()
            s.backprop.seek(step.backprop)
        if step.training_step is not None:
            self._scrub(step.training_step)
        if step.panel:
            self.stage.raise_panel(step.panel)
        self._selected_at_step = step.select or s.selected  # (a reveal may select only once its layout is in)
        self._applying = False
        self.step_shown.emit(index)
        self.changed.emit()

    def _scrub(self, step):
        """The timeline to `step`, once the run's history is read (it is read the first time it is wanted)."""
        t = self.timeline
        if t.history is not None:
            t.go_to(step)
            return

        def loaded():
            t.loaded.disconnect(loaded)
            if self.active:
                t.go_to(step)
        t.loaded.connect(loaded)
        t.ensure_loaded()

    def next(self):
        """The next step, once this one is complete; after the last, leave the tour."""
        if not self.active or not self.can_go_on():
            return
        if self.index + 1 < len(self.steps):
            self.go(self.index + 1)
        else:
            self.leave()

    def back(self):
        if self.active and self.index > 0:
            self.go(self.index - 1)

    def can_go_on(self):
        """A show step always; a do step once done; a prediction once answered."""
        step = self.step
        if step.kind == 'do':
            return self.index in self.completed
        if step.kind == 'predict':
            return self.index in self.answers
        return True

    def now(self):
        s = self.session
        return tour_io.Now(s.opened, s.selected, s.backprop.position, self.timeline.step)

    def _check_do(self, *_):
        step = self.step
        if step is None or step.kind != 'do' or self.index in self.completed:
            return
        if tour_io.done(step.do, self.now()):
            self.completed.add(self.index)
            self.changed.emit()
        elif step.do[0] == 'reach':  # backprop on its way there: the panel says how far it is
            self.changed.emit()

    # Predictions

    def _check_choice(self):
        """'Which is largest': a click on one of the choices' cells (in the graph, a weight grid or a heatmap) answers."""
        step, selected = self.step, self.session.selected
        if step is not None and not self._applying and step.kind == 'predict' and step.predict.answer == 'largest' and \
                selected != self._selected_at_step and selected in step.predict.keys:
            self.answer(step.predict.keys.index(selected))

    def answer(self, value):
        """The learner's prediction for this step: scored against the recorded value and kept on this machine."""
        step = self.step
        if step is None or step.kind != 'predict' or self.index in self.answers:
            return None
        close, sentence = tour_io.score(step.predict, value)
        self.answers[self.index] = (value, close, sentence)
        self.settings.setValue(f'{SETTINGS}/{self.tour.ident}/{step.index}',
                               json.dumps({'answer': value, 'true': step.predict.true, 'close': close}))
        self.changed.emit()
        return close, sentence

    def record(self, tour=None):
        """(close, answered): the learner's predictions on this tour kept on this machine, every time through."""
        tour = tour or self.tour
        kept = [json.loads(self.settings.value(f'{SETTINGS}/{tour.ident}/{key}'))
                for key in self._answered_keys(tour)]
        return sum(1 for k in kept if k.get('close')), len(kept)

    def _answered_keys(self, tour):
        self.settings.beginGroup(f'{SETTINGS}/{tour.ident}')
        try:
            return list(self.settings.childKeys())
        finally:
            self.settings.endGroup()
