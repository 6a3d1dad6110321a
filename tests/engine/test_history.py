"""engine.history, the training history: replay from snapshots is training itself, bit for bit; the
`history` command; the shipped checkpoint's history; a broken history is one sentence and the checkpoint
still loads. Seeking keeps what it replayed: a step seen again costs nothing, going forward replays only
the difference, and every state is still the straight run's bit for bit; the collector is never left
off. What the timeline's plots read: a parameter's series from the run's gradients."""

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine.backprop import Stepper
from engine.data import load_docs
from engine.model import GPTConfig, Model, finish
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import param_grads, record
from engine.optim import TrainConfig
from engine.train import Trainer

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / 'main.py'), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def flat(ckpt):
    return [p.data for p in ckpt.model.params]


@pytest.fixture(scope='module')
def docs(names_file):
    return load_docs(names_file)


@pytest.mark.slow
def test_replay_from_snapshots_is_the_straight_run_bit_for_bit(docs):
    trainer = Trainer(docs, GPTConfig(), TrainConfig(num_steps=30), history_every=7)
    straight = {0: ([p.data for p in trainer.model.params], [0.0] * 4192, [0.0] * 4192)}
    for r in trainer.run():
        straight[r.step] = ([p.data for p in trainer.model.params], list(trainer.optimizer.m), list(trainer.optimizer.v))
    history = trainer.finished_history()
    assert sorted(history.snapshots) == [0, 7, 14, 21, 28, 30]
    for step in (0, 1, 6, 7, 8, 13, 20, 29, 30):  # on, before and after snapshots, and the last step
        state = history.seek(step)
        weights, m, v = straight[step]
        assert (list(state.weights), list(state.m), list(state.v)) == (weights, m, v), step
        if step:
            assert state.doc == history.docs[step - 1] and state.lr == 0.01 * (1 - (step - 1) / 30)
            assert list(state.update) == [a - b for a, b in zip(straight[step - 1][0], weights)]


@pytest.mark.slow
def test_a_20_step_history_follows_adams_recurrences_and_ends_at_the_checkpoint(tmp_path, names_file):
    out = tmp_path / 'run.json'
    proc = run('train', '--data', str(names_file), '--steps', '20', '--history-every', '1', '--num-samples', '0',
               '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    ckpt = ckpt_io.load(out)
    history = history_io.load_for(out, ckpt)
    assert sorted(history.snapshots) == list(range(21))  # what training itself stored, every step
    c = ckpt.train_config
    b1, b2, lr, eps, n = c.beta1, c.beta2, c.learning_rate, c.eps, c.num_steps
    for t in range(1, 21):
        w0, m0, v0 = history.snapshots[t - 1]
        w1, m1, v1 = history.snapshots[t]
        grads = history.seek(t).grads  # replayed from snapshot t-1
        step = t - 1
        lr_t = lr * (1 - step / n)
        assert history.lrs[t - 1] == lr_t
        for i in range(len(w0)):  # engine/optim.py's float operations, one parameter at a time
            g = grads[i]
            m = b1 * m0[i] + (1 - b1) * g
            v = b2 * v0[i] + (1 - b2) * g ** 2
            m_hat = m / (1 - b1 ** (step + 1))
            v_hat = v / (1 - b2 ** (step + 1))
            assert (m, v, w0[i] - lr_t * m_hat / (v_hat ** 0.5 + eps)) == (m1[i], v1[i], w1[i]), (t, i)
    assert list(history.snapshots[20][0]) == flat(ckpt)
    assert list(history.snapshots[20][1]) == ckpt.adam_m and list(history.snapshots[20][2]) == ckpt.adam_v


def test_the_gradient_of_step_1_is_the_recorded_graphs(tmp_path, names_file):
    """The replayed gradient is the one the literal scalar graph of that step's document gives."""
    trainer = Trainer(load_docs(names_file), GPTConfig(), TrainConfig(num_steps=2), history_every=1)
    model0 = trainer.history._model(trainer.history.snapshots[0][0])
    list(trainer.run())
    history = trainer.finished_history()
    trace = record(model0, history.docs[0])
    stepper = Stepper(trace)
    stepper.run_to_end()
    expected = [x for mat in param_grads(trace, stepper.grads).values() for row in mat for x in row]
    assert list(history.seek(1).grads) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.slow
def test_history_command_writes_each_step_of_one_parameter(tmp_path, names_file):
    out, js = tmp_path / 'run.json', tmp_path / 'wq.json'
    assert run('train', '--data', str(names_file), '--steps', '12', '--history-every', '5', '--num-samples', '0',
               '--out', str(out)).returncode == 0
    proc = run('history', str(out), '--param', 'layer0.attn_wq[3][5]', '--steps', '4:12', '--json', str(js))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(js.read_text())
    assert result['param'] == 'layer0.attn_wq[3][5]'
    assert [row['step'] for row in result['steps']] == list(range(4, 13))
    history = history_io.load_for(out, ckpt_io.load(out))
    i = history.param_index('layer0.attn_wq[3][5]')
    assert i == 27 * 16 * 2 + 16 * 16 + 3 * 16 + 5  # after wte, lm_head and wpe, row 3 column 5
    for row in result['steps']:
        s = history.seek(row['step'])
        before = history.seek(row['step'] - 1).weights[i]
        assert set(row) == {'step', 'data', 'grad', 'm', 'v', 'lr', 'update'}
        assert row == {'step': s.step, 'data': s.weights[i], 'grad': s.grads[i], 'm': s.m[i], 'v': s.v[i],
                       'lr': 0.01 * (1 - (s.step - 1) / 12), 'update': before - s.weights[i]}
        assert row['grad'] != 0 and row['update'] != 0
    assert result['steps'][-1]['data'] == ckpt_io.load(out).model.state_dict['layer0.attn_wq'][3][5].data
    whole = tmp_path / 'all.json'
    assert run('history', str(out), '--param', 'wte[0][0]', '--json', str(whole)).returncode == 0
    assert [row['step'] for row in json.loads(whole.read_text())['steps']] == list(range(1, 13))


@pytest.mark.parametrize('args, says', [
    (['--param', 'wq[3][5]'], "There is no matrix 'wq'"),
    (['--param', 'wte[99][0]'], 'outside wte, which is 27×16'),
    (['--param', 'wte'], 'is not a parameter name like'),
    (['--param', 'wte[0][0]', '--steps', '5'], '--steps must be A:B'),
    (['--param', 'wte[0][0]', '--steps', '3:99'], 'The steps must lie in 1:6'),
])
def test_history_command_bad_input_is_one_sentence(tmp_path, names_file, args, says):
    out, js = tmp_path / 'run.json', tmp_path / 'out.json'
    assert run('train', '--data', str(names_file), '--steps', '6', '--history-every', '2', '--num-samples', '0',
               '--out', str(out)).returncode == 0
    proc = run('history', str(out), *args, '--json', str(js))
    assert proc.returncode == 2 and proc.stdout == '' and not js.exists()
    assert proc.stderr.count('\n') == 1 and says in proc.stderr, proc.stderr


@pytest.mark.slow
def test_a_corrupt_or_foreign_history_is_one_sentence_and_the_checkpoint_still_loads(tmp_path, names_file):
    out, other = tmp_path / 'run.json', tmp_path / 'other.json'
    for path, seed in ((out, '1'), (other, '2')):
        assert run('train', '--data', str(names_file), '--steps', '4', '--seed', seed, '--history-every', '2',
                   '--num-samples', '0', '--out', str(path)).returncode == 0
    sidecar = history_io.history_path(out)
    assert sidecar.name == 'run.history.json'
    good = sidecar.read_text()
    cut = json.loads(good)
    cut['snapshots'][1]['m'] = cut['snapshots'][1]['m'][:-8]
    stale = json.loads(good)
    stale['snapshots'][-1]['weights'] = stale['snapshots'][1]['weights']  # valid numbers, not these weights
    cases = [('{"format": "microgpt-explorer hist', 'is not valid JSON'),
             (json.dumps(cut), 'its snapshot of step 2 does not hold 4,192 weights, m and v'),
             (json.dumps(stale), "its last weights are not the checkpoint's"),
             (history_io.history_path(other).read_text(), "its configuration, vocabulary or settings are not the checkpoint's")]
    for text, says in cases:
        sidecar.write_text(text)
        with pytest.raises(history_io.HistoryError) as e:
            history_io.load_for(out, ckpt_io.load(out))  # the checkpoint itself loads
        assert says in str(e.value) and str(e.value).startswith('The training history run.history.json')
        proc = run('history', str(out), '--param', 'wte[0][0]', '--json', str(tmp_path / 'x.json'))
        assert proc.returncode == 2 and proc.stderr.count('\n') == 1 and says in proc.stderr
    sidecar.unlink()
    with pytest.raises(history_io.HistoryError, match='There is no training history beside this checkpoint'):
        history_io.load_for(out, ckpt_io.load(out))


def test_history_every_needs_out_and_a_positive_interval(names_file):
    proc = run('train', '--data', str(names_file), '--steps', '2', '--history-every', '1')
    assert proc.returncode == 2 and 'needs --out' in proc.stderr
    proc = run('train', '--data', str(names_file), '--steps', '2', '--history-every', '0', '--out', '/tmp/x.json')
    assert proc.returncode == 2 and 'positive whole number' in proc.stderr


@pytest.fixture(scope='module')
def shipped():
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    return ckpt, history_io.load_for(DEFAULT_CHECKPOINT, ckpt)  # checked against the checkpoint


def test_the_shipped_checkpoint_carries_its_whole_history(shipped):
    ckpt, history = shipped
    assert history.step == ckpt.step == 1000 and history.every == 8
    assert sorted(history.snapshots) == list(range(0, 1001, 8))
    assert history.docs[:3] == ['yuheng', 'diondre', 'xavien'] and f'{history.losses[0]:.4f}' == '3.3660'
    assert history_io.history_path(DEFAULT_CHECKPOINT).stat().st_size <= 20 * 2**20


def test_replaying_the_shipped_last_interval_reproduces_the_checkpoint(shipped):
    ckpt, history = shipped
    state = history.seek(1000)  # replayed from the snapshot of step 992
    assert list(state.weights) == flat(ckpt)
    assert list(state.m) == ckpt.adam_m and list(state.v) == ckpt.adam_v
    assert state.lr == 0.01 * (1 - 999 / 1000) and state.loss == history.losses[-1]
    mid = history.seek(505)  # and an earlier step, between snapshots, against the snapshot after it
    later = next(s for s in history.replay(496, 504) if s.step == 504)
    assert list(later.weights) == list(history.snapshots[504][0]) and mid.lr > 0 and any(mid.update)


# Seeking.

@pytest.fixture(scope='module')
def seek_run(names_file):
    trainer = Trainer(load_docs(names_file), GPTConfig(), TrainConfig(num_steps=30), history_every=7)
    straight = {}
    for r in trainer.run():
        straight[r.step] = ([p.data for p in trainer.model.params], list(trainer.optimizer.m), list(trainer.optimizer.v))
    return trainer.finished_history(), straight


@pytest.fixture
def losses(monkeypatch):
    """How many forward passes (replayed steps) happen."""
    calls = []
    real = Model.loss

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Model, 'loss', counted)
    return calls


@pytest.mark.slow
def test_cached_and_forward_seeks_are_the_straight_run_bit_for_bit(seek_run):
    history, straight = seek_run
    history.forget()
    fresh = history_io.History(history.config, history.tokenizer.uchars, history.train_config, history.every,
                               history.docs, history.losses, history.lrs, history.update_norms, history.snapshots)
    for step in (9, 10, 11, 13, 10, 14, 15, 22, 3, 4, 29, 30, 9, 1):  # forward, back, repeats, across snapshots
        state = history.seek(step)
        weights, m, v = straight[step]
        assert (list(state.weights), list(state.m), list(state.v)) == (weights, m, v), step
        fresh.forget()
        cold = fresh.seek(step)
        assert (list(state.grads), list(state.update), state.loss, state.doc) == \
            (list(cold.grads), list(cold.update), cold.loss, cold.doc), step


def test_going_forward_replays_only_the_difference_and_a_step_seen_again_costs_nothing(seek_run, losses):
    history, _ = seek_run
    history.forget()
    history.seek(8)                   # from the snapshot at 7: one step
    assert len(losses) == 1
    history.seek(12)                  # on from 8, not again from 7
    assert len(losses) == 5
    history.seek(13)
    assert len(losses) == 6
    history.seek(10)                  # replayed before: kept
    history.seek(13)
    assert len(losses) == 6
    history.seek(16)                  # past the snapshot at 14: from there (two steps), not from 13
    assert len(losses) == 8
    history.forget()
    history.seek(13)
    assert len(losses) == 14          # cold: the whole way from 7


def test_the_collector_is_on_between_replayed_steps_and_after_a_stopped_or_failed_replay(seek_run, monkeypatch):
    history, _ = seek_run
    assert gc.isenabled()
    steps = history.replay(0, 5)
    next(steps)
    assert gc.isenabled()             # a paused replay (a stopped job, a seek's cursor) does not hold it off
    steps.close()
    assert gc.isenabled()

    def broken(self, *args, **kwargs):
        assert not gc.isenabled()     # off while a step runs
        raise RuntimeError('stop')
    monkeypatch.setattr(Model, 'loss', broken)
    history.forget()
    with pytest.raises(RuntimeError):
        history.seek(3)
    assert gc.isenabled()


# What the timeline reads.

@pytest.mark.slow
def test_series_from_the_runs_gradients_is_param_series(names_file):
    trainer = Trainer(load_docs(names_file), GPTConfig(), TrainConfig(num_steps=12), history_every=5)
    list(trainer.run())
    history = trainer.finished_history()
    grads = finish(history.run_grads())
    for name in ('wte[1][2]', 'layer0.mlp_fc2[3][40]'):
        i = history.param_index(name)
        assert history.series(i, grads) == finish(history.param_series(i))
    assert history.series(history.param_index('wte[1][2]'), grads)[-1]['data'] == trainer.model.state_dict['wte'][1][2].data
