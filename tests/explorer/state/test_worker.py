"""explorer.state.worker: jobs run off the UI thread and report on it; only the latest job of a kind reports,
a newer one (or cancel) stops a generator job at its next yield, and a job's exception reaches on_error."""

import threading

from explorer.state.worker import Worker


def test_a_job_runs_off_the_ui_thread_and_its_result_comes_back(qtbot):
    worker, got = Worker(), []
    worker.submit('sum', lambda: (threading.current_thread() is threading.main_thread(), 1 + 2), got.append)
    assert worker.pending('sum') and worker.busy()
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert got == [(False, 3)]
    assert not worker.pending('sum') and not worker.busy()


def test_a_generator_reports_progress_and_returns_its_value(qtbot):
    def count():
        for i in range(3):
            yield i
        return 'done'
    worker, progress, got = Worker(), [], []
    worker.submit('count', count, got.append, on_progress=progress.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert progress == [0, 1, 2] and got == ['done']


def test_a_newer_job_of_the_same_kind_abandons_the_older_generator(qtbot):
    gate, reached, old_done, new_done = threading.Event(), [], [], []

    def old():
        yield 'first'
        gate.wait(5)
        reached.append('after the gate')  # runs: the generator is stopped only at its next yield
        yield 'second'
        reached.append('never')
        return 'old'
    worker = Worker()
    worker.submit('record', old, old_done.append)
    worker.submit('record', lambda: 'new', new_done.append)
    assert worker.pending('record')
    gate.set()
    qtbot.waitUntil(lambda: bool(new_done), timeout=5000)
    worker.wait()
    qtbot.wait(10)
    assert new_done == ['new'] and old_done == [] and 'never' not in reached


def test_cancel_drops_the_result_and_other_kinds_are_untouched(qtbot):
    gate, a, b = threading.Event(), [], []
    worker = Worker()
    worker.submit('a', lambda: gate.wait(5) and 'a', a.append)
    worker.submit('b', lambda: 'b', b.append)
    assert worker.cancel('a') and not worker.pending('a') and worker.pending('b')
    assert not worker.cancel('a')  # nothing left to cancel
    gate.set()
    qtbot.waitUntil(lambda: bool(b), timeout=5000)
    worker.wait()
    qtbot.wait(10)
    assert a == [] and b == ['b'] and not worker.busy()


def test_an_exception_reaches_on_error_not_on_done(qtbot):
    worker, done, errors = Worker(), [], []
    worker.submit('bad', lambda: 1 / 0, done.append, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert done == [] and isinstance(errors[0], ZeroDivisionError)
