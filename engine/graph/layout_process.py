"""Layouts in a child process that can be killed: Graphviz's C code holds the interpreter while it runs.

`serve` is the child's whole life: it keeps the Hierarchy of the trace it was sent, and for each
request builds the VisibleGraph, its DOT text and its layout (engine.graph.layout), and sends both back.
Graphviz writes its errors to file descriptor 2 from C; the child points that at a temp file, so a
failure comes back as one sentence and never as a dump on the terminal.

`LayoutClient` is the parent's side, plain Python: `set_trace`, `submit`, `cancel`, `poll`. Nothing in
it waits on the child: a thread writes requests (a trace is ~1.6 MB) and a thread reads results, so a
caller on a UI thread only ever looks at a queue. Cancelling kills the child; a fresh one is started
by the next request (or `start`). The child runs through engine.job.in_child: it ends with its parent.
Messages, child to parent:

    ('done', token, key, visible part, layout part, [edge parts])   pickled pieces (to_parts); the
                                   reader thread turns them back into (visible, layout)
    ('failed', token, key, sentence)
"""

import dataclasses
import multiprocessing
import os
import pickle
import queue
import re
import signal
import sys
import tempfile
import threading
import time

from engine import gc_pause
from engine.graph.grouping import ROOT, Hierarchy
from engine.job import in_child, start_child


def explain(error, stderr_text, boxes):
    """One sentence for a failed layout, from Graphviz's own first error line if it wrote one."""
    reason = ''
    for line in stderr_text.splitlines():
        m = re.match(r'\s*Error:\s*(.+)', line)
        if m:
            reason = m.group(1).strip().rstrip('.')
            break
    if not reason:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0].rstrip('.')
    reason = re.sub(r'\s+', ' ', reason)[:160]
    return f'Graphviz could not lay out these {boxes:,} boxes ({reason}); open fewer groups.'


def slim(trace):
    """The trace without what grouping never reads (gradients, backward order, attention): half the bytes
    to send to the child."""
    return dataclasses.replace(trace, local_grads=(), backward_order=(), attention=(), attention_ids=())


def serve(conn, layout_fn=None):
    """The child process: answer ('trace', token, trace), ('record', token, checkpoint, doc, rankdir) and
    ('layout', token, key, opened, show, rankdir). Graphviz (engine.graph.layout, the default layout_fn) is
    imported here, never in the parent."""
    if layout_fn is None:
        from engine.graph.layout import layout as layout_fn
    captured = tempfile.TemporaryFile()
    os.dup2(captured.fileno(), 2)  # Graphviz (C) and Python alike now write their complaints here
    hierarchy, token_now = None, None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message[0] == 'trace':
            _, token_now, trace = message
            hierarchy = Hierarchy(trace)
            continue
        if message[0] == 'record':
            _, token_now, path, doc, rankdir = message
            with gc_pause.paused():  # the recording's ~100,000 new objects all stay: collecting finds nothing (~10%)
                hierarchy = _record_here(conn, token_now, path, doc, layout_fn, captured, rankdir)
            continue
        _, token, key, opened, show_constants, rankdir = message
        if token != token_now:
            conn.send(('failed', token, key, 'The layout process did not have this recording.'))
            continue
        conn.send(_answer(hierarchy, layout_fn, captured, token, key, opened, show_constants, rankdir))


def _record_here(conn, token, path, doc, layout_fn, captured, rankdir):
    """Record `doc` with the checkpoint's weights and send the trace (the parent checks it against its own
    model before using it), its overview laid out first, so that both are there when the window takes the
    trace: the Hierarchy to lay out its views, or None if it could not be recorded."""
    from engine.checkpoint import load
    from engine.recording_cost import needs_asking
    from engine.trace import record
    try:
        model = load(path).model
        if needs_asking(model.config, model.tokenizer.vocab_size, model.positions(doc)[1]):
            conn.send(('record_failed', token, doc, 'too large to record whole without asking'))
            return None  # the window asks which part to record, and records it
        trace = record(model, doc)
    except Exception as e:  # noqa: BLE001  the parent records it itself and says what is wrong
        conn.send(('record_failed', token, doc, str(e)))
        return None
    hierarchy = Hierarchy(slim(trace))
    key = (frozenset(hierarchy.overview()) | {ROOT}, False)  # the view the window asks for first
    conn.send(_answer(hierarchy, layout_fn, captured, token, key, *key, rankdir))
    conn.send(('recorded', token, doc, pickle.dumps(trace, pickle.HIGHEST_PROTOCOL)))
    return hierarchy


def _answer(hierarchy, layout_fn, captured, token, key, opened, show_constants, rankdir):
    """The message for one layout request: ('done', ...) with the result's parts, or ('failed', ...)."""
    captured.seek(0)
    captured.truncate()
    visible = None
    try:
        visible = hierarchy.visible(opened, show_constants)
        lay = layout_fn(visible, rankdir)
    except Exception as e:  # noqa: BLE001  every failure becomes one sentence for the user
        sys.stderr.flush()
        captured.seek(0)
        text = captured.read(200_000).decode('utf-8', 'replace')
        boxes = len(visible.boxes) if visible is not None else 0
        return 'failed', token, key, explain(e, text, boxes)
    return ('done', token, key, *to_parts(visible, lay))


EDGE_CHUNK = 2000  # edges per pickled part: unpickling one holds the parent's interpreter ~5 ms


def to_parts(visible, lay):
    """A result as pickled parts, so the parent unpickles it in short pieces (one pickle.loads of a
    7,000-box view holds the interpreter ~70 ms, which the window would feel)."""
    edges = lay.edges
    return (pickle.dumps(visible), pickle.dumps(dataclasses.replace(lay, edges=())),
            [pickle.dumps(edges[i:i + EDGE_CHUNK]) for i in range(0, len(edges), EDGE_CHUNK)])


def from_parts(visible_part, layout_part, edge_parts):
    """(visible, layout) from to_parts, letting other threads run between the pieces."""
    visible = pickle.loads(visible_part)
    time.sleep(0)
    lay = pickle.loads(layout_part)
    edges = []
    for part in edge_parts:
        time.sleep(0)
        edges.extend(pickle.loads(part))
    return visible, dataclasses.replace(lay, edges=tuple(edges))


def _can_fork():
    """Whether the child can be a fork of this process rather than a fresh interpreter: only before Qt or
    any thread exists here (the app's first child, started before the window loads), when a copy holds
    nothing of a UI; it then starts in ~30 ms instead of ~350 (an interpreter, its site-packages, the
    engine's modules imported again), and the app's first recording arrives that much sooner."""
    return ('fork' in multiprocessing.get_all_start_methods() and threading.active_count() == 1 and
            'PySide6.QtCore' not in sys.modules)  # Qt's libraries (and their threads) load with QtCore


def _serve_forked(conn, layout_fn=None):
    """serve() in a fork of the app taken before its window: what the fork copied of the parent's state is
    put back as a fresh process has it (the collector the parent paused while it starts, its SIGTERM
    handler)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc_pause.reset()
    serve(conn, layout_fn)


class _Child:
    """One layout process with a writer and a reader thread; `results` gets (child, message)."""

    def __init__(self, ctx, results, layout_fn, forked=False):
        self.results = results
        self.dead = False
        parent_conn, child_conn = ctx.Pipe()
        args = (child_conn,) if layout_fn is None else (child_conn, layout_fn)
        if forked:
            sys.stdout.flush()
            sys.stderr.flush()  # nothing buffered here is written twice by the copy
        self.process = ctx.Process(target=in_child, args=(_serve_forked if forked else serve, *args), daemon=True,
                                   name='microgpt-layout')
        start_child(self.process)
        child_conn.close()
        self.conn = parent_conn
        self.outbox = queue.Queue()
        threading.Thread(target=self._write, daemon=True, name='layout-writer').start()
        threading.Thread(target=self._read, daemon=True, name='layout-reader').start()

    def send(self, message):
        self.outbox.put(message)

    def _write(self):
        while True:
            message = self.outbox.get()
            if message is None or self.dead:
                return
            try:
                self.conn.send(message)   # pickling and writing happen here, never on the caller's thread
            except (OSError, ValueError):
                return                    # the child was killed

    def _read(self):
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError, ValueError):
                self.results.put((self, ('died',)))
                return
            except Exception as e:  # noqa: BLE001  an unreadable result is a failed layout, not a lost one
                self.results.put((self, ('died', str(e))))
                return
            if message[0] == 'done':
                message = (*message[:3], *from_parts(*message[3:]))
            elif message[0] == 'recorded':  # the trace, unpickled here rather than on the caller's thread
                message = (*message[:3], pickle.loads(message[3]))
            self.results.put((self, message))

    def kill(self):
        self.dead = True
        self.outbox.put(None)
        try:
            self.process.kill()  # SIGKILL: Graphviz cannot be interrupted any other way
        except (OSError, ValueError, AttributeError):
            pass


class LayoutClient:
    """Lay out views of one trace in a child process. Plain Python; never blocks its caller.

    `submit(opened, show_constants)` returns the request's key, `(frozenset(opened), show_constants)`;
    `poll()` returns what has come back: ('done', key, visible, layout) or ('failed', key, sentence), and
    for `record(checkpoint, doc)` ('recorded', doc, trace) or ('record_failed', doc, sentence).
    """

    def __init__(self, rankdir='LR', layout_fn=None):
        self.rankdir = rankdir
        self.layout_fn = layout_fn          # a module-level function the child can import; None: Graphviz's
        self._ctx = multiprocessing.get_context('spawn')  # a fresh interpreter: nothing of the UI copied
        self._child = None
        self._results = queue.Queue()
        self._trace, self._token = None, 0
        self._sent = None                   # the token of the trace the current child has, if any
        self._pending = set()               # keys asked of the current child, not answered yet
        self._recording = None              # (token, doc) of a recording asked of the child, not back yet
        self._made = None                   # the trace the child recorded itself (it needs no copy of it)
        self._early = {}                    # key -> a result the child sent before it was asked (its overview)

    def start(self):
        """Start the child now (it imports Graphviz once and then waits), if none is running."""
        if self._child is None:
            forked = _can_fork()
            self._child = _Child(multiprocessing.get_context('fork') if forked else self._ctx, self._results,
                                 self.layout_fn, forked)
            self._sent = None

    def set_trace(self, trace):
        """Lay out views of this trace from now on; requests about the previous one are dropped."""
        if trace is self._made:
            return  # the child recorded it and has it
        self._new_token(trace)  # sent with the next request: a timeline step changes it many times a second

    def record(self, checkpoint, doc):
        """Record `doc` with the weights of the checkpoint file in the child, which then lays out views of
        that trace (the overview at once): poll brings ('recorded', doc, trace), which the caller checks
        against its own model (engine.trace.made_by) and passes to set_trace, or ('record_failed', doc,
        sentence). The app's first recording runs so on the other core while the window is built."""
        self._new_token(None)
        self.start()
        self._recording = (self._token, doc)
        self._child.send(('record', self._token, str(checkpoint), doc, self.rankdir))

    @property
    def recording(self):
        """The document the child is recording for `record`, or None."""
        return self._recording[1] if self._recording else None

    def _new_token(self, trace):
        self._token += 1
        self._trace, self._made, self._early = trace, None, {}
        self.cancel()  # whatever the child is busy with is about the previous trace: nobody wants it

    def submit(self, opened, show_constants=False):
        key = (frozenset(opened), bool(show_constants))
        self.start()
        if key in self._early:  # already here: the next poll brings it
            self._pending.add(key)
            self._results.put((self._child, ('done', self._token, key, *self._early.pop(key))))
        elif key not in self._pending:
            if self._sent != self._token and self._trace is not None:
                self._child.send(('trace', self._token, slim(self._trace)))
                self._sent = self._token
            self._pending.add(key)
            self._child.send(('layout', self._token, key, key[0], key[1], self.rankdir))
        return key

    def pending(self):
        """True while a layout or a recording asked of the child has not come back."""
        return bool(self._pending) or self._recording is not None

    def cancel(self):
        """Kill the child if it is working (the only way to stop Graphviz); False if it was idle."""
        if not self.pending():
            return False
        self._pending.clear()
        self._recording = None
        child, self._child = self._child, None
        if child is not None:
            child.kill()
        return True

    def poll(self, timeout=0):
        """What has come back, oldest first; waits up to `timeout` seconds for the first of it."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            wait = deadline - time.monotonic() if not out else 0
            try:
                child, message = self._results.get(True, wait) if wait > 0 else self._results.get_nowait()
            except queue.Empty:
                return out
            if child is not self._child:
                continue  # from a child that was cancelled: nobody is waiting for it
            if message[0] == 'died':
                self._child = None
                child.kill()
                lost, self._pending = self._pending, set()
                reason = 'Graphviz stopped unexpectedly while laying out this view; open fewer groups.'
                out.extend(('failed', key, reason) for key in lost)
                if self._recording is not None:
                    out.append(('record_failed', self._recording[1], 'The layout process stopped unexpectedly.'))
                    self._recording = None
                continue
            kind, token, key = message[:3]
            if kind in ('recorded', 'record_failed'):
                if self._recording == (token, key) and token == self._token:
                    self._recording = None
                    if kind == 'recorded':
                        self._trace = self._made = message[3]  # a new child is sent it with its first request
                        self._sent = token  # this child has it: it made it
                    out.append((kind, key, message[3]))
                continue
            if token != self._token:
                continue
            if key not in self._pending:
                if kind == 'done':
                    self._early[key] = message[3:]  # the overview of a recording the child made
                continue
            self._pending.discard(key)
            out.append((kind, key, *message[3:]))

    def close(self):
        """Stop the child (at exit)."""
        self._pending.clear()
        self._recording = None
        child, self._child = self._child, None
        if child is not None:
            child.kill()
            child.process.join(1)
