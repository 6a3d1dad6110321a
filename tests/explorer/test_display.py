"""explorer/display.py: without a display the app says so in one sentence and exits 2 (Qt alone aborts
with exit 250)."""

import os
import subprocess
import sys
from pathlib import Path

from explorer.display import no_display_reason

ROOT = Path(__file__).resolve().parents[2]


def run_app(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ('DISPLAY', 'WAYLAND_DISPLAY', 'QT_QPA_PLATFORM')}
    return subprocess.run([sys.executable, str(ROOT / 'main.py')], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**clean, **env})


def test_no_display_exits_2_with_one_sentence():
    proc = run_app()
    assert proc.returncode == 2
    assert proc.stderr.count('\n') == 1 and 'no display was found' in proc.stderr
    assert '--screenshot OUT.png' in proc.stderr and 'desktop session' in proc.stderr


def test_a_display_that_cannot_be_opened():
    proc = run_app(DISPLAY=':987')
    assert proc.returncode == 2 and 'cannot be opened' in proc.stderr


def test_what_counts_as_a_display():
    assert no_display_reason({}, 'linux') is not None
    assert no_display_reason({'QT_QPA_PLATFORM': 'xcb'}, 'linux') is not None
    assert no_display_reason({'QT_QPA_PLATFORM': 'offscreen'}, 'linux') is None
    assert no_display_reason({'WAYLAND_DISPLAY': 'wayland-0'}, 'linux') is None
    assert no_display_reason({}, 'darwin') is None
