"""Errors the user can cause. Each message is one sentence meant to be shown as it is."""


class EngineError(ValueError):
    """Bad input: the message says what is wrong and what to do."""


class DataError(EngineError):
    """A dataset that cannot be read or used."""


class DocumentError(EngineError):
    """A document the model cannot take (e.g. a character outside its vocabulary)."""


class ConfigError(EngineError):
    """Impossible hyperparameters."""


class CheckpointError(EngineError):
    """A checkpoint that cannot be read, or is not a valid microgpt checkpoint."""


class TrainingDiverged(EngineError):
    """The loss or the weights stopped being finite numbers."""


class OutputError(EngineError, OSError):
    """A file that cannot be written. Also an OSError, so `except OSError` around a save still catches it;
    `strerror` holds the reason alone, for messages that name the path themselves."""

    def __init__(self, path, reason):
        super().__init__(f'Cannot write {path}: {reason}.')
        self.strerror = reason
