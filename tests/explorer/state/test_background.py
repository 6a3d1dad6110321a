"""explorer.state.background: a BackgroundJob reports each yielded item, then the return value, on the UI
thread; an exception comes as `failed`; after abort() the generator stops and nothing more is delivered."""

import threading

from PySide6.QtCore import QThreadPool

from explorer.state.background import BackgroundJob


def test_items_then_the_return_value_arrive_in_order(qtbot):
    def work():
        yield 1
        yield 2
        return 'end'
    got, pool = [], QThreadPool()
    job = BackgroundJob(work).start(pool, on_yielded=got.append, on_returned=lambda v: got.append(('ret', v)))
    assert job.running
    qtbot.waitUntil(lambda: not job.running, timeout=5000)
    assert got == [1, 2, ('ret', 'end')]


def test_a_plain_function_returns_its_value(qtbot):
    got = []
    job = BackgroundJob(lambda: 42).start(QThreadPool(), on_returned=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert got == [42] and not job.running


def test_an_exception_comes_as_failed(qtbot):
    returned, failed = [], []

    def work():
        yield 1
        raise ValueError('bad document')
    job = BackgroundJob(work).start(QThreadPool(), on_returned=returned.append, on_failed=failed.append)
    qtbot.waitUntil(lambda: not job.running, timeout=5000)
    assert returned == [] and [str(e) for e in failed] == ['bad document']


def test_abort_stops_the_loop_and_delivers_nothing_more(qtbot):
    gate, later, got = threading.Event(), [], []

    def work():
        yield 'first'
        gate.wait(5)
        for i in range(1000):
            later.append(i)
            yield i
        return 'end'
    pool = QThreadPool()
    job = BackgroundJob(work).start(pool, on_yielded=got.append, on_returned=got.append, on_failed=got.append)
    qtbot.waitUntil(lambda: got == ['first'], timeout=5000)
    job.abort()
    gate.set()
    pool.waitForDone(5000)
    qtbot.wait(20)
    assert got == ['first'] and len(later) <= 1  # stopped within one item
