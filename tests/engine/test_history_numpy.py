"""engine.history_numpy: a run of the numpy backend records its batches, and replaying it from any snapshot gives
the weights, Adam moments and gradients the trainer had at every step, bit for bit; a file changed afterwards
(a document, a batch, a loss) or a replay that sums differently (another machine) is refused with one sentence
naming the step."""

import base64
import json

import numpy as np
import pytest

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine import history_files, history_numpy, pair
from engine.data import load_docs
from engine.history import HistoryError
from engine.cli.commands import main
from engine.model import GPTConfig, finish
from engine.optim import TrainConfig
from engine.vectorized import VectorTrainer

STEPS, EVERY, BATCH = 23, 5, 4
CONFIGS = {
    'microgpt': GPTConfig(n_embd=8, n_layer=1, n_head=2, block_size=8),
    'blocks': GPTConfig(n_embd=8, n_layer=2, n_head=2, block_size=8, norm='layer', activation='swiglu',
                        position='rope', bias=True),
}


@pytest.fixture(scope='module')
def docs(names_file):
    return load_docs(names_file)[:400]


def train(docs, config, optimizer='adam'):
    """A recorded numpy run and, per step, the trainer's (weights, m, v, grads) after it."""
    trainer = VectorTrainer(docs, config, TrainConfig(num_steps=STEPS, learning_rate=0.02, optimizer=optimizer),
                            batch=BATCH)
    history_numpy.attach(trainer, EVERY)
    states = [(trainer.flat.copy(), trainer.optimizer.m.copy(), trainer.optimizer.v.copy(), None)]
    for _ in trainer.run():
        states.append((trainer.flat.copy(), trainer.optimizer.m.copy(), trainer.optimizer.v.copy(),
                       trainer.grad_flat.copy()))
    return trainer, states


@pytest.fixture(scope='module', params=sorted(CONFIGS))
def run(request, docs):
    return train(docs, CONFIGS[request.param])


@pytest.fixture(scope='module')
def saved(run, tmp_path_factory):
    """The run saved as `train --out` saves it: checkpoint and history as one pair."""
    trainer, _ = run
    path = tmp_path_factory.mktemp('numpy-run') / 'run.json'
    pair.save(path, ckpt_io.from_trainer(trainer), trainer.finished_history().to_json().encode('utf-8'))
    return path


def same(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_the_file_says_its_backend_and_keeps_each_document_once(saved, run):
    trainer, _ = run
    obj = json.loads(history_io.history_path(saved, ckpt_io.load(saved)).read_text())
    assert (obj['version'], obj['backend'], obj['batch'], obj['step']) == (2, 'numpy', BATCH, STEPS)
    assert [s['step'] for s in obj['snapshots']] == [0, 5, 10, 15, 20, 23]
    assert len(obj['docs']) == len(set(obj['docs'])) and len(obj['batches']) == STEPS
    for step, batch in enumerate(obj['batches']):
        assert [obj['docs'][i] for i in batch] == trainer.step_docs(step)


def test_every_step_replays_to_the_trainers_weights_moments_and_gradients(saved, run):
    _, states = run
    history = history_files.load_for(saved, ckpt_io.load(saved))
    assert isinstance(history, history_numpy.NumpyHistory) and history.bound and history.step == STEPS
    for step in [7, 3, 23, 11, 0, 10, 12, 22, 1]:  # backwards and forwards, snapshots and between
        state = history.seek(step)
        weights, m, v, grads = states[step]
        assert same(state.weights, weights) and same(state.m, m) and same(state.v, v)
        if step:
            assert same(state.grads, grads) and same(state.update, states[step - 1][0] - weights)
    ckpt = history_io.checkpoint_at(history, 12)
    assert [p.data for p in ckpt.model.params] == states[12][0].tolist() and ckpt.adam_m == states[12][1].tolist()


def test_a_history_read_without_its_checkpoint_replays_whole_as_recorded(saved):
    history = history_files.load(history_io.history_path(saved, ckpt_io.load(saved)))
    assert not history.bound and not history.trusted
    assert list(history.verify())[-1] == 1.0 and history.trusted


def test_one_parameter_over_the_run_is_the_replays(saved, run):
    """series (from run_grads, the trainer's Adam on one element) and param_series (a replay) give the same rows."""
    history = history_files.load_for(saved, ckpt_io.load(saved))
    index = history.param_index('layer0.attn_wq[1][2]')
    rows = history.series(index, finish(history.run_grads()))
    assert rows == finish(history.param_series(index))
    assert [r['data'] for r in rows] == [s[0][index] for s in run[1][1:]]


def tampered(saved, tmp_path, change):
    """The run's history with `change` made to its JSON, read with no checkpoint naming it (so only replay can tell)."""
    obj = json.loads(history_io.history_path(saved, ckpt_io.load(saved)).read_text())
    change(obj)
    path = tmp_path / 'changed.history.json'
    path.write_text(json.dumps(obj))
    return history_files.load(path)


def swap_a_document(obj):
    batch = obj['batches'][6]  # step 7
    batch[0] = next(i for i in range(len(obj['docs'])) if i not in batch)


def change_a_document(obj):
    doc = obj['docs'][obj['batches'][6][1]]
    obj['docs'][obj['batches'][6][1]] = doc[::-1] if doc[::-1] != doc else doc + doc


def change_a_snapshot(obj):
    snap = next(s for s in obj['snapshots'] if s['step'] == 10)
    m = np.frombuffer(base64.b64decode(snap['m']), dtype='<f8').copy()
    m[3] = np.nextafter(m[3], 1.0)  # one moment, one bit
    snap['m'] = base64.b64encode(m.tobytes()).decode('ascii')


@pytest.mark.parametrize('change, says', [
    (swap_a_document, 'replaying step 7 from the snapshot of step 5 gives a loss of'),
    (change_a_document, 'replaying step 7 from the snapshot of step 5 gives a loss of'),
    (lambda obj: obj['loss'].__setitem__(6, obj['loss'][6] + 1e-12),
     'replaying step 7 from the snapshot of step 5 gives a loss of'),
    (lambda obj: obj['update_norm']['wte'].__setitem__(6, obj['update_norm']['wte'][6] * (1 + 1e-15)),
     'replaying step 7 from the snapshot of step 5 gives another update size of wte than it records'),
    (change_a_snapshot,
     'replaying step 10 from the snapshot of step 5 gives other weights or Adam moments than its snapshot of that step'),
])
def test_a_changed_history_is_refused_naming_the_step(saved, tmp_path, change, says):
    history = tampered(saved, tmp_path, change)
    history.seek(4)  # another interval replays as recorded
    with pytest.raises(HistoryError) as e:
        history.seek(6)  # answered only once its interval is checked: step 7 disagrees
    assert 'was changed after it was written: ' + says in str(e.value)
    assert str(e.value).endswith('so it cannot be used (the checkpoint itself is not affected).')


def test_a_replay_that_sums_differently_is_refused_at_its_first_step(saved, monkeypatch):
    """Another machine's BLAS may sum in another order: the first step replayed differs in its last bits, and
    the history is refused, not shown (even one its checkpoint names by content)."""
    history = history_files.load_for(saved, ckpt_io.load(saved))
    real = history_numpy.loss_and_grads

    def other_order(*args):
        loss, grads = real(*args)
        return loss * (1 + 2**-52), grads
    monkeypatch.setattr(history_numpy, 'loss_and_grads', other_order)
    with pytest.raises(HistoryError, match='replaying step 11 from the snapshot of step 10 gives a loss of'):
        history.seek(11)


def test_sgd_runs_replay_too(docs):
    trainer, states = train(docs, CONFIGS['microgpt'], optimizer='sgd')
    history = trainer.finished_history()
    history.forget()
    assert same(history.seek(13).weights, states[13][0]) and same(history.seek(13).grads, states[13][3])


def test_the_scalar_reader_refuses_a_numpy_history_in_one_sentence(saved):
    path = history_io.history_path(saved, ckpt_io.load(saved))
    with pytest.raises(HistoryError, match='was recorded by another backend than the scalar engine'):
        history_io.load(path)


def test_a_big_models_interval_keeps_its_file_within_what_a_history_can_be():
    mini = 606_876  # the mini GPT's weights
    assert history_numpy.default_every(1000, 4192) == 10  # a small model: about 100 snapshots, as the scalar runs
    every = history_numpy.default_every(1000, mini)
    assert every == 37 and history_numpy.file_bytes(every, 1000, mini, 32) < history_io.MAX_BYTES
    history_numpy.check_every(every, 1000, mini, 32)
    with pytest.raises(HistoryError, match=r'^A snapshot every 10 steps makes a history of about 1,871 MB .* use '
                                           r'--history-every 37 or more\.$'):
        history_numpy.check_every(10, 1000, mini, 32)


def test_train_backend_numpy_writes_its_history_and_history_reads_it(tmp_path, names_file, capsys):
    out = tmp_path / 'run.json'
    assert main(['train', '--data', str(names_file), '--steps', '9', '--backend', 'numpy', '--batch', '3',
                 '--history-every', '4', '--num-samples', '0', '--out', str(out)]) == 0
    ckpt = ckpt_io.load(out)
    history = history_files.load_for(out, ckpt)
    assert isinstance(history, history_numpy.NumpyHistory) and sorted(history.snapshots) == [0, 4, 8, 9]
    assert history.batch == 3 and f'step    9 /    9 | loss {history.losses[-1]:.4f}' in capsys.readouterr().out
    assert main(['history', str(out), '--param', 'wte[1][2]', '--json', str(tmp_path / 'p.json')]) == 0
    rows = json.loads((tmp_path / 'p.json').read_text())['steps']
    assert [r['data'] for r in rows] == [history.seek(s).weights[history.param_index('wte[1][2]')] for s in range(1, 10)]


def test_train_refuses_an_interval_too_large_to_write_before_the_run(tmp_path, names_file, capsys, monkeypatch):
    monkeypatch.setattr(history_io, 'MAX_BYTES', 100_000)
    out = tmp_path / 'run.json'
    assert main(['train', '--data', str(names_file), '--steps', '50', '--backend', 'numpy', '--history-every', '1',
                 '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert 'A snapshot every 1 steps makes a history of about' in err and err.count('\n') == 1
    assert list(tmp_path.iterdir()) == []


def test_the_replay_runs_its_products_on_one_thread_and_gives_the_same_bits_as_on_more(saved, run, monkeypatch):
    set_local = history_numpy.BLAS_THREADS_LOCAL
    if set_local is None:
        pytest.skip('numpy has another BLAS than OpenBLAS here')
    history = history_files.load_for(saved, ckpt_io.load(saved))
    asked = []
    monkeypatch.setattr(history_numpy, 'BLAS_THREADS_LOCAL', lambda n: asked.append(n) or set_local(n))
    outside = set_local(2)  # this thread's products on two threads, as the trainer's
    one = history.seek(8)
    assert set_local(outside) == 2 and asked[:2] == [1, 2] and asked.count(1) == 3  # steps 6, 7, 8; put back after each
    monkeypatch.setattr(history_numpy, 'BLAS_THREADS_LOCAL', None)
    history.forget()
    more = history.seek(8)
    assert same(one.weights, more.weights) and same(one.grads, more.grads) and same(one.weights, run[1][8][0])
