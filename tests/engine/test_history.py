"""engine.history, the training history: replay from snapshots is training itself, bit for bit; the
`history` command; the shipped checkpoint's history; a broken history is one sentence and the checkpoint
still loads. Seeking keeps what it replayed: a step seen again costs nothing, going forward replays only
the difference, and every state is still the straight run's bit for bit; the collector is never left
off. What the timeline's plots read: a parameter's series from the run's gradients."""

import base64
import copy
import gc
import json
import math
import re
import shutil
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


def legacy(out):
    """Make the pair at `out` as checkpoints were saved before they named their history: NAME.history.json
    beside a checkpoint without "history" (the shipped one is such). Its history path."""
    obj = json.loads(out.read_text())
    named = out.with_name(obj.pop('history')['file'])
    out.write_text(json.dumps(obj))
    sidecar = history_io.history_path(out)
    named.rename(sidecar)
    return sidecar


@pytest.mark.slow
def test_a_corrupt_or_foreign_history_is_one_sentence_and_the_checkpoint_still_loads(tmp_path, names_file):
    out, other = tmp_path / 'run.json', tmp_path / 'other.json'
    for path, seed in ((out, '1'), (other, '2')):
        assert run('train', '--data', str(names_file), '--steps', '4', '--seed', seed, '--history-every', '2',
                   '--num-samples', '0', '--out', str(path)).returncode == 0
    named = history_io.history_path(out, ckpt_io.load(out))
    assert named.name.startswith('run.history.') and named.is_file()
    named.write_bytes(named.read_bytes().replace(b'"every":2', b'"every":2 '))  # one byte more, same meaning
    with pytest.raises(history_io.HistoryError, match='was changed after it was saved: its content is not the one'):
        history_io.load_for(out, ckpt_io.load(out))
    sidecar = legacy(out)
    assert sidecar.name == 'run.history.json'
    good = sidecar.read_text()
    cut = json.loads(good)
    cut['snapshots'][1]['m'] = cut['snapshots'][1]['m'][:-8]
    stale = json.loads(good)
    stale['snapshots'][-1]['weights'] = stale['snapshots'][1]['weights']  # valid numbers, not these weights
    cases = [('{"format": "microgpt-explorer hist', 'is not valid JSON'),
             (json.dumps(cut), 'its snapshot of step 2 does not hold 4,192 weights, m and v'),
             (json.dumps(stale), "its last weights are not the checkpoint's"),
             (history_io.history_path(other, ckpt_io.load(other)).read_text(),
              "its configuration, vocabulary or settings are not the checkpoint's")]
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


def test_a_step_offered_by_another_replay_is_ready_and_seek_takes_it_without_replaying(seek_run, losses):
    """What the timeline's replay ahead (a child process) sends waits in the history: seek answers with it."""
    history, _ = seek_run
    history.forget()
    other = history_io.History(history.config, history.tokenizer.uchars, history.train_config, history.every,
                               history.docs, history.losses, history.lrs, history.update_norms, history.snapshots)
    made = other.seek(12)
    del losses[:]
    assert history.ready(14) and history.ready(0) and not history.ready(12)  # snapshots need no replay
    history.offer(made)
    assert history.ready(12) and history.seek(12) is made and not losses
    assert history.trusted  # made here by a Trainer


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


# A history proves itself: what loading checks, and what replay checks.

@pytest.fixture(scope='module')
def small_run(names_file, tmp_path_factory):
    """A 12-step run with a snapshot every 4 steps, saved as a checkpoint that does not name its history by
    content (as the shipped one): the history is trusted only as far as it replays."""
    trainer = Trainer(load_docs(names_file), GPTConfig(), TrainConfig(num_steps=12), history_every=4)
    list(trainer.run())
    out = tmp_path_factory.mktemp('run') / 'run.json'
    ckpt_io.save(out, ckpt_io.from_trainer(trainer))
    history_io.save(history_io.history_path(out), trainer.finished_history())
    return out, json.loads(history_io.history_path(out).read_text())


def edited(small_run, tmp_path, edit=None):
    """The small run's history, changed by edit(obj), loaded against its checkpoint."""
    out, obj = small_run
    obj = copy.deepcopy(obj)
    if edit:
        edit(obj)
    path = tmp_path / 'run.json'
    shutil.copy(out, path)
    history_io.history_path(path).write_text(json.dumps(obj))
    return history_io.load_for(path, ckpt_io.load(path))


def flip(packed, byte=7):
    """One bit of the first number in a packed array (its exponent: far off, still finite)."""
    raw = bytearray(base64.b64decode(packed))
    raw[byte] ^= 0x10
    return base64.b64encode(bytes(raw)).decode('ascii')


def snapshot(obj, step):
    return next(s for s in obj['snapshots'] if s['step'] == step)


def test_an_unchanged_history_replays_as_recorded_and_an_interval_is_checked_once(small_run, tmp_path, losses):
    history = edited(small_run, tmp_path)
    assert not history.bound
    history.seek(5)                       # to the snapshot of step 8, to check the answer against it
    assert len(losses) == 4
    history.forget()
    history.seek(6)                       # that interval is checked: only what is asked for
    assert len(losses) == 6
    assert finish(history.verify()) == 12 and len(losses) == 6 + 8
    for t in range(1, 13):                # the update sizes are the L2 norms of the updates
        state = history.seek(t)
        n = 27 * 16
        assert history.update_norms['wte'][t - 1] == pytest.approx(math.sqrt(sum(d * d for d in state.update[:n])),
                                                                    rel=1e-12)


@pytest.mark.parametrize('edit, asked, says', [
    (lambda o: snapshot(o, 4).update(weights=flip(snapshot(o, 4)['weights'])), 'seek 5',
     r'replaying step [5-8] from the snapshot of step 4 gives'),
    (lambda o: snapshot(o, 4).update(weights=flip(snapshot(o, 4)['weights'])), 'seek 3',
     r'replaying step 4 from the snapshot of step 0 gives other weights or Adam moments than its snapshot'),
    (lambda o: snapshot(o, 4).update(weights=flip(snapshot(o, 4)['weights'])), 'show 4',
     r'replaying step 4 from the snapshot of step 0'),
    (lambda o: snapshot(o, 4).update(m=flip(snapshot(o, 4)['m'])), 'series 5:6', r'replaying step [5-8] from'),
    (lambda o: o['docs'].__setitem__(5, o['docs'][5][::-1]), 'seek 5',
     r'replaying step 6 from the snapshot of step 4 gives a loss of'),
    (lambda o: o['loss'].__setitem__(2, 1.0), 'seek 2',
     r'replaying step 3 from the snapshot of step 0 gives a loss of [0-9.]+, not the 1.0 it records'),
    (lambda o: o['update_norm']['wte'].__setitem__(1, 2 * o['update_norm']['wte'][1]), 'seek 1',
     r'replaying step 2 .* gives another update size of wte than it records'),
    (lambda o: o['update_norm']['lm_head'].__setitem__(9, 0.5), 'verify', r'replaying step 10 .* update size of lm_head'),
    (lambda o: snapshot(o, 8).update(v=flip(snapshot(o, 8)['v'])), 'verify', r'replaying step (8|9|1[0-2]) from'),
])
def test_a_history_changed_inside_is_one_sentence_naming_the_step(small_run, tmp_path, edit, asked, says):
    history = edited(small_run, tmp_path, edit)  # loading cannot see these: replay does
    what, _, arg = asked.partition(' ')
    with pytest.raises(history_io.HistoryError) as e:
        if what == 'seek':
            history.seek(int(arg))
        elif what == 'show':
            history.seek(int(arg), grads=False)
        elif what == 'series':
            finish(history.param_series(0, *(int(x) for x in arg.split(':'))))
        else:
            finish(history.verify())
    assert str(e.value).startswith('The training history run.history.json was changed after it was written: ')
    assert re.search(says, str(e.value)), str(e.value)
    assert str(e.value).endswith('so it cannot be used (the checkpoint itself is not affected).')


def packed(values):
    return history_io._pack(values)


@pytest.mark.parametrize('edit, says', [
    (lambda o: o['lr'].__setitem__(2, o['lr'][2] * 2), "its learning rate of step 3 is 0.016666666666666666, not the schedule's 0.008333333333333333"),
    (lambda o: snapshot(o, 4).update(weights=packed([math.nan] + [0.0] * 4191)),
     'its snapshot of step 4 holds a number that is not finite'),
    (lambda o: snapshot(o, 4).update(m=packed([math.inf] + [0.0] * 4191)),
     'its snapshot of step 4 holds a number that is not finite'),
    (lambda o: o['snapshots'].pop(2), 'its snapshots are not those of steps 0, 4, 8, … and 12, in order'),
    (lambda o: o['snapshots'].insert(1, copy.deepcopy(o['snapshots'][1])), 'its snapshots are not those of steps'),
    (lambda o: o.update(every=6), 'its snapshots are not those of steps 0, 6, 12'),
    (lambda o: snapshot(o, 4).update(v=packed([0.0] * 4193)), 'its snapshot of step 4 does not hold 4,192 weights'),
    (lambda o: o['update_norm']['wte'].__setitem__(0, -1.0), 'its update sizes do not cover every matrix and step'),
    (lambda o: o['config'].update(n_layer=10**9), "its configuration, vocabulary or settings are not the checkpoint's"),
])
def test_what_loading_checks_without_replay(small_run, tmp_path, edit, says):
    with pytest.raises(history_io.HistoryError) as e:
        edited(small_run, tmp_path, edit)
    assert str(e.value).startswith('The training history run.history.json is not valid: ') and says in str(e.value), \
        str(e.value)


def test_sizes_a_history_claims_are_checked_before_anything_is_allocated(small_run, tmp_path, monkeypatch):
    out, obj = small_run
    huge = copy.deepcopy(obj)
    huge['config']['n_layer'] = 10**9
    with pytest.raises(history_io.HistoryError, match='its model is larger than a history can hold'):
        history_io.parse(huge)       # with no checkpoint to compare with: counted, not built
    path = tmp_path / 'run.json'
    shutil.copy(out, path)
    ckpt = ckpt_io.load(path)
    with open(history_io.history_path(path), 'wb') as f:
        f.truncate(history_io.max_bytes(ckpt) + 1)  # sparse: no disk, no memory
    monkeypatch.setattr(Path, 'read_bytes', lambda self: pytest.fail('read a history larger than its run can write'))
    with pytest.raises(history_io.HistoryError, match=r"is 3,[0-9,]+ bytes, more than its checkpoint's run can write "
                                                      r'\(3,[0-9,]+ bytes at most\)'):
        history_io.load_for(path, ckpt)
    assert history_io.max_bytes(ckpt) < 200 * 2**20  # 12 steps of 4,192 numbers: a run that cannot write 630 MB


# The validation loss of a run trained with held-out documents (train --val-fraction/--text --eval-every)

def test_a_validation_loss_is_kept_and_is_the_held_out_documents_mean_at_its_step(tmp_path):
    from engine.cli.commands import main
    from engine.validation import validation_loss
    text = tmp_path / 'play.txt'
    text.write_text('But soft, what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n' * 4)
    out = tmp_path / 'play.json'
    assert main(['train', '--text', str(text), '--steps', '6', '--eval-every', '3', '--num-samples', '0',
                 '--n-embd', '8', '--n-head', '2', '--block-size', '8', '--history-every', '2', '--out', str(out)]) == 0
    ckpt = ckpt_io.load(out)
    history = history_io.load_for(out, ckpt)
    assert sorted(history.val_losses) == [3, 6] and history.val_docs
    for step, loss in history.val_losses.items():  # what is kept can be checked: the documents and the step's weights
        assert validation_loss(history.model_at(step), history.val_docs) == loss
    assert json.loads(history_io.history_path(out, ckpt).read_text())['validation']['loss'] == [
        [3, history.val_losses[3]], [6, history.val_losses[6]]]


def test_a_run_without_validation_writes_no_validation_field(small_run):
    _, obj = small_run
    assert 'validation' not in obj


@pytest.mark.parametrize('validation', [
    {'docs': ['emma'], 'loss': [[13, 2.0]]}, {'docs': ['emma'], 'loss': [[4, 2.0], [2, 2.1]]},
    {'docs': ['emma'], 'loss': [[4, math.nan]]}, {'docs': ['emma'], 'loss': []}, {'docs': [], 'loss': [[4, 2.0]]},
    {'docs': ['EMMA'], 'loss': [[4, 2.0]]}, {'docs': ['emma']}, ['emma']])
def test_a_bad_validation_field_is_one_sentence(small_run, tmp_path, validation):
    with pytest.raises(history_io.HistoryError) as e:
        edited(small_run, tmp_path, lambda o: o.update(validation=validation))
    assert re.fullmatch(r'The training history run.history.json is not valid: its validation (documents are not a list '
                        r'of documents in its vocabulary|losses are not \[step, loss\] pairs in order, within steps 1 to '
                        r'12)\.', str(e.value)), str(e.value)
    edited(small_run, tmp_path, lambda o: o.update(validation={'docs': ['emma'], 'loss': [[4, 2.0], [12, 1.5]]}))
