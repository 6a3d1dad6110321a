"""The Timeline panel: a slider over the run's steps (and Play), the probe document, and the training
loss curve (with the validation loss beside it when the run held documents out); a click on the curve goes
to that step and shows the document trained there."""

from html import escape

from PySide6.QtCore import QElapsedTimer, QPointF, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QSlider, QSpinBox, QVBoxLayout

from engine.numbers import shown

from explorer.history.charts import LossChart, smoothed, step_chart
from explorer.history.history_panel import HistoryPanel, pop_out_button

VALIDATION = 'validation loss'  # the held-out documents' mean loss after the steps the run evaluated at
SLOW_MS = 300  # a step not shown by then says "Going to step N…" in its line
PLAY_FRAME_MS = 30  # Play shows every step: the next is asked for once the one before is shown, at most this often


class TimelinePanel(HistoryPanel):
    def __init__(self, timeline, session, parent=None):
        super().__init__(parent)
        self.timeline, self.session = timeline, session
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.play_button = QPushButton('Play')
        self.play_button.setCheckable(True)
        self.play_button.setToolTip('Play the run from the step shown (again to pause)')
        self.play_button.toggled.connect(self._on_play)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setToolTip('The weights after this training step (0: the initial weights)')
        self.slider.valueChanged.connect(self._on_slider)
        self.spin = QSpinBox()
        self.spin.setToolTip('Go to a step')
        self.spin.editingFinished.connect(lambda: self.slider.setValue(self.spin.value()))
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        self.pop_button = pop_out_button(self, 'the timeline and its loss curve')
        row.addWidget(self.pop_button)
        layout.addLayout(row)

        probe = QHBoxLayout()
        probe.addWidget(QLabel('Probe:'))
        self.probe = QLineEdit()
        self.probe.setToolTip('The document the graph, heatmaps and inspector show at each step (Enter records it)')
        self.probe.returnPressed.connect(lambda: self.session.record(self.probe.text()))
        probe.addWidget(self.probe, 1)
        self.probe_loss = QLabel()  # the probe's loss with the weights shown: the graph's loss box, said here
        self.probe_loss.setToolTip("The probe's mean loss with the weights of the step shown, as the graph's loss "
                                   'box has it (the line below gives the loss of the document that step trained on)')
        self.probe_loss.setMinimumWidth(self.probe_loss.fontMetrics().horizontalAdvance('loss 0.0000') + 8)
        probe.addWidget(self.probe_loss)
        layout.addLayout(probe)
        # Loading, checking, errors: under the controls, so that when it goes (at the first step shown) the
        # step box and the probe stay under the mouse (above them, they jumped up 34 px: a click meant for
        # the step box typed into the probe).
        self.status = QLabel('The training history is read when this panel is first shown.')
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.probe_message = QLabel()
        self.probe_message.setWordWrap(True)
        self.probe_message.hide()  # shown with a sentence when the probe cannot be read
        layout.addWidget(self.probe_message)
        self.step_info = QLabel()
        self.step_info.setWordWrap(True)
        self.step_info.setTextFormat(Qt.RichText)
        self.step_info.setAlignment(Qt.AlignLeft | Qt.AlignTop)  # its longest kept: the chart below never jumps
        layout.addWidget(self.step_info)

        self.chart, series, self.marker, (self.x_axis, self.y_axis) = step_chart(
            ('loss per step', 'smoothed', VALIDATION), 'loss', 'step', marker_size=9, min_height=190, view=LossChart)
        self.loss, self.smooth, self.validation = series['loss per step'], series['smoothed'], series[VALIDATION]
        self.validation.setPointsVisible(True)
        pen = self.validation.pen()  # the chart theme's colour, drawn wider: a few points over a dense curve
        pen.setWidthF(3)
        self.validation.setPen(pen)
        self.chart.step_clicked.connect(self.go_to_trained)
        layout.addWidget(self.chart, 1)

        self._play = QTimer(self)
        self._play.setSingleShot(True)
        self._play.timeout.connect(self._on_play_tick)
        self._frame = QElapsedTimer()  # since Play asked for the step shown
        self._frame.start()
        self._set_enabled(False)
        timeline.loading.connect(lambda: self._say('Reading the training history…'))
        timeline.loaded.connect(self._on_loaded)
        timeline.unavailable.connect(self._on_unavailable)
        self._slow = QTimer(self)  # a step not shown within SLOW_MS says so in its line
        self._slow.setSingleShot(True)
        self._slow.setInterval(SLOW_MS)
        self._slow.timeout.connect(self._on_slow)
        timeline.seeking.connect(lambda _step: self._slow.start())
        timeline.checking.connect(self._on_checking)
        timeline.checked.connect(self._on_checked)
        timeline.step_changed.connect(self._on_step_changed)
        timeline.settled.connect(self._on_settled)
        session.recorded.connect(self._on_recorded)
        session.record_failed.connect(self._on_record_failed)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._keep_step_room()

    def _keep_step_room(self):
        """The step's line keeps the room its longest text takes at this width, so the chart below never
        jumps as it wraps from step to step: four lines in a narrow panel, two in a wide one (four always
        left a gap over the chart in the Learn workspace)."""
        h, margins = self.timeline.history, self.layout().contentsMargins()
        name = 'm' * max(map(len, h.docs), default=15) if h is not None else 'm' * 15
        if h is not None and h.batch > 1:
            name = f'a batch of {h.batch:,} (the first {name}; the loss is their mean)'
        last = f'{h.step:,}' if h is not None else '1,000'
        longest = (f'Weights after step {last}, which trained on {name} (loss 0.0000, learning rate 0.0000e-05). '
                   f'Next, step {last} trains on {name} (loss 0.0000 on these weights).')
        width = max(50, self.width() - margins.left() - margins.right())
        metrics = self.step_info.fontMetrics()
        self.step_info.setMinimumHeight(metrics.boundingRect(0, 0, width, 10 ** 6, Qt.TextWordWrap, longest).height() + 4)

    def _say(self, text):
        self.status.setText(text)
        self.status.show()

    def _set_enabled(self, enabled):
        for w in (self.play_button, self.slider, self.spin, self.chart):
            w.setEnabled(enabled)

    def _on_unavailable(self, reason):
        self.play_button.setChecked(False)
        self._set_enabled(False)
        self.loss.clear()
        self.smooth.clear()
        self.validation.clear()
        self.marker.clear()
        self.step_info.setText('')
        self._say(reason or 'The training history is read when this panel is shown.')

    def _on_checking(self, done):
        h = self.timeline.history
        if h is not None and not self.status.isHidden():  # once a step is shown, the status is not brought back
            self._say(f'Checking the history against its run once: replayed {int(done * h.step):,} of {h.step:,} '
                      'steps in the background (a step you go to is checked as it is reached).')

    def _on_checked(self):
        h = self.timeline.history
        if h is not None and not self.status.isHidden():
            self._say(self._ready(h) + ' Checked against its run.')

    def _ready(self, h):
        return f'{h.step:,} steps, a snapshot every {h.every}: move the slider to see the model after any step.'

    def _on_loaded(self):
        h = self.timeline.history
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(0, h.step)
            w.setValue(h.step)
            w.blockSignals(False)
        self.slider.setPageStep(h.every)
        self.loss.replace([QPointF(i + 1, x) for i, x in enumerate(h.losses)])
        self.smooth.replace([QPointF(i + 1, x) for i, x in enumerate(smoothed(h.losses))])
        self.validation.replace([QPointF(step, x) for step, x in sorted(h.val_losses.items())])
        for marker in self.chart.chart().legend().markers(self.validation):  # named only when the run has one
            marker.setVisible(bool(h.val_losses))
        self.x_axis.setRange(0, h.step)
        self.y_axis.setRange(0, max([*h.losses, *h.val_losses.values()]) * 1.05 if h.losses else 1)
        self._set_enabled(True)
        self._keep_step_room()
        self._say(self._ready(h))
        self._show_step(h.step)

    def _on_slider(self, step):
        self.spin.blockSignals(True)
        self.spin.setValue(step)
        self.spin.blockSignals(False)
        self.timeline.go_to(step)

    def set_step(self, step):
        """Move the slider (and so the model) to `step`."""
        self.slider.setValue(step)

    def go_to_trained(self, step):
        """A click on the loss curve at step t: the document trained at t, with the weights it was trained
        on (after step t-1), so the graph's loss is the curve's point."""
        h = self.timeline.history
        if h is None or not 1 <= step <= h.step:
            return
        doc = h.docs[step - 1]
        self.probe.setText(doc)
        if doc != self.session.doc:
            self.session.record(doc)
        self.set_step(step - 1)

    def _on_slow(self):
        """A step asked for is still on its way: its line says so (in place: nothing above the chart moves,
        nor the Play button under the mouse)."""
        target = self.timeline.target
        if target is not None and target != self.timeline.step:
            self.step_info.setText(f'Going to step {target:,}…')

    def _on_step_changed(self, step):
        self._slow.stop()
        self.status.hide()  # the slider and the line below say it all; the status is for loading and errors
        if self.play_button.isChecked() or (not self.slider.isSliderDown() and self.timeline.target in (None, step)
                                            and self.slider.value() != step):
            # Play moves the slider and the box with the step shown, not ahead of it; a step asked for elsewhere (a
            # tour, a click on the curve) or one Play asked for that lands after Pause moves them too, once it is
            # shown: they never say another step than the graph's
            for w in (self.slider, self.spin):
                w.blockSignals(True)
                w.setValue(step)
                w.blockSignals(False)
        self._show_step(step)

    def _show_step(self, step):
        h = self.timeline.history
        self.marker.replace([QPointF(step, h.losses[step - 1])] if step >= 1 else [])
        text = (f'Weights after step {step:,}, which trained on {self._trained(h, step)} (loss '
                f'{shown(h.losses[step - 1])}, learning rate {shown(h.lrs[step - 1])}).' if step >= 1 else
                'Step 0: the initial random weights, before any training.')
        if step < h.step:  # what a click on the curve at step+1 shows: its document on these weights
            text += (f' Next, step {step + 1:,} trains on {self._trained(h, step + 1)} (loss {shown(h.losses[step])} '
                     'on these weights).')
        self.step_info.setText(text)

    @staticmethod
    def _trained(h, step):
        """What step `step` trained on: its document, or for a batch (a numpy run) how many and the first."""
        first = f'<b>{escape(h.docs[step - 1])}</b>'
        return first if h.batch == 1 else f'a batch of {h.batch:,} (the first {first}; the loss is their mean)'

    def _on_record_failed(self, sentence):
        self.probe_message.setText(sentence)
        self.probe_message.show()

    def _on_recorded(self):
        trace = self.session.trace
        self.probe_loss.setText(f'loss <b>{shown(trace.loss)}</b>' if trace is not None else '')
        self.probe_message.hide()
        if self.session.doc is not None and not self.probe.hasFocus():
            self.probe.setText(self.session.doc)

    def _on_play(self, playing):
        self.play_button.setText('Pause' if playing else 'Play')
        h = self.timeline.history
        if playing and h is not None and self.slider.value() >= h.step:
            self.slider.setValue(0)
        self.timeline.play(playing)
        self._play.start(0) if playing else self._play.stop()

    def _on_settled(self, _step):
        """The step asked for is shown whole: Play asks for the next one, a frame after the last."""
        if self.play_button.isChecked() and not self._play.isActive():
            self._play.start(max(0, PLAY_FRAME_MS - self._frame.elapsed()))

    def _on_play_tick(self):
        h = self.timeline.history
        if h is None:
            self.play_button.setChecked(False)
            return
        if self.timeline.busy:
            return  # the step before is still on its way: settled starts the next tick
        step = self.slider.value()
        if step >= h.step:
            self.play_button.setChecked(False)
            return
        self._frame.start()
        self.timeline.go_to(step + 1)  # the slider and the box follow when it is shown (_on_step_changed)
