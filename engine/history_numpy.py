"""A training history recorded by the numpy backend (engine.vectorized.VectorTrainer), replayed with numpy.

numpy sums in another order than the scalar engine, so its run replays only with its own operations: the
trainer's (engine.vectorized.loss_and_grads, adam_update) on the same arrays, which give the same bits on the
machine that wrote the file. Measured here: OpenBLAS with 1 or 2 threads gives the same weights bit for bit
(each element of a product is summed by one thread). Speed is another matter: on this 2-core machine, busy
with other work, two threads wait on each other, and a replayed step of the mini GPT took 7 to 38 s with two
and 0.7 to 3 s with one (unloaded: 0.32 s and 0.41 s), so a replay runs its products on one thread (OpenBLAS's
openblas_set_num_threads_local, for the replaying thread only: the trainer and the rest of the process keep
theirs). Another machine (another BLAS, another CPU's kernels) may sum in another order: then the first step
replayed disagrees with the loss the file records and the history is refused with engine.history's one
sentence, never shown.

A step trains a batch of B documents (or text windows), so the file keeps each document trained once
("docs", in the order first trained) and, per step, the indices of its batch into that list ("batches";
3,565 windows of 64 characters are ~0.3 MB once, a batch of 32 indices ~150 bytes a step). The rest is a
scalar history's (engine.history): loss, learning rate and update sizes per step, snapshots of weights, m
and v every K steps. The file says "version": 2 and "backend": "numpy"; a scalar history is unchanged.

A snapshot of a big model is large (32 bytes of base64 per weight: 19 MB for the mini GPT's 606,876), so
`default_every` keeps a run's snapshots within SNAPSHOT_BUDGET and `check_every` refuses an interval whose
file would be larger than a history can be (engine.history.MAX_BYTES), before the run.
"""

import base64
import ctypes
import glob
import os

import numpy as np

from engine import history as history_io
from engine.checks import check_header, is_whole, requirement
from engine.history import History, HistoryError, StepState
from engine.model import Model
from engine.optim import decayed_lr
from engine.vectorized import adam_update, batch_arrays, flat_views, loss_and_grads, sgd_update

BACKEND = 'numpy'
VERSION = 2
SNAPSHOT_BUDGET = 2**29   # default_every keeps a run's snapshots within about this many bytes (512 MB)
CACHE_BUDGET = 2**28      # seek keeps replayed steps within about this many bytes (each: weights, m, v, grad, update)
SNAPSHOT_BYTES = 32       # per weight: weights, m and v as base64 doubles (8 bytes -> 10⅔ characters, three times)


def default_every(num_steps, count):
    """A snapshot interval for a run of num_steps of a model of `count` weights: about
    engine.history.SNAPSHOTS_PER_RUN snapshots, fewer for a big model so that they stay within SNAPSHOT_BUDGET."""
    return max(history_io.default_every(num_steps), -(-num_steps * SNAPSHOT_BYTES * count // SNAPSHOT_BUDGET))


def file_bytes(every, num_steps, count, batch):
    """About how large the history of a run is: its snapshots and, per step, a batch, a loss, a learning rate
    and an update size per matrix (documents aside)."""
    snapshots = -(-num_steps // every) + 1
    return snapshots * SNAPSHOT_BYTES * count + num_steps * (8 * batch + 600)


def check_every(every, num_steps, count, batch):
    """Before the run: a history every `every` steps fits in a history file (HistoryError saying what does if not)."""
    size = file_bytes(every, num_steps, count, batch)
    if size > history_io.MAX_BYTES:
        raise HistoryError(
            f'A snapshot every {every:,} steps makes a history of about {size / 2**20:,.0f} MB for {count:,} weights '
            f'({SNAPSHOT_BYTES * count / 2**20:,.1f} MB a snapshot), more than a history can be '
            f'({history_io.MAX_BYTES / 2**20:,.0f} MB): use --history-every {default_every(num_steps, count)} or more.')


def _blas_threads_local():
    """OpenBLAS's openblas_set_num_threads_local (the thread count of the calling thread's products, returning the
    one before) from the library numpy loaded, or None where numpy has another BLAS."""
    try:
        lib = sorted(glob.glob(os.path.join(os.path.dirname(np.__file__) + '.libs', '*openblas*.so*')))[0]
        fn = ctypes.CDLL(lib).openblas_set_num_threads_local
    except (IndexError, OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
    return fn


BLAS_THREADS_LOCAL = _blas_threads_local()


def attach(trainer, every):
    """Record the run of VectorTrainer `trainer` from its step 0: a snapshot every `every` steps."""
    if not (is_whole(every) and every > 0):
        raise HistoryError(f'The history interval must be a positive whole number of steps, not {every!r}.')
    history = NumpyHistory(trainer.model_config, trainer.tokenizer.uchars, trainer.config, every, trainer.batch)
    history.snapshot(0, trainer.flat, trainer.optimizer.m, trainer.optimizer.v)
    trainer.history = history
    return history


def update_sizes(shapes, before, after):
    """{matrix: L2 norm of its update} from the flat weights before and after a step, as numpy sums them (the
    recording and the replay call this same function on the same arrays, so they agree bit for bit)."""
    sizes, i = {}, 0
    for name, (rows, cols) in shapes.items():
        d = before[i:i + rows * cols] - after[i:i + rows * cols]
        sizes[name] = float(np.sqrt((d * d).sum()))
        i += rows * cols
    return sizes


class NumpyHistory(History):
    """A History whose steps train batches with numpy. `docs` is, as for a scalar history, one document per
    step (the first of its batch, for the views that name a step's document); `corpus` and `batches` hold
    every document of every batch."""
    _sizes = staticmethod(update_sizes)  # numpy's, as the trainer computes them

    def __init__(self, config, uchars, train_config, every, batch, corpus=(), batches=(), losses=None, lrs=None,
                 update_norms=None, snapshots=None):
        self.corpus = list(corpus)                     # each document trained, once, in the order first trained
        self.batches = [list(b) for b in batches]      # [step - 1] -> indices into corpus
        super().__init__(config, uchars, train_config, every, [self.corpus[b[0]] for b in self.batches], losses,
                         lrs, update_norms, snapshots)
        self.batch = batch
        self._index = {doc: i for i, doc in enumerate(self.corpus)}
        self.cached_steps = max(2, min(history_io.CACHED_STEPS, CACHE_BUDGET // (40 * self.num_params)))

    # Recording (engine.vectorized.VectorTrainer calls these)

    def snapshot(self, step, flat, m, v):
        self.snapshots[step] = (np.array(flat, dtype=np.float64), np.array(m, dtype=np.float64),
                                np.array(v, dtype=np.float64))

    def record_batch(self, step, docs, loss, before, after):
        """Step `step` (1-based) trained `docs` to loss `loss`, moving the flat weights from before to after."""
        indices = []
        for doc in docs:
            if doc not in self._index:
                self._index[doc] = len(self.corpus)
                self.corpus.append(doc)
            indices.append(self._index[doc])
        self.batches.append(indices)
        self.docs.append(docs[0])
        self.losses.append(loss)
        self.lrs.append(decayed_lr(self.train_config.learning_rate, step - 1, self.train_config.num_steps))
        for name, size in update_sizes(self.shapes, before, after).items():
            self.update_norms[name].append(size)

    # Reaching a step

    def positions(self, doc):
        """A document's tokens and positions as microgpt cuts them (engine.vectorized.batch_arrays asks)."""
        tokens = self.tokenizer.encode(doc)
        return tokens, min(self.config.block_size, len(tokens) - 1)

    def batch_docs(self, step):
        """The documents step `step` (1-based) trained."""
        return [self.corpus[i] for i in self.batches[step - 1]]

    def _model(self, weights):
        floats = {name: a.tolist() for name, a in flat_views(np.asarray(weights), self.shapes).items()}
        return Model.from_floats(self.config, self.tokenizer, floats)

    def replay(self, start, stop, first=None):
        """Yield a StepState for every step from `first` (default start+1) to stop, replaying from the snapshot
        at `start` with VectorTrainer.train_step's numpy operations, each step checked against the file."""
        first = start + 1 if first is None else first
        weights, m, v = self.snapshots[start]
        flat = np.array(weights)  # writable copies, laid out as the trainer's
        weights, grad_flat = flat_views(flat, self.shapes), np.zeros_like(flat)
        grads = flat_views(grad_flat, self.shapes)
        m, v = np.array(m), np.array(v)
        update = sgd_update if self.train_config.optimizer == 'sgd' else adam_update
        for step in range(start, stop):  # 0-based index of the update, as the trainer counts
            tokens, targets, loss_weights = batch_arrays(self, self.batch_docs(step + 1))
            threads = BLAS_THREADS_LOCAL(1) if BLAS_THREADS_LOCAL else None  # one thread: the same bits, faster here
            with np.errstate(all='ignore'):
                loss, _ = loss_and_grads(weights, self.config, tokens, targets, loss_weights, grads)
                after, m, v = update(flat, grad_flat, m, v, step, self.train_config)
            if threads is not None:
                BLAS_THREADS_LOCAL(threads)
            self._check_step(step + 1, float(loss), flat, after, m, v)
            state = None
            if step + 1 >= first:
                state = StepState(step + 1, after, m, v, grad_flat.copy(), flat - after, self.lrs[step], float(loss),
                                  self.docs[step])
            flat[:] = after
            if state is not None:
                yield state

    def _check_step(self, step, loss, before, after, m, v):
        """Step `step`, just replayed, is what the file records (engine.history.History._check, with numpy)."""
        self._check_snapshot(step, self._step_differs(step, loss, before, after), lambda w0, m0, v0: (
            np.array_equal(w0, after) and np.array_equal(m0, m) and np.array_equal(v0, v)))

    def series(self, index, grads):
        """engine.history.History.series with the trainer's numpy Adam on that one parameter (the same bits as
        on the whole array: each element's operations are the same)."""
        weights, m, v = self.snapshots[0]
        p, m, v = weights[index:index + 1].copy(), m[index:index + 1].copy(), v[index:index + 1].copy()
        update = sgd_update if self.train_config.optimizer == 'sgd' else adam_update
        rows = []
        for step in range(self.step):
            g = grads[step][index:index + 1]
            after, m, v = update(p, g, m, v, step, self.train_config)
            rows.append({'step': step + 1, 'data': float(after[0]), 'grad': float(g[0]), 'm': float(m[0]),
                         'v': float(v[0]), 'lr': self.lrs[step], 'update': float(p[0] - after[0])})
            p = after
        return rows

    # Files

    @staticmethod
    def pack(a):
        """A snapshot's array as the file holds it: little-endian doubles in base64 (engine.history's layout)."""
        return base64.b64encode(np.ascontiguousarray(a, dtype='<f8').tobytes()).decode('ascii')

    def file_object(self):
        obj = super().file_object()
        obj.update(version=VERSION, backend=BACKEND, batch=self.batch, docs=self.corpus, batches=self.batches)
        return obj


def parse(obj, checkpoint=None):
    """The NumpyHistory of a file's JSON (engine.history.load calls this through engine.history_files),
    checked as engine.history.parse checks a scalar one, its batches too."""
    need = requirement(HistoryError)
    check_header(obj, history_io.FORMAT, VERSION, 'history', HistoryError)
    need(obj.get('backend') == BACKEND, f'its backend {obj.get("backend")!r} is not {BACKEND!r}.')
    run = history_io.parse_run(obj, checkpoint)
    step, tokenizer = run['step'], run['tokenizer']
    batch, corpus, batches = obj.get('batch'), obj.get('docs'), obj.get('batches')
    need(is_whole(batch) and batch > 0, 'its batch is not a positive whole number of documents.')
    need(isinstance(corpus, list) and all(isinstance(d, str) for d in corpus), 'its documents are not a list of documents.')
    for doc in corpus:
        try:
            tokenizer.encode(doc)
        except ValueError:
            raise HistoryError(f'its document {doc[:20]!r} is not in its vocabulary.') from None
    need(isinstance(batches, list) and len(batches) == step and
         all(isinstance(b, list) and len(b) == batch and all(is_whole(i) and 0 <= i < len(corpus) for i in b)
             for b in batches), f'its batches are not {step:,} lists of {batch} indices of its documents.')
    snapshots = {s: tuple(np.frombuffer(a, dtype=np.float64) for a in arrays) for s, arrays in
                 history_io.snapshots_of(obj.get('snapshots'), run['every'], step, run['count']).items()}
    history = NumpyHistory(run['config'], tokenizer.uchars, run['train'], run['every'], batch, corpus, batches,
                           run['loss'], run['lr'], run['update_norm'], snapshots)
    if 'validation' in obj:
        history.val_docs, history.val_losses = history_io.validation(obj['validation'], step, tokenizer)
    return history

