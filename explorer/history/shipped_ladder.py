"""The shipped ladder in Compare runs: each rung trained on names.txt (engine.presets.shipped_checkpoint) read
with its history off the UI thread, once, and added to the window's RunCurves in ladder order, so that the
rungs' curves can be overlaid without training any. A history is checked against its checkpoint as the
Timeline checks it (engine.history.load_for: the SHA-256 the checkpoint names, the last snapshot its weights);
one that fails is left out and said in `problems`. The shipped microgpt is left to the Timeline while it is
the checkpoint in use (it reads that history anyway: reading its 17 MB twice would be waste)."""

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine.errors import CheckpointError
from engine.presets import DEFAULT, RUNGS, shipped_checkpoint, shipped_rung

from explorer.state.worker import Worker


def shipped_name(rung):
    """What Compare runs calls a shipped rung's run."""
    return f'{rung} (shipped)'


def run_key(ckpt):
    """What tells a run's history from another's: its SHA-256 when its checkpoint names it, else its file."""
    sha = getattr(ckpt, 'history_sha256', None)
    return sha or ('file', str(Path(ckpt.history_file).resolve()))


def read_rung(name):
    """(parameter count, losses, key) of the shipped rung `name`'s run; CheckpointError if it cannot be read."""
    path = shipped_checkpoint(name)
    ckpt = ckpt_io.load(path)
    ckpt.history_file = history_io.history_path(path, ckpt)
    history = history_io.load_for(path, ckpt)
    return len(ckpt.model.params), tuple(history.losses), run_key(ckpt)


def read_ladder(names):
    """[(name, (params, losses, key) or the sentence why not)] for each rung in `names`."""
    out = []
    for name in names:
        try:
            out.append((name, read_rung(name)))
        except (CheckpointError, OSError) as e:
            out.append((name, str(e)))
    return out


class ShippedLadder(QObject):
    done = Signal()  # every rung read is in the runs

    def __init__(self, runs, parent=None):
        super().__init__(parent)
        self.runs = runs
        self.worker = Worker(self)
        self.started = False
        self.problems = {}  # rung: why its run is not listed

    def load(self):
        """Read the rungs not listed yet, once (later calls do nothing)."""
        if self.started:
            return
        self.started = True
        session = self.runs.session
        timeline_has = session.checkpoint_path is not None and shipped_rung(session.checkpoint_path) == DEFAULT
        names = [n for n in RUNGS if not (n == DEFAULT and timeline_has)]
        self.worker.submit('ladder', lambda: read_ladder(names), self._on_read, self._on_failed)

    def _on_read(self, read):
        for name, got in read:
            if isinstance(got, str):
                self.problems[name] = got
            else:
                params, losses, key = got
                self.runs.add(shipped_name(name), params, losses, key, name)
        self.done.emit()

    def _on_failed(self, error):
        self.problems['ladder'] = str(error)
        self.done.emit()
