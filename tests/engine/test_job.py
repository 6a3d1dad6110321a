"""engine.job: training in a child process reports through its queue: started, each step, then the
checkpoint it reached (finished or stopped), or one sentence when nothing can be trained; ChildJob runs a
function in a spawned child and kills one that cannot stop itself; the child leaves Ctrl-C to its parent
and never outlives it."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine.job import AHEAD, check_history_process, ChildJob, replay_process, train_process
from engine.model import Model
from tests.engine.graph import layout_faults


@pytest.fixture
def tiny_data(tmp_path):
    path = tmp_path / 'tiny.txt'
    path.write_text('emma\nava\nolivia\nmia\n')
    return path


def run_in_thread(data, model_config, train_config, stop=False):
    """train_process as the child runs it, here in this process: its messages in order."""
    messages, stop_event = queue.Queue(), threading.Event()
    if stop:
        stop_event.set()
    train_process(str(data), model_config, train_config, messages, threading.Event(), stop_event)
    out = []
    while not messages.empty():
        out.append(messages.get_nowait())
    return out


def test_a_run_reports_each_step_then_the_checkpoint_it_reached(tiny_data):
    got = run_in_thread(tiny_data, {'n_embd': 8, 'n_head': 2}, {'num_steps': 3})
    assert got[0] == ('started', 4, 8, 1024)  # 4 documents, a e i l m o v + BOS
    assert [m[:3] for m in got[1:4]] == [('step', s, 3) for s in (1, 2, 3)]
    kind, why, checkpoint_json, history_file, sha256, losses = got[4]
    assert (kind, why, len(got)) == ('done', 'finished', 5)
    assert losses == [m[3] for m in got[1:4]]  # every step's, as the steps told them
    try:
        ckpt = ckpt_io.from_json(checkpoint_json)
        assert ckpt.step == 3 and ckpt.model.config.n_embd == 8
        ckpt.history_sha256 = sha256  # as the window adopts it: that file, unchanged
        history = history_io.load(history_file, ckpt)
        assert history.snapshots and history.bound and history.sha256 == sha256
    finally:
        os.unlink(history_file)


def test_a_stopped_run_sends_the_weights_it_has(tiny_data):
    got = run_in_thread(tiny_data, {'n_embd': 8, 'n_head': 2}, {'num_steps': 3}, stop=True)
    assert [m[0] for m in got] == ['started', 'done'] and got[1][1] == 'stopped'
    os.unlink(got[1][3])
    assert ckpt_io.from_json(got[1][2]).step == 0


def test_a_bad_dataset_or_setting_is_one_sentence_and_nothing_else(tmp_path, tiny_data):
    [(kind, sentence)] = run_in_thread(tmp_path / 'none.txt', {}, {})
    assert kind == 'failed' and sentence.endswith('does not exist.')
    [(kind, sentence)] = run_in_thread(tiny_data, {}, {'num_steps': 0})
    assert kind == 'failed' and sentence.startswith('steps must be a positive whole number')


def test_b3_the_apps_training_process_refuses_them_too(tiny_data, monkeypatch):
    def init(*a, **k):
        raise AssertionError('Model.init ran: the size was not checked first')
    monkeypatch.setattr(Model, 'init', init)
    messages = queue.Queue()
    train_process(str(tiny_data), {'n_layer': 10**9}, {}, messages, threading.Event(), threading.Event())
    kind, sentence = messages.get_nowait()
    assert kind == 'failed' and sentence.startswith('This model cannot be trained here: 3,072,000,000,')


def test_a_child_job_reports_through_its_queue_and_can_be_killed(tmp_path):
    job = ChildJob()
    job.start(train_process, str(tmp_path / 'none.txt'), {}, {}, job.messages, job.pause_event, job.stop_event)
    kind, sentence = job.next_message(timeout=60)
    assert kind == 'failed' and 'does not exist' in sentence
    job.join(60)
    assert not job.is_alive() and job.process.exitcode == 0
    stuck = ChildJob()
    stuck.start(layout_faults.hangs, None)
    assert stuck.is_alive() and stuck.next_message() is None
    stuck.kill(timeout=30)
    assert not stuck.is_alive() and stuck.process.exitcode == -9


def check_in_thread(ckpt, history_file):
    messages = queue.Queue()
    check_history_process(ckpt_io.to_json(ckpt), str(history_file), messages, threading.Event(), threading.Event())
    out = []
    while not messages.empty():
        out.append(messages.get_nowait())
    return out


def test_a_history_check_replays_it_all(tiny_data, tmp_path):
    got = run_in_thread(tiny_data, {'n_embd': 8, 'n_head': 2}, {'num_steps': 6})
    _, _, checkpoint_json, history_file, sha256, _ = got[-1]
    ckpt = ckpt_io.from_json(checkpoint_json)
    try:
        history = history_io.load(history_file, ckpt)
        checked = check_in_thread(ckpt, history_file)
        assert checked[-1] == ('checked', sha256) and [m[0] for m in checked[:-1]] == ['progress'] * (len(checked) - 1)
        assert checked[-2] == ('progress', 1.0)
        history.docs[1] += history.docs[1][-1]  # one letter more
        history_io.save(history_file, history)
        [*_, (kind, sentence)] = check_in_thread(ckpt, history_file)
        assert kind == 'failed' and 'was changed after it was written: replaying step 2' in sentence
    finally:
        os.unlink(history_file)


def test_a_replay_ahead_sends_each_step_once_checked_and_stays_near_the_step_asked(tiny_data, tmp_path):
    got = run_in_thread(tiny_data, {'n_embd': 8, 'n_head': 2}, {'num_steps': 40})
    _, _, checkpoint_json, history_file, sha256, _ = got[-1]
    try:
        mine = history_io.load(history_file, ckpt_io.from_json(checkpoint_json))
        messages, asked, stop = queue.Queue(), types.SimpleNamespace(value=3), threading.Event()
        child = threading.Thread(target=replay_process, args=(checkpoint_json, history_file, sha256, 3, False,
                                                              messages, asked, stop))
        child.start()
        sent = [messages.get(timeout=30) for _ in range(AHEAD + 1)]  # steps 3 … 3 + AHEAD, then it waits
        time.sleep(0.3)
        assert messages.empty() and child.is_alive()
        assert [m[1].step for m in sent] == list(range(3, 4 + AHEAD)) and {m[0] for m in sent} == {'state'}
        for _, state in sent[:12]:
            ours = mine.seek(state.step)  # the same replay, bit for bit
            assert (state.weights, state.m, state.v, state.grads, state.loss) == \
                (ours.weights, ours.m, ours.v, ours.grads, ours.loss)
        asked.value = 10                                  # the window went on: so does the child
        assert messages.get(timeout=30)[1].step == 4 + AHEAD
        stop.set()
        child.join(10)
        assert not child.is_alive()
        [(kind, sentence)] = [m for m in _run_replay(checkpoint_json, history_file, 'another file') if m[0] != 'state']
        assert kind == 'failed' and 'changed on disk' in sentence
    finally:
        os.unlink(history_file)


def _run_replay(checkpoint_json, history_file, sha256):
    messages = queue.Queue()
    replay_process(checkpoint_json, history_file, sha256, 1, False, messages, types.SimpleNamespace(value=10**6),
                   threading.Event())
    return [messages.get_nowait() for _ in range(messages.qsize())]


ROOT = Path(__file__).resolve().parents[2]
# A parent with a ChildJob that hangs: it prints the child's pid once the child runs its work; on Ctrl-C it
# gives the child a second (one that took Ctrl-C for itself would print its traceback and end), then exits.
PARENT = """
import sys
sys.path.insert(0, sys.argv[1])
from engine.job import ChildJob
from tests.engine.test_job import ready_then_hang
job = ChildJob()
job.start(ready_then_hang, job.messages)
assert job.next_message(timeout=60) == 'ready'
try:
    print(job.pid, flush=True)
    job.join()
except KeyboardInterrupt:
    job.join(1)
    sys.exit(130)
"""


def ready_then_hang(messages):
    messages.put('ready')
    while True:
        time.sleep(1)


def ended(pid, timeout):
    """Whether process pid is gone (or a zombie) within timeout seconds; if not, it is killed here."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] == 'Z':
                return True
            os.kill(pid, 0)
        except (OSError, ProcessLookupError):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return False


@pytest.fixture
def start_parent():
    """start_parent(script): a parent process running `script` and the first line it printed."""
    procs = []

    def start(script):
        proc = subprocess.Popen([sys.executable, '-c', script, str(ROOT)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        procs.append(proc)
        line = proc.stdout.readline()
        assert line.strip(), 'the parent ended before printing'
        return proc, line
    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def test_ctrl_c_is_the_parents_to_answer():
    parent = subprocess.Popen([sys.executable, '-c', PARENT, str(ROOT)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    child = int(parent.stdout.readline())
    os.killpg(parent.pid, signal.SIGINT)  # the terminal sends Ctrl-C to every process of the command
    _, err = parent.communicate(timeout=60)
    assert parent.returncode == 130 and 'Traceback' not in err and 'KeyboardInterrupt' not in err
    assert ended(child, 10)  # ended by the parent as it exited


def test_a_child_does_not_outlive_its_parent_killed(start_parent):
    parent, line = start_parent(PARENT)
    parent.kill()
    parent.wait()  # not its output: a child left behind would keep the pipe open
    assert ended(int(line), 10)
