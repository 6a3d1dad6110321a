"""Write a tour (issue 22): a window beside the app where a teacher puts the app in a state, presses Add step,
types the step's text and chooses its kind (show, do, predict); steps can be edited, reordered (Alt+↑/↓),
removed, undone (Ctrl+Z), played (from the first step or the one selected), saved as one tour file and
reopened. It takes the TourPlayer and a function giving (trace, engine.tour_writing.Shown), never the window.
"""

import copy
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QPlainTextEdit, QPushButton, QVBoxLayout)

from engine import tour_writing as writing
from engine import tours as tour_io
from engine.paths import ASSETS
from engine.tours import DO_KINDS

SIZE = (400, 600)  # px: beside the graph, over the column of panels (where the help stands on first start)
DO_TEXT = {'select': 'select what is selected now', 'reach': 'step backprop until it reaches the selection',
           'backprop': 'step backprop to the step shown now', 'open': 'open the selected box',
           'scrub': 'scrub the timeline to the step shown now'}


class _Edit(QUndoCommand):
    """One change to the steps, undone by putting the list back as it was."""

    def __init__(self, editor, text, before, after, row):
        super().__init__(text)
        self.editor, self.before, self.after, self.row = editor, before, after, row

    def redo(self):
        self.editor._set_steps(self.after, self.row)

    def undo(self):
        self.editor._set_steps(self.before, min(self.row, len(self.before) - 1))


class TourEditor(QDialog):
    def __init__(self, player, shown_now, panels, parent=None):
        super().__init__(parent)
        self.player, self.shown_now = player, shown_now
        self.setWindowTitle('Write a tour')
        self.setModal(False)
        self._filling = True
        self.steps, self.captured = [], []  # the file's steps; the Shown each was made from (None: opened)
        self.path, self.doc, self.checkpoint = None, None, None
        self.undo_stack = QUndoStack(self)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.title, self.goal = QLineEdit(), QLineEdit()
        self.title.setPlaceholderText('required, e.g. Where the loss comes from')
        self.goal.setPlaceholderText('required: one line, what the learner will understand')
        form.addRow('&Title', self.title)
        form.addRow('&Goal', self.goal)
        layout.addLayout(form)
        intro = QLabel('Put the app where the step should be (open, select, step backprop, scrub), then Add step. '
                       'A do step asks the learner to get there from the step before.')
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget()
        self.list.setMinimumHeight(90)
        self.list.currentRowChanged.connect(self._show_step)
        layout.addWidget(self.list, 1)
        layout.addLayout(self._step_buttons())
        layout.addLayout(self._step_form(panels), 0)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        layout.addLayout(self._file_buttons())
        self.resize(*SIZE)
        self._show_step(-1)

    # Building

    def _button(self, row, text, slot, key=None, tip='', width=None):
        button = QPushButton(text)
        if width:
            button.setFixedWidth(width)
        button.clicked.connect(slot)
        if key:
            QShortcut(QKeySequence(key), self, slot)
            tip = f'{tip} ({QKeySequence(key).toString(QKeySequence.NativeText)})'
        button.setToolTip(tip)
        row.addWidget(button)
        return button

    def _step_buttons(self):
        row = QHBoxLayout()
        self._button(row, '&Add step', self.add_step, 'Ctrl+Return', 'A step from what the app shows now')
        self._button(row, '&Recapture', self.recapture, None, 'This step\'s state from what the app shows now')
        self._button(row, 'Remove', self.remove_step, 'Ctrl+Backspace', 'Remove the selected step')
        self._button(row, '↑', lambda: self.move_step(-1), 'Alt+Up', 'Move the step up', 30)
        self._button(row, '↓', lambda: self.move_step(1), 'Alt+Down', 'Move the step down', 30)
        QShortcut(QKeySequence.Undo, self, self.undo_stack.undo)
        QShortcut(QKeySequence.Redo, self, self.undo_stack.redo)
        return row

    def _step_form(self, panels):
        form = QFormLayout()
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText('What the learner reads: {grad of wte[4][3]} writes that number in.')
        self.text.setFixedHeight(80)
        self.text.textChanged.connect(self._text_edited)
        self.kind = QComboBox()
        self.kind.addItems(writing.KINDS)
        self.do = QComboBox()
        for kind in DO_KINDS:
            self.do.addItem(DO_TEXT[kind], kind)
        self.answer = QComboBox()
        self.answer.addItems(['sign of its gradient', 'its gradient, a number', 'its value, a number'])
        self.why = QLineEdit()
        self.why.setPlaceholderText('shown with the answer: why it is what it is')
        self.why.textEdited.connect(self._rebuild)
        self.panel = QComboBox()
        self.panel.addItems(['(as it is)', *sorted(panels)])
        for box in (self.kind, self.do, self.answer, self.panel):
            box.currentIndexChanged.connect(self._rebuild)
            box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)  # narrow: beside the graph
            box.setMinimumContentsLength(14)
        for label, widget in (('Te&xt', self.text), ('&Kind', self.kind), ('Learner must', self.do),
                              ('Predict', self.answer), ('&Why', self.why), ('&Panel in front', self.panel)):
            form.addRow(label, widget)
        self.form = form
        return form

    def _file_buttons(self):
        row = QHBoxLayout()
        self._button(row, 'New', self.new, None, 'Start an empty tour')
        self._button(row, '&Open…', lambda: self.open_file(), None, 'Edit a tour file')
        self._button(row, '&Save', lambda: self.save(), 'Ctrl+S', 'Save the tour as one file')
        self._button(row, 'Save &as…', lambda: self.save(ask=True), 'Ctrl+Shift+S', 'Save under another name')
        play = QHBoxLayout()
        self._button(play, '▶ &Play the tour', self.play, 'F5', 'Play the tour in the window, from its first step')
        column = QVBoxLayout()
        column.addLayout(play)
        column.addLayout(row)
        return column

    # The steps

    def _shown(self):
        """(trace, Shown) of the app now, with the panel chosen; None with a sentence if it cannot make a step."""
        trace, shown = self.shown_now()
        if trace is None:
            return self._say('Wait for the recording to finish.')
        if self.player.session.unsaved:
            return self._say('Save the trained weights first (File › Save checkpoint as…): a tour plays on a file.')
        if self.doc is not None and (trace.doc != self.doc or self.player.session.checkpoint_path != self.checkpoint):
            return self._say(f'This tour plays {self.doc!r} with {Path(self.checkpoint).name}: a tour has one document '
                             'and one checkpoint.')
        self.doc, self.checkpoint = trace.doc, self.player.session.checkpoint_path
        panel = self.panel.currentText() if self.panel.currentIndex() > 0 else None
        return trace, writing.Shown(**{**shown.__dict__, 'panel': panel})

    def _make(self, trace, shown, text):
        answer = self.answer.currentIndex()
        try:
            return writing.make_step(trace, shown, text, self.kind.currentText(), self.do.currentData(),
                                     'sign' if answer == 0 else 'number', 'value' if answer == 2 else 'grad',
                                     self.why.text())
        except ValueError as e:
            return self._say(str(e))

    def add_step(self):
        """A show step of what the app shows now, after the selected step (choose its kind after)."""
        now = self._shown()
        text = self.text.toPlainText() if self.list.currentRow() < 0 else ''
        step = now and writing.make_step(*now, text)
        if step:
            row = self.list.currentRow() + 1
            self._change('Add step', self.steps[:row] + [step] + self.steps[row:],
                         self.captured[:row] + [now] + self.captured[row:], row)
            self._say(f'Step {row + 1} added: type its text, and choose its kind (show, do, predict).')
            self.text.setFocus()
            self.text.selectAll()  # typing replaces the placeholder

    def recapture(self):
        row = self.list.currentRow()
        now = row >= 0 and self._shown()
        step = now and self._make(*now, self.steps[row]['text'])
        if step:
            self._replace(row, step, now, 'Recapture')

    def remove_step(self):
        row = self.list.currentRow()
        if row >= 0:
            self._change('Remove step', self.steps[:row] + self.steps[row + 1:],
                         self.captured[:row] + self.captured[row + 1:], max(0, min(row, len(self.steps) - 2)))

    def move_step(self, by):
        row = self.list.currentRow()
        to = row + by
        if row >= 0 and 0 <= to < len(self.steps):
            steps, captured = list(self.steps), list(self.captured)
            steps[row], steps[to] = steps[to], steps[row]
            captured[row], captured[to] = captured[to], captured[row]
            self._change('Move step', steps, captured, to)

    def _replace(self, row, step, captured, what):
        steps, kept = list(self.steps), list(self.captured)
        steps[row], kept[row] = step, captured
        self._change(what, steps, kept, row)

    def _change(self, what, steps, captured, row):
        before = (copy.deepcopy(self.steps), list(self.captured))
        self.undo_stack.push(_Edit(self, what, before, (copy.deepcopy(steps), list(captured)), row))

    def _set_steps(self, state, row):
        self.steps, self.captured = copy.deepcopy(state[0]), list(state[1])
        self.list.blockSignals(True)
        self.list.clear()
        for i, step in enumerate(self.steps, 1):
            self.list.addItem(_item_text(i, step))
        self.list.blockSignals(False)
        self.list.setCurrentRow(row if self.steps else -1)
        self._show_step(self.list.currentRow())

    def _show_step(self, row):
        """The fields show step `row` (its kind and options can change only if it was captured here)."""
        step = self.steps[row] if 0 <= row < len(self.steps) else None
        self._filling = True
        self.text.setPlainText(step['text'] if step else '')
        kind = _kind_of(step) if step else 'show'
        self.kind.setCurrentText(kind)
        if step and 'do' in step:
            self.do.setCurrentIndex(self.do.findData(next(iter(step['do']))))
        if step and 'predict' in step:
            p = step['predict']
            self.answer.setCurrentIndex(0 if p['answer'] == 'sign' else 2 if p['of'].startswith('value') else 1)
            self.why.setText(p['why'])
        captured = step is not None and self.captured[row] is not None
        for widget in (self.kind, self.do, self.answer, self.panel):
            widget.setEnabled(step is None or captured)
        self._show_rows(kind)
        self._filling = False

    def _show_rows(self, kind):
        """The rows a step of `kind` has: what to do for a do step, the answer and why for a prediction."""
        self.form.setRowVisible(self.do, kind == 'do')
        self.form.setRowVisible(self.answer, kind == 'predict')
        self.form.setRowVisible(self.why, kind == 'predict')
        self.why.setEnabled(kind == 'predict')

    def _text_edited(self):
        row = self.list.currentRow()
        if not self._filling and 0 <= row < len(self.steps):  # typing is not an undo step: the field has its own
            self.steps[row]['text'] = self.text.toPlainText()
            self.list.item(row).setText(_item_text(row + 1, self.steps[row]))

    def _rebuild(self, *_):
        """Kind, what to do, the answer or the panel changed: the step made again from what it was captured from."""
        row = self.list.currentRow()
        kind = self.kind.currentText()
        self._show_rows(kind)
        if self._filling or not 0 <= row < len(self.steps) or self.captured[row] is None:
            return
        trace, shown = self.captured[row]
        if kind == 'do' and 'do' not in self.steps[row]:  # what a learner can do with what is selected
            first = 'backprop' if not shown.selected else 'reach' if shown.selected[0] == 'n' else 'open'
            self.do.blockSignals(True)
            self.do.setCurrentIndex(self.do.findData(first))
            self.do.blockSignals(False)
        panel = self.panel.currentText() if self.panel.currentIndex() > 0 else None
        step = self._make(trace, writing.Shown(**{**shown.__dict__, 'panel': panel}), self.steps[row]['text'])
        if step:
            self._replace(row, step, self.captured[row], 'Change step')
        else:  # what was captured cannot make that kind of step (the sentence says why): the fields as the step is
            self._show_step(row)

    # The file

    def _say(self, text):
        self.message.setText(text)
        return None

    def _text(self, path=None):
        """The tour file's text (to be saved at `path`), or None with the sentence that says what is missing."""
        missing = [what for what, field in (('a title', self.title), ('a goal', self.goal), ('a step', self.steps))
                   if not (field.text().strip() if isinstance(field, QLineEdit) else field)]
        if missing:  # every one at once, in words (Start tour lists a tour by its title and goal)
            return self._say(f'Give the tour {" and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)} first.')
        checkpoint = Path(self.checkpoint)
        where = Path(path).parent if path else None
        if checkpoint.resolve().parent == ASSETS.resolve():
            name = checkpoint.name  # a checkpoint that ships: found by name wherever the tour is
        elif where is not None and checkpoint.resolve().is_relative_to(where.resolve()):
            name = os.path.relpath(checkpoint.resolve(), where.resolve())
        else:
            name = str(checkpoint.resolve())
        try:
            return writing.dumps(self.title.text().strip(), self.goal.text().strip(), name, self.doc, self.steps)
        except ValueError as e:
            return self._say(str(e))

    def save(self, ask=False, path=None):
        if ask or (self.path is None and path is None):
            path, _ = QFileDialog.getSaveFileName(self, 'Save tour', str(self.path or Path.home() / 'tour.json'),
                                                  'Tours (*.json)')
            if not path:
                return False
        target = Path(path or self.path)
        text = self._text(target)
        if text is None:
            return False
        try:
            target.write_text(text, encoding='utf-8')
        except OSError as e:
            return bool(self._say(f'Cannot write {target}: {e.strerror or e}.'))
        self.path = target
        self.undo_stack.setClean()
        self._say(f'Saved {self.path.name}: File › Open tour… or python3 main.py --tour {self.path.name} plays it.')
        return True

    def open_file(self, path=None):
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, 'Edit tour', str(tour_io.TOURS), 'Tours (*.json)')
            if not path:
                return False
        try:
            tour = tour_io.load(path)
        except tour_io.TourError as e:
            return bool(self._say(str(e)))
        self.path, self.doc, self.checkpoint = Path(path), tour.doc, tour.checkpoint_path()
        self.title.setText(tour.title)
        self.goal.setText(tour.goal)
        self.undo_stack.clear()
        self._set_steps((list(tour.steps), [None] * len(tour.steps)), 0)
        self._say(f'{Path(path).name}: {len(tour.steps)} steps. Recapture a step to change its kind.')
        return True

    def new(self):
        self.path = self.doc = self.checkpoint = None
        self.title.clear()
        self.goal.clear()
        self.undo_stack.clear()
        self._set_steps(([], []), -1)
        self._say('')

    def play(self):
        """The tour as it stands, played in the window from its first step (it is saved first if it has a file)."""
        text = self._text(self.path)
        if text is None:
            return False
        if self.path is not None and not self.save():
            return False
        return self.player.start(tour_io.parse(text, str(self.path or '')))


def _kind_of(step):
    """A step of the file's kind: 'do', 'predict' or 'show'."""
    return 'do' if 'do' in step else 'predict' if 'predict' in step else 'show'


def _item_text(number, step):
    """The step's line in the list: '2. [do] Step until the gradient reaches it.'"""
    return f'{number}. [{_kind_of(step)}] {" ".join(step["text"].split())[:70]}'
