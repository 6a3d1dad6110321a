"""What a panel may ask of the window it sits in, and nothing more (the window builds one for its panels)."""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Host:
    last_dir: Callable[[], Path]             # where file dialogs start
    show_message: Callable[[str], None]      # a sentence in the status bar, for a few seconds
    maybe_save: Callable[[], bool]           # before unsaved weights would be replaced: True to go on

