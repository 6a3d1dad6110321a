"""The Training panel: dataset, hyperparameters checked as you type, Start/Pause/Stop, the loss curve.

When a run ends, its checkpoint goes into the Session as unsaved weights, and the graph, heatmaps and
stepper move to them.
"""

import math
import time
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from engine.data import DownloadFailed, download_names, find_names, load_docs
from engine.errors import ConfigError, EngineError
from engine.model import GPTConfig
from engine.numbers import shown
from engine.optim import OPTIMIZERS
from engine.presets import DEFAULT as PRESET_DEFAULT, PRESETS, preset_config, preset_of
from engine.tokenizer import Tokenizer
from engine.optim import TrainConfig
from engine.train import estimate_cost

from explorer import theme

NAMES_VOCAB = 27  # names.txt's 26 letters and BOS: the estimate's vocabulary before the dataset is fetched
MAX_RAW_POINTS = 100_000  # the raw loss curve keeps the last this many steps of a run
NUMPY_SPEEDUP = 100  # numpy against the scalar engine on microgpt's config (bench: numpy_vs_scalar, 121)
ENGINES = (('scalar engine (exact; keeps the history)', 'scalar'),
           ('numpy (~100× faster)', 'numpy'))
TORCH_ENGINE = ('PyTorch (the optional extra; a GPU if there is one)', 'torch')  # listed only where it is installed


def engines():
    """The engines the panel offers: PyTorch too where `pip install '.[torch]'` put it in the environment."""
    import importlib.util
    return ENGINES + ((TORCH_ENGINE,) if importlib.util.find_spec('torch') is not None else ())
from explorer.history.charts import smooth, step_chart
from explorer.state.background import BackgroundJob
from explorer.state.training_run import TrainingRun


class Sentence(QLabel):
    """A label hidden while it is empty."""

    def __init__(self, text=''):
        super().__init__(text)
        self.setVisible(bool(text))

    def setText(self, text):
        super().setText(text)
        self.setVisible(bool(text))

    def clear(self):
        self.setText('')


class TrainingPanel(QWidget):
    """Dataset, hyperparameters checked as you type, Start/Pause/Stop, progress, and the loss curve.

    `dataset` is the file chosen last time (the window keeps it in its settings and hears of a new
    choice through `dataset_chosen`); without one, names.txt where the CLI looks ($MICROGPT_NAMES,
    the download cache), else it is fetched off the UI thread when Start is pressed."""

    dataset_chosen = Signal(str)

    def __init__(self, session, host, dataset=None, runs=None, parent=None):
        super().__init__(parent)
        self.session, self.host, self.runs = session, host, runs
        self.run = None
        self.fetch = None                # the names.txt download, while it runs
        self._pool = QThreadPool(self)
        self._finished = None            # (checkpoint trained here, what to say about it once saved)
        self.data_path = Path(dataset) if dataset and Path(dataset).is_file() else find_names()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        row = QHBoxLayout()
        self.dataset = QLabel()
        self.dataset.setWordWrap(True)
        choose = QPushButton('Dataset…')
        choose.setToolTip('Any UTF-8 text file, one document per line (default: names.txt)')
        choose.clicked.connect(self.choose_dataset)
        row.addWidget(self.dataset, 1)
        row.addWidget(choose)
        layout.addLayout(row)

        layout.addLayout(self._fields_grid())
        self.problem = Sentence()  # shown only when it has something to say: the curve keeps the room
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.current()['error_text']};")
        layout.addWidget(self.problem)
        self.estimate = QLabel()  # what Start will cost, before it is pressed
        self.estimate.setWordWrap(True)
        layout.addWidget(self.estimate)

        buttons = QHBoxLayout()
        self.start_button = QPushButton('Start')
        self.start_button.setToolTip('Train a new model in a separate process (the window stays free)')
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton('Pause')
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton('Stop')
        self.stop_button.setToolTip('Stop after the current step and keep the weights reached so far')
        self.stop_button.clicked.connect(self.stop)
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setFormat('%v / %m')
        layout.addWidget(self.progress)
        self.status = QLabel('Not training.')
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.chart, series, _, (self.x_axis, self.y_axis) = step_chart(('loss', 'smoothed'), 'loss', 'step',
                                                                      min_height=180)
        self.raw, self.smooth = series['loss'], series['smoothed']
        self.x_axis.setRange(1, TrainConfig().num_steps)  # before a run: the steps a run takes, not "0 0 0 0 1"
        self.y_axis.setRange(0, 4)
        layout.addWidget(self.chart, 1)
        self.compare = None
        if runs is not None:  # the runs seen in this window, drawn over this one's curve when ticked
            from explorer.history.compare_runs import CompareRuns
            self.compare = CompareRuns(runs, self.chart, (self.x_axis, self.y_axis))
            layout.addWidget(self.compare)
        self._ema = None
        self._t0 = 0.0
        self._show_dataset()
        self.validate()
        self._set_running(False)
        session.checkpoint_changed.connect(self._on_checkpoint_changed)

    # Dataset and hyperparameters

    def _fields_grid(self):
        """The hyperparameters in two columns of fields: the run's on the left, the model's on the right,
        so the loss curve keeps its room in a short panel."""
        form = QGridLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        d, t = GPTConfig(), TrainConfig()
        self.fields = {}
        for row_col, (name, value, low, high) in zip(
                ((0, 0), (1, 0), (0, 2), (1, 2), (2, 2), (3, 2)),
                (('steps', t.num_steps, 1, 1_000_000), ('seed', t.seed, -2**31, 2**31 - 1),
                 ('n_layer', d.n_layer, 0, 12), ('n_embd', d.n_embd, 1, 512),
                 ('n_head', d.n_head, 1, 64), ('block_size', d.block_size, 1, 256))):
            box = QSpinBox()
            box.setRange(low, high)
            box.setValue(value)
            box.valueChanged.connect(self.validate)
            self.fields[name] = box
            self._add_field(form, row_col, name, box)
        lr = QDoubleSpinBox()
        lr.setDecimals(5)
        lr.setRange(0.00001, 10.0)
        lr.setSingleStep(0.001)
        lr.setValue(t.learning_rate)
        lr.valueChanged.connect(self.validate)
        self.fields['learning_rate'] = lr
        self._add_field(form, (2, 0), 'learning rate', lr)
        self.backend = QComboBox()
        for text, name in engines():
            self.backend.addItem(text, name)
        self.backend.setToolTip('The scalar engine trains microgpt as it is written and keeps the run\'s history '
                                'for the Timeline; numpy trains the same run (to 1e-12) a hundred times faster and '
                                'keeps its own, replayed with numpy; PyTorch, where its extra is installed, trains it on '
                                'a GPU if there is one, without a history. All save the same checkpoint.')
        self.backend.currentIndexChanged.connect(self.validate)
        self._add_field(form, (3, 0), 'engine', self.backend)
        self.preset = QComboBox()  # the ladder's rungs (engine.presets): the fields a rung sets are its own
        for name, (what, _) in PRESETS.items():
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, what, Qt.ToolTipRole)
        self.preset.setCurrentIndex(self.preset.findData(PRESET_DEFAULT))
        self.preset.setToolTip('The rung of the ladder to train, from a bigram table to microgpt: compare their '
                               'curves under the chart (Compare runs)')
        self.preset.currentIndexChanged.connect(self._on_preset)
        self._add_field(form, (4, 0), 'preset', self.preset)
        self.optimizer = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer.addItem(name, name)
        self.optimizer.setToolTip('adam: microgpt\'s; sgd: p -= lr × grad, the rung below it')
        self.optimizer.currentIndexChanged.connect(self.validate)
        self._add_field(form, (4, 2), 'optimizer', self.optimizer)
        return form

    def _on_preset(self):
        """The fields the rung sets show its values and cannot be changed; the others are the learner's."""
        sets, before = PRESETS[self.preset.currentData()][1], getattr(self, '_preset_sets', {})
        for name, box in self.fields.items():
            if name in sets:
                box.setValue(sets[name])
            elif name in before:  # the rung before set it: back to microgpt's
                box.setValue(getattr(GPTConfig(), name))
            box.setEnabled(name not in sets and self.run is None)
        self._preset_sets = sets
        self.validate()

    def _follow(self, config):
        """The preset a configuration stands on and its shape in the fields."""
        self.preset.setCurrentIndex(self.preset.findData(preset_of(config)))  # sets the fields the rung sets
        for name, box in self.fields.items():
            if box.isEnabled() and hasattr(config, name):
                box.setValue(getattr(config, name))
        self.validate()

    @staticmethod
    def _add_field(grid, row_col, name, box):
        row, col = row_col
        label = QLabel(name)
        label.setBuddy(box)
        grid.addWidget(label, row, col)
        grid.addWidget(box, row, col + 1)

    def choose_dataset(self):
        path, _ = QFileDialog.getOpenFileName(self, 'Dataset: one document per line', str(self.host.last_dir()),
                                              'Text files (*.txt);;All files (*)')
        if path and self.set_dataset(path):
            self.dataset_chosen.emit(str(path))

    def set_dataset(self, path):
        """Use a dataset file; if it cannot be used, say why and keep the previous one."""
        try:
            docs = load_docs(path)
        except EngineError as e:
            self.problem.setText(str(e))
            return False
        self.data_path = path
        self._show_dataset(docs)
        self.validate()
        return True

    def _show_dataset(self, docs=None):
        if self.data_path is None:
            self.dataset.setText('Dataset: names.txt (fetched once into the cache when you press Start), '
                                 'or choose a file with Dataset…')
            return
        if docs is None:
            try:
                docs = load_docs(self.data_path)
            except EngineError as e:
                self.dataset.setText(str(e))
                return
        self._docs = docs  # the estimate before Start reads their lengths and vocabulary
        vocab = Tokenizer.from_docs(docs).vocabulary_text()
        longest = max(docs, key=len)
        self.dataset.setText(f'<b>{self.data_path}</b><br>{len(docs):,} documents · vocabulary {len(vocab)}: '
                             f'<code>{vocab[:60]}</code> · longest {len(longest)}: {longest[:30]!r}')
        self.dataset.setToolTip(str(self.data_path))

    def configs(self):
        """(GPTConfig, TrainConfig) from the fields; raises ConfigError with the reason."""
        f = {name: box.value() for name, box in self.fields.items()}
        preset = self.preset.currentData()
        sets = PRESETS[preset][1]
        model = preset_config(preset, **{k: f[k] for k in ('n_layer', 'n_embd', 'n_head', 'block_size') if k not in sets})
        train = TrainConfig(num_steps=f['steps'], learning_rate=f['learning_rate'], seed=f['seed'],
                            optimizer=self.optimizer.currentData())
        return model, train

    def validate_quietly(self):
        try:
            self.configs()
        except ConfigError:
            return False
        return True

    def validate(self):
        try:
            model, train = self.configs()
        except ConfigError as e:
            self.problem.setText(str(e))
            self.estimate.clear()
            self.start_button.setEnabled(False)
            return False
        self.problem.clear()
        docs = getattr(self, '_docs', None)
        vocab = len(set(''.join(docs))) + 1 if docs else NAMES_VOCAB
        cost = estimate_cost(model, vocab, docs)
        if self.backend.currentData() == 'torch':
            self.estimate.setText(f'Start trains {cost.params:,} parameters with PyTorch in float64 (float32 on a GPU): '
                                  "on this CPU a microgpt-sized step is slower than numpy's; a GPU is what it is for.")
        elif self.backend.currentData() == 'numpy':
            fast = cost.run_seconds(train.num_steps) / NUMPY_SPEEDUP
            self.estimate.setText(f'Start trains {cost.params:,} parameters with numpy in about {fast:.1f} s for '
                                  f'{train.num_steps:,} steps, about {NUMPY_SPEEDUP} times faster than the scalar engine.')
        else:
            self.estimate.setText(f'Start trains {cost.describe(train.num_steps)} (an estimate for this machine).')
        self.start_button.setEnabled(self.run is None and self.fetch is None)
        return True

    # Running

    def start(self):
        if self.run is not None or self.fetch is not None or not self.validate() or not self.host.maybe_save():
            return  # (weights trained before and not saved would be replaced at the end: asked first)
        if self.data_path is None:
            self.status.setText('Fetching names.txt once into the cache…')
            self.start_button.setEnabled(False)
            self.fetch = BackgroundJob(download_names, self).start(
                self._pool, on_returned=self._on_fetched, on_failed=self._on_fetch_failed)
            return
        self._start_run()

    def _on_fetched(self, path):
        self.fetch = None
        self.data_path = path
        self._show_dataset()
        self._start_run()

    def _on_fetch_failed(self, error):
        self.fetch = None
        reason = error.reason if isinstance(error, DownloadFailed) else error
        self.problem.setText(f'Could not download names.txt ({reason}); choose a file with Dataset… '
                             '(any UTF-8 text file, one document per line).')
        self.status.setText('Not training.')
        self._set_running(False)

    def cancel(self):
        """The window is closing: stop waiting for a download (a training run is the window's to ask about)."""
        if self.fetch is not None:
            self.fetch.abort()
            self.fetch = None

    def _start_run(self):
        model, train = self.configs()
        self.raw.clear()
        self.smooth.clear()
        self._ema = None
        self.x_axis.setRange(1, train.num_steps)
        self.y_axis.setRange(0, 4)
        if self.compare is not None:
            self.compare.fit_axes()
        self.progress.setRange(0, train.num_steps)
        self.progress.setValue(0)
        self.run = TrainingRun(self.data_path, model, train, self, self.backend.currentData())
        self.run.started.connect(self._on_started)
        self.run.step.connect(self._on_step)
        self.run.finished.connect(self._on_finished)
        self.run.failed.connect(self._on_failed)
        self._t0 = time.monotonic()
        self._steps0 = 0
        self.run.start()
        self._set_running(True)
        self.status.setText('Starting the training process…')

    def toggle_pause(self):
        if self.run is None:
            return
        self.run.pause(not self.run.paused)
        self.pause_button.setText('Resume' if self.run.paused else 'Pause')
        if self.run.paused:
            self.status.setText(f'Paused at step {self.progress.value():,}.')
        else:
            self._t0, self._steps0 = time.monotonic(), self.progress.value()

    def stop(self):
        if self.run is not None:
            self.run.stop()
            self.status.setText('Stopping after this step…')

    def _set_running(self, running):
        self.start_button.setEnabled(not running and self.fetch is None and self.validate_quietly())
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText('Pause')
        sets = PRESETS[self.preset.currentData()][1]
        for name, box in self.fields.items():
            box.setEnabled(not running and name not in sets)
        for box in (self.backend, self.preset, self.optimizer):
            box.setEnabled(not running)

    def _on_started(self, docs, vocab, params):
        self.status.setText(f'{docs:,} documents · vocabulary {vocab} · {params:,} parameters')

    def _on_step(self, step, num_steps, loss, doc):
        self.raw.append(step, loss)
        self._ema = smooth(self._ema, loss)
        self.smooth.append(step, self._ema)
        if step == 1 or loss > self.y_axis.max():
            self.y_axis.setRange(0, math.ceil(max(loss, self.y_axis.max())))
            self.y_axis.applyNiceNumbers()  # ticks at round numbers
        self.progress.setValue(step)
        if self.run is not None and self.run.paused:  # the step that was under way when Pause was pressed
            self.status.setText(f'Paused at step {step:,} · loss {shown(loss)}.')
            return
        elapsed = time.monotonic() - self._t0
        rate = (step - self._steps0) / elapsed if elapsed > 0 else 0.0
        left = (num_steps - step) / rate if rate else 0
        self.status.setText(f'step {step:,} of {num_steps:,} · loss {shown(loss)} · {rate:.0f} steps/s · '
                            f'{left:.0f} s left · document {doc!r}')
        self.steps_per_second = rate

    def _on_finished(self, ckpt, why, losses):
        self.run = None
        self._set_running(False)
        step = ckpt.step
        if why == 'finished':
            done = f'Finished {step:,} steps. The graph, heatmaps and stepper now use these weights'
            if ckpt.history_file is None:
                done += (' (PyTorch keeps no history: the Timeline scrubs runs of the scalar engine and numpy)'
                         if self.backend.currentData() == 'torch' else
                         ' (its history could not be written: the Timeline has nothing to scrub)')
            self.status.setText(f'{done} (unsaved: File › Save checkpoint).')
        elif why == 'stopped':
            done = f'Stopped at step {step:,}; the weights reached so far are in use'
            self.status.setText(f'{done} (unsaved).')
        else:
            done = why
            self.status.setText(why)
            self.host.show_message(why)
        self._finished = (ckpt, done)
        if losses:  # every step's (numpy tells only some as it goes): the curves as the run really was
            from explorer.history.compare_runs import curve_points
            self.raw.replace([QPointF(i + 1, loss) for i, loss in enumerate(losses)][-MAX_RAW_POINTS:])
            self.smooth.replace(curve_points(losses))
        if self.runs is not None:
            backend = self.backend.currentData()  # the run's: the choice is locked while it runs
            c, engine = ckpt.model.config, '' if backend == 'scalar' else f', {backend}'
            self.runs.add(f'trained here ({preset_of(c)}, n_embd {c.n_embd}{engine})',
                          len(ckpt.model.params), losses, ckpt.history_sha256 or ('trained', id(ckpt)))
        self.session.use_trained(ckpt)

    def _on_checkpoint_changed(self):
        """Another checkpoint opened: the settings become its rung and shape (Start trains that kind of model
        afresh). Once the weights trained here are saved, say where instead of "unsaved"."""
        if self._finished is None or self.session.checkpoint is not self._finished[0]:
            if self.run is None and self.session.checkpoint is not None:
                self._follow(self.session.checkpoint.model.config)
            return
        if not self.session.unsaved:
            self.status.setText(f'{self._finished[1].rstrip(".")}, saved as {self.session.checkpoint_name}.')

    def _on_failed(self, message):
        self.run = None
        self._set_running(False)
        self.problem.setText(message)
        self.status.setText('Not training.')
