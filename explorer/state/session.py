"""The explorer's session as Qt sees it: the checkpoint, recording in the background, and signals.

What the session decides (the open set, layouts, selection, search) is explorer.state.session_model's
SessionModel, plain Python; this adapter owns the Qt parts — the worker thread that records, the
timer that brings layouts in from the layout process — and re-emits the model's events as signals.
Views take a Session, listen to its signals and change it only through its methods.
"""

import weakref
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from engine import checkpoint as ckpt_io
from engine.attention import WholeAttention
from engine import pair
from engine.errors import EngineError
from engine.backprop import Schedule
from engine.graph.grouping import Hierarchy
from engine.graph.layout_process import LayoutClient
from engine.history import history_path
from engine.paths import DEFAULT_CHECKPOINT
from engine.recording_cost import needs_asking, suggested_part
from engine.retrace import Retracer
from engine.trace import iter_record, made_by

from explorer.state.session_model import SessionModel
from explorer.state.backprop_player import BackpropPlayer
from explorer.state.worker import Worker

POLL_MS = 15  # how often a pending layout is looked for: the UI thread never waits on the child


class Recorded:
    """What one recording gives the views: the trace, its scope hierarchy and its backprop schedule."""

    _source = None  # a weak reference to the Recorded this one was retraced from
    attention_view = None  # a part recorded: engine.attention.WholeAttention, every position's attention
    model = None           # the weights it was recorded with (a view drawing them before the next recording is in)

    def __init__(self, trace, hierarchy=None, schedule=None, retracer=None):
        self.trace = trace
        self.hierarchy = hierarchy or Hierarchy(trace)
        self.schedule = schedule or Schedule(trace)  # it depends on the structure only
        self._retracer = retracer

    def fits(self, model, doc):
        """Whether `doc` through `model` is this recording with other numbers (another step's weights)."""
        return doc == self.trace.doc and model.config == self.trace.config and \
            model.tokenizer.vocabulary_text() == self.trace.vocabulary

    def retraced(self, model):
        """The same document with `model`'s weights (engine.retrace: bit for bit a new recording, ~8× faster),
        sharing this one's structure: its hierarchy's, its schedule."""
        if self._retracer is None:
            self._retracer = Retracer(self.trace)
        trace = self._retracer(model, like=self.trace)
        rec = Recorded(trace, self.hierarchy.renumbered(trace), self.schedule, self._retracer)
        rec._source = weakref.ref(self)  # weak: a step's recording must not keep every earlier one alive
        return rec.made_with(model)

    def made_with(self, model):
        """Keep the model recorded with, and for a part recorded the whole document's attention with it,
        computed with numpy (off the UI thread, where the recording is made). Returns self."""
        self.model = model
        trace = self.trace
        if trace.whole_n is not None:
            from engine.vectorized import weights_of
            self.attention_view = WholeAttention(trace, weights_of(model).attention(trace.doc))
        return self

    def retraced_from(self, other):
        """Whether this is `other`'s document with other numbers (show_weights takes it only while `other` is
        the recording in use)."""
        return self._source is not None and self._source() is other


def _record(model, doc, positions=None):
    """Record `doc` (its first `positions` positions, if given), yielding the fraction done; returns the
    Recorded (a Worker generator job)."""
    trace = yield from iter_record(model, doc, positions)
    return Recorded(trace).made_with(model)


def _delegate(name, writable=False):
    get = lambda self: getattr(self.model_state, name)  # noqa: E731
    put = (lambda self, value: setattr(self.model_state, name, value)) if writable else None
    return property(get, put, doc=f"SessionModel.{name}")


class Session(QObject):
    checkpoint_changed = Signal()      # a new model was loaded
    recording_started = Signal(str)    # doc
    recording_progress = Signal(str)   # one line for the status bar: how far the recording is
    recording_cancelled = Signal()     # the recording was abandoned; the old one stays
    recorded = Signal()                # a new trace is in place
    record_failed = Signal(str)        # one sentence for the document field
    view_changed = Signal()            # a new layout is in place (open set or constants changed)
    layout_started = Signal()
    layout_cancelled = Signal()
    selection_changed = Signal()
    error = Signal(str)                # one sentence for a message box
    weights_changed = Signal()         # show_weights: the same run's weights at another step

    def __init__(self, parent=None, layouter=None):
        super().__init__(parent)
        self.worker = Worker(self)
        self.layouter = layouter or LayoutClient()
        self.layouter.start()            # Graphviz loads in the child while the window and recording get ready
        self.model_state = m = SessionModel(self.layouter)
        self.backprop = BackpropPlayer(self)   # first to hear of a new recording: it resets before views redraw
        for event in ('recorded', 'view_changed', 'layout_started', 'layout_cancelled', 'selection_changed',
                      'error'):
            m.connect(event, getattr(self, event).emit)
        m.connect('layout_started', self._poll_soon)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self.checkpoint_path = None
        self.checkpoint = None           # engine.checkpoint.Checkpoint: weights, training step, Adam state
        self.unsaved = False             # the weights came from training in the app and are in no file yet
        self.model = None
        self.recording = None            # the document being recorded, or None
        self._renumbering = False        # that recording is a timeline step's: the same document, new numbers
        self._temp_histories = []        # histories of runs trained here, in temp files (saving copies them)
        self.part = None                 # the positions recorded of a document too large to record whole
        self.ask_part = None             # (doc, model, positions) -> how many to record, 0 for none: the window's
                                         # question; without one, engine.recording_cost.suggested_part

    doc = _delegate('doc')
    current = _delegate('current')
    trace = _delegate('trace')
    opened = _delegate('opened')
    show_constants = _delegate('show_constants')
    layout = _delegate('layout')
    visible = _delegate('visible')
    selected = _delegate('selected')
    focus = _delegate('focus', writable=True)
    numbers_only = _delegate('numbers_only')

    # Model and document

    def load_checkpoint(self, path=DEFAULT_CHECKPOINT):
        """Load a checkpoint; on failure the current model stays and `error` says why."""
        try:
            ckpt = ckpt_io.load(path)
        except ckpt_io.CheckpointError as e:
            self.error.emit(str(e))
            return False
        return self._opened(path, ckpt)

    def open_checkpoint(self, path):
        """load_checkpoint off the UI thread (File › Open: a mini GPT's 40 MB take seconds to read and check;
        the window answers meanwhile, Esc drops it); the status bar says it is on its way."""
        self.recording_progress.emit(f'Opening {Path(path).name}… (Esc stops)')
        self.worker.submit('open', lambda: ckpt_io.load(path), lambda ckpt: self._opened(path, ckpt),
                           lambda e: self.error.emit(str(e)))

    def _opened(self, path, ckpt):
        sidecar = history_path(path, ckpt)  # read only when the timeline asks; one it names but lacks is said then
        ckpt.history_file = sidecar if sidecar.is_file() or ckpt.history_name is not None else None
        return self._use(ckpt, Path(path), unsaved=False)

    def use_trained(self, ckpt):
        """Weights trained in the app: in use at once, unsaved until save_checkpoint."""
        if ckpt.history_file is not None:
            self._temp_histories.append(Path(ckpt.history_file))  # the run's temp file: removed on close
        self._use(ckpt, None, unsaved=True)

    def save_checkpoint(self, path):
        """Write the weights in use and the run's history with them, as one pair (engine.pair); raises
        OSError. They are saved from then on."""
        history = self.checkpoint.history_file
        pair.save(path, self.checkpoint, None if history is None else Path(history).read_bytes())
        self.checkpoint_path, self.unsaved = Path(path), False
        self.checkpoint_changed.emit()

    @property
    def checkpoint_name(self):
        return self.checkpoint_path.name if self.checkpoint_path else f'trained, step {self.checkpoint.step:,}'

    def _use(self, ckpt, path, unsaved):
        """Put `ckpt` in use and record the document shown with it (the first character of its vocabulary
        where it cannot read the document); False, nothing changed, if the model is too large to record that
        document whole and the user declines to record a part of it."""
        doc, part = self.doc, None
        if doc is not None:
            if not ckpt.model.tokenizer.can_read(doc):
                tok = ckpt.model.tokenizer  # its first token's text (a character, or a BPE's first byte)
                doc = tok.decode([0]) if tok.vocab_size > 1 else ''
            part = self.part_to_record(ckpt.model, doc)
            if part == 0:
                self.record_failed.emit(f'Not opened: you chose to record none of {doc!r}, too large to record whole '
                                        'through that model; the model in use stays.')
                return False
        self.checkpoint_path, self.checkpoint, self.model, self.unsaved = path, ckpt, ckpt.model, unsaved
        self.checkpoint_changed.emit()
        if doc is not None:
            self.record(doc, part)
        return True

    def part_to_record(self, model, doc):
        """How many positions of `doc` to record through `model`: None for all of them (the recording is
        small), else the user's answer to `ask_part` (0: none), or without one the suggested part."""
        tokens, whole = model.positions(doc)
        config, vocab = model.config, model.tokenizer.vocab_size
        if not needs_asking(config, vocab, whole):
            return None
        if self.ask_part is None:
            return suggested_part(config, vocab, whole)
        return max(0, min(whole, int(self.ask_part(doc, model, whole) or 0)))

    def retracer(self):
        """What the timeline's seek job calls off the UI thread with the step's model: the document shown,
        recorded with those weights (a Recorded for show_weights), or None where it cannot be (another
        document on its way, weights that cannot be evaluated): show_weights then records as it always did."""
        current = self.current
        if current is None or (self.recording is not None and not self._renumbering):
            return None

        def retrace(model):
            if not current.fits(model, current.trace.doc):
                return None
            try:
                return current.retraced(model)
            except EngineError:
                return None
        return retrace

    def show_weights(self, ckpt, rec=None):
        """Weights of another step of the same run (the training timeline): the document is recorded
        again with them (`rec`, if the timeline made it already from the recording in use) and, when the
        recording is in, the view keeps its layout and open groups and changes only its numbers; the
        checkpoint's file and saved state stay as they are."""
        self.checkpoint, self.model = ckpt, ckpt.model
        self.weights_changed.emit()
        if rec is not None and rec.retraced_from(self.current) and (self.recording is None or self._renumbering):
            self.worker.cancel('record')  # an earlier step's re-recording, still on its way, is not wanted
            self._on_rerecorded(rec.trace.doc, rec)
            return
        doc = self.recording if self.recording is not None else self.doc  # a document on its way goes on
        if doc is None:
            return
        self.recording, model, current = doc, self.model, self.current
        self._renumbering = current is not None and current.fits(model, doc)
        if self._renumbering:  # the numbers only, on the recorded tape
            job = lambda: current.retraced(model)  # noqa: E731
        else:
            job = lambda part=self.part: _record(model, doc, part)  # noqa: E731
        self.worker.submit('record', job, lambda rec: self._on_rerecorded(doc, rec), self._on_record_failed)

    def _on_rerecorded(self, doc, rec):
        self.recording, self._renumbering = None, False
        self.model_state.use_weights_recording(doc, rec)

    def record(self, doc, positions=None):
        """Record `doc` in the background, abandoning a recording still running; a bad document leaves
        everything as it was. A document too large to record whole is recorded in part: its first
        `positions` positions, or as many as part_to_record says (none: nothing changes)."""
        try:
            self.model.tokenizer.encode(doc)
        except ValueError as e:
            self.record_failed.emit(str(e))
            return False
        if positions is None:
            positions = self.part_to_record(self.model, doc)
            if positions == 0:
                self.record_failed.emit(f'Not recorded: you chose none of {doc!r}, too large to record whole through '
                                        'this model; press Enter in the field to be asked again.')
                return False
        self.recording, self._renumbering, self.part = doc, False, positions
        self.recording_started.emit(doc)
        if self.layouter.recording == doc and positions is None:  # asked of the layout process before the window
            self.worker.cancel('record')
            self._poll_soon()
            self._on_poll()  # already back: in place before the window's first paint
        else:
            self._record_here(doc)
        return True

    def _record_here(self, doc):
        self.worker.submit('record', lambda m=self.model, part=self.part: _record(m, doc, part),
                           lambda rec: self._on_recorded(doc, rec), self._on_record_failed,
                           lambda done: self.recording_progress.emit(f'Recording {doc!r}… {done:.0%} (Esc stops)'))

    def _on_made_in_layouter(self, kind, doc, trace):
        """A recording the layout process made: used if it is still wanted and is exactly what this model
        records; recorded here otherwise (which also says why one could not be made)."""
        if doc != self.recording or self.part is not None:
            return  # abandoned meanwhile, or a part of it recorded here
        if kind == 'recorded' and made_by(trace, self.model, doc):
            self._on_recorded(doc, Recorded(trace).made_with(self.model))
        else:
            self._record_here(doc)

    def _on_recorded(self, doc, rec):
        self.recording = None
        self.model_state.use_recording(doc, rec)

    def _on_record_failed(self, error):
        self.recording, self._renumbering = None, False
        self.record_failed.emit(str(error))

    def cancel_recording(self):
        """Abandon the recording under way (its result is dropped); False if none was. A timeline step's
        re-recording (tens of milliseconds) goes on: dropped, it would leave the graph at another step than the timeline."""
        if self.recording is None or self._renumbering:
            return False
        if self.layouter.recording == self.recording:
            self.layouter.cancel()  # the child dies mid-recording; a fresh one is ready for the next request
            QTimer.singleShot(0, self.layouter.start)
        elif not self.worker.cancel('record'):
            return False
        self.recording = None
        self.recording_cancelled.emit()
        return True

    def cancel(self):
        """Esc: stop whatever long work the user is waiting for (a layout, a recording)."""
        return self.cancel_layout() | self.cancel_recording() | self.worker.cancel('open')

    # Layouts come back from the layout process; the timer only looks, it never waits.

    def _poll_soon(self):
        if not self._poll.isActive():
            self._poll.start()

    def _on_poll(self):
        recordings = self.model_state.take_results()
        for kind, doc, made in recordings:
            self._on_made_in_layouter(kind, doc, made)
        if recordings:
            self.model_state.take_results()  # the overview: the layout process sent it before it was asked
        if not self.layouter.pending():
            self._poll.stop()

    def cancel_layout(self):
        """Give up a layout: the child running Graphviz is killed, the view stays as it is shown;
        returns False if none was running. A fresh layout process starts right after."""
        if not self.model_state.cancel_layout():
            return False
        QTimer.singleShot(0, self.layouter.start)
        return True

    def close(self):
        """Stop the layout process and remove temp files (the window is closing)."""
        self._poll.stop()
        self.layouter.close()
        for path in self._temp_histories:
            path.unlink(missing_ok=True)

    # What the views ask and do (SessionModel)

    @property
    def layout_pending(self):
        return self.model_state.layout_pending

    def set_open(self, opened, focus=None):
        self.model_state.set_open(opened, focus)

    def boxes_if_opened(self, opened):
        return self.model_state.boxes_if_opened(opened)

    def open_group(self, scope, to_scalars=False):
        self.model_state.open_group(scope, to_scalars)

    def close_group(self, scope):
        self.model_state.close_group(scope)

    def collapse_all(self):
        self.model_state.collapse_all()

    def reveal(self, key, within=None):
        self.model_state.reveal(key, within)

    def set_show_constants(self, show):
        self.model_state.set_show_constants(show)

    def select(self, key):
        self.model_state.select(key)

    def search(self, text):
        return self.model_state.search(text)
