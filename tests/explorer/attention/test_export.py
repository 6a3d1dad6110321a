"""explorer.attention.export, `main.py attention` headless: CSV with a row per cell and its tokens with
positions, PNG, vector SVG, and one sentence with exit code 2 for a document the model cannot read."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_headless_attention_command(tmp_path):
    out_csv, out_png = tmp_path / 'w.csv', tmp_path / 'w.png'
    for out in (out_csv, out_png):
        proc = subprocess.run([sys.executable, str(ROOT / 'main.py'), 'attention', '--doc', 'emma', '-o', str(out)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
    table = list(csv.reader(io.StringIO(out_csv.read_text())))
    assert table[0] == ['layer', 'head', 'query', 'key', 'query_token', 'key_token', 'score', 'weight',
                        'grad_weight', 'grad_score']
    assert len(table) == 1 + 4 * 15 and out_png.read_bytes().startswith(b'\x89PNG')
    bad = subprocess.run([sys.executable, str(ROOT / 'main.py'), 'attention', '--doc', 'zoë', '-o', str(out_csv)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.count('\n') == 1 and "'ë'" in bad.stderr


def test_headless_export_as_svg_and_csv_with_positions(tmp_path):
    import csv
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[3]
    for out in (tmp_path / 'a.svg', tmp_path / 'a.csv'):
        proc = subprocess.run([sys.executable, str(root / 'main.py'), 'attention', '--doc', 'emma', '-o', str(out)],
                              capture_output=True, text=True, timeout=120, cwd=root)
        assert proc.returncode == 0, proc.stderr
    svg = (tmp_path / 'a.svg').read_text()
    assert '<text' in svg and '<image' not in svg and '3 m' in svg
    rows = list(csv.DictReader((tmp_path / 'a.csv').open()))
    assert rows[-1]['query_token'] == '4 a' and rows[-1]['key_token'] == '4 a' and rows[-1]['grad_score'] != ''


def test_the_ladders_rungs_export_what_attention_they_have(tmp_path):
    """The average rung: weights 1/(t+1), no score (empty cells); the mlp rung has none: one sentence, exit 2,
    nothing written."""
    import random

    from engine import checkpoint as ckpt_io
    from engine.model import Model
    from engine.presets import preset_config
    from engine.tokenizer import Tokenizer
    for rung in ('average', 'mlp'):
        model = Model.init(preset_config(rung), Tokenizer('aem'), random.Random(2))
        ckpt_io.save(tmp_path / f'{rung}.json', ckpt_io.Checkpoint(model))
    run = lambda rung, out: subprocess.run([sys.executable, str(ROOT / 'main.py'), 'attention', '--doc', 'emma',
                                            '--checkpoint', str(tmp_path / f'{rung}.json'), '-o', str(out)],
                                           capture_output=True, text=True, timeout=120, cwd=ROOT)
    proc = run('average', tmp_path / 'a.csv')
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader((tmp_path / 'a.csv').open()))
    assert len(rows) == 4 * 15 and {r['score'] for r in rows} == {''} == {r['grad_score'] for r in rows}
    assert all(float(r['weight']) == 1 / (int(r['query']) + 1) and r['grad_weight'] for r in rows)
    proc = run('mlp', tmp_path / 'm.csv')
    assert proc.returncode == 2 and proc.stderr.count('\n') == 1 and 'has no attention' in proc.stderr
    assert not (tmp_path / 'm.csv').exists()
