"""explorer/ladder_room.py: File › Open ladder rung › names each shipped rung with what it adds and its size and
opens it (its overview then shows the blocks it has); "Compare the rungs' curves" brings the Training panel of
the Learn workspace forward with the whole ladder drawn; a double-click on a shipped rung in Compare runs opens
it."""

from PySide6.QtCore import Qt

from engine.presets import RUNGS, shipped_checkpoint


def test_the_file_menu_lists_every_rung_with_its_size(window):
    room = window.ladder
    file_menu = next(m for m in window.menus() if m.title() == '&File')
    assert room.menu.menuAction() in file_menu.actions()
    room.menu.aboutToShow.emit()
    texts = [room.actions[p].text() for p in RUNGS]
    assert texts[0] == "bigram — a token's row of one vocab×vocab matrix is its logits · 729 params"
    assert [t.split(' · ')[-1] for t in texts] == ['729 params', '3,168 params', '3,680 params', '4,192 params',
                                                  '4,192 params']
    assert all(room.actions[p].isEnabled() for p in RUNGS) and room.compare_act in room.menu.actions()


def test_opening_a_rung_shows_its_overview(window, qtbot):
    s = window.session
    with qtbot.waitSignal(s.view_changed, timeout=60000):
        window.ladder.actions['average'].trigger()
    assert s.checkpoint_path == shipped_checkpoint('average') and 'average-names.json' in window.model_label.text()
    paths = {scope.path for scope in s.trace.scopes}
    assert 'pos 1 / layer 0 / attention / head 0 / uniform' in paths and 'params / layer0.attn_wq' not in paths


def test_compare_the_rungs_curves_draws_the_whole_ladder(window, qtbot):
    window.ladder.compare_act.trigger()
    compare = window.training.compare
    assert window.workspaces.current == 'Learn' and compare.ladder_box.isChecked()
    qtbot.waitUntil(lambda: len(compare.series) == 5, timeout=30000)  # each drawn as it arrives
    assert window.docks['training_dock'].isVisible() and not compare.visibleRegion().isEmpty()
    compare.ladder_box.setChecked(False)


def test_a_double_click_on_a_shipped_rung_opens_it(window, qtbot):
    compare = window.training.compare
    window.runs.want_history()
    qtbot.waitUntil(lambda: compare.list.count() == 5, timeout=30000)
    mine = window.runs.add('mine', 10, [3.0], key='mine')
    compare.list.itemDoubleClicked.emit(compare.list.item(5))  # a run of one's own: nothing to open
    assert mine is not None and window.session.checkpoint_path == shipped_checkpoint('microgpt')
    with qtbot.waitSignal(window.session.checkpoint_changed, timeout=30000):
        compare.list.itemDoubleClicked.emit(compare.list.item(0))
    assert window.session.checkpoint_path == shipped_checkpoint('bigram')
