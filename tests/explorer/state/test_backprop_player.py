"""explorer.state.backprop_player: backprop as the learner drives it, without widgets: a new recording starts
at step 0, a step names the nodes it touched and back undoes it, a jump says 'everything', a group step
lands where a unit's backward is done, play stops at a breakpoint and at the end with a sentence."""

import random

import pytest
from PySide6.QtCore import QObject, Signal

from engine.backprop import Stepper
from engine.graph.keys import node_key
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import record
from explorer.state.backprop_player import BackpropPlayer
from explorer.state.session import Recorded


class FakeSession(QObject):
    """What the player reads of a Session: the recording in use and the signal that a new one is in."""
    recorded = Signal()

    def use(self, trace):
        self.current, self.trace = Recorded(trace), trace
        self.recorded.emit()


@pytest.fixture(scope='module')
def trace():
    model = Model.init(GPTConfig(n_embd=8, n_head=2, block_size=4), Tokenizer('abc'), random.Random(1))
    return record(model, 'ab')


@pytest.fixture
def player(qapp, trace):
    session = FakeSession()
    player = BackpropPlayer(session)
    player.moves, player.messages = [], []
    player.moved.connect(player.moves.append)
    player.message.connect(player.messages.append)
    session.use(trace)
    return player


def test_a_new_recording_starts_at_step_0_and_redraws_everything(player, trace):
    assert player.position == 0 and player.total == len(trace) + 1
    assert player.moves == [None] and player.focus_node() == trace.loss_id


def test_a_step_names_what_it_touched_and_back_undoes_it(player, trace):
    player.step()  # the seed: loss.grad = 1
    assert player.moves[-1] == {trace.loss_id} and player.grads[trace.loss_id] == 1.0
    record_ = player.step()
    assert player.moves[-1] == {trace.loss_id, *(c.child for c in record_.contributions)}
    assert all(player.reached(c.child) for c in record_.contributions)
    player.back()
    assert player.position == 1 and not any(player.reached(c.child) for c in record_.contributions)


def test_a_jump_redraws_everything_and_the_end_is_loss_backward(player, trace):
    player.moves.clear()
    player.seek(10)
    assert player.position == 10 and player.moves == [None]
    player.run_to_end()
    full = Stepper(trace)
    full.run_to_end()
    assert player.position == player.total and list(player.grads) == list(full.grads)
    player.seek(10 ** 9)  # clamped
    assert player.position == player.total


def test_a_group_step_lands_where_a_unit_is_done_and_says_so(player):
    player.step_group()
    assert 0 < player.position <= player.total and player.landed
    assert player.messages[-1].startswith('Done: ' + player.landed[0].path)
    there = player.position
    player.step_group()
    player.back_group()
    assert player.position == there


def test_play_stops_at_a_breakpoint_then_at_the_end(player, trace, qtbot):
    node = next(n for n, place in trace.params.items() if place == ('wpe', 0, 0))  # read at position 0
    player.toggle_breakpoint(node_key(node))
    at = player.breakpoints[node_key(node)]
    assert at == player.schedule.reached_at[node] > 0
    player.set_speed(0)
    player.play()
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)
    assert player.position == at and player.messages[-1].startswith('Breakpoint: the gradient reached')
    player.play()
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)
    assert player.position == player.total and player.messages[-1].startswith('Backprop done')


def test_a_new_recording_clears_the_breakpoints(player, trace):
    player.toggle_breakpoint(node_key(next(iter(trace.params))))
    player.seek(5)
    player.session.use(trace)
    assert player.breakpoints == {} and player.position == 0
