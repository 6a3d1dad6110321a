"""explorer.state.replay_ahead: while the timeline plays, a child process replays the shipped run ahead of
the step asked for; the steps it sends wait in the history, bit for bit what the window's own replay gives,
and stopping it ends the child."""

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine.paths import DEFAULT_CHECKPOINT
from explorer.state.replay_ahead import ReplayAhead


def test_the_steps_after_the_one_asked_for_wait_in_the_history(qtbot):
    run = ckpt_io.load(DEFAULT_CHECKPOINT)
    run.history_file = history_io.history_path(DEFAULT_CHECKPOINT)
    history = history_io.load_for(DEFAULT_CHECKPOINT, run)
    history.mark_checked()  # as a window that checked it once does
    ahead = ReplayAhead()
    ahead.start(history, run, 501)
    try:
        ahead.ask(500)
        qtbot.waitUntil(lambda: all(s in history._cache for s in range(501, 511)), timeout=60000)
        process = ahead.job.process
        offered = {s: history._cache[s] for s in range(501, 511)}
        history.forget()
        for step, state in offered.items():
            ours = history.seek(step)
            assert (state.weights, state.m, state.v, state.loss, state.doc) == (ours.weights, ours.m, ours.v,
                                                                                ours.loss, ours.doc)
    finally:
        ahead.stop()
    assert not ahead.running and not process.is_alive()
