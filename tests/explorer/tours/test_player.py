"""The tour player in a real (offscreen) window: every shipped tour played start to finish, headless. Each
step's state is reached, its target is on screen and clear of the tour's panel, a do step completes when the
action is performed and not before, each prediction is scored against the recorded value and kept; leaving
puts the learner's own state back. A tour with a missing target gets its one sentence and changes nothing."""

import json

import pytest

from engine import tours
from engine.gradient.gradcheck import analytic_grads
from engine.gradient.provenance import resolve
from engine.graph.keys import group_key
from engine.graph.grouping import ROOT

from explorer.dock_column import in_front


def settle(qtbot, win):
    s = win.session
    qtbot.waitUntil(lambda: s.recording is None and not s.layout_pending and not win.graph.building(), timeout=30000)
    qtbot.wait(20)


def start(qtbot, win, tour):
    player = win.tours.player
    with qtbot.waitSignal(player.step_shown, timeout=30000):
        assert player.start(tour)
    settle(qtbot, win)
    return player


def perform(win, step, qtbot):
    """What the learner does for a do step, through what the window's own controls call."""
    s = win.session
    kind, what = step.do
    if kind == 'open':
        win._on_open_requested(what, False)  # a double-click on the box
    elif kind == 'select':
        s.reveal(what)  # Find's Return, or a click on the cell
    elif kind == 'reach':
        while s.backprop.position < what:
            s.backprop.step_group()  # Shift+→
    else:  # the step typed in the Timeline's box (its history read when the panel shows)
        t = win.timeline
        t.ensure_loaded()
        qtbot.waitUntil(lambda: t.history is not None, timeout=30000)
        t.go_to(what)
        qtbot.waitUntil(lambda: t.step == what, timeout=30000)


def check_state(win, step):
    s = win.session
    if step.workspace:
        assert win.workspaces.current == step.workspace
    for scope in step.opened:
        assert scope in s.opened
    if step.select:
        assert s.selected == step.select
    if step.backprop is not None:
        assert s.backprop.position == step.backprop
    if step.panel:
        dock = win.gradient_dock if step.panel in ('Nudge', 'Provenance', 'Code', 'Gradcheck') else \
            next(d for d in win.docks.values() if d.windowTitle() == step.panel)
        assert dock.isVisible() and in_front(dock)
        if step.panel in ('Nudge', 'Provenance', 'Code', 'Gradcheck'):
            assert win.gradient_dock.tabs.tabText(win.gradient_dock.tabs.currentIndex()) == step.panel


def check_live_grads(win, text):
    """A gradient the text quotes is the one the app shows at this step, not one still on its way."""
    s = win.session
    whole = analytic_grads(s.trace)
    for kind, name, step in tours.LIVE.findall(text):
        if step:  # a number of the training run, not of this recording
            continue
        node = resolve(s.trace, name.strip())
        if kind == 'grad':
            assert s.backprop.grads[node] == whole[node], f'{name} is not whole at step {s.backprop.position}'


@pytest.mark.parametrize('size', [(1280, 720), (1600, 1000)], ids=lambda s: '%dx%d' % s)
@pytest.mark.parametrize('path', tours.shipped(), ids=lambda p: p.name)
def test_every_shipped_tour_plays_start_to_finish(window, qtbot, path, size):
    win, s = window, window.session
    win.resize(*size)  # the window sizes a tour must work in (the test window is smaller)
    qtbot.waitUntil(lambda: win.size().toTuple() == size, timeout=5000)
    s.reveal('n19')  # the learner's own state: a selection, a step of backprop, a workspace
    s.backprop.seek(7)
    win.workspaces.switch('Attention' if path.name.startswith('1-') else 'All panels')
    settle(qtbot, win)
    mine = (s.opened, s.selected, s.backprop.position, win.workspaces.current)
    g = win.graph
    view = (g.transform().m11(), g.mapToScene(g.viewport().rect().center()))
    tour = tours.load(path)
    player = start(qtbot, win, tour)
    assert win.tours.panel.isVisible() and player.steps[0].text in win.tours.panel.text.text()
    answered = sum(1 for step in player.steps if step.kind == 'predict')
    for i, step in enumerate(player.steps):
        assert player.index == i
        settle(qtbot, win)
        check_state(win, step)
        check_live_grads(win, tour.steps[i]['text'])
        if step.panel == 'Nudge':  # its nudge lights the graph, as the learner sees before going on
            qtbot.waitUntil(lambda: g.tint_label().startswith('nudge of'), timeout=20000)
        if step.target:
            win.tours.spotlight.refresh()  # (brings the target back into view if a workspace's panels moved it)
            target = win.tours.target_rect(step.target)
            assert target is not None and not target.isEmpty(), (step.index, step.target)
            panel = win.tours.clear_rects()[1]
            assert not target.intersects(panel), 'the panel covers what it points at'
            assert win.tours.spotlight.target() == target
        if step.kind == 'do':
            assert not player.can_go_on() and not win.tours.panel.next_button.isEnabled()
            player.next()
            assert player.index == i  # not before it is done
            perform(win, step, qtbot)
            settle(qtbot, win)
            assert player.can_go_on() and win.tours.panel.next_button.isEnabled()
        elif step.kind == 'predict':
            assert not player.can_go_on()
            p = step.predict
            if p.answer == 'largest':  # answered by a click on its cell: the selection of that scalar
                guess = p.true
                assert p.keys[guess] != s.selected
                buttons = [b.text() for b in win.tours.panel.choices.findChildren(type(win.tours.panel.next_button))]
                assert buttons == list(p.options) and win.tours.panel.choices.isVisible()
                s.reveal(p.keys[guess])
                assert player.answers[i][1] and f'the largest is {p.options[guess]}' in player.answers[i][2]
            else:
                guess = tours.sign_of(p.true) if p.answer == 'sign' else p.true * 1.1
                close, sentence = player.answer(guess)
                assert close and f'{p.of} = ' in sentence or 'close' in sentence
            kept = json.loads(win.settings.value(f'tours/{tour.ident}/{step.index}'))
            assert kept == {'answer': guess, 'true': p.true, 'close': True}
            assert ('Close.' if p.answer == 'number' else 'Right.') in win.tours.panel.reveal.text()  # 10% off: close
        with qtbot.waitSignal(player.left if i == len(player.steps) - 1 else player.step_shown, timeout=5000):
            win.tours.next_act.trigger()  # Alt+Right
    settle(qtbot, win)
    assert not player.active and not win.tours.panel.isVisible() and not win.tours.spotlight.isVisible()
    assert (s.opened, s.selected, s.backprop.position, win.workspaces.current) == mine
    qtbot.wait(300)  # a nudge the workspace switch started would be back by now
    assert g.tint_label() == '' or win.nudge_panel.isVisible(), 'lit, and no panel in sight says why'
    qtbot.waitUntil(lambda: g.transform().m11() == view[0], timeout=5000)  # the learner's view of the graph too
    centre = g.mapToScene(g.viewport().rect().center())
    assert abs(centre.x() - view[1].x()) < 2 and abs(centre.y() - view[1].y()) < 2
    assert player.record(tour) == (answered, answered)


def test_back_shows_the_step_before_with_its_state(window, qtbot):
    win = window
    player = start(qtbot, win, tours.load(tours.shipped()[1]))
    player.go(2)
    settle(qtbot, win)
    assert win.session.backprop.position == player.steps[2].backprop
    win.tours.back_act.trigger()  # Alt+Left
    settle(qtbot, win)
    assert player.index == 1 and not player.can_go_on()  # a do step is to be done again
    win.tours.back_act.trigger()
    assert player.index == 0 and win.session.backprop.position == 0 and win.session.selected == player.steps[0].select
    player.leave()
    settle(qtbot, win)


def test_a_missing_target_is_one_sentence_and_the_app_unchanged(window, qtbot, tmp_path, monkeypatch):
    win, s = window, window.session
    said = []
    monkeypatch.setattr('explorer.tours.room.QMessageBox.warning', lambda parent, title, text: said.append(text))
    path = tmp_path / 'bad.json'
    data = json.loads(tours.shipped()[0].read_text())
    data['steps'][1]['target'] = {'box': 'pos 1 / layer 9'}
    path.write_text(json.dumps(data))
    before = (s.opened, s.selected, win.workspaces.current, s.current)
    win.tours.open_file(path)
    qtbot.waitUntil(lambda: bool(said), timeout=20000)
    assert said == ["Step 2 names box 'pos 1 / layer 9', which this model does not have (the recording of 'emma')."]
    assert not win.tours.player.active and not win.tours.panel.isVisible()
    assert (s.opened, s.selected, win.workspaces.current, s.current) == before


def test_a_tour_for_another_document_records_it_and_leaving_records_the_learners_again(window, qtbot):
    win, s = window, window.session
    tour = tours.parse(json.dumps({'tour': 1, 'title': 'Anna', 'goal': 'g', 'doc': 'anna', 'steps': [
        {'text': 'The loss of anna: {value of loss}.', 'target': {'node': 'loss'}}]}))
    player = start(qtbot, win, tour)
    assert s.doc == 'anna' and player.step.text.startswith('The loss of anna: ')
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        player.next()
    settle(qtbot, win)
    assert s.doc == 'emma' and s.opened == s.current.hierarchy.overview() | {ROOT}
    assert group_key(1) not in (s.selected or '')


@pytest.mark.slow  # reads the run's history (and closing the window that read it takes long)
def test_a_training_step_is_reached_and_a_scrub_completes_only_when_done(window, qtbot):
    win, s = window, window.session
    tour = tours.parse(json.dumps({'tour': 1, 'title': 'Scrub', 'goal': 'g', 'doc': 'emma', 'steps': [
        {'text': 'Step 500 of the run.', 'state': {'training_step': 500}},
        {'text': 'Scrub to step 20.', 'do': {'scrub': 20}}]}))
    player = start(qtbot, win, tour)
    qtbot.waitUntil(lambda: win.timeline.step == 500 and s.recording is None, timeout=60000)
    player.next()
    assert player.index == 1 and not player.can_go_on()
    win.timeline.go_to(19)
    qtbot.waitUntil(lambda: win.timeline.step == 19, timeout=30000)
    assert not player.can_go_on()
    win.timeline.go_to(20)
    qtbot.waitUntil(lambda: player.can_go_on(), timeout=30000)
    player.leave()
    qtbot.waitUntil(lambda: win.timeline.step == 1000 and s.recording is None, timeout=30000)
    settle(qtbot, win)
    assert s.model is s.checkpoint.model and s.checkpoint is win.timeline.run  # the run's own weights again


def test_a_step_that_waits_for_backprop_says_how_far_it_is(window, qtbot):
    win = window
    tour = tours.load(next(p for p in tours.shipped() if p.name.startswith('4-')))
    player = start(qtbot, win, tour)
    player.go(1)  # step until the first term reaches layer0.attn_wq[3][5]
    settle(qtbot, win)
    step, s = player.step, win.session
    assert step.do[0] == 'reach' and f'it gets there at step {step.do[1]:,}' in win.tours.panel.hint.text()
    s.backprop.step_group()
    assert f'Backprop is at step {s.backprop.position:,};' in win.tours.panel.hint.text() and s.backprop.position > 0
    player.leave()
    settle(qtbot, win)
