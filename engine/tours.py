"""Guided tours as data: a versioned JSON file read and checked here, without Qt (issue 22).

A tour has a title, a one-line goal, the checkpoint and document it is written for, and steps. Each step
has a text and may also set the app's state, point at a target, ask the learner to do something, or ask
for a prediction. Its text may hold live numbers from the recording: `{grad of wte[4][3]}` (the gradient
after the whole backward pass) and `{value of loss}` (the forward value), and from the training run behind the
checkpoint: `{update of wte[4][3] at step 1}` (value, grad, update, m or v of a parameter after that step, as
the run's history replays it; the update is the change that step made, after − before, as the Inspector's
Δ data), written by engine.numbers.shown.

`parse(text)` checks the file's shape (one sentence per problem, naming the step); `plan(tour, trace,
known)` checks every name against a recording of the model (boxes, nodes, panels, controls, workspaces)
and gives plain `Step`s with keys, positions and true values resolved, which the player applies and a
test can play headless. `done(step.do, now)` says whether a "do" step is complete; `score` marks a
prediction against the recorded value.

    {"tour": 1, "title": "…", "goal": "…", "checkpoint": "microgpt-names.json", "doc": "emma",
     "steps": [{"text": "…", "state": {"workspace": "Backprop", "open": ["pos 4 / softmax"],
                "select": "loss", "backprop": 0, "panel": "Chain rule"},
                "target": {"box": "pos 4 / softmax"}},
               {"text": "Press → once.", "do": {"reach": "pos 4 / -log p / loss_t"}},
               {"text": "Sign of the gradient?", "predict": {"of": "grad of wte[4][3]", "answer": "sign",
                "why": "…"}}]}
"""

import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine import checkpoint as ckpt_io
from engine.backprop import Schedule
from engine.checks import short
from engine.errors import EngineError
from engine.gradient.gradcheck import analytic_grads
from engine.gradient.provenance import resolve
from engine.history import history_path
from engine.history_files import load_for as load_history_for
from engine.graph.keys import group_key, node_key
from engine.numbers import shown
from engine.model import finish
from engine.paths import ASSETS
from engine.trace import record

VERSION = 1
TOURS = ASSETS / 'tours'           # the tours that ship, one JSON file each
LIVE = re.compile(r'\{(grad|value|update|m|v) of ([^{}]+?)(?: at step (\d+))?\}')
RUN = {'value': 'data', 'grad': 'grad', 'm': 'm', 'v': 'v'}  # a quantity of the run: its row's key (update: see of_run)
STATE_KEYS = ('workspace', 'open', 'select', 'backprop', 'training_step', 'panel')
TARGET_KINDS = ('box', 'node', 'panel', 'control')
DO_KINDS = ('open', 'select', 'reach', 'backprop', 'scrub')
ANSWERS = ('sign', 'number', 'largest')
MAX_CHOICES = 8
RIGHT = 1e-3  # a number this close to the true value (relative) is right, not only close
SIGNS = ('negative', 'zero', 'positive')


class TourError(EngineError):
    """A tour that cannot be played: the message names the step and what is wrong."""


@dataclass(frozen=True)
class Tour:
    """A tour as its file gives it (names not yet checked against a model)."""
    title: str
    goal: str
    checkpoint: str     # a file name in assets/, or a path relative to the tour's file
    doc: str
    steps: tuple        # of dicts, as in the file
    source: str = ''    # where it was read from ('' if from text)

    @property
    def ident(self):
        """What the learner's record of this tour is kept under: its file's name, else its title."""
        return Path(self.source).stem if self.source else re.sub(r'\W+', '-', self.title.lower()).strip('-')

    def checkpoint_path(self):
        """The checkpoint file the tour is written for."""
        named = Path(self.checkpoint)
        if self.source and not named.is_absolute() and (Path(self.source).parent / named).is_file():
            return Path(self.source).parent / named
        return named if named.is_absolute() else ASSETS / named


@dataclass(frozen=True)
class Predict:
    of: str             # 'grad of wte[4][3]'
    answer: str         # 'sign', 'number' or 'largest' (which of several quantities is largest in size)
    true: float         # the recorded value (for 'largest': the index of the largest)
    within: float       # a number within this fraction of the true value counts as close
    why: str            # one sentence, shown with the answer
    options: tuple = () # 'largest': what each choice is called ('BOS', "'e'", or the quantity itself)
    values: tuple = ()  # 'largest': each choice's recorded value
    keys: tuple = ()    # 'largest': the box key of each choice's scalar (a click on it answers), or None


@dataclass(frozen=True)
class Step:
    """One step, every name resolved against the recording."""
    index: int                  # 1-based, as the learner counts
    kind: str                   # 'show', 'do' or 'predict'
    text: str                   # with its live numbers written in
    workspace: str = None
    panel: str = None
    opened: tuple = ()          # scope ids to open (each where it stands, with what holds it)
    select: str = None          # box key
    backprop: int = None        # stepper position
    training_step: int = None
    target: tuple = None        # (kind, key or name): ('box', 'g12'), ('node', 'n19'), ('panel', 'Chain rule')
    do: tuple = None            # ('open', scope) ('select', key) ('reach', position) ('scrub', step)
    predict: Predict = None
    hint: str = ''              # what the do step asks, in a few words (said until it is done)


@dataclass(frozen=True)
class Now:
    """What the app shows, as much as a do step asks about."""
    opened: frozenset = frozenset()
    selected: str = None
    position: int = 0
    training_step: int = None


@dataclass(frozen=True)
class Known:
    """The names the window has that a tour may use (the engine knows no panels)."""
    panels: frozenset = frozenset()
    controls: frozenset = frozenset()
    workspaces: frozenset = frozenset()
    training_steps: int = None  # the last step of the run behind the checkpoint, if it has a history


# Reading

def load(path):
    """Read and check the shape of a tour file; TourError (one sentence) if it cannot be used."""
    try:
        text = Path(path).read_bytes().decode('utf-8')
    except OSError as e:
        raise TourError(f'Cannot read the tour {short(str(path))}: {e.strerror or e}.') from None
    except UnicodeDecodeError:
        raise TourError(f'The tour {short(str(path))} is not a text file (it is not UTF-8).') from None
    return parse(text, str(path))


def parse(text, source=''):
    """A Tour from JSON text; TourError naming the first problem."""
    where = f'The tour {short(Path(source).name)}' if source else 'The tour'
    try:
        data = json.loads(text)
    except ValueError as e:
        raise TourError(f'{where} is not valid JSON (line {getattr(e, "lineno", "?")}): the file is corrupt or '
                        'not a tour.') from None
    if not isinstance(data, dict) or 'tour' not in data:
        raise TourError(f'{where} is not a tour: a tour file is a JSON object with "tour": {VERSION}.')
    if data['tour'] != VERSION:
        raise TourError(f'{where} is of version {short(data["tour"])}, which this explorer does not know '
                        f'(it reads version {VERSION}).')
    for name in ('title', 'goal', 'doc'):
        if not isinstance(data.get(name), str) or not data[name].strip() and name != 'doc':
            raise TourError(f'{where} has no "{name}" (a string).')
    steps = data.get('steps')
    if not isinstance(steps, list) or not steps:
        raise TourError(f'{where} has no steps (a list of at least one).')
    for i, step in enumerate(steps, 1):
        _check_shape(i, step)
    return Tour(data['title'], data['goal'], str(data.get('checkpoint', 'microgpt-names.json')), data['doc'],
                tuple(steps), source)


def _check_shape(i, step):
    if not isinstance(step, dict):
        raise TourError(f'Step {i} is not an object with a "text".')
    if not isinstance(step.get('text'), str) or not step['text'].strip():
        raise TourError(f'Step {i} has no text.')
    unknown = set(step) - {'text', 'state', 'target', 'do', 'predict'}
    if unknown:
        raise TourError(f'Step {i} has {short(sorted(unknown)[0])}, which a step does not have (it has text, '
                        'state, target, do, predict).')
    if 'do' in step and 'predict' in step:
        raise TourError(f'Step {i} both asks to do something and to predict: give it one of them.')
    for name, allowed in (('state', STATE_KEYS), ('target', TARGET_KINDS), ('do', DO_KINDS)):
        part = step.get(name, {})
        if not isinstance(part, dict) or (name != 'state' and name in step and len(part) != 1):
            raise TourError(f'Step {i}: "{name}" must be an object' + (' with one of ' + ', '.join(allowed)
                                                                         if name != 'state' else '') + '.')
        bad = set(part) - set(allowed)
        if bad:
            raise TourError(f'Step {i}: {name} {short(sorted(bad)[0])} is not one of {", ".join(allowed)}.')
    predict = step.get('predict')
    if isinstance(predict, dict) and predict.get('answer') == 'largest':
        _check_choices(i, predict)
    elif predict is not None:
        if not isinstance(predict, dict) or not isinstance(predict.get('of'), str) or \
                predict.get('answer') not in ANSWERS or not isinstance(predict.get('why'), str):
            raise TourError(f'Step {i}: a prediction gives "of" (e.g. "grad of wte[4][3]"), "answer" (sign, '
                            'number or largest) and "why" (one sentence).')
        within = predict.get('within', 0.5)
        if not isinstance(within, (int, float)) or isinstance(within, bool) or not 0 < within < 100:
            raise TourError(f'Step {i}: a prediction\'s "within" is a fraction of the true value, above 0.')


def _check_choices(i, predict):
    of, labels = predict.get('of'), predict.get('labels')
    if not isinstance(of, list) or not 2 <= len(of) <= MAX_CHOICES or not all(isinstance(o, str) for o in of):
        raise TourError(f'Step {i}: "which is largest" gives "of" as a list of 2 to {MAX_CHOICES} quantities '
                        '(e.g. ["grad of wte[4][3]", "grad of wte[0][3]"]).')
    if labels is not None and (not isinstance(labels, list) or len(labels) != len(of) or
                               not all(isinstance(t, str) and t.strip() for t in labels)):
        raise TourError(f'Step {i}: "labels" names each of the {len(of)} choices, one string each.')
    if not isinstance(predict.get('why'), str):
        raise TourError(f'Step {i}: a prediction gives "why" (one sentence).')


# Checking against a model

@dataclass
class _Names:
    """Resolving a tour's names in one recording, with the sentence that says which step lacks what."""
    trace: object
    known: Known
    grads: list = None
    schedule: object = None
    history: object = None  # () -> the run's History, or None (the checkpoint has none)
    step: int = 0
    _cache: dict = field(default_factory=dict)

    def fail(self, what):
        raise TourError(f'Step {self.step} names {what}, which this model does not have'
                        f' (the recording of {short(self.trace.doc)}).')

    def scope(self, path):
        scope = self.trace.scope_id(path) if isinstance(path, str) else None
        if not scope:
            self.fail(f'box {short(path)}')
        return scope

    def node(self, name):
        if not isinstance(name, str):
            self.fail(f'node {short(name)}')
        try:
            return resolve(self.trace, name)
        except EngineError as e:
            raise TourError(f'Step {self.step}: {e}') from None

    def key(self, name):
        """A box key for a scope path ('pos 4 / softmax') or a node name ('wte[4][3]', 'loss')."""
        if isinstance(name, str) and self.trace.scope_id(name):
            return group_key(self.trace.scope_id(name))
        return node_key(self.node(name))

    def quantity(self, text):
        m = LIVE.fullmatch('{' + text.strip() + '}') if isinstance(text, str) else None
        if not m:
            raise TourError(f'Step {self.step}: {short(str(text))} is not "grad of NAME" or "value of NAME" (of the '
                            'recording), or "value, grad, update, m or v of NAME at step K" (of the training run).')
        if m[3] is not None:
            return self.of_run(m[1], m[2].strip(), int(m[3]))
        if m[1] not in ('grad', 'value'):
            raise TourError(f'Step {self.step}: {short(m[0])} needs "at step K": Adam\'s {m[1]} is a number of the run.')
        node = self.node(m[2].strip())
        if m[1] == 'value':
            return self.trace.data[node]
        if self.grads is None:
            self.grads = analytic_grads(self.trace)
        return self.grads[node]

    def of_run(self, kind, name, step):
        """A parameter's value, grad, update, m or v after training step `step`, as the run's history replays it."""
        history = self.history() if self.history is not None else None
        if history is None:
            raise TourError(f'Step {self.step} quotes the training run, but this checkpoint has no history.')
        if not 1 <= step <= history.step:
            raise TourError(f'Step {self.step}: training step {step:,} is not a step from 1 to {history.step:,}.')
        try:
            index = history.param_index(name)
        except ValueError as e:
            raise TourError(f'Step {self.step}: {e}') from None
        key = ('run', index, step)
        if key not in self._cache:
            self._cache[key] = finish(history.param_series(index, step, step))[0]
        row = self._cache[key]
        return -row['update'] if kind == 'update' else row[RUN[kind]]  # the change, after − before, as Δ data reads

    def position(self, where):
        """A backprop position: a number, 'start', 'end', {'reach': NAME} (when the gradient first gets there) or
        {'complete': NAME} (when the last of its contributions has)."""
        total = self.schedule.total
        if where == 'start':
            return 0
        if where == 'end':
            return total
        if isinstance(where, dict) and set(where) == {'reach'}:
            return self.schedule.reached_at[self.node(where['reach'])]
        if isinstance(where, dict) and set(where) == {'complete'}:  # every contribution in: its grad is whole
            node = self.node(where['complete'])
            return max((self.schedule.applied_at[p] for p in self.trace.parents[node]), default=1)
        if isinstance(where, int) and not isinstance(where, bool) and 0 <= where <= total:
            return where
        raise TourError(f'Step {self.step}: backprop {short(where)} is not a step from 0 to {total:,}, '
                        '"start", "end", {"reach": NAME} or {"complete": NAME}.')

    def named(self, kind, name, among):
        if name not in among:
            self.fail(f'{kind} {short(name)}')
        return name

    def training_step(self, step):
        last = self.known.training_steps
        if last is None:
            raise TourError(f'Step {self.step} scrubs the training run, but this checkpoint has no history.')
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= last:
            raise TourError(f'Step {self.step}: training step {short(str(step))} is not a step from 0 to {last:,}.')
        return step


def plan(tour, trace, known=Known(), history=None):
    """The tour's steps resolved against `trace` (the recording of tour.doc with its checkpoint); TourError
    naming the first step with a name this model, recording or window does not have."""
    if trace.doc != tour.doc:
        raise TourError(f'The tour is written for the document {short(tour.doc)}, not {short(trace.doc)}.')
    names = _Names(trace, known, schedule=Schedule(trace), history=history)
    return tuple(_plan_step(names, i, raw) for i, raw in enumerate(tour.steps, 1))


def _plan_step(names, i, raw):
    names.step = i
    state = raw.get('state', {})
    opened = state.get('open', [])
    if not isinstance(opened, list):
        raise TourError(f'Step {i}: state "open" is a list of box paths.')
    step = dict(index=i, text=render(raw['text'], names), opened=tuple(names.scope(p) for p in opened))
    if 'workspace' in state:
        step['workspace'] = names.named('workspace', state['workspace'], names.known.workspaces)
    if 'panel' in state:
        step['panel'] = names.named('panel', state['panel'], names.known.panels)
    if 'select' in state:
        step['select'] = names.key(state['select'])
    if 'backprop' in state:
        step['backprop'] = names.position(state['backprop'])
    if 'training_step' in state:
        step['training_step'] = names.training_step(state['training_step'])
    if 'target' in raw:
        step['target'] = _target(names, *next(iter(raw['target'].items())))
    kind = 'show'
    if 'do' in raw:
        kind = 'do'
        step['do'], step['hint'] = _do(names, *next(iter(raw['do'].items())))
    elif 'predict' in raw:
        kind, p = 'predict', raw['predict']
        step['predict'] = _choices(names, p) if p['answer'] == 'largest' else Predict(
            p['of'].strip(), p['answer'], names.quantity(p['of']), float(p.get('within', 0.5)), render(p['why'], names))
    return Step(kind=kind, **step)


def _choices(names, p):
    """A 'which is largest' prediction: each choice's value, the largest in size, the box a click on answers."""
    values = tuple(names.quantity(o) for o in p['of'])
    keys = tuple(names.key(LIVE.fullmatch('{' + o.strip() + '}')[2].strip()) for o in p['of'])  # its scalar's box
    largest = max(range(len(values)), key=lambda k: abs(values[k]))
    options = tuple(p.get('labels') or (o.strip() for o in p['of']))
    return Predict(' · '.join(o.strip() for o in p['of']), 'largest', largest, 0.0, render(p['why'], names),
                   options, values, keys)


def _target(names, kind, name):
    if kind == 'box':
        return 'box', group_key(names.scope(name))
    if kind == 'node':
        return 'node', node_key(names.node(name))
    return kind, names.named(kind, name, names.known.panels if kind == 'panel' else names.known.controls)


def _do(names, kind, what):
    """(condition, hint) of a do step."""
    if kind == 'open':
        return ('open', names.scope(what)), f'open {what}'
    if kind == 'select':
        return ('select', names.key(what)), f'select {what}'
    if kind == 'reach':
        return ('reach', names.position({'reach': what})), f'step backprop until the gradient reaches {what}'
    if kind == 'backprop':
        return ('reach', names.position(what)), f'step backprop to {what}'
    return ('scrub', names.training_step(what)), f'scrub the timeline to step {what}'


def prepare(tour, known=Known()):
    """The tour's steps planned on a recording of its document with its checkpoint (made here: call it off
    the UI thread); TourError (one sentence) when the checkpoint, the document or a name is wrong."""
    path = tour.checkpoint_path()
    try:
        ckpt = ckpt_io.load(path)
        trace = record(ckpt.model, tour.doc)
    except EngineError as e:
        raise TourError(f'The tour {short(tour.title)} cannot be played with {short(path.name)}: {e}') from None
    run = []

    def history():  # read once, when a step first quotes the run
        if not run:
            try:
                run.append(load_history_for(path, ckpt))
            except EngineError as e:
                raise TourError(f'The tour {short(tour.title)} quotes the training run, whose history cannot be '
                                f'read: {e}') from None
        return run[0]
    has_history = history_path(path, ckpt).is_file()
    if has_history:  # its run can be scrubbed, to its last step
        known = replace(known, training_steps=ckpt.step)
    return plan(tour, trace, known, history if has_history else None)


def render(text, names):
    """The text with each {grad of NAME}, {value of NAME} and {update of NAME at step K} written as its number."""
    return LIVE.sub(lambda m: shown(names.quantity(m[0][1:-1])), text)


# Playing

def done(do, now):
    """Whether the learner has done what do step `do` asks, with the app showing `now` (a Now)."""
    kind, what = do
    if kind == 'open':
        return what in now.opened
    if kind == 'select':
        return now.selected == what
    if kind == 'reach':
        return now.position >= what
    return now.training_step == what


def score(predict, answer):
    """(close, sentence) for the learner's answer: a sign ('negative', 'zero', 'positive'), a number, or the index
    of the choice they think largest."""
    true = predict.true
    if predict.answer == 'largest':
        close = answer == true
        values = ', '.join(f'{o} {shown(v)}' for o, v in zip(predict.options, predict.values))
        head = f'You chose {predict.options[answer]}; the largest is {predict.options[true]} ({values}).'
    elif predict.answer == 'sign':
        actual = sign_of(true)
        close = answer == actual
        head = f'You said {answer}; it is {actual}: {predict.of} = {shown(true)}.'
    else:
        gap = answer - true
        close = abs(gap) <= predict.within * abs(true) if true else answer == 0
        head = f'You said {answer:g}; it is {shown(true)}, a gap of {shown(gap)}' + (
            ' — right.' if right(predict, answer) else ' — close.' if close else f' (more than {predict.within:.0%} of it).')
    return close, f'{head} {predict.why}'


def right(predict, answer):
    """A number within 0.1% of the true value (what a learner who worked it out types), or the right sign or choice."""
    if predict.answer == 'number':
        return abs(answer - predict.true) <= RIGHT * abs(predict.true) if predict.true else answer == 0
    return score(predict, answer)[0]


def sign_of(x):
    return 'zero' if x == 0 else 'negative' if x < 0 else 'positive'


def shipped():
    """The tours in assets/tours, in the order of their file names."""
    return sorted(TOURS.glob('*.json'))


def is_number(text):
    """A typed prediction as a float, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
