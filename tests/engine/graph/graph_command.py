"""`python3 main.py graph --doc emma ... -o g.json` as a user runs it, for the layout tests that compare
the command's JSON with the layout in hand."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # the project folder


def graph_json(tmp_path, *args):
    """The JSON the graph command writes for 'emma' with these extra arguments (`--open SCOPE`, ...)."""
    out = tmp_path / 'g.json'
    proc = subprocess.run([sys.executable, str(ROOT / 'main.py'), 'graph', '--doc', 'emma', *args, '-o', str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())
