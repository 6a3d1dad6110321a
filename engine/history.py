"""A training run's history: reach the model at any step exactly, by replay from the nearest snapshot.

Training is deterministic, so a history holds a snapshot every `every` steps (weights, Adam's m and v,
as packed little-endian doubles in base64) and, for each step, the document trained, the learning rate
and the loss; replaying from the snapshot before a step with microgpt's own float operations
(engine.optim.Adam) gives that step's weights, gradients, m and v bit for bit.

The history travels beside its checkpoint, so that loading a checkpoint stays as fast as before; it is
read only when asked for. A checkpoint saved with its history names it by content (engine.pair: both are
written as one, and a history changed afterwards is refused at once); an older checkpoint's history is
`NAME.history.json` (`history_path`).

A history proves itself against its run. Loading checks what it can without replay: the configuration,
vocabulary and settings are the checkpoint's (before anything is allocated), the file is no larger than
such a run can write, the snapshots are exactly those of steps 0, K, 2K, … and the last, the last one is
the checkpoint's weights and Adam state, every learning rate is the schedule's. Replay checks the rest:
every step replayed must give the loss and update sizes recorded, and reaching a snapshot must give it
bit for bit. A history the checkpoint does not name by content is replayed to the end of the snapshot
interval of any step asked for, so no answer comes from a stretch that was not checked. The first
disagreement is one sentence (HistoryError) naming its step.

File (a run of the numpy backend, a batch a step, writes version 2 with "backend": "numpy": engine.history_numpy):
{"format": "microgpt-explorer history", "version": 1, "every": K, "step": steps recorded,
 "config": GPTConfig fields, "uchars": [str], "train": TrainConfig fields,
 "docs": [document of step 1, 2, …], "loss": [loss of step 1, …], "lr": [learning rate of step 1, …],
 "update_norm": {matrix: [L2 norm of the update of step 1, …]},
 "validation": {"docs": [held-out document, …], "loss": [[step, their mean loss after it], …]},  # only if any
 "snapshots": [{"step": s, "weights": b64, "m": b64, "v": b64}]}   # s = 0, K, 2K, …, and the last step"""

import base64
import bisect
import hashlib
import json
import math
import os
import sys
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from engine.checkpoint import Checkpoint
from engine.checks import check_header, is_number, is_whole, requirement, short
from engine.errors import CheckpointError, ConfigError
from engine.gc_pause import paused as _gc_paused
from engine.graph.keys import parse_param_name
from engine.files import write_atomic
from engine.model import GPTConfig, Model, param_count, param_shapes
from engine.tokenizer import Tokenizer
from engine.optim import TrainConfig, decayed_lr, make_optimizer, update_sizes
from engine.value import Value

FORMAT = 'microgpt-explorer history'
VERSION = 1
SNAPSHOTS_PER_RUN = 100  # the app's runs keep about this many snapshots (every num_steps/100 steps)
CACHED_STEPS = 48        # seek keeps the states of this many steps it replayed (about 170 KB each)
MAX_BYTES = 2**30        # a history of no checkpoint is refused above this; with one, above what its run can write
DOC_BYTES = 65536        # the most a run's file is allowed per document (JSON-escaped) in that bound

class HistoryError(CheckpointError):
    """A history file that cannot be read or does not belong to its checkpoint."""


def history_path(checkpoint_path, ckpt=None):
    """Where the history of a checkpoint lives: the file a Checkpoint names (in the checkpoint's folder, a
    symlink followed), else beside it as 'run.json' -> 'run.history.json' (else NAME.history.json)."""
    path = Path(checkpoint_path)
    if ckpt is not None and ckpt.history_name is not None:
        return Path(os.path.realpath(path)).with_name(ckpt.history_name)
    stem = path.name[:-len('.json')] if path.name.endswith('.json') else path.name
    return path.with_name(stem + '.history.json')


def default_every(num_steps):
    """A snapshot interval for a run of num_steps: about SNAPSHOTS_PER_RUN snapshots."""
    return max(1, -(-num_steps // SNAPSHOTS_PER_RUN))


def _little_endian(a):
    """array('d') `a` in the file's byte order (little-endian), swapped in place on a big-endian machine."""
    if sys.byteorder == 'big':
        a.byteswap()
    return a


def _pack(floats):
    return base64.b64encode(_little_endian(array('d', floats)).tobytes()).decode('ascii')


def _unpack(text, count):
    a = array('d', base64.b64decode(text.encode('ascii'), validate=True))
    if len(a) != count:
        raise ValueError(f'{len(a)} numbers, not {count}')
    return _little_endian(a)


@dataclass(frozen=True)
class StepState:
    """The model at one step t (0 = the initial weights, before any update)."""
    step: int
    weights: array          # after update t, flat in model.params order
    m: array                # Adam's moments after update t
    v: array
    grads: array = None     # the gradient of step t (on the weights of step t-1, its document); None at 0
    update: array = None    # what update t subtracted (weights[t-1] - weights[t]); None at 0
    lr: float = None        # the learning rate of update t; None at 0
    loss: float = None      # the loss of step t (before its update); None at 0
    doc: str = None         # the document of step t; None at 0


class History:
    """Snapshots and per-step records of one run; `seek(t)` replays to any step."""
    _sizes = staticmethod(update_sizes)  # each matrix's update size, with the float operations replay checks
    batch = 1  # documents a step trains (a numpy run's history, engine.history_numpy, trains batches)

    def __init__(self, config, uchars, train_config, every, docs=None, losses=None, lrs=None,
                 update_norms=None, snapshots=None):
        self.config = config
        self.tokenizer = Tokenizer(uchars)
        self.train_config = train_config
        self.every = every
        self.docs = list(docs or [])                  # [step - 1] -> document
        self.losses = list(losses or [])
        self.lrs = list(lrs or [])
        self.shapes = param_shapes(config, self.tokenizer.vocab_size)
        self.update_norms = update_norms or {name: [] for name in self.shapes}
        self.snapshots = dict(snapshots or {})        # step -> (weights, m, v) as array('d')
        self.num_params = sum(r * c for r, c in self.shapes.values())
        self._lock = threading.Lock()   # seek is called from worker threads
        self._cache = OrderedDict()     # step -> StepState that seek replayed, least recently used first
        self.cached_steps = CACHED_STEPS  # how many it keeps (fewer for a big model: engine.history_numpy)
        self._cursor = None             # (next step, the replay generator that yields it): play goes on from here
        self.name = None                # the file's name, for messages (load sets it)
        self.sha256 = None              # of the file it was read from (load sets it)
        self.bound = True               # made here by a Trainer, or a file its checkpoint names by content (load
                                        # says which): trusted without replaying ahead to check
        self._checked = set()           # snapshot steps s whose interval s … next snapshot replayed as recorded
        self.val_docs = []              # the held-out documents the validation loss is the mean over (train
        self.val_losses = {}            # --eval-every): step -> their mean loss with the weights after it

    def forget(self):
        """Drop what seek keeps (the bench measures cold seeks with this)."""
        with self._lock:
            self._cache.clear()
            self._cursor = None

    @property
    def step(self):
        """The last step recorded."""
        return len(self.docs)

    # Recording (engine.train.Trainer calls these)

    def snapshot(self, step, params, m, v):
        self.snapshots[step] = (array('d', (p.data for p in params)), array('d', m), array('d', v))

    def record_validation(self, docs, step, loss):
        """The validation loss after step `step`: the mean loss of `docs` (the same documents every time)."""
        self.val_docs = list(docs)
        self.val_losses[step] = loss

    def record_step(self, step, doc, loss, lr, before, params):
        """Step `step` (1-based) is done: its document, loss, learning rate and the size of each matrix's update."""
        self.docs.append(doc)
        self.losses.append(loss)
        self.lrs.append(lr)
        for name, size in update_sizes(self.shapes, before, [p.data for p in params]).items():
            self.update_norms[name].append(size)

    # Reaching a step

    def nearest_snapshot(self, step):
        """The last snapshot at or before `step`."""
        steps = sorted(self.snapshots)
        return steps[bisect.bisect_right(steps, step) - 1]

    def _model(self, weights):
        floats, i = {}, 0
        for name, (rows, cols) in self.shapes.items():
            floats[name] = [list(weights[i + r * cols:i + (r + 1) * cols]) for r in range(rows)]
            i += rows * cols
        return Model.from_floats(self.config, self.tokenizer, floats)

    def next_snapshot(self, step):
        """The first snapshot at or after `step`."""
        steps = sorted(self.snapshots)
        return steps[bisect.bisect_left(steps, step)]

    def _trusted(self, snapshot):
        """The snapshot needs no replay: the file is bound by content, it is the last (the checkpoint's), or an
        interval ending or starting at it replayed as recorded."""
        return (self.bound or snapshot == self.step or snapshot in self._checked or
                (snapshot > 0 and self.nearest_snapshot(snapshot - 1) in self._checked))

    def checked_until(self, step):
        """Where a replay that answers for `step` goes on to, so that the answer is checked: `step` itself for a
        history its checkpoint names by content or whose interval replayed already, else the next snapshot."""
        if self.bound or step == 0 or self.nearest_snapshot(step - 1) in self._checked:
            return step
        return self.next_snapshot(step)

    def replay(self, start, stop, first=None):
        """Yield a StepState for every step from `first` (default start+1) to stop, replaying from the
        snapshot at `start` with Trainer.train_step's float operations. Every step replayed is checked
        against what the history records (HistoryError at the first that differs)."""
        first = start + 1 if first is None else first
        weights, m, v = self.snapshots[start]
        model = self._model(weights)
        params = model.params
        adam = make_optimizer(params, self.train_config, m, v)
        num_steps = self.train_config.num_steps
        for step in range(start, stop):  # 0-based index of the update, as Trainer counts
            wanted = step + 1 >= first
            with _gc_paused():
                before = array('d', (p.data for p in params))
                tokens, n = model.positions(self.docs[step])
                loss = model.loss(tokens, n)
                loss.backward()
                if wanted:
                    grads = array('d', (p.grad for p in params))
                adam.update(step, num_steps)
                loss = loss.data  # the graph goes now, while the collector is off
            after = array('d', (p.data for p in params))
            self._check(step + 1, loss, before, after, adam)
            if wanted:
                yield StepState(step + 1, after, array('d', adam.m), array('d', adam.v), grads,
                                array('d', (b - a for b, a in zip(before, after))),
                                decayed_lr(self.train_config.learning_rate, step, num_steps), loss,
                                self.docs[step])

    def _check(self, step, loss, before, after, adam):
        """Step `step`, just replayed, is what the history records: its loss, its update sizes (computed as
        record_step does) and, at a snapshot, the weights and Adam's moments bit for bit."""
        self._check_snapshot(step, self._step_differs(step, loss, before, after),
                             lambda weights, m, v: weights == after and m == array('d', adam.m) and v == array('d', adam.v))

    def _step_differs(self, step, loss, before, after):
        """What replaying step `step` gave that the history does not record (its loss, an update size), or None."""
        if loss != self.losses[step - 1]:
            return f'a loss of {loss!r}, not the {self.losses[step - 1]!r} it records'
        for name, size in self._sizes(self.shapes, before, after).items():
            if size != self.update_norms[name][step - 1]:
                return f'another update size of {name} than it records'
        return None

    def _check_snapshot(self, step, differs, same):
        """Refuse the history if step `step` differs, or reaches a snapshot that `same(weights, m, v)` is not;
        else a snapshot reached marks its interval checked."""
        if differs is None and step in self.snapshots:
            if not same(*self.snapshots[step]):
                differs = 'other weights or Adam moments than its snapshot of that step'
            else:
                self._checked.add(self.nearest_snapshot(step - 1))
        if differs is not None:
            self._disagree(step, differs)

    def _disagree(self, step, differs):
        """Replaying step `step` gave `differs`: the one sentence that refuses the history."""
        start = self.nearest_snapshot(step - 1)
        raise HistoryError(
            f'The training history{" " + self.name if self.name else ""} was changed after it was written: replaying step {step:,} from the snapshot of step '
            f'{start:,} gives {differs}, so it cannot be used (the checkpoint itself is not affected).')

    def mark_checked(self):
        """Every interval is known to replay as recorded (a check of this very file, by its SHA-256, did it)."""
        self._checked.update(sorted(self.snapshots)[:-1])

    def verify(self):
        """Replay every interval not yet checked: a generator yielding the fraction done (engine-style
        progress job); HistoryError at the first step that differs."""
        starts = sorted(self.snapshots)[:-1]
        todo = [s for s in starts if s not in self._checked]
        total = sum(self.next_snapshot(s + 1) - s for s in todo) or 1
        done = 0
        for start in todo:
            end = self.next_snapshot(start + 1)
            for state in self.replay(start, end, end):
                pass
            done += end - start
            yield done / total
        return self.step

    def seek(self, step, grads=True):
        """The StepState of `step` (0 … self.step). With grads=False a snapshot step is returned without
        replaying (its grads, update, loss are None): enough to show the weights."""
        if not (is_whole(step) and 0 <= step <= self.step):
            raise ValueError(f'There is no step {step!r} in this history: it has steps 0 to {self.step}.')
        if step in self.snapshots and (step == 0 or not grads):
            if not self._trusted(step):
                start = self.nearest_snapshot(step - 1) if step else 0
                with self._lock:
                    for _ in self.replay(start, self.next_snapshot(start + 1), self.step + 1):
                        pass  # checks the snapshot shown against its neighbour
            weights, m, v = self.snapshots[step]
            return StepState(step, weights, m, v)
        with self._lock:
            state = self._cache.get(step)
            if state is not None:
                self._cache.move_to_end(step)
                return state
            start = self.nearest_snapshot(step - 1)
            if self._cursor is not None and start < self._cursor[0] <= step:
                at, steps = self._cursor  # forward from the last seek: replay only the difference
            else:
                at, steps = start + 1, self.replay(start, self.step)
            self._cursor = None
            end, wanted = self.checked_until(step), None
            while True:
                state = next(steps)
                self._cache[at] = state
                self._cache.move_to_end(at)
                if len(self._cache) > self.cached_steps:
                    self._cache.popitem(last=False)
                if at == step:
                    wanted = state
                if at == end:
                    break
                at += 1
            if end < self.step:
                self._cursor = (end + 1, steps)
            return wanted

    def offer(self, state):
        """Keep a StepState another replay of this very history made (engine.job.replay_process, while the
        timeline plays) where seek finds it first."""
        with self._lock:
            self._cache[state.step] = state
            self._cache.move_to_end(state.step)
            while len(self._cache) > self.cached_steps:
                self._cache.popitem(last=False)

    def ready(self, step):
        """Whether seek(step, grads=False) answers without replaying (a step kept, or a snapshot trusted)."""
        with self._lock:
            return step in self._cache or (step in self.snapshots and self._trusted(step))

    @property
    def trusted(self):
        """Every step replays as recorded, as far as this process knows: bound by content, or checked whole."""
        return self.bound or set(sorted(self.snapshots)[:-1]) <= self._checked

    def model_at(self, step):
        """The Model with the weights of `step`."""
        return self._model(self.seek(step, grads=False).weights)

    def param_index(self, name):
        """Flat index of 'wte[4][3]' or 'layer0.attn_wq[3][5]' (engine.trace.Trace.param_name's form)."""
        matrix, row, col = parse_param_name(name)  # strict: plain digits, nothing after
        if matrix not in self.shapes:
            raise ValueError(f'There is no matrix {matrix!r}; the model has ' + ', '.join(self.shapes) + '.')
        i = 0
        for mat, (rows, cols) in self.shapes.items():
            if mat == matrix:
                if not (0 <= row < rows and 0 <= col < cols):
                    raise ValueError(f'{short(name)} is outside {matrix}, which is {rows}×{cols}.')
                return i + row * cols + col
            i += rows * cols

    def param_series(self, index, first=1, last=None):
        """Rows {step, data, grad, m, v, lr, update} of parameter `index` for steps first…last, as a
        generator yielding the fraction done; returns the list (engine-style progress job)."""
        last = self.step if last is None else last
        if not (1 <= first <= last <= self.step):
            raise ValueError(f'The steps must lie in 1:{self.step} with the first not after the last, not {first}:{last}.')
        start = self.nearest_snapshot(first - 1)
        end = max(last, self.checked_until(last))
        rows = []
        for state in self.replay(start, end, first):
            if state.step > last:
                continue  # replayed only to check the answer against the next snapshot
            rows.append({'step': state.step, 'data': state.weights[index], 'grad': state.grads[index],
                         'm': state.m[index], 'v': state.v[index], 'lr': state.lr, 'update': state.update[index]})
            yield (state.step - start) / max(1, end - start)
        return rows

    def run_grads(self):
        """The gradient of every step (array('d') each, [step - 1]), replaying the whole run once: a
        generator yielding the fraction done; returns the list. 4,192 parameters × 1000 steps: 33 MB."""
        grads = []
        for state in self.replay(0, self.step):
            grads.append(state.grads)
            yield state.step / self.step
        return grads

    def series(self, index, grads):
        """param_series' rows for every step of parameter `index`, from run_grads' gradients: Adam's
        update (engine.optim.Adam, the same code) applied to that one parameter from step 0."""
        weights, m, v = self.snapshots[0]
        p = Value(weights[index])
        adam = make_optimizer([p], self.train_config, [m[index]], [v[index]])
        num_steps, rows = self.train_config.num_steps, []
        for step in range(self.step):
            before = p.data
            p.grad = grads[step][index]
            adam.update(step, num_steps)
            rows.append({'step': step + 1, 'data': p.data, 'grad': grads[step][index], 'm': adam.m[0],
                         'v': adam.v[0], 'lr': self.lrs[step], 'update': before - p.data})
        return rows

    def matrix_at(self, name, step):
        """Rows of matrix `name` in the snapshot of `step` (KeyError if there is no such matrix)."""
        rows, cols = self.shapes[name]
        i = self.param_index(f'{name}[0][0]')
        flat = self.snapshots[step][0][i:i + rows * cols].tolist()  # array('d') or a numpy array: floats
        return [flat[r * cols:(r + 1) * cols] for r in range(rows)]

    # Files

    pack = staticmethod(_pack)  # a snapshot's array as the file holds it

    def to_json(self):
        return json.dumps(self.file_object(), separators=(',', ':')) + '\n'

    def file_object(self):
        """What to_json writes, as a dict (engine.history_numpy adds its own keys)."""
        return {'format': FORMAT, 'version': VERSION, 'every': self.every, 'step': self.step,
               'config': self.config.to_dict(), 'uchars': self.tokenizer.uchars,
               'train': self.train_config.to_dict(), 'docs': self.docs, 'loss': self.losses, 'lr': self.lrs,
               'update_norm': self.update_norms,
               **({'validation': {'docs': self.val_docs, 'loss': [[s, x] for s, x in sorted(self.val_losses.items())]}}
                  if self.val_losses else {}),  # a run without validation writes what it always wrote
               'snapshots': [{'step': s, 'weights': self.pack(w), 'm': self.pack(m), 'v': self.pack(v)}
                             for s, (w, m, v) in sorted(self.snapshots.items())]}


def save(path, history):
    write_atomic(path, history.to_json())


def max_bytes(ckpt):
    """The largest history the run of `ckpt` can write: a snapshot at every step (32 bytes of base64 per
    number of weights, m and v), per step a loss, a learning rate, an update size per matrix and a document."""
    count, matrices = len(ckpt.model.params), len(ckpt.model.state_dict)
    return 2**20 + (ckpt.step + 1) * (32 * count + 256) + ckpt.step * (32 * (matrices + 2) + DOC_BYTES)


def load(path, checkpoint=None, reader=None):
    """The History in `path`; with a Checkpoint, also checked to be that checkpoint's run (its size, what
    it records and, when the checkpoint names it by content, its bytes) before anything is built from it.
    A HistoryError with one sentence if anything about it is wrong. reader(obj, checkpoint): what builds the
    History from the file's JSON (engine.history_files passes one that reads the numpy backend's too)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # reading it says why it cannot be read
    most = MAX_BYTES if checkpoint is None else min(MAX_BYTES, max_bytes(checkpoint))
    if size > most:
        raise HistoryError(f'The training history {path.name} is {size:,} bytes, more than '
                           + ('a history can be' if checkpoint is None else "its checkpoint's run can write")
                           + f' ({most:,} bytes at most).')
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HistoryError(f'There is no training history beside this checkpoint ({path.name}); '
                           'train with --history-every K --out to make one.') from None
    except OSError as e:
        raise HistoryError(f'The training history {path.name} cannot be read ({e.strerror or e}).') from None
    bound = checkpoint is not None and checkpoint.history_sha256 is not None
    sha256 = hashlib.sha256(raw).hexdigest()
    if bound and sha256 != checkpoint.history_sha256:
        raise HistoryError(f'The training history {path.name} was changed after it was saved: its content is not '
                           'the one its checkpoint names, so it cannot be used (the checkpoint itself is not affected).')
    try:
        obj = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HistoryError(f'The training history {path.name} is not valid JSON.') from None
    try:
        history = (reader or parse)(obj, checkpoint)
        if checkpoint is not None:
            _check_belongs(history, checkpoint)
    except HistoryError as e:
        raise HistoryError(f'The training history {path.name} is not valid: {e}') from None
    history.name, history.bound, history.sha256 = path.name, bound, sha256
    return history


def parse(obj, checkpoint=None):
    need = requirement(HistoryError)
    need(not isinstance(obj, dict) or 'backend' not in obj, 'it was recorded by another backend than the scalar engine.')
    check_header(obj, FORMAT, VERSION, 'history', HistoryError)
    run = parse_run(obj, checkpoint)
    config, train_config, tokenizer, every, step = (run[k] for k in ('config', 'train', 'tokenizer', 'every', 'step'))
    docs = obj.get('docs')
    need(isinstance(docs, list) and len(docs) == step and all(isinstance(d, str) for d in docs),
         f'it does not list the {step} documents trained.')
    for doc in docs:
        try:
            tokenizer.encode(doc)
        except ValueError:
            raise HistoryError(f'its document {doc[:20]!r} is not in its vocabulary.') from None
    snapshots = snapshots_of(obj.get('snapshots'), every, step, run['count'])
    history = History(config, tokenizer.uchars, train_config, every, docs, run['loss'], run['lr'], run['update_norm'],
                      snapshots)
    if 'validation' in obj:
        history.val_docs, history.val_losses = validation(obj['validation'], step, tokenizer)
    return history


def parse_run(obj, checkpoint=None):
    """What every history file holds whatever its backend, checked (HistoryError if not): {config, train,
    tokenizer, every, step, loss, lr, update_norm, count (of weights)}."""
    need = requirement(HistoryError)
    if checkpoint is not None:  # the sizes the file claims are the checkpoint's before anything is built
        model = checkpoint.model
        need(obj.get('config') == model.config.to_dict() and obj.get('uchars') == model.tokenizer.uchars and
             checkpoint.train_config is not None and obj.get('train') == checkpoint.train_config.to_dict(),
             "its configuration, vocabulary or settings are not the checkpoint's.")
    try:
        config = GPTConfig(**obj['config'])
        train_config = TrainConfig(**obj['train'])
        tokenizer = Tokenizer(obj['uchars'])
    except (KeyError, TypeError, ConfigError):
        raise HistoryError('its config, vocabulary or train settings are not valid.') from None
    need(all(isinstance(c, str) and len(c) == 1 for c in tokenizer.uchars), 'its vocabulary is not a list of characters.')
    if checkpoint is None:
        count = param_count(config, tokenizer.vocab_size)
        need(64 * count <= MAX_BYTES, 'its model is larger than a history can hold.')
    every, step = obj.get('every'), obj.get('step')
    need(is_whole(every) and every > 0, 'its snapshot interval (every) is not a positive whole number.')
    need(is_whole(step) and 0 <= step <= train_config.num_steps, 'its step is not a whole number within the run.')
    losses, lrs = obj.get('loss'), obj.get('lr')
    for what, xs in (('losses', losses), ('learning rates', lrs)):
        need(isinstance(xs, list) and len(xs) == step and
             all(is_number(x) and math.isfinite(x) for x in xs),
             f'its {what} are not {step} finite numbers.')
    for i, lr in enumerate(lrs):  # the schedule's, exactly: nothing to replay
        need(lr == decayed_lr(train_config.learning_rate, i, train_config.num_steps),
             f"its learning rate of step {i + 1:,} is {lr!r}, not the schedule's "
             f'{decayed_lr(train_config.learning_rate, i, train_config.num_steps)!r}.')
    shapes = param_shapes(config, tokenizer.vocab_size)
    norms = obj.get('update_norm')
    need(isinstance(norms, dict) and set(norms) == set(shapes) and
         all(isinstance(xs, list) and len(xs) == step and
             all(is_number(x) and math.isfinite(x) and x >= 0 for x in xs)
             for xs in norms.values()), 'its update sizes do not cover every matrix and step.')
    return {'config': config, 'train': train_config, 'tokenizer': tokenizer, 'every': every, 'step': step,
            'loss': [float(x) for x in losses], 'lr': [float(x) for x in lrs],
            'update_norm': {k: [float(x) for x in norms[k]] for k in shapes},
            'count': sum(r * c for r, c in shapes.values())}


def validation(raw, step, tokenizer):
    """(held-out documents, {step: validation loss}) from the file's optional "validation" (older files have none)."""
    need = requirement(HistoryError)
    need(isinstance(raw, dict) and isinstance(raw.get('docs'), list) and raw['docs'] and
         all(isinstance(d, str) and all(c in tokenizer.uchars for c in d) for d in raw['docs']),
         'its validation documents are not a list of documents in its vocabulary.')
    pairs = raw.get('loss')
    need(isinstance(pairs, list) and pairs and
         all(isinstance(p, list) and len(p) == 2 and is_whole(p[0]) and is_number(p[1]) and math.isfinite(p[1])
             and p[1] >= 0 for p in pairs) and
         [p[0] for p in pairs] == sorted({p[0] for p in pairs}) and 1 <= pairs[0][0] and pairs[-1][0] <= step,
         f'its validation losses are not [step, loss] pairs in order, within steps 1 to {step:,}.')
    return list(raw['docs']), {p[0]: float(p[1]) for p in pairs}


def snapshots_of(raw, every, step, count):
    """{step: (weights, m, v)} from the file's list: exactly the steps 0, every, 2·every, … and the last, each
    with `count` finite numbers in each array."""
    need = requirement(HistoryError)
    expected = sorted(set(range(0, step + 1, every)) | {step})
    need(isinstance(raw, list) and raw, 'it has no snapshots.')
    need(all(isinstance(snap, dict) and is_whole(snap.get('step')) for snap in raw) and
         [snap['step'] for snap in raw] == expected,
         f'its snapshots are not those of steps 0, {every:,}, {2 * every:,}, … and {step:,}, in order.')
    snapshots = {}
    for snap in raw:
        try:
            arrays = tuple(_unpack(snap[key], count) for key in ('weights', 'm', 'v'))
        except (KeyError, TypeError, ValueError):
            raise HistoryError(f'its snapshot of step {snap["step"]} does not hold {count:,} weights, m and v.') from None
        need(all(math.isfinite(x) for a in arrays for x in a), f'its snapshot of step {snap["step"]} holds a number that is not finite.')
        snapshots[snap['step']] = arrays
    return snapshots


def _check_belongs(history, ckpt):
    need = requirement(HistoryError)
    need(history.step == ckpt.step, f'it ends at step {history.step:,}, the checkpoint at step {ckpt.step:,}.')
    weights, m, v = history.snapshots[history.step]  # array('d') or numpy arrays: tolist() gives floats
    need(weights.tolist() == [p.data for p in ckpt.model.params] and
         (ckpt.adam_m is None or (m.tolist() == list(ckpt.adam_m) and v.tolist() == list(ckpt.adam_v))),
         "its last weights are not the checkpoint's: it belongs to another run.")


def load_for(checkpoint_path, checkpoint):
    """The history of a checkpoint file, checked against it (HistoryError if missing or wrong)."""
    return load(history_path(checkpoint_path, checkpoint), checkpoint)


def checkpoint_at(history, step, seed=42):
    """A Checkpoint of the model at `step` (weights, Adam state), so that the inspector's 'next update'
    is the update this run made after it."""
    state = history.seek(step, grads=False)
    return Checkpoint(history._model(state.weights), step, seed, history.train_config, None,
                      state.m.tolist(), state.v.tolist())  # array('d') or a numpy array: floats either way

