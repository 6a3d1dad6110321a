"""explorer/gradient/gradcheck_panel.py: Gradcheck runs in the background and can be cancelled. It runs in
a child process (no GIL shared with the window): progress arrives from it, Cancel kills it, and its result
is exactly what engine.gradient.gradcheck gives in-process."""

import os
import queue

from engine.gradient.gradcheck import gradcheck_process, iter_gradcheck


def test_gradcheck_runs_in_the_background_and_can_be_cancelled(window, qtbot):
    panel = window.gradcheck_panel
    window.show_gradient_tab(panel)
    with qtbot.waitSignal(panel.progress.valueChanged, timeout=20000):
        panel.start()
    assert panel.running and not panel.start_button.isEnabled()
    assert panel.cancel()
    assert not panel.running and panel.start_button.isEnabled() and panel.result is None


def test_the_check_runs_in_another_process_and_cancel_kills_it(window, qtbot):
    panel = window.gradcheck_panel
    window.show_gradient_tab(panel)
    panel.start()
    child = panel.job
    assert child.pid != os.getpid() and child.is_alive()
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=60000)  # parameters checked over there
    assert panel.running and not panel.start_button.isEnabled()
    assert panel.cancel()
    child.join(5)
    assert not child.is_alive()  # killed, not left running
    assert not panel.running and panel.start_button.isEnabled() and panel.result is None


def test_the_child_gives_what_the_check_gives_in_process(window):
    s = window.session
    only = {'wte[4][3]', 'lm_head[0][1]', 'layer0.attn_wq[3][5]', 'wpe[15][0]'}
    messages = queue.Queue()
    model = s.model
    gradcheck_process(model.config, model.tokenizer, model.floats(), s.trace.doc, messages, 1, only)
    got = []
    while not messages.empty():
        got.append(messages.get())
    assert [m[1] for m in got if m[0] == 'progress'] == [1, 2, 3, 4]
    kind, h, params = got[-1]
    gen = iter_gradcheck(model, s.trace, only=only)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        expected = stop.value
    assert kind == 'done' and h == expected.h
    assert params == [(p.name, p.node, p.analytic, p.numeric) for p in expected.params]
