"""The explorer's model (no widgets): the checkpoint, the recorded document, what is open, what is selected.

Views take a Session, listen to its signals and change it only through its methods.
"""

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine import checkpoint as ckpt_io
from engine.backprop import Schedule
from engine.grouping import ROOT, Hierarchy
from engine.layout import layout
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import record

from .stepping import Backprop
from .worker import Worker

LARGE_VIEW = 1500  # boxes; opening more than this asks first (dot needs ~2 s for 3,000)


class Recorded:
    """What one recording gives the views: the trace, its scope hierarchy and its backprop schedule."""

    def __init__(self, trace):
        self.trace = trace
        self.hierarchy = Hierarchy(trace)
        self.schedule = Schedule(trace)


def _record(model, doc):
    return Recorded(record(model, doc))


class Session(QObject):
    checkpoint_changed = Signal()      # a new model was loaded
    recording_started = Signal(str)    # doc
    recorded = Signal()                # a new trace is in place
    record_failed = Signal(str)        # one sentence for the document field
    view_changed = Signal()            # a new layout is in place (open set or constants changed)
    layout_started = Signal()
    layout_cancelled = Signal()
    selection_changed = Signal()
    error = Signal(str)                # one sentence for a message box

    def __init__(self, parent=None):
        super().__init__(parent)
        self.worker = Worker(self)
        self.backprop = Backprop(self)   # first to hear of a new recording: it resets before views redraw
        self.checkpoint_path = None
        self.checkpoint = None           # engine.checkpoint.Checkpoint: weights, training step, Adam state
        self.unsaved = False             # the weights came from training in the app and are in no file yet
        self.model = None
        self.doc = None
        self.current = None              # Recorded
        self.opened = frozenset({ROOT})
        self.show_constants = False
        self.layout = None               # engine.layout.Layout of the current view
        self.visible = None              # engine.grouping.VisibleGraph of the current view
        self.selected = None             # box key ('g12' / 'n345') or None
        self.focus = None                # box key the view should keep in place across a relayout
        self._layouts = OrderedDict()    # (opened, show_constants) -> (visible, layout), most recent last

    # Model and document

    def load_checkpoint(self, path=DEFAULT_CHECKPOINT):
        """Load a checkpoint; on failure the current model stays and `error` says why."""
        try:
            ckpt = ckpt_io.load(path)
        except ckpt_io.CheckpointError as e:
            self.error.emit(str(e))
            return False
        self._use(ckpt, Path(path), unsaved=False)
        return True

    def use_trained(self, ckpt):
        """Weights trained in the app: in use at once, unsaved until save_checkpoint."""
        self._use(ckpt, None, unsaved=True)

    def save_checkpoint(self, path):
        """Write the weights in use (atomically); raises OSError. They are saved from then on."""
        ckpt_io.save(path, self.checkpoint)
        self.checkpoint_path, self.unsaved = Path(path), False
        self.checkpoint_changed.emit()

    @property
    def checkpoint_name(self):
        return self.checkpoint_path.name if self.checkpoint_path else f'trained, step {self.checkpoint.step:,}'

    def _use(self, ckpt, path, unsaved):
        self.checkpoint_path, self.checkpoint, self.model, self.unsaved = path, ckpt, ckpt.model, unsaved
        self.checkpoint_changed.emit()
        if self.doc is not None:
            if not self.record(self.doc):  # the new vocabulary cannot read it
                self.record(self.model.tokenizer.uchars[0] if self.model.tokenizer.uchars else '')
    def record(self, doc):
        """Record `doc` in the background; a bad document leaves everything as it was."""
        try:
            self.model.tokenizer.encode(doc)
        except ValueError as e:
            self.record_failed.emit(str(e))
            return False
        self.recording_started.emit(doc)
        self.worker.submit('record', lambda m=self.model: _record(m, doc),
                           lambda rec: self._on_recorded(doc, rec),
                           lambda e: self.record_failed.emit(str(e)))
        return True

    def _on_recorded(self, doc, rec):
        self.doc, self.current = doc, rec
        self.visible = self.layout = None  # they describe the previous trace until the new layout is in
        self._layouts.clear()
        self.selected = self.focus = None
        self.recorded.emit()
        self.selection_changed.emit()
        self.set_open(rec.hierarchy.overview())

    @property
    def trace(self):
        return self.current.trace if self.current else None

    # What is open

    def set_open(self, opened, focus=None):
        opened = frozenset(opened) | {ROOT}
        key = (opened, self.show_constants)
        self.opened, self.focus = opened, focus
        if key in self._layouts:
            self._layouts.move_to_end(key)
            self._apply(*self._layouts[key])
            return
        hierarchy, show = self.current.hierarchy, self.show_constants
        self.layout_started.emit()

        def compute():
            visible = hierarchy.visible(opened, show)
            return visible, layout(visible)
        self.worker.submit('layout', compute, lambda result: self._on_layout(key, result),
                           lambda e: self.error.emit(f'The layout failed: {e}'))

    def _on_layout(self, key, result):
        self._layouts[key] = result
        while len(self._layouts) > 24:
            self._layouts.popitem(last=False)
        if key == (self.opened, self.show_constants):
            self._apply(*result)

    def cancel_layout(self):
        """Give up waiting for a layout: the view stays as it is shown; returns False if none was running."""
        if not self.worker.pending('layout') or self.visible is None:
            return False
        self.worker.cancel('layout')
        self.opened, self.focus = self.visible.open, None
        self.layout_cancelled.emit()
        return True

    def _apply(self, visible, lay):
        self.visible, self.layout = visible, lay
        if self.selected and self.selected not in lay.boxes and \
                not (self.selected[0] == 'g' and int(self.selected[1:]) in lay.clusters):
            self.selected = None
            self.selection_changed.emit()
        self.view_changed.emit()

    def boxes_if_opened(self, opened):
        return self.current.hierarchy.count_boxes(frozenset(opened) | {ROOT})

    def open_group(self, scope, to_scalars=False):
        """Open a group (and every group inside it if to_scalars) where it stands."""
        h = self.current.hierarchy
        extra = h.descendants(scope) if to_scalars else [scope]
        self.selected = f'g{scope}'
        self.selection_changed.emit()
        self.set_open(self.opened | set(extra) | set(h.ancestors(scope)), focus=f'g{scope}')

    def close_group(self, scope):
        """Close a group and everything inside it, so it is one box again."""
        inside = set(self.current.hierarchy.descendants(scope))
        self.selected = f'g{scope}'
        self.set_open(self.opened - inside, focus=f'g{scope}')
        self.selection_changed.emit()

    def collapse_all(self):
        self.set_open(self.current.hierarchy.overview())

    def reveal(self, key):
        """Open whatever hides box `key` (a scope 'g..' or scalar 'n..') and select it."""
        h, trace = self.current.hierarchy, self.trace
        if key[0] == 'n':
            opened = self.opened | set(h.ancestors(trace.scope_of[int(key[1:])]))
        else:
            opened = h.open_path(int(key[1:]), self.opened) - {int(key[1:])}
        self.selected = key
        self.selection_changed.emit()
        if opened != self.opened:
            self.set_open(opened, focus=key)
        else:
            self.view_changed.emit()

    def set_show_constants(self, show):
        if show != self.show_constants:
            self.show_constants = show
            self.set_open(self.opened, focus=self.selected)

    def select(self, key):
        if key != self.selected:
            self.selected = key
            self.selection_changed.emit()

    # Search

    def search(self, text):
        """Box keys matching text: a parameter name, a scope path, an op, or a value (closest first)."""
        trace, text = self.trace, text.strip()
        if not text:
            return []
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is not None:
            return [f'n{i}' for i in sorted(range(len(trace)), key=lambda i: abs(trace.data[i] - value))[:50]]
        low = text.lower()
        hits = [f'n{i}' for i in trace.params if low in trace.param_name(i).lower()]
        hits += [f'g{s}' for s, scope in enumerate(trace.scopes) if s and low in scope.path.lower()]
        if not hits:
            hits = [f'n{i}' for i, op in enumerate(trace.op) if op == text][:500]
        return hits
