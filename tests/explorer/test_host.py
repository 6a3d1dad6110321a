"""explorer/host.py: what a panel may ask of its window is three calls and nothing more, fixed once made."""

import dataclasses
from pathlib import Path

import pytest

from explorer.host import Host


def test_a_host_is_the_three_calls_a_panel_may_make():
    said = []
    host = Host(last_dir=lambda: Path('/tmp'), show_message=said.append, maybe_save=lambda: False)
    assert [f.name for f in dataclasses.fields(Host)] == ['last_dir', 'show_message', 'maybe_save']
    host.show_message('Saved the model.')
    assert said == ['Saved the model.'] and host.last_dir() == Path('/tmp') and host.maybe_save() is False


def test_a_panel_cannot_swap_what_its_window_gave_it():
    host = Host(last_dir=Path.home, show_message=print, maybe_save=lambda: True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        host.show_message = None
