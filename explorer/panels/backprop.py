"""The Backprop panel: the step buttons, the timeline of steps, the speed of Play, and the breakpoints."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSlider, QToolButton, QVBoxLayout, QWidget)

from explorer.state.backprop_player import SPEEDS


class BackpropPanel(QWidget):
    """Step, back, play, the timeline, the speed, and the breakpoints.

    `step_actions` are the window's Reset … End actions and `breakpoint_actions` its toggle and clear
    (shown here as buttons, so menu, toolbar, keys and panel are one command each)."""

    follow_toggled = Signal(bool)  # scroll the graph to the node being processed, or not

    def __init__(self, session, step_actions, breakpoint_actions, parent=None):
        super().__init__(parent)
        self.session = session
        self.backprop = bp = session.backprop
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        play_button = None
        for action in step_actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonTextOnly)
            if action.isCheckable():  # Play goes beside its speed, so the rows of steps stay narrow
                play_button = button
                continue
            if buttons.count() == 3:  # backward steps above, forward steps below
                buttons.addStretch(1)
                layout.addLayout(buttons)
                buttons = QHBoxLayout()
                buttons.setSpacing(2)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.timeline = QSlider(Qt.Horizontal)
        self.timeline.setToolTip('Drag to any step of backprop')
        self.timeline.valueChanged.connect(self._on_timeline)
        self.position_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.timeline, 1)
        row.addWidget(self.position_label)
        layout.addLayout(row)

        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem('full speed' if speed == 0 else f'{speed:,} / s', speed)
        self.speed.setCurrentIndex(SPEEDS.index(bp.speed))
        self.speed.setToolTip('How fast Play steps (steps, or groups when playing by group, per second)')
        self.speed.currentIndexChanged.connect(lambda i: bp.set_speed(self.speed.itemData(i)))
        self.by_group = QCheckBox('by group')
        self.by_group.setToolTip('Play one unit of the model at a time (a softmax, a linear, a head, …), as Group ⇥ does')
        self.by_group.toggled.connect(bp.set_by_group)
        self.follow = QCheckBox('follow')
        self.follow.setChecked(True)
        self.follow.setToolTip('Scroll the graph to the node being processed when it goes off screen')
        self.follow.toggled.connect(self.follow_toggled)
        row = QHBoxLayout()
        if play_button is not None:
            row.addWidget(play_button)
        else:
            row.addWidget(QLabel('Play:'))
        row.addWidget(self.speed)
        row.addWidget(self.by_group)
        row.addWidget(self.follow)
        row.addStretch(1)
        layout.addLayout(row)

        note = QLabel('Breakpoints: Play stops at each')  # one line: the panel stays whole in a short column
        note.setToolTip('Play stops when the gradient first reaches a breakpoint (F9 toggles one on the selected node)')
        # not word-wrapped: the scroll area would size the panel by its preferred height and cut the buttons
        layout.addWidget(note)
        self.breakpoints = QListWidget()
        self.breakpoints.setMaximumHeight(90)
        self.breakpoints.setMinimumHeight(44)  # two rows: the panel stays whole in a short column
        self.breakpoints.itemActivated.connect(lambda item: session.reveal(item.data(Qt.UserRole)))
        self.breakpoints.itemClicked.connect(lambda item: session.reveal(item.data(Qt.UserRole)))
        layout.addWidget(self.breakpoints)
        row = QHBoxLayout()
        for action in breakpoint_actions:
            button = QPushButton(action.text().replace('&', ''))
            button.setToolTip(action.toolTip())  # with its key
            button.clicked.connect(action.trigger)
            row.addWidget(button)
        layout.addLayout(row)
        layout.addStretch(1)

        bp.moved.connect(self._on_moved)
        bp.breakpoints_changed.connect(self._on_breakpoints_changed)
        self._on_moved(None)

    def _on_timeline(self, value):
        if value != self.backprop.position:
            self.backprop.seek(value)

    def _on_moved(self, _changed):
        bp = self.backprop
        self.timeline.blockSignals(True)
        self.timeline.setRange(0, bp.total)
        self.timeline.setValue(bp.position)
        self.timeline.blockSignals(False)
        self.position_label.setText(f'step {bp.position:,} of {bp.total:,}')

    def _on_breakpoints_changed(self):
        self.breakpoints.clear()
        bp = self.backprop
        for key, at in sorted(bp.breakpoints.items(), key=lambda kv: kv[1]):
            item = QListWidgetItem(f'{bp.describe(key)} — reached at step {at:,}')
            item.setData(Qt.UserRole, key)
            self.breakpoints.addItem(item)
