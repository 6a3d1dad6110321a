"""engine.paths: the assets folder and the checkpoint the app opens with are the project's own files."""

import json
from pathlib import Path

from engine.paths import ASSETS, DEFAULT_CHECKPOINT

ROOT = Path(__file__).resolve().parents[2]  # the project folder


def test_the_default_checkpoint_is_the_shipped_one_in_assets():
    assert ASSETS == ROOT / 'assets' and ASSETS.is_dir()
    assert DEFAULT_CHECKPOINT.parent == ASSETS and DEFAULT_CHECKPOINT.is_file()
    assert json.loads(DEFAULT_CHECKPOINT.read_text())['format'] == 'microgpt-explorer checkpoint'
