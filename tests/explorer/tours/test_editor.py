"""Write a tour in the app: steps captured from the window's state, their kind chosen, reordered and undone,
saved as one file that a new process reads and plans to the very same steps, and played back to the state
each step was captured in."""

import json
import subprocess
import sys

from engine import tours
from engine.gradient.provenance import resolve
from engine.graph.keys import node_key

from explorer.tours.room import KNOWN
from tests.explorer.tours.test_player import settle

PLAN = ('import sys; from engine import tours; from explorer.tours.room import KNOWN; '
        'print(repr(tours.prepare(tours.load(sys.argv[1]), KNOWN)))')


def capture_three_steps(win, qtbot, editor):
    """Show (a head opened, wte[4][3] selected, backprop at 40), do (reach wte[4][3]), predict (its grad's sign)."""
    s = win.session
    head = s.trace.scope_id('pos 2 / layer 0 / attention / head 2')
    win._on_open_requested(head, False)
    settle(qtbot, win)
    s.reveal(node_key(resolve(s.trace, 'wte[4][3]')))
    s.backprop.seek(40)
    settle(qtbot, win)
    editor.title.setText('Written here')
    editor.goal.setText('Three steps recorded from the window.')
    editor.text.setPlainText('wte[4][3] has grad {grad of wte[4][3]}.')
    editor.add_step()
    editor.add_step()
    editor.text.setPlainText('Step until the gradient reaches it.')
    editor.kind.setCurrentText('do')
    editor.do.setCurrentIndex(editor.do.findData('reach'))
    editor.add_step()
    editor.text.setPlainText('Its sign?')
    editor.kind.setCurrentText('predict')
    editor.why.setText('Its one use sends it this.')
    editor.why.textEdited.emit(editor.why.text())
    return s.opened, s.selected, s.backprop.position


def test_a_tour_written_in_the_app_plays_the_same_in_a_new_process(window, qtbot, tmp_path):
    win = window
    editor = win.tours.write()
    opened, selected, position = capture_three_steps(win, qtbot, editor)
    assert [('do' in s, 'predict' in s) for s in editor.steps] == [(False, False), (True, False), (False, True)]
    assert editor.steps[1]['do'] == {'reach': 'wte[4][3]'} and editor.steps[2]['predict']['of'] == 'grad of wte[4][3]'
    assert 'pos 2 / layer 0 / attention / head 2' in editor.steps[0]['state']['open']
    path = tmp_path / 'mine.json'
    assert editor.save(path=path)
    assert json.loads(path.read_text())['checkpoint'] == 'microgpt-names.json'  # a shipped one: by name
    here = repr(tours.prepare(tours.load(path), KNOWN))
    there = subprocess.run([sys.executable, '-c', PLAN, str(path)], capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here  # the same steps, names resolved to the same boxes and numbers
    win.tours.panel.hide()
    s = win.session
    win.workspaces.switch('Graph')
    s.backprop.seek(0)
    with qtbot.waitSignal(win.tours.player.step_shown, timeout=30000):
        assert editor.play()
    settle(qtbot, win)
    assert (s.opened, s.selected, s.backprop.position) == (opened, selected, position)
    win.tours.player.leave()
    settle(qtbot, win)


def test_steps_reorder_undo_and_reopen(window, qtbot, tmp_path):
    win = window
    editor = win.tours.write()
    editor.new()
    capture_three_steps(win, qtbot, editor)
    texts = [s['text'] for s in editor.steps]
    editor.list.setCurrentRow(0)
    editor.move_step(1)
    assert [s['text'] for s in editor.steps] == [texts[1], texts[0], texts[2]] and editor.list.currentRow() == 1
    editor.remove_step()
    assert [s['text'] for s in editor.steps] == [texts[1], texts[2]]
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert [s['text'] for s in editor.steps] == texts
    path = tmp_path / 'again.json'
    assert editor.save(path=path)
    editor.new()
    assert editor.open_file(path) and [s['text'] for s in editor.steps] == texts
    assert not editor.kind.isEnabled()  # a step read from a file is recaptured before its kind can change


def test_what_cannot_make_a_step_is_one_sentence(window, qtbot, tmp_path):
    win = window
    editor = win.tours.write()
    editor.new()
    win.session.select(None)
    editor.add_step()
    editor.kind.setCurrentText('predict')
    assert 'Select the scalar to predict first' in editor.message.text()
    assert 'predict' not in editor.steps[0] and editor.kind.currentText() == 'show'
    editor.title.setText('')
    assert not editor.save(path=tmp_path / 'x.json')
    assert editor.message.text() == 'Give the tour a title and a goal first.'
    assert not (tmp_path / 'x.json').exists()
    bad = tmp_path / 'bad.json'
    bad.write_text('{"tour": 9}')
    assert not editor.open_file(bad) and 'version 9' in editor.message.text()
