"""Where the project's own files are: the assets folder and the checkpoint the app opens with."""

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / 'assets'
DEFAULT_CHECKPOINT = ASSETS / 'microgpt-names.json'  # made by `train --out` with the defaults on names.txt
