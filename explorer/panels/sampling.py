"""The Sampling panel: generate documents as `main.py sample` does (a prompt to continue, temperature,
greedy, top-k, top-p), see the next-token distribution at each position of one with what top-k and top-p
cut away, and record it in the graph."""

from html import escape

from PySide6.QtCore import QThreadPool, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QPushButton, QSpinBox, QSplitter, QTextBrowser, QVBoxLayout, QWidget)

from engine.errors import ConfigError, EngineError
from engine.sampling import Settings, iter_samples, next_token_distributions, ranking, sampling_rng
from engine.numbers import shown
from engine.tokenizer import VISIBLE  # characters of a text model that would not show in a list or a bar's label

from explorer import theme
from explorer.state.background import BackgroundJob

ROWS = 6          # tokens shown at each position at least: the most likely ones
MAX_ROWS = 12     # at most, when top-k/top-p keep more (the rest are counted in one line)
BAR_WIDTH = 40    # characters of bar for a probability of 1
NARROW = 520      # pixels: a panel narrower than this puts the samples above their distribution


def _Stacked(base, height):
    """`base` asking for `height` pixels when its splitter stacks it above or below the other (the panel, narrow,
    stays as tall as side by side: it gets its height among the column's tabs)."""
    class Stacked(base):
        def sizeHint(self):
            hint, split = super().sizeHint(), self.parentWidget()
            if isinstance(split, QSplitter) and split.orientation() == Qt.Vertical:
                hint.setHeight(height)
            return hint
    return Stacked


class SamplingPanel(QWidget):
    """Generate documents; see the next-token distribution at each position of one; record it.

    Both run on a thread of their own (500 samples take seconds): samples appear as they come,
    Generate again or close the window and the running job stops after its current sample."""

    samples_done = Signal()         # every sample asked for is in `names`
    distribution_done = Signal()    # the distribution of the chosen sample is shown

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.names = []
        self.drawn_with = Settings()                # the settings the listed samples were drawn with
        self.sampling = self.distributing = None   # the BackgroundJobs running, if any
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._make_controls())
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.current()['error_text']};")
        self.problem.hide()
        layout.addWidget(self.problem)
        row = QHBoxLayout()
        generate = QPushButton('Generate')
        generate.setToolTip('Draw the samples with these settings (Enter in the prompt or seed field too)')
        generate.clicked.connect(self.generate)
        self.record_button = QPushButton('Record in graph')
        self.record_button.setToolTip('Show the forward pass of the chosen sample in the graph view')
        self.record_button.clicked.connect(self.record_selected)
        row.addWidget(generate)
        row.addWidget(self.record_button)
        layout.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.split = split = QSplitter()
        self.list = _Stacked(QListWidget, 70)()
        self.list.currentRowChanged.connect(self._on_row)
        self.distribution = _Stacked(QTextBrowser, 120)()
        split.addWidget(self.list)
        split.addWidget(self.distribution)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([130, 400])
        layout.addWidget(split, 1)

    def resizeEvent(self, event):
        """Narrow (the panel in a column beside the graph): the samples above their distribution, each as wide as
        the panel (side by side the list was 75 px, a sample of a text-trained model a few characters of it)."""
        super().resizeEvent(event)
        vertical = self.width() < NARROW
        if vertical != (self.split.orientation() == Qt.Vertical):
            self.split.setOrientation(Qt.Vertical if vertical else Qt.Horizontal)
            self.split.setSizes([120, 240] if vertical else [130, 400])

    def _make_controls(self):
        grid = QGridLayout()
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText('empty: from BOS, as microgpt')
        self.prompt.setToolTip('Every sample starts with these characters (given, not drawn); the model continues them')
        self.prompt.returnPressed.connect(self.generate)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.01, 10.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.5)
        self.temperature.setToolTip('The logits are divided by it before the softmax: below 1 sharpens, above 1 flattens')
        self.greedy = QCheckBox('greedy')
        self.greedy.setToolTip('Always the most likely next token (the lower id on a tie): no random draw, '
                               'so top-k and top-p have nothing to cut')
        self.greedy.toggled.connect(self._on_greedy)
        self.top_k = QSpinBox()
        self.top_k.setRange(0, 100000)
        self.top_k.setSpecialValueText('off')
        self.top_k.setToolTip('Draw only from the k most likely next tokens, renormalised (off: every token)')
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.01, 1.0)
        self.top_p.setDecimals(2)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(1.0)
        self.top_p.setToolTip('Draw only from the fewest most likely next tokens whose probability sums to p or '
                              'more, renormalised (1: every token)')
        self.count = QSpinBox()
        self.count.setRange(1, 500)
        self.count.setValue(20)
        self.seed = QLineEdit()
        self.seed.setPlaceholderText("checkpoint's saved state")
        self.seed.setToolTip('A whole number, or empty to continue the random stream the checkpoint saved '
                             '(as `main.py sample` does)')
        self.seed.returnPressed.connect(self.generate)
        grid.addWidget(QLabel('prompt'), 0, 0)
        grid.addWidget(self.prompt, 0, 1, 1, 3)
        for row, pairs in enumerate(((('temperature', self.temperature), ('', self.greedy)),
                                     (('top-k', self.top_k), ('top-p', self.top_p)),
                                     (('samples', self.count), ('seed', self.seed))), 1):
            for col, (label, widget) in enumerate(pairs):
                if label:
                    grid.addWidget(QLabel(label), row, 2 * col)
                grid.addWidget(widget, row, 2 * col + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return grid

    def _on_greedy(self, on):
        self.top_k.setEnabled(not on)
        self.top_p.setEnabled(not on)

    def settings(self):
        """The settings of the controls, checked against the model; a ConfigError or DocumentError saying
        what is wrong (a seed that is not a whole number, a prompt character the model does not have)."""
        greedy = self.greedy.isChecked()
        top_k = None if greedy or self.top_k.value() == 0 else self.top_k.value()
        top_p = None if greedy or self.top_p.value() >= 1 else self.top_p.value()
        model = self.session.model
        return Settings(self.temperature.value(), top_k, top_p, greedy, self.prompt.text()).check(
            model.tokenizer, model.config.block_size)

    def seed_value(self):
        text = self.seed.text().strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f'The seed must be a whole number, not {text!r}.') from None

    def _say(self, problem):
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))

    def generate(self):
        try:
            seed = self.seed_value()
            settings = self.settings()
        except EngineError as e:
            self._say(str(e))
            return
        self._say('')
        self.cancel()
        ckpt, count = self.session.checkpoint, self.count.value()
        rng = sampling_rng(ckpt.rng_state, seed)
        self.names = []
        self.drawn_with = settings
        self.list.clear()
        self.status.setText(f'Sampling 0 of {count}…')
        self.sampling = BackgroundJob(lambda: iter_samples(ckpt.model, rng, count, settings=settings), self).start(
            self._pool, on_yielded=lambda name: self._on_sample(name, count), on_returned=self._on_sampled,
            on_failed=self._on_failed)

    def _on_sample(self, name, count):
        self.names.append(name)
        self.list.addItem(shown_text(name))
        if len(self.names) == 1:
            self.list.setCurrentRow(0)
        self.status.setText(f'Sampling {len(self.names)} of {count}…')

    def _on_sampled(self, _):
        self.sampling = None
        self.status.setText(f'{len(self.names)} samples, {describe(self.drawn_with)}.{run_on_note(self.session.model)}')
        self.samples_done.emit()

    def _on_failed(self, error):
        self.sampling = self.distributing = None
        self._say(str(error))

    def cancel(self):
        """Stop what is running (it ends after its current sample or position)."""
        for job in (self.sampling, self.distributing):
            if job is not None:
                job.abort()
        self.sampling = self.distributing = None

    def _on_row(self, row):
        self.show_distribution(self.names[row] if 0 <= row < len(self.names) else '')

    def show_distribution(self, doc):
        """At each position of the sample, the most likely next tokens as bars, with what the settings it was
        drawn with cut away."""
        if self.distributing is not None:
            self.distributing.abort()
            self.distributing = None
        if not doc and self.list.currentRow() < 0:
            self.distribution.clear()
            return
        model, settings = self.session.model, self.drawn_with
        self.distributing = BackgroundJob(lambda: list(next_token_distributions(model, doc, settings=settings)),
                                          self).start(
            self._pool, on_returned=lambda steps: self._on_distribution(model.tokenizer, doc, settings, steps),
            on_failed=self._on_failed)

    def _on_distribution(self, tok, doc, settings, steps):
        self.distributing = None
        self.distribution.setHtml(distribution_html(tok, doc, settings, steps, theme.current()))
        self.distribution_done.emit()

    def record_selected(self):
        row = self.list.currentRow()
        if 0 <= row < len(self.names):
            self.session.record(self.names[row])


def run_on_note(model):
    """Why a model trained on windows of a text (its vocabulary has a line end) gives samples that run on: it
    was never taught to end one with BOS. Empty for a model of documents, one a line, as microgpt's."""
    tok = model.tokenizer if model is not None else None
    if tok is None or tok.kind != 'char' or not tok.can_read('\n'):  # a BPE reads every text: it cannot tell
        return ''
    return (f' This model learned windows of a continuous text (its vocabulary has ↵, a line end), never where one '
            f'ends: it rarely draws BOS, so a sample runs to block_size ({model.config.block_size} tokens), ↵ between '
            'its lines.')


def describe(settings):
    """'temperature 0.5, top-k 5, top-p 0.9, prompt 'em'': the settings samples were drawn with, in words."""
    words = ['greedy' if settings.greedy else f'temperature {settings.temperature:g}']
    if settings.top_k is not None:
        words.append(f'top-k {settings.top_k}')
    if settings.top_p is not None:
        words.append(f'top-p {settings.top_p:g}')
    if settings.prompt:
        words.append(f'prompt {settings.prompt!r}')
    return ', '.join(words)




def shown_text(text, quoted=False):
    """A sample as the list shows it: a space, line end or tab of a text model as a visible sign."""
    text = ''.join(VISIBLE.get(ch, ch) for ch in text)
    return f"'{text}'" if quoted else text


def token_label(tok, token_id):
    """A token as its bar is labelled (HTML): its character, made visible, or BOS."""
    return escape(shown_text(tok.token_text(token_id)))


def _bar(p, colour):
    return f'<span style="background:{colour}">{"&nbsp;" * max(1, round(p * BAR_WIDTH))}</span>'


def distribution_html(tok, doc, settings, steps, colors):
    """The next-token bars of `doc` at each position: the most likely tokens' tempered probabilities; what the
    sampler keeps in the bar colour with its renormalised probability (→), what top-k/top-p cut away greyed
    and marked 'cut'; the token the document goes on with marked ◀; the prompt's positions say the token was given."""
    filtering = settings.top_k is not None or settings.top_p is not None or settings.greedy
    cut_style = f'color:{colors["faint_text"]}'
    html = [f'<p><b>{escape(shown_text(doc, quoted=True))}</b>: the next-token distribution at each position ({escape(describe(settings))})'
            + ('; <span style="color:{}">greyed: cut away</span>, → the probability the sampler draws with'
               .format(colors['faint_text']) if filtering else '') + '</p>']
    for step in steps:
        kept = [i for i, q in enumerate(step.kept) if q > 0]
        order = ranking(step.probs)
        rows = order[:min(MAX_ROWS, max(ROWS, len(kept) + 1))]
        if step.following not in rows:
            rows.append(step.following)
        given = step.position < len(settings.prompt)
        head = f'after <code>{token_label(tok, step.token)}</code>'
        if given:
            head += f' (the prompt gives <code>{token_label(tok, step.following)}</code>: not drawn)'
        elif filtering:
            head += f': {len(kept)} of {len(step.probs)} tokens kept'
        html.append(f'<p style="margin:4px 0 1px 0">{head}</p><table cellspacing="0" cellpadding="1">')
        for i in rows:
            mark = ' ◀' if i == step.following else ''
            text = f'<code>{token_label(tok, i)}</code>'
            if step.kept[i] > 0:
                drawn = f' → <b>{shown(step.kept[i])}</b>' if filtering else ''
                html.append(f'<tr><td>{text}</td><td>{_bar(step.probs[i], colors["bar"])}</td>'
                            f'<td>{shown(step.probs[i])}{drawn}{mark}</td></tr>')
            else:
                html.append(f'<tr style="{cut_style}"><td>{text}</td><td>{_bar(step.probs[i], colors["bar_cut"])}</td>'
                            f'<td>{shown(step.probs[i])} cut{mark}</td></tr>')
        html.append('</table>')
        rest = [i for i in order if i not in rows]
        if rest and filtering:
            more_kept = [i for i in rest if step.kept[i] > 0]
            more_cut = len(rest) - len(more_kept)
            parts = ([f'{len(more_kept)} more kept'] if more_kept else []) + ([f'{more_cut} more cut'] if more_cut else [])
            mass = sum(step.probs[i] for i in rest)
            html.append(f'<p style="margin:0;{cut_style}">… {" and ".join(parts)} ({shown(mass)} together)</p>')
    return ''.join(html)
