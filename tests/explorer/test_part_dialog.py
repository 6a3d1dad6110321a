"""explorer.part_dialog: the question before a recording too large to make whole says what the whole and the
part chosen cost, refuses a part this machine cannot hold, and answers the positions chosen or 0."""

import random

import engine.recording_cost as recording_cost
from engine.model import Model
from engine.presets import preset_config
from engine.tokenizer import Tokenizer
from explorer.part_dialog import PartDialog, asker


def mini_gpt():
    config = preset_config('mini-gpt', n_embd=128, n_layer=3, block_size=64)
    return Model.init(config, Tokenizer.from_docs(['abcdefghijklmnopqrstuvwxyz']), random.Random(0))


MODEL = None


def model():
    global MODEL
    MODEL = MODEL or mini_gpt()
    return MODEL


def test_it_says_what_the_whole_and_each_part_cost_and_answers_the_part(qtbot):
    dialog = PartDialog('emma', model(), 5)
    qtbot.addWidget(dialog)
    intro = dialog.findChildren(type(dialog.cost))[0].text()
    assert "This model is too large to record 'emma' whole without asking." in intro
    assert 'The whole document: 6.6 million scalars' in intro and 'each position after it adds about 1.2 million' in intro
    assert dialog.positions.value() == 1 and dialog.cost.text().startswith('1 position: 1.8 million scalars')
    dialog.positions.setValue(3)
    assert dialog.cost.text().startswith('3 positions: 4.') and dialog.record.isEnabled()
    dialog.accept()
    assert dialog.answer() == 3
    dialog = PartDialog('emma', model(), 5)
    qtbot.addWidget(dialog)
    dialog.reject()
    assert dialog.answer() == 0


def test_a_part_this_machine_cannot_hold_cannot_be_chosen(qtbot, monkeypatch):
    monkeypatch.setattr(recording_cost, 'memory_size', lambda: 2 * 2**30)  # 2 GB
    dialog = PartDialog('emma', model(), 5)
    qtbot.addWidget(dialog)
    assert dialog.record.isEnabled()  # one position: 1.5 GB
    dialog.positions.setValue(2)
    assert not dialog.record.isEnabled() and 'does not have that much memory' in dialog.cost.text()


def test_the_session_hook_shows_the_dialog_modal_and_returns_its_answer(qtbot, monkeypatch):
    monkeypatch.setattr(PartDialog, 'exec', lambda self: self.positions.setValue(2) or self.accept())
    assert asker(None)('emma', model(), 5) == 2
    monkeypatch.setattr(PartDialog, 'exec', lambda self: self.reject())
    assert asker(None)('emma', model(), 5) == 0


def test_asked_again_about_the_part_recorded_it_offers_one_position_more(qtbot, monkeypatch):
    class Trace:
        doc, n, whole_n = 'emma', 2, 5

    class Session:
        trace = Trace()
    offered = []
    monkeypatch.setattr(PartDialog, 'exec', lambda self: offered.append(self.positions.value()) or self.reject())
    asker(None, Session())('emma', model(), 5)
    asker(None, Session())('olivia', model(), 7)  # another document: the suggestion
    assert offered == [3, 1]
