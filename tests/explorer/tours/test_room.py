"""Tours in the window: the menus and keys, the panel beside the graph, where targets are, Start tour's list
with the learner's record."""

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from engine import tours
from explorer.tours import room


def test_the_menus_and_keys(window):
    help_menu = next(m for m in window.menus() if m.title() == '&Help')
    assert help_menu.actions()[:4] == [window.tours.start_act, window.tours.write_act, window.tours.next_act,
                                       window.tours.back_act]
    file_actions = next(m for m in window.menus() if m.title() == '&File').actions()
    assert file_actions[file_actions.index(window.save_act) + 1] is window.tours.open_act
    assert window.tours.next_act.shortcut().toString() == 'Alt+Right'
    assert window.tours.back_act.shortcut().toString() == 'Alt+Left'
    taken = [a.shortcut().toString() for a in window.findChildren(type(window.save_act)) if not a.shortcut().isEmpty()]
    assert taken.count('Alt+Right') == 1 and taken.count('Alt+Left') == 1


def test_the_panel_sits_beside_the_graph_hidden_until_a_tour(window):
    panel, graph = window.tours.panel, window.graph
    assert panel.isHidden() and panel.parentWidget() is graph.parentWidget()


def test_targets_are_found_on_screen(window, qtbot):
    t = window.tours
    window.workspaces.switch('Backprop')
    assert t.target_rect(('panel', 'Chain rule')).intersects(room.mapped(window.chain_rule_dock, window))
    step = t.target_rect(('control', 'step'))
    assert step is not None and step.width() > 10
    assert t.target_rect(('control', 'document')) is not None
    assert t.target_rect(('box', 'g191')) is not None  # pos 0
    loss = f'n{window.session.trace.loss_id}'
    window.graph.land(loss)
    assert t.target_rect(('node', loss)) is not None
    window.graph.first_view()
    inside = window.session.trace.scope_id('pos 1 / softmax / sum')
    assert t.target_rect(('box', f'g{inside}')) is None  # inside a closed box: not on screen


def test_every_name_a_tour_may_use_is_one_the_window_has(window):
    titles = {d.windowTitle() for d in window.docks.values()} | {'Gradient', 'Code', 'Nudge', 'Gradcheck', 'Provenance'}
    assert room.KNOWN.panels == titles
    assert room.KNOWN.workspaces == set(window.workspaces.actions)
    for name in room.KNOWN.controls:
        assert getattr(window, room.CONTROLS[name]) is not None


def test_start_tour_lists_the_shipped_tours_with_the_record(window, qtbot, monkeypatch):
    first = tours.load(tours.shipped()[0])
    window.settings.setValue(f'tours/{first.ident}/7', json.dumps({'answer': 0.1, 'true': 0.06, 'close': True}))
    seen = []

    def exec_(dialog):
        items = dialog.findChild(room.QListWidget)
        seen.extend(items.item(i).text() for i in range(items.count()))
        return QDialog.Accepted
    monkeypatch.setattr(room.QDialog, 'exec', exec_)
    with qtbot.waitSignal(window.tours.player.step_shown, timeout=30000):
        window.tours.choose()
    assert seen[0].startswith('Reading the picture\n') and 'your predictions: 1 of 1 close' in seen[0]
    assert seen[1].startswith('Follow one gradient')
    assert window.tours.player.tour.title == 'Reading the picture' and window.tours.panel.isVisible()
    window.tours.player.leave()


def test_the_keys_go_to_the_graph_and_to_a_number_asked_for(window, qtbot):
    """→ steps and Return opens on each step (the Gradient dock's tab bar took them after a workspace switch, and
    four → turned its pages instead of stepping backprop); a number prediction's field takes them, then gives them back."""
    player, panel = window.tours.player, window.tours.panel
    window.workspaces.switch('Learn')
    window.search_field.setFocus()
    with qtbot.waitSignal(player.step_shown, timeout=30000):
        player.start(tours.load(tours.shipped()[1]))
    assert window.focusWidget() is window.graph
    number = next(i for i, s in enumerate(player.steps) if s.kind == 'predict' and s.predict.answer == 'number')
    player.go(number)
    assert window.focusWidget() is panel.field
    panel.field.setText('-0.01')
    panel.field.returnPressed.emit()
    assert window.focusWidget() is window.graph
    for button in (panel.next_button, panel.back_button, panel.leave_button):
        assert button.focusPolicy() == Qt.NoFocus
    player.leave()


def test_the_first_start_welcomes_with_a_way_into_the_tours(window, qtbot, monkeypatch):
    from PySide6.QtCore import QUrl
    chosen = []
    monkeypatch.setattr(window.tours, 'choose', lambda: chosen.append(True))
    dialog = window.maybe_show_intro(offscreen=False)
    assert 'Take the first tour, Reading the picture' in dialog.text.toPlainText()
    assert not dialog.isModal()  # never blocking: the app is usable behind it
    dialog.text.anchorClicked.emit(QUrl('tours:'))
    assert chosen == [True] and not dialog.isVisible()
    window.how_to_read_act.trigger()  # Help brings back the reading, without the welcome
    assert dialog.isVisible() and 'Take the first tour' not in dialog.text.toPlainText()
    dialog.close()
    dialog = window.maybe_show_intro(offscreen=False) or window._help.show('How to read this picture', '')
    player = window.tours.player
    with qtbot.waitSignal(player.step_shown, timeout=30000):
        dialog.text.anchorClicked.emit(QUrl(f'tour:{tours.shipped()[0].name}'))
    assert player.tour.title == 'Reading the picture' and not dialog.isVisible()
    player.leave()
