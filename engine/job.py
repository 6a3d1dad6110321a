"""Work in a child process, talking through a queue (no Qt: the child never loads it).

ChildJob is the one way the app runs work in a child: a fresh interpreter (spawn) with a message queue, a
pause and a stop event the work may check, and kill for work that cannot stop itself (gradcheck). The
explorer watches its queue with explorer.state.job_watcher. Every child the engine starts (these and the
layout process) runs its work through `in_child`: Ctrl-C is its parent's to answer, and it never outlives
its parent.

`train_process` is the child's whole life: load the dataset, build microgpt's Trainer, then one step
at a time, checking the pause and stop events between steps, and report its steps. When it ends —
finished, stopped, diverged — it sends the checkpoint of the weights it reached, as JSON text, so
nothing is ever half-written by the child. Messages are tuples:

    ('started', num_docs, vocab_size, num_params)
    ('step', step, num_steps, loss, doc)
    ('done', why, checkpoint_json, history_file, history_sha256, losses)
                                        why: 'finished', 'stopped' or a sentence (diverged); history_file:
                                        the run's history (engine.history), a temp file the window adopts,
                                        and the SHA-256 of its bytes (so the window trusts exactly that file),
                                        both None for numpy; losses: every step's
    ('failed', sentence)                nothing was trained (bad dataset or configuration)

`check_history_process` replays a whole history against what it records (engine.history.History.verify)
for a history its checkpoint does not name by content (an older one, the shipped one):

    ('progress', fraction)              ('checked', sha256 of the file checked)      ('failed', sentence)

`replay_process` replays a history ahead of the window while the timeline plays, so that each step the window
asks for next is already there (engine.history.History.offer):

    ('state', StepState)                a step, once the stretch it is in replayed as recorded
    ('failed', sentence)                it does not (the window's own replay says so when it gets there)
"""

import hashlib
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import tempfile
import threading
import time

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine import history_files
from engine.data import load_docs
from engine.errors import EngineError, TrainingDiverged
from engine.model import GPTConfig
from engine.optim import TrainConfig
from engine.train import Trainer


class ChildJob:
    """One function run in a spawned child process; `messages`, `pause_event` and `stop_event` are passed to
    it by the caller, among start's args."""

    def __init__(self):
        self._ctx = multiprocessing.get_context('spawn')  # a fresh interpreter: no Qt state copied into it
        self.messages = self._ctx.Queue()
        self.pause_event, self.stop_event = self._ctx.Event(), self._ctx.Event()
        self.process = None

    def start(self, target, *args):
        self.process = self._ctx.Process(target=in_child, args=(target, *args), daemon=True)
        start_child(self.process)

    @property
    def pid(self):
        return self.process.pid

    def is_alive(self):
        return self.process is not None and self.process.is_alive()

    def join(self, timeout=None):
        self.process.join(timeout)

    def next_message(self, timeout=None):
        """The next message, or None if there is none (waiting up to timeout seconds; None: not at all)."""
        try:
            return self.messages.get_nowait() if timeout is None else self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def empty(self):
        return self.messages.empty()

    def kill(self, timeout=1.0):
        """End the child at once (if it still runs) and reap it."""
        if self.is_alive():
            self.process.kill()
        self.process.join(timeout)

    def terminate(self):
        if self.is_alive():
            self.process.terminate()


def start_child(process):
    """Start a multiprocessing Process whose target is in_child, holding Ctrl-C until it ignores it (a Ctrl-C
    while it starts would print its KeyboardInterrupt traceback)."""
    if not hasattr(signal, 'pthread_sigmask'):
        process.start()
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # this thread's; the child inherits it
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def in_child(target, *args):
    """A child process's whole life around target(*args). Ctrl-C is ignored: the terminal sends it to every
    process of the command, and the parent answers it (ending its daemon children as it exits). A thread
    waits on the pipe multiprocessing keeps from the parent, which closes when the parent dies in any way
    (SIGKILL too), and then ends this process (after the C call running, if one holds the interpreter)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, 'pthread_sigmask'):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held by start_child: dropped now
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with_parent, args=(parent.sentinel,), daemon=True, name='parent-watch').start()
    target(*args)


def _end_with_parent(sentinel):
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


STEP_MESSAGES_S = 0.02  # the numpy trainer's steps are told at most this often (thousands a second otherwise)


def train_process(data_path, model_config, train_config, messages, pause, stop, backend='scalar'):
    """Run in a child process; model_config and train_config are dicts of GPTConfig and TrainConfig. The
    scalar engine tells every step; numpy (engine.vectorized, the same run to 1e-12, a hundred times faster)
    and torch (engine.torch_train, the optional extra) tell a step every STEP_MESSAGES_S. The scalar engine and
    numpy keep the run's history (numpy's, engine.history_numpy, replayed with numpy, at the interval a model of
    its size can afford); torch keeps none. 'done' brings every step's loss either way."""
    try:
        docs = load_docs(data_path)
        train_config = TrainConfig(**train_config)
        if backend == 'numpy':
            from engine.vectorized import VectorTrainer  # numpy is imported only for this backend
            from engine import history_numpy
            trainer = VectorTrainer(docs, GPTConfig(**model_config), train_config)
            history_numpy.attach(trainer, history_numpy.default_every(train_config.num_steps, trainer.flat.size))
        elif backend == 'torch':
            from engine.torch_train import TorchTrainer  # the optional extra: imported only for this backend
            trainer = TorchTrainer(docs, GPTConfig(**model_config), train_config)
        else:
            trainer = Trainer(docs, GPTConfig(**model_config), train_config,
                              history_every=history_io.default_every(train_config.num_steps))
    except EngineError as e:
        messages.put(('failed', str(e)))
        return
    messages.put(('started', len(docs), trainer.model.tokenizer.vocab_size, len(trainer.model.params)))
    why, losses, told = 'finished', [], 0.0
    try:
        while trainer.step < trainer.config.num_steps:
            if stop.is_set():
                why = 'stopped'
                break
            if pause.is_set():
                stop.wait(0.05)  # paused: sleep, still hearing Stop
                continue
            r = trainer.train_step()
            losses.append(r.loss)
            now = time.monotonic()
            if backend == 'scalar' or now - told >= STEP_MESSAGES_S or r.step == r.num_steps:
                messages.put(('step', r.step, r.num_steps, r.loss, r.doc))
                told = now
    except TrainingDiverged as e:
        why = str(e)
    history = _history_file(trainer) if backend != 'torch' else (None, None)
    messages.put(('done', why, ckpt_io.to_json(ckpt_io.from_trainer(trainer)), *history, losses))


def _history_file(trainer):
    """The run's history in a temp file (the window saves it with the checkpoint) and its SHA-256, or
    (None, None) if it cannot be written (the weights matter more than their history)."""
    try:
        fd, path = tempfile.mkstemp(prefix='microgpt-history-', suffix='.json')
        data = trainer.finished_history().to_json().encode('utf-8')
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        return path, hashlib.sha256(data).hexdigest()
    except OSError:
        return None, None


def check_history_process(checkpoint_json, history_file, messages, pause, stop):
    """Run in a child process, at a lower priority than the window: load the history against its
    checkpoint and replay all of it."""
    if hasattr(os, 'nice'):
        os.nice(10)
    try:
        history = history_files.load(history_file, ckpt_io.from_json(checkpoint_json))
        for done in history.verify():
            if stop.is_set():
                return
            messages.put(('progress', done))
        messages.put(('checked', history.sha256))
    except (EngineError, OSError) as e:
        messages.put(('failed', str(e)))


AHEAD = 24  # replay_process stays at most this many steps beyond the step the window asked for last


def replay_process(checkpoint_json, history_file, sha256, start, checked, messages, asked, stop):
    """Run in a child process: replay the history of `history_file` (it must be the one whose SHA-256 the
    window read) from the snapshot before `start`, putting every step from `start` on, each once it is
    checked (`checked`: the window knows the whole file replays as recorded), at most AHEAD steps beyond
    `asked.value`, until the end or `stop`."""
    try:
        history = history_files.load(history_file, ckpt_io.from_json(checkpoint_json))
        if history.sha256 != sha256:
            raise EngineError('The training history changed on disk while the timeline played.')
        if checked:
            history.mark_checked()
        waiting = []  # steps replayed whose stretch has not reached its snapshot yet
        for state in history.replay(history.nearest_snapshot(max(0, start - 1)), history.step, start):
            waiting.append(state)
            if history.checked_until(state.step) != state.step:
                continue
            for ready in waiting:
                while ready.step > asked.value + AHEAD and not stop.is_set():
                    time.sleep(0.005)
                if stop.is_set():
                    return
                messages.put(('state', ready))
            waiting = []
    except (EngineError, OSError) as e:
        messages.put(('failed', str(e)))
