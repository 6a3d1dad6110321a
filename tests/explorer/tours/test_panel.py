"""The tour's panel, on a stand-in player: what it shows for each kind of step, and Next only once the step is done."""


import pytest
from PySide6.QtCore import QObject, Signal

from engine.tours import Predict, Step, Tour
from explorer.tours.panel import TourPanel


class FakePlayer(QObject):
    changed = Signal()
    left = Signal()

    def __init__(self, steps):
        super().__init__()
        self.tour = Tour('A tour', 'its goal', 'c.json', 'emma', ())
        self.steps, self.index, self.answers, self.done, self.given = steps, 0, {}, False, []
        self.kept = (0, 0)

    step = property(lambda self: self.steps[self.index])
    next = back = leave = lambda self: None

    def can_go_on(self):
        return self.step.kind == 'show' or self.done or self.index in self.answers

    def answer(self, value):
        self.given.append(value)

    def record(self, tour=None):
        return self.kept


STEPS = (Step(1, 'do', 'Open it.', do=('open', 3), hint='open pos 1 / softmax'),
         Step(2, 'predict', 'Sign?', predict=Predict('grad of x', 'sign', -1.0, 0.5, 'Why.')),
         Step(3, 'predict', 'How much?', predict=Predict('grad of x', 'number', -1.0, 0.5, 'Why.')))


@pytest.fixture
def panel(qtbot):
    player = FakePlayer(STEPS)
    panel = TourPanel(player)
    qtbot.addWidget(panel)
    player.changed.emit()
    return panel, player


def test_a_do_step_says_what_to_do_and_next_waits_for_it(panel):
    panel, player = panel
    assert panel.isVisible() and 'Step 1 of 3 — its goal' == panel.counter.text()
    assert 'To go on:</b> open pos 1 / softmax' in panel.hint.text() and not panel.next_button.isEnabled()
    player.done = True
    player.changed.emit()
    assert '✓ Done' in panel.hint.text() and panel.next_button.isEnabled()
    assert not panel.back_button.isEnabled()


def test_a_sign_prediction_has_three_buttons(panel):
    panel, player = panel
    player.index = 1
    player.changed.emit()
    assert not panel.signs.isHidden() and panel.number.isHidden() and not panel.next_button.isEnabled()
    panel.sign_buttons['negative'].click()
    assert player.given == ['negative']
    player.answers[1] = ('negative', True, 'You said negative; it is negative. Why.')
    player.kept = (1, 1)
    player.changed.emit()
    assert panel.signs.isHidden() and 'Right.' in panel.reveal.text() and panel.next_button.isEnabled()
    assert panel.record.text() == 'Your predictions on this tour: 1 of 1 close.'


def test_a_number_prediction_takes_only_a_number(panel):
    panel, player = panel
    player.index = 2
    player.changed.emit()
    assert panel.signs.isHidden() and not panel.number.isHidden() and panel.next_button.text() == 'Finish'
    panel.field.setText('a lot')
    panel.answer_button.click()
    assert player.given == [] and panel.reveal.text().startswith('Type a number')
    panel.field.setText('-0.5')
    panel.field.returnPressed.emit()
    assert player.given == [-0.5]


def test_leaving_hides_it(panel):
    panel, player = panel
    player.left.emit()
    assert panel.isHidden()


def test_its_width_leaves_the_graph_most_of_the_window(panel):
    panel, _ = panel
    panel.fit_width(1280)
    assert panel.width() == 280
    panel.fit_width(1600)
    assert panel.width() == 360
