"""explorer.state.training_run: training in a child process seen as signals: `started` with the data's size,
a `step` per step, then `finished` with the trained checkpoint and its history file; Stop still brings the
weights; data the engine refuses is one sentence on `failed`."""

import os

import pytest

from engine.model import GPTConfig
from engine.optim import TrainConfig
from explorer.state.training_run import TrainingRun


def run_of(qtbot, data, num_steps, backend='scalar'):
    run = TrainingRun(data, GPTConfig(n_embd=8, n_head=2, block_size=8), TrainConfig(num_steps=num_steps),
                      backend=backend)
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
    ckpt, why, losses = run.seen['finished'][0]
    assert why == 'finished' and ckpt.step == 3 and len(ckpt.model.params) == params
    assert losses == [s[2] for s in run.seen['step']]
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
    ckpt, why, losses = run.seen['finished'][0]
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


def test_numpy_trains_the_same_run_and_saves_the_same_checkpoint_with_its_own_history(qtbot, tmp_path):
    """The Training panel's engine choice: numpy's run is the scalar engine's to 1e-9 in every loss and
    weight, in the same checkpoint format as `train --backend numpy`, with its own history (numpy's, replayed
    with numpy); it tells its steps at most every STEP_MESSAGES_S but brings every loss at the end."""
    import io
    from engine import checkpoint as ckpt_io
    from engine.cli.commands import main as cli_main
    data = tmp_path / 'names.txt'
    data.write_text('emma\nolivia\nava\nisabella\nsophia\n')
    runs = {}
    for backend in ('scalar', 'numpy'):
        run = run_of(qtbot, data, 40, backend)
        run.start()
        qtbot.waitUntil(lambda: bool(run.seen['finished'] or run.seen['failed']), timeout=60000)
        assert run.seen['failed'] == []
        runs[backend] = run.seen['finished'][0]
        run.job.terminate()
    (scalar, _, scalar_losses), (fast, why, fast_losses) = runs['scalar'], runs['numpy']
    from engine import history_files
    history = history_files.load(fast.history_file, fast)
    assert why == 'finished' and type(history).__name__ == 'NumpyHistory' and history.bound
    assert history.losses == fast_losses and history.every == 1 and history.batch == 1  # 40 steps: a snapshot a step
    os.remove(scalar.history_file)
    os.remove(fast.history_file)
    assert len(fast_losses) == 40 and fast_losses == pytest.approx(scalar_losses, rel=1e-9)
    assert [p.data for p in fast.model.params] == pytest.approx([p.data for p in scalar.model.params], rel=1e-9, abs=1e-12)
    out = tmp_path / 'cli.json'
    assert cli_main(['train', '--data', str(data), '--steps', '40', '--n-embd', '8', '--n-head', '2', '--block-size', '8',
                     '--backend', 'numpy', '--num-samples', '0', '--out', str(out)], io.StringIO()) == 0
    assert ckpt_io.to_json(fast) == out.read_text()
