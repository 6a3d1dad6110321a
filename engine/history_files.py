"""Reading a training history of either backend: the scalar engine's (engine.history) or the numpy backend's
(engine.history_numpy, and numpy with it, imported only when such a file is read), told apart by the file's
"backend". The app, the CLI and the tours read histories here; checkpoint_at and the rest are engine.history's."""

from engine import history as history_io


def load(path, checkpoint=None):
    """engine.history.load for a history of either backend."""
    return history_io.load(path, checkpoint, reader=parse)


def load_for(checkpoint_path, checkpoint):
    """The history of a checkpoint file, of either backend, checked against it (HistoryError if missing or wrong)."""
    return load(history_io.history_path(checkpoint_path, checkpoint), checkpoint)


def parse(obj, checkpoint=None):
    """The History of a file's JSON: a NumpyHistory if it says "backend": "numpy", else a scalar one."""
    if isinstance(obj, dict) and obj.get('backend') == 'numpy':
        from engine import history_numpy  # numpy only for a numpy run's history: the scalar engine runs without it
        return history_numpy.parse(obj, checkpoint)
    return history_io.parse(obj, checkpoint)
