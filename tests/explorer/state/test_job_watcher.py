"""explorer.state.job_watcher: each message the child puts on its queue comes as `message`, in order; a child
gone with its queue empty is said once (`vanished`); after stop() nothing more is read."""

from collections import deque

from explorer.state.job_watcher import JobWatcher


class FakeJob:
    """An engine.job.ChildJob's reading side: a queue of messages and whether the child lives."""

    def __init__(self, messages, alive=True):
        self.queue, self.alive = deque(messages), alive

    def next_message(self, timeout=None):
        return self.queue.popleft() if self.queue else None

    def is_alive(self):
        return self.alive

    def empty(self):
        return not self.queue


def watch(job):
    watcher, got, gone = JobWatcher(job, interval=5), [], []
    watcher.message.connect(got.append)
    watcher.vanished.connect(lambda: gone.append(True))
    return watcher, got, gone


def test_messages_come_in_order_and_a_live_child_is_not_vanished(qtbot):
    job = FakeJob([('progress', 1), ('progress', 2)])
    watcher, got, gone = watch(job)
    watcher.start()
    qtbot.waitUntil(lambda: len(got) == 2, timeout=2000)
    qtbot.wait(30)
    assert got == [('progress', 1), ('progress', 2)] and gone == [] and watcher.running


def test_a_child_gone_without_a_word_is_said_once(qtbot):
    job = FakeJob([('progress', 1)], alive=False)
    watcher, got, gone = watch(job)
    watcher.start()
    qtbot.waitUntil(lambda: bool(gone), timeout=2000)
    qtbot.wait(30)
    assert got == [('progress', 1)] and gone == [True] and not watcher.running


def test_after_stop_nothing_more_is_read(qtbot):
    job = FakeJob([('a',), ('b',)], alive=False)
    watcher, got, gone = watch(job)
    watcher.message.connect(lambda m: watcher.stop())  # the owner has its result
    watcher.start()
    qtbot.waitUntil(lambda: bool(got), timeout=2000)
    qtbot.wait(30)
    assert got == [('a',)] and gone == [] and list(job.queue) == [('b',)]


def test_a_blocking_poll_reads_until_the_child_is_gone(qtbot):
    job = FakeJob([('a',), ('b',)], alive=False)
    watcher, got, gone = watch(job)
    watcher.running = True  # as start() leaves it, without the timer
    watcher.poll(block=True)
    assert got == [('a',), ('b',)] and gone == [True]
