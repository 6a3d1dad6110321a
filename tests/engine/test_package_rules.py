"""engine never imports Qt or explorer: every module in engine/ and its sub-packages, found by listing the folders."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project folder

ENGINE_MODULES = sorted('.'.join(p.relative_to(ROOT).with_suffix('').parts) for p in (ROOT / 'engine').rglob('*.py')
                        if p.stem != '__init__')

# Run in a fresh interpreter: import each module in turn, name the first one after which a PySide6,
# shiboken6 or explorer module is loaded.
PROBE = '''
import importlib, sys

for module in sys.argv[1:]:
    importlib.import_module(module)
    bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "explorer"))
    if bad:
        sys.exit(f"{module} imported {', '.join(bad)}")
print(len(sys.argv) - 1)
'''


def test_every_engine_module_is_listed():
    assert len(ENGINE_MODULES) >= 15 and {'engine.cli.commands', 'engine.graph.layout', 'engine.job'} <= set(ENGINE_MODULES)


def test_engine_never_imports_qt():
    proc = subprocess.run([sys.executable, '-c', PROBE, *ENGINE_MODULES], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(len(ENGINE_MODULES))]
