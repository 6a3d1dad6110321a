"""engine.errors: every error a user can cause is an EngineError (a ValueError) with one sentence; a
file that cannot be written is also an OSError, its reason alone in `strerror`."""

import pytest

from engine.errors import (CheckpointError, ConfigError, DataError, DocumentError, EngineError, OutputError,
                           TrainingDiverged)


@pytest.mark.parametrize('cls', [DataError, DocumentError, ConfigError, CheckpointError, TrainingDiverged])
def test_each_kind_is_an_engine_error(cls):
    assert issubclass(cls, EngineError) and issubclass(cls, ValueError)


def test_an_output_error_is_caught_as_an_os_error_and_names_the_path():
    with pytest.raises(OSError) as e:
        raise OutputError('/tmp/x.json', 'the folder /tmp does not exist')
    assert isinstance(e.value, EngineError)
    assert str(e.value) == 'Cannot write /tmp/x.json: the folder /tmp does not exist.'
    assert e.value.strerror == 'the folder /tmp does not exist'
