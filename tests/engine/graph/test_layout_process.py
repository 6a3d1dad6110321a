"""engine.graph.layout_process: Graphviz in a child that answers, fails in one sentence, can be killed, and
ends with its parent."""

import pytest

from engine.checkpoint import load
from engine.graph.grouping import Hierarchy
from engine.graph.layout_process import LayoutClient, explain
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import made_by

from tests.engine.graph import layout_faults
from tests.engine.test_job import ended, start_parent


@pytest.fixture(scope='module')
def emma(emma):
    return emma, Hierarchy(emma)


@pytest.fixture
def client_of():
    clients = []

    def make(**kw):
        clients.append(LayoutClient(**kw))
        return clients[-1]
    yield make
    for c in clients:
        c.close()


def test_the_overview_comes_back_laid_out(emma, client_of):
    trace, h = emma
    client = client_of()
    client.set_trace(trace)
    key = client.submit(h.overview())
    assert client.pending()
    [(kind, got, visible, lay)] = client.poll(timeout=60)
    assert (kind, got) == ('done', key) and not client.pending()
    assert visible.open == key[0] and set(lay.boxes) == {b.key for b in visible.boxes}
    assert lay.width > 0 and lay.dot.startswith('digraph')


def test_graphviz_errors_come_back_as_one_sentence(emma, client_of, capfd):
    trace, h = emma
    client = client_of(layout_fn=layout_faults.graphviz_error)
    client.set_trace(trace)
    key = client.submit(h.overview())
    [(kind, got, sentence)] = client.poll(timeout=60)
    assert (kind, got) == ('failed', key)
    assert sentence.startswith('Graphviz could not lay out these ') and 'syntax error' in sentence
    assert '\n' not in sentence and sentence.endswith('open fewer groups.')
    assert 'syntax error' not in capfd.readouterr().err  # nothing dumped on the terminal


def test_cancel_kills_the_child_and_the_next_request_gets_a_fresh_one(emma, client_of):
    trace, h = emma
    client = client_of(layout_fn=layout_faults.hangs)
    client.set_trace(trace)
    client.submit(h.overview())
    assert client.poll(timeout=0.5) == []
    stuck = client._child.process
    assert client.cancel() and not client.pending()
    stuck.join(10)
    assert stuck.exitcode == -9  # SIGKILL: nothing else stops Graphviz
    assert not client.cancel()   # nothing running any more
    client.layout_fn = LayoutClient().layout_fn
    key = client.submit(h.overview())
    [(kind, got, *_)] = client.poll(timeout=60)
    assert (kind, got) == ('done', key) and client._child.process.pid != stuck.pid


def test_results_about_an_older_recording_are_dropped(emma, client_of):
    trace, h = emma
    client = client_of()
    client.set_trace(trace)
    client.submit(h.overview())
    client.set_trace(trace)  # a new recording (the same one will do): the running layout is not wanted
    assert not client.pending() and client.poll(timeout=1) == []


def test_the_child_records_a_document_itself_and_lays_out_its_overview_without_being_sent_it(emma, client_of):
    """The app's first recording: made in the child while the window is built, the same trace as one made
    here; set_trace of it sends nothing (the child has it), and the overview, laid out before it is asked
    for, is there as soon as it is."""
    trace, h = emma
    client = client_of()
    client.record(DEFAULT_CHECKPOINT, 'emma')
    assert client.recording == 'emma' and client.pending()
    [(kind, doc, made)] = client.poll(timeout=60)
    assert (kind, doc) == ('recorded', 'emma') and client.recording is None and not client.pending()
    assert made_by(made, load(DEFAULT_CHECKPOINT).model, 'emma')
    assert (made.op, made.data, made.children, made.scope_of, made.names, made.attention, made.backward_order) == \
        (trace.op, trace.data, trace.children, trace.scope_of, trace.names, trace.attention, trace.backward_order)
    sent = []
    client._child.send = sent.append
    client.set_trace(made)
    for _ in range(600):  # the overview comes unasked, right after the trace
        if client._early or client.poll(timeout=0.1):
            break
    key = client.submit(h.overview())
    [(kind, got, visible, lay)] = client.poll(timeout=0)
    assert (kind, got) == ('done', key) and set(lay.boxes) == {b.key for b in visible.boxes}
    assert sent == [] and not client.pending()  # neither the trace nor the request went to the child


def test_a_document_the_child_cannot_record_comes_back_as_one_sentence_and_esc_kills_a_recording(client_of):
    client = client_of()
    client.record(DEFAULT_CHECKPOINT, 'emma!')
    [(kind, doc, sentence)] = client.poll(timeout=60)
    assert (kind, doc) == ('record_failed', 'emma!') and "'!' is not in the vocabulary" in sentence
    client.record(DEFAULT_CHECKPOINT, 'abcdefghijklmno')
    child = client._child.process
    assert client.cancel() and client.recording is None and not client.pending()
    child.join(10)
    assert child.exitcode == -9 and client.poll(timeout=0.5) == []


def test_explain_takes_graphvizs_first_error_line():
    dump = 'Warning: graph has 7657 nodes...layout may take a long time.\n' + \
        'Error: trouble in init_rank\n\tpos 2 1\n' * 9000
    sentence = explain(ValueError('Graphviz raised a layout error.'), dump, 7928)
    assert sentence == 'Graphviz could not lay out these 7,928 boxes (trouble in init_rank); open fewer groups.'
    assert explain(MemoryError('out of memory'), '', 12) == \
        'Graphviz could not lay out these 12 boxes (out of memory); open fewer groups.'


LAYING_OUT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from engine.checkpoint import load
from engine.graph.grouping import Hierarchy
from engine.graph.layout_process import LayoutClient
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import record
from tests.engine.graph import layout_faults
client = LayoutClient(layout_fn=layout_faults.says_so_and_hangs)
trace = record(load(DEFAULT_CHECKPOINT).model, 'a')
client.set_trace(trace)
client.submit(Hierarchy(trace).overview())
print(client._child.process.pid, flush=True)
time.sleep(600)
"""


def test_a_layout_child_does_not_outlive_its_parent_killed_mid_layout(start_parent):
    parent, line = start_parent(LAYING_OUT)
    lines = {line, parent.stdout.readline()}  # the child's pid, and 'laying out' from the child (its stdout
    assert 'laying out\n' in lines           # is the parent's), in either order
    parent.kill()
    parent.wait()  # not its output: a child left behind would keep the pipe open
    assert ended(int((lines - {'laying out\n'}).pop()), 10)


FORKED_RECORDING = '''
import sys, time
sys.path.insert(0, sys.argv[1])
from engine import gc_pause
from engine.graph.layout_process import LayoutClient, _can_fork
from engine.paths import DEFAULT_CHECKPOINT

if __name__ == '__main__':
    gc_pause.pause()  # as the app holds the collector while it starts
    assert _can_fork()  # no Qt here yet, no thread
    client = LayoutClient()
    client.record(DEFAULT_CHECKPOINT, 'emma')
    print(type(client._child.process._popen).__module__, flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = [m for m in client.poll(0.05) if m[0] in ('recorded', 'record_failed')]
        if got:
            print(got[0][0], len(got[0][2]) if got[0][0] == 'recorded' else got[0][2], flush=True)
            break
    client.close()
'''


def test_the_apps_first_child_is_a_fork_taken_before_qt_and_records(tmp_path):
    """Before Qt loads (the app's first child) the layout process is a fork of the app, not a fresh
    interpreter (~30 ms to start instead of ~350), and it records the document as a spawned one does."""
    import subprocess
    import sys
    from pathlib import Path
    script = tmp_path / 'forked.py'
    script.write_text(FORKED_RECORDING)
    root = str(Path(__file__).resolve().parents[3])
    done = subprocess.run([sys.executable, str(script), root], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    kind, recorded = done.stdout.split('\n')[:2]
    assert kind == 'multiprocessing.popen_fork' and recorded.startswith('recorded ')


def test_a_forked_child_starts_as_a_fresh_process_would(monkeypatch):
    """What the fork copied of the app's start is undone in the child: the collector the app paused is on,
    and SIGTERM ends it (the app's own handler is not there)."""
    import gc
    import signal
    from engine import gc_pause
    from engine.graph import layout_process

    served = []
    monkeypatch.setattr(layout_process, 'serve', lambda conn, layout_fn=None: served.append(conn))
    before = signal.getsignal(signal.SIGTERM)
    gc_pause.pause()
    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        assert not gc.isenabled()
        layout_process._serve_forked('conn')
        assert gc.isenabled() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL and served == ['conn']
    finally:
        signal.signal(signal.SIGTERM, before)
        gc.enable()
    assert not layout_process._can_fork()  # here Qt is loaded: a later child is a fresh interpreter
