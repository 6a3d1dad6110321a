"""explorer.state.training_run: training in a child process seen as signals: `started` with the data's size,
a `step` per step, then `finished` with the trained checkpoint and its history file; Stop still brings the
weights; data the engine refuses is one sentence on `failed`."""

import os

from engine.model import GPTConfig
from engine.optim import TrainConfig
from explorer.state.training_run import TrainingRun


def run_of(qtbot, data, num_steps):
    run = TrainingRun(data, GPTConfig(n_embd=8, n_head=2, block_size=8), TrainConfig(num_steps=num_steps))
    run.seen = {'started': [], 'step': [], 'finished': [], 'failed': []}
    for name, got in run.seen.items():
        getattr(run, name).connect(lambda *args, got=got: got.append(args))
    return run


def test_a_short_run_reports_each_step_and_brings_its_weights(qtbot, tmp_path):
    data = tmp_path / 'names.txt'
    data.write_text('ab\nba\nabba\n')
    run = run_of(qtbot, data, 3)
    run.start()
    qtbot.waitUntil(lambda: bool(run.seen['finished'] or run.seen['failed']), timeout=60000)
    assert run.seen['failed'] == [] and not run.running
    docs, vocab, params = run.seen['started'][0]
    assert docs == 3 and vocab == 3
    assert [s[:2] for s in run.seen['step']] == [(1, 3), (2, 3), (3, 3)]
    ckpt, why = run.seen['finished'][0]
    assert why == 'finished' and ckpt.step == 3 and len(ckpt.model.params) == params
    assert ckpt.history_file is not None and os.path.isfile(ckpt.history_file)
    os.remove(ckpt.history_file)
    run.job.terminate()


def test_stop_still_brings_the_weights(qtbot, tmp_path):
    data = tmp_path / 'names.txt'
    data.write_text('ab\nba\n')
    run = run_of(qtbot, data, 100000)
    run.start()
    qtbot.waitUntil(lambda: bool(run.seen['step']), timeout=60000)
    run.wait()  # as the window does when it closes during training
    ckpt, why = run.seen['finished'][0]
    assert why == 'stopped' and 0 < ckpt.step < 100000
    if ckpt.history_file:
        os.remove(ckpt.history_file)


def test_data_the_engine_refuses_is_one_sentence(qtbot, tmp_path):
    empty = tmp_path / 'empty.txt'
    empty.write_text('')
    run = run_of(qtbot, empty, 3)
    run.start()
    qtbot.waitUntil(lambda: bool(run.seen['failed']), timeout=60000)
    (sentence,), = run.seen['failed']
    assert sentence.endswith('.') and '\n' not in sentence and run.seen['finished'] == []
    run.job.terminate()
