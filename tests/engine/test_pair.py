"""engine.pair: a checkpoint and its history replaced together or not at all. Saving names the history
by content and removes the one it replaces; a full disk at any byte of the save, kill -9 or Ctrl-C at any
moment of it, leaves the old pair or the new one, never a checkpoint beside another run's history."""

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import checkpoint as ckpt_io
from engine import files
from engine import history as history_io
from engine import pair
from engine.data import load_docs
from engine.errors import OutputError
from engine.model import GPTConfig
from engine.optim import TrainConfig
from engine.train import Trainer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def runs(names_file, tmp_path_factory):
    """Two small runs (seeds 1 and 2), each as (checkpoint, history bytes)."""
    out = []
    for seed in (1, 2):
        trainer = Trainer(load_docs(names_file), GPTConfig(), TrainConfig(num_steps=6, seed=seed), history_every=2)
        list(trainer.run())
        out.append((ckpt_io.from_trainer(trainer), trainer.finished_history().to_json().encode('utf-8')))
    return out


def on_disk(path):
    """(weights, history bytes) of the pair at `path`, loaded and checked as the app and commands do."""
    ckpt = ckpt_io.load(path)
    history_io.load_for(path, ckpt)
    return [p.data for p in ckpt.model.params], history_io.history_path(path, ckpt).read_bytes()


def pair_of(run):
    ckpt, history = run
    return [p.data for p in ckpt.model.params], history


def test_a_save_names_its_history_by_content_and_replaces_the_old_pair(runs, tmp_path):
    path = tmp_path / 'run.json'
    pair.save(path, *runs[0])
    ckpt = ckpt_io.load(path)
    named = history_io.history_path(path, ckpt)
    assert named.name == f'run.history.{ckpt.history_sha256[:16]}.json' and named == runs[0][0].history_file
    assert json.loads(path.read_text())['history'] == {'file': named.name, 'sha256': ckpt.history_sha256}
    assert history_io.load_for(path, ckpt).bound and on_disk(path) == pair_of(runs[0])
    pair.save(path, *runs[1])
    assert on_disk(path) == pair_of(runs[1]) and not named.exists()  # the old run's history went with it
    pair.save(path, runs[0][0])  # a checkpoint without a history: none stays beside it
    assert ckpt_io.load(path).history_name is None and 'history' not in json.loads(path.read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == ['run.json']


def test_a_save_over_an_older_pair_replaces_its_history_too(runs, tmp_path):
    path = tmp_path / 'run.json'
    ckpt, history = runs[0]
    ckpt_io.save(path, ckpt_io.Checkpoint(ckpt.model, ckpt.step, ckpt.seed, ckpt.train_config, None, ckpt.adam_m,
                                          ckpt.adam_v))
    history_io.history_path(path).write_bytes(history)  # NAME.history.json beside it, as before
    assert on_disk(path) == pair_of(runs[0])
    pair.save(path, *runs[1])
    assert on_disk(path) == pair_of(runs[1]) and not history_io.history_path(path).exists()


def test_names_too_long_for_the_history_are_refused_before_the_work(tmp_path):
    pair.check_outputs(tmp_path / 'run.json')
    with pytest.raises(OutputError):
        pair.check_outputs(tmp_path / ('r' * 230 + '.json'))  # its history's name would pass 255 bytes
    with pytest.raises(OutputError):
        pair.check_outputs(tmp_path / 'missing' / 'run.json')


class FullDisk:
    """engine.files' writes fail with ENOSPC once `room` bytes are written (over every file of a save)."""

    def __init__(self, room):
        self.room = room
        self.real = os.fdopen

    def fdopen(self, fd, mode='r', *args, **kwargs):
        f = self.real(fd, mode, *args, **kwargs)
        disk, write = self, f.write

        def limited(data):
            if len(data) > disk.room:
                write(data[:disk.room])
                disk.room = 0
                raise OSError(errno.ENOSPC, 'No space left on device')
            disk.room -= len(data)
            return write(data)
        f.write = limited
        return f


def test_a_full_disk_at_any_byte_of_a_save_leaves_the_old_pair_or_the_new(runs, tmp_path, monkeypatch):
    path = tmp_path / 'run.json'
    pair.save(path, *runs[0])
    new_history, new_ckpt = len(runs[1][1]), len(ckpt_io.to_json(runs[1][0]).encode('utf-8')) + 200
    total = new_history + new_ckpt
    edges = [0, 1, new_history - 1, new_history, new_history + 1, total - 1, total, total + 1]
    sizes = sorted(set(edges + random.Random(0).sample(range(total), 16)))
    outcomes = []
    for room in sizes:
        disk = FullDisk(room)
        monkeypatch.setattr(files.os, 'fdopen', disk.fdopen)
        try:
            pair.save(path, ckpt_io.from_json(ckpt_io.to_json(runs[1][0])), runs[1][1])
            outcomes.append('new')
        except OutputError as e:
            assert str(e).endswith(': no space left on device.')
            outcomes.append('old')
        monkeypatch.undo()
        assert on_disk(path) == pair_of(runs[0] if outcomes[-1] == 'old' else runs[1]), room
        assert not [p for p in tmp_path.iterdir() if p.name.endswith('.tmp')]
        if outcomes[-1] == 'new':
            pair.save(path, *runs[0])  # back to the old pair for the next size
    assert 'old' in outcomes and outcomes[-1] == 'new'


CHILD = '''
import sys
from engine import checkpoint as ckpt_io, pair
ckpt, history = ckpt_io.load(sys.argv[2]), open(sys.argv[3], 'rb').read()
print('go', flush=True)
pair.save(sys.argv[1], ckpt, history)
print('done', flush=True)
'''


def interrupted_saves(runs, folder, tries, signals, seed=0):
    """Save the second run over the first in a child process, stopped by a signal at a random moment of
    the save, `tries` times; the outcomes ('old'/'new' per try). Fails if a pair on disk is mixed."""
    source = folder / 'source'
    source.mkdir()
    pair.save(source / 'b.json', *runs[1])
    history_b = history_io.history_path(source / 'b.json', ckpt_io.load(source / 'b.json'))
    started = time.perf_counter()
    pair.save(folder / 'timing.json', *runs[1])
    took = time.perf_counter() - started  # the moments are spread over twice one save's length
    rng, outcomes = random.Random(seed), []
    for i in range(tries):
        target = folder / f'try{i}'
        target.mkdir()
        path = target / 'run.json'
        pair.save(path, *runs[0])
        child = subprocess.Popen([sys.executable, '-c', CHILD, str(path), str(source / 'b.json'), str(history_b)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline() == 'go\n'
        time.sleep((i + rng.random()) / tries * 2 * took)
        child.send_signal(signals[i % len(signals)])
        child.communicate(timeout=60)
        weights, history = on_disk(path)  # loads and is checked: never a mixed pair
        outcomes.append('new' if (weights, history) == pair_of(runs[1]) else 'old')
        assert (weights, history) == pair_of(runs[0 if outcomes[-1] == 'old' else 1])
        pair.save(path, *runs[1])  # and the next save stands, clearing what a killed one left
        assert on_disk(path) == pair_of(runs[1]) and not [p for p in target.iterdir() if p.name.endswith('.tmp')]
    return outcomes


@pytest.mark.slow
def test_kill_or_ctrl_c_at_any_moment_of_a_save_leaves_the_old_pair_or_the_new(runs, tmp_path):
    outcomes = interrupted_saves(runs, tmp_path, int(os.environ.get('PAIR_KILL_TRIES', 12)),
                                 [signal.SIGKILL, signal.SIGINT])
    assert set(outcomes) <= {'old', 'new'}


def test_train_checks_where_the_history_goes_before_training(tmp_path, capsys):
    from engine.cli.commands import main
    import io
    data = tmp_path / 'tiny.txt'
    data.write_text('emma\nava\n')
    out = tmp_path / ('r' * 215 + '.json')  # fits, temp file and all; its history's temp name would not
    printed = io.StringIO()
    code = main(['train', '--data', str(data), '--steps', '2', '--n-embd', '8', '--n-head', '2', '--out', str(out),
                 '--history-every', '1'], out=printed)
    assert code == 2 and printed.getvalue() == ''  # nothing trained, nothing printed
    err = capsys.readouterr().err
    assert err.startswith(f'error: Cannot write {tmp_path}/rrr') and '.history.0000000000000000.json' in err, err
    assert 'too long' in err and not list(tmp_path.glob('r*'))
    assert main(['train', '--data', str(data), '--steps', '2', '--n-embd', '8', '--n-head', '2', '--num-samples', '0',
                 '--out', str(out)], out=io.StringIO()) == 0  # without a history the same name is fine
