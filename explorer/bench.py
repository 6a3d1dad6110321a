"""`python main.py bench`: one JSON object of the figures the issues set targets for (benchmarks, not tests)."""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import checkpoint as ckpt_io
from engine.cli import DEFAULT_CHECKPOINT
from engine.grouping import Hierarchy
from engine.layout import layout
from engine.model import FAST
from engine.trace import literal_loss, record

ROOT = Path(__file__).resolve().parent.parent
LONG_NAME = 'abcdefghijklmno'  # 15 letters: the longest names in names.txt


def ms(seconds):
    return round(seconds * 1000, 1)


def timed(fn, repeat=3):
    best, result = float('inf'), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def training_step_ms(model, doc, literal):
    """One training step's forward + backward, fused (as `train` runs) or literal (microgpt's own graph)."""
    tokens, n = model.positions(doc)

    def step():
        if literal:
            loss, _ = literal_loss(model, doc)
        else:
            loss = model.loss(tokens, n, FAST)
        loss.backward()
        for p in model.params:
            p.grad = 0
    return timed(step, 5)[0]


def app_run(doc):
    """Start the app offscreen as a user would; when it first paints the graph, it reports and exits."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / 'report'
        env = dict(os.environ, QT_QPA_PLATFORM='offscreen', MICROGPT_BENCH_REPORT=str(report))
        start = time.time()
        subprocess.run([sys.executable, str(ROOT / 'main.py'), '--doc', doc, '--screenshot', str(Path(tmp) / 's.png')],
                       env=env, capture_output=True, timeout=300, cwd=ROOT)
        painted, rss = report.read_text().split()
        return ms(float(painted) - start), round(float(rss), 1)


def main(argv=()):
    model = ckpt_io.load(DEFAULT_CHECKPOINT).model
    doc = 'emma'
    record_s, trace = timed(lambda: record(model, doc))
    h = Hierarchy(trace)
    overview = h.overview()
    overview_s, lay = timed(lambda: layout(h.visible(overview)))
    head = next(s for s, scope in enumerate(trace.scopes) if scope.path == 'pos 2 / layer 0 / attention / head 1')
    opened = h.open_path(head, overview) | {head}
    head_s, _ = timed(lambda: layout(h.visible(opened)))
    worst_open = 0.0
    for s, scope in enumerate(trace.scopes):  # every group one level inside the overview
        if s and scope.parent in overview and s not in overview:
            t = time.perf_counter()
            layout(h.visible(overview | {s}))
            worst_open = max(worst_open, time.perf_counter() - t)
    long_s, long_trace = timed(lambda: record(model, LONG_NAME), 1)
    fused = training_step_ms(model, doc, literal=False)
    literal = training_step_ms(model, doc, literal=True)
    first_paint, rss = app_run(doc)
    first_paint_long, rss_long = app_run(LONG_NAME)
    out = {
        'doc': doc, 'scalars': len(trace), 'record_ms': ms(record_s),
        'overview_boxes': len(lay.boxes), 'overview_layout_ms': ms(overview_s),
        'open_head_layout_ms': ms(head_s), 'open_any_group_max_ms': ms(worst_open),
        'first_paint_ms': first_paint, 'scene_items': len(lay.boxes) + len(lay.edges) + len(lay.clusters),
        'peak_rss_mb': rss,
        'long_doc': LONG_NAME, 'long_scalars': len(long_trace), 'long_record_ms': ms(long_s),
        'long_first_paint_ms': first_paint_long, 'long_peak_rss_mb': rss_long,
        'train_step_ms': ms(fused), 'literal_graph_step_ms': ms(literal),
        'train_vs_literal_ratio': round(fused / literal, 3),
        'bench_peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(out))
    return 0
