"""The Sampling panel: generate documents as `main.py sample` does, see the next-token distribution
at each position of one, and record it in the graph."""

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QPushButton, QSpinBox, QTextBrowser, QVBoxLayout, QWidget)

from engine.errors import ConfigError
from engine.sampling import check_temperature, iter_samples, next_token_distributions, sampling_rng
from engine.numbers import shown

from explorer import theme
from explorer.state.background import BackgroundJob


class SamplingPanel(QWidget):
    """Generate documents; see the next-token distribution at each position of one; record it.

    Both run on a thread of their own (500 samples take seconds): samples appear as they come,
    Generate again or close the window and the running job stops after its current sample."""

    TOP_K = 5
    samples_done = Signal()         # every sample asked for is in `names`
    distribution_done = Signal()    # the distribution of the chosen sample is shown

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.names = []
        self.sampling = self.distributing = None   # the BackgroundJobs running, if any
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        form = QFormLayout()
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.01, 10.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.5)
        self.count = QSpinBox()
        self.count.setRange(1, 500)
        self.count.setValue(20)
        self.seed = QLineEdit()
        self.seed.setPlaceholderText("from the checkpoint's saved state")
        self.seed.setToolTip('A whole number, or empty to continue the random stream the checkpoint saved '
                             '(as `main.py sample` does)')
        form.addRow('temperature', self.temperature)
        form.addRow('samples', self.count)
        self.seed.returnPressed.connect(self.generate)
        form.addRow('seed', self.seed)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setStyleSheet(f"color: {theme.current()['error_text']};")
        layout.addWidget(self.problem)
        self.status = QLabel()
        layout.addWidget(self.status)
        row = QHBoxLayout()
        generate = QPushButton('Generate')
        generate.clicked.connect(self.generate)
        self.record_button = QPushButton('Record in graph')
        self.record_button.setToolTip('Show the forward pass of the chosen sample in the graph view')
        self.record_button.clicked.connect(self.record_selected)
        row.addWidget(generate)
        row.addWidget(self.record_button)
        layout.addLayout(row)
        self.list = QListWidget()
        self.list.currentTextChanged.connect(self.show_distribution)
        layout.addWidget(self.list, 1)
        self.distribution = QTextBrowser()
        layout.addWidget(self.distribution, 2)

    def seed_value(self):
        text = self.seed.text().strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f'The seed must be a whole number, not {text!r}.') from None

    def generate(self):
        try:
            seed = self.seed_value()
            check_temperature(self.temperature.value())
        except ConfigError as e:
            self.problem.setText(str(e))
            return
        self.problem.clear()
        self.cancel()
        ckpt, count, temperature = self.session.checkpoint, self.count.value(), self.temperature.value()
        rng = sampling_rng(ckpt.rng_state, seed)
        self.names = []
        self.list.clear()
        self.status.setText(f'Sampling 0 of {count}…')
        self.sampling = BackgroundJob(lambda: iter_samples(ckpt.model, rng, count, temperature), self).start(
            self._pool, on_yielded=lambda name: self._on_sample(name, count), on_returned=self._on_sampled,
            on_failed=self._on_failed)

    def _on_sample(self, name, count):
        self.names.append(name)
        self.list.addItem(name)
        if len(self.names) == 1:
            self.list.setCurrentRow(0)
        self.status.setText(f'Sampling {len(self.names)} of {count}…')

    def _on_sampled(self, _):
        self.sampling = None
        self.status.setText(f'{len(self.names)} samples (temperature {self.temperature.value():g}).')
        self.samples_done.emit()

    def _on_failed(self, error):
        self.sampling = self.distributing = None
        self.problem.setText(str(error))

    def cancel(self):
        """Stop what is running (it ends after its current sample or position)."""
        for job in (self.sampling, self.distributing):
            if job is not None:
                job.abort()
        self.sampling = self.distributing = None

    def show_distribution(self, doc):
        """At each position of the sample, the top-k next-token probabilities as bars."""
        if self.distributing is not None:
            self.distributing.abort()
            self.distributing = None
        if not doc and self.list.currentRow() < 0:
            self.distribution.clear()
            return
        model, temperature = self.session.model, self.temperature.value()
        self.distributing = BackgroundJob(lambda: list(next_token_distributions(model, doc, temperature)), self).start(
            self._pool, on_returned=lambda steps: self._on_distribution(model.tokenizer, doc, temperature, steps),
            on_failed=self._on_failed)

    def _on_distribution(self, tok, doc, temperature, steps):
        self.distributing = None
        html = [f'<p><b>{doc!r}</b>: the next-token distribution at each position (temperature {temperature:g})</p>']
        for step in steps:
            probs = step.probs
            top = sorted(range(len(probs)), key=lambda i: -probs[i])[:self.TOP_K]
            html.append(f'<p style="margin:2px">after <code>{tok.token_text(step.token)}</code>:</p><table>')
            for i in top:
                mark = ' ◀' if i == step.following else ''
                html.append(f'<tr><td><code>{tok.token_text(i)}</code></td><td>'
                            f'<span style="background:{theme.current()["bar"]}">{"&nbsp;" * max(1, round(probs[i] * 40))}</span></td>'
                            f'<td>{shown(probs[i])}{mark}</td></tr>')
            html.append('</table>')
        self.distribution.setHtml(''.join(html))
        self.distribution_done.emit()

    def record_selected(self):
        item = self.list.currentItem()
        if item is not None:
            self.session.record(item.text())
