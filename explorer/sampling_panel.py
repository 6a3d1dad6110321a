"""The Sampling panel: generate documents as `main.py sample` does, see the next-token distribution
at each position of one, and record it in the graph."""

import random

from PySide6.QtWidgets import (QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QPushButton, QSpinBox, QTextBrowser, QVBoxLayout, QWidget)

from engine.errors import ConfigError
from engine.model import FAST, gpt, softmax
from engine.train import check_temperature, samples


class SamplingPanel(QWidget):
    """Generate documents; see the next-token distribution at each position of one; record it."""

    TOP_K = 5

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
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
        form.addRow('seed', self.seed)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setStyleSheet('color: #d9480f;')
        layout.addWidget(self.problem)
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
        ckpt = self.session.checkpoint
        rng = random.Random(seed if seed is not None else 42)
        if seed is None and ckpt.rng_state is not None:
            rng.setstate(ckpt.rng_state)
        self.names = samples(ckpt.model, rng, self.count.value(), self.temperature.value())
        self.list.clear()
        self.list.addItems(self.names)
        self.list.setCurrentRow(0)

    def show_distribution(self, doc):
        """At each position of the sample, the top-k next-token probabilities as bars."""
        if not doc and self.list.currentRow() < 0:
            self.distribution.clear()
            return
        model = self.session.model
        tok = model.tokenizer
        config = model.config
        keys, values = [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]
        html = [f'<p><b>{doc!r}</b>: the next-token distribution at each position '
                f'(temperature {self.temperature.value():g})</p>']
        tokens = tok.encode(doc)
        for pos, (token_id, chosen) in enumerate(zip(tokens[:config.block_size], tokens[1:])):
            logits = gpt(token_id, pos, keys, values, model.state_dict, config, FAST)
            probs = softmax([l / self.temperature.value() for l in logits], FAST)
            top = sorted(range(tok.vocab_size), key=lambda i: -probs[i].data)[:self.TOP_K]
            html.append(f'<p style="margin:2px">after <code>{tok.token_text(token_id)}</code>:</p><table>')
            for i in top:
                p = probs[i].data
                mark = ' ◀' if i == chosen else ''
                html.append(f'<tr><td><code>{tok.token_text(i)}</code></td><td>'
                            f'<span style="background:#7048e8">{"&nbsp;" * max(1, round(p * 40))}</span></td>'
                            f'<td>{p:.3f}{mark}</td></tr>')
            html.append('</table>')
        self.distribution.setHtml(''.join(html))

    def record_selected(self):
        item = self.list.currentItem()
        if item is not None:
            self.session.record(item.text())
