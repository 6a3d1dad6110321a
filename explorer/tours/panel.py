"""The tour's panel beside the graph: the step's text, what a do step asks, the prediction's buttons or
field and its answer, Back / Next / Leave, and the learner's record on this tour. It takes the TourPlayer."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QVBoxLayout,
                               QWidget)

from engine.tours import SIGNS, is_number, right

from explorer import theme

WIDTH = (280, 360)  # px: the panel's width in a 1280 and a 1600 px window and beyond


class TourPanel(QFrame):
    def __init__(self, player, parent=None):
        super().__init__(parent)
        self.player = player
        self.setObjectName('tour_panel')
        self.setFrameShape(QFrame.StyledPanel)
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Preferred)
        layout = QVBoxLayout(self)
        self.title = self._label(bold=True)
        self.counter = self._label()
        self.text = self._label()
        self.text.setTextFormat(Qt.RichText)
        self.hint = self._label()
        layout.addWidget(self.title)
        layout.addWidget(self.counter)
        layout.addWidget(self.text)
        layout.addWidget(self.hint)
        self.signs = QWidget()
        row = QHBoxLayout(self.signs)
        row.setContentsMargins(0, 0, 0, 0)
        self.sign_buttons = {}
        for sign, text in zip(SIGNS, ('− &negative', '&zero', '+ &positive')):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, s=sign: self._answer(s))
            row.addWidget(button)
            self.sign_buttons[sign] = button
        layout.addWidget(self.signs)
        self.number = QWidget()
        row = QHBoxLayout(self.number)
        row.setContentsMargins(0, 0, 0, 0)
        self.field = QLineEdit()
        self.field.setPlaceholderText('your number, e.g. -0.01')
        self.field.returnPressed.connect(self._answer_number)
        self.answer_button = QPushButton('&Answer')
        self.answer_button.clicked.connect(self._answer_number)
        row.addWidget(self.field, 1)
        row.addWidget(self.answer_button)
        layout.addWidget(self.number)
        self.choices = QWidget()  # 'which is largest': a button per choice (a click on its cell answers too)
        QVBoxLayout(self.choices).setContentsMargins(0, 0, 0, 0)
        self._choices_for = None
        layout.addWidget(self.choices)
        self.reveal = self._label()
        self.reveal.setTextFormat(Qt.RichText)
        layout.addWidget(self.reveal)
        layout.addStretch(1)
        self.record = self._label()
        layout.addWidget(self.record)
        buttons = QHBoxLayout()
        self.back_button = QPushButton('← Back')
        self.back_button.setToolTip('The step before (Alt+Left)')
        self.back_button.clicked.connect(player.back)
        self.next_button = QPushButton('Next →')
        self.next_button.setToolTip('The next step, once this one is done (Alt+Right)')
        self.next_button.clicked.connect(player.next)
        self.leave_button = QPushButton('&Leave')
        self.leave_button.setToolTip('End the tour: the app comes back as you had it (Alt+L)')
        self.leave_button.clicked.connect(player.leave)
        for button in (self.back_button, self.next_button, self.leave_button):
            buttons.addWidget(button)
        for button in (self.back_button, self.next_button, self.leave_button, *self.sign_buttons.values()):
            button.setFocusPolicy(Qt.NoFocus)  # a click leaves the keys where they were (→ steps on the graph)
        layout.addLayout(buttons)
        player.changed.connect(self.refresh)
        player.left.connect(self.hide)
        self.hide()

    def _label(self, bold=False):
        label = QLabel()
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        if bold:
            font = label.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.15)
            label.setFont(font)
        return label

    def fit_width(self, window_width):
        self.setFixedWidth(WIDTH[0] if window_width < 1500 else WIDTH[1])

    def refresh(self):
        p = self.player
        step = p.step
        if step is None:
            return
        self.show()
        colors = theme.current()
        last = p.index == len(p.steps) - 1
        self.title.setText(p.tour.title)
        self.counter.setText(f'Step {p.index + 1} of {len(p.steps)}' + ('' if p.index else f' — {p.tour.goal}'))
        self.text.setText(step.text)
        done = p.can_go_on()
        if step.kind == 'do':
            far = ''
            if step.do[0] == 'reach' and not done:  # how far there is to go: a do step of 15 presses says where it is
                far = f' Backprop is at step {p.now().position:,}; it gets there at step {step.do[1]:,}.'
            self.hint.setText(f'<span style="color:{colors["note_text"]}">✓ Done.</span>' if done else
                              f'<b>To go on:</b> {step.hint}.{far}')
        else:
            self.hint.setText('')
        self.hint.setVisible(step.kind == 'do')
        asking = step.kind == 'predict' and p.index not in p.answers
        self.signs.setVisible(asking and step.predict.answer == 'sign')
        self.number.setVisible(asking and step.predict.answer == 'number')
        self._show_choices(step if asking and step.predict.answer == 'largest' else None)
        if asking and step.predict.answer == 'number':
            self.field.clear()
            self.field.setFocus(Qt.OtherFocusReason)  # type the number, Return answers: no mouse needed
        answered = p.answers.get(p.index)
        self.reveal.setVisible(answered is not None)
        if answered is not None:
            value, close, sentence = answered
            word = ('Right.' if right(step.predict, value) else 'Close.') if close else 'Not quite.'
            mark = '<b style="color:%s">%s</b> ' % (colors['note_text' if close else 'error_text'], word)
            self.reveal.setText(mark + sentence)
        close, answered_count = p.record()
        self.record.setText(f'Your predictions on this tour: {close} of {answered_count} close.' if answered_count
                            else '')
        self.back_button.setEnabled(p.index > 0)
        self.next_button.setEnabled(done)
        self.next_button.setText('Finish' if last else 'Next →')

    def _show_choices(self, step):
        """One button per choice of a 'which is largest' step, made when the step is first shown."""
        self.choices.setVisible(step is not None)
        if step is None or self._choices_for is step:
            return
        self._choices_for = step
        layout = self.choices.layout()
        while layout.count():
            layout.takeAt(0).widget().deleteLater()
        for i, option in enumerate(step.predict.options):
            button = QPushButton(option)
            button.setFocusPolicy(Qt.NoFocus)
            button.clicked.connect(lambda _=False, k=i: self._answer(k))
            layout.addWidget(button)
        if any(step.predict.keys):
            note = QLabel('…or click its cell in the graph.')
            note.setWordWrap(True)
            layout.addWidget(note)

    def _answer(self, value):
        self.player.answer(value)

    def _answer_number(self):
        value = is_number(self.field.text().strip())
        if value is None:
            self.reveal.setVisible(True)
            self.reveal.setText('Type a number (e.g. -0.01 or 0.2), then press Return.')
            return
        self.player.answer(value)
