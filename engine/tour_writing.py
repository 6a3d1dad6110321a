"""Writing a tour from the app (issue 22): the app's state captured as a step of the tour format
(engine.tours), with every key written back as the name a tour file uses, and a tour written as its file.

A teacher puts the app where they want it and presses Add step: `capture` turns what is shown (workspace,
open boxes, selection, backprop step, training step, panel in front) into a step's "state", naming boxes by
their scope path ('pos 4 / softmax') and scalars by what `engine.tours` resolves ('wte[4][3]',
'pos 0 / softmax / exps[2]'), so the file reads and reopens anywhere the same model is recorded. `make_step`
gives the step its kind: show (point at the selection), do (the learner must get where the app is now)
or predict (the selection's gradient or value, before it is shown).
"""

import json
from dataclasses import dataclass

from engine.graph.keys import split_key
from engine.gradient.provenance import full_name
from engine.tours import ANSWERS, DO_KINDS, VERSION, parse

KINDS = ('show', 'do', 'predict')


@dataclass(frozen=True)
class Shown:
    """What the app shows, as a step can set it (keys and ids, as the session holds them)."""
    workspace: str = None
    overview: frozenset = frozenset()   # the scopes open by default (a tour's "open": [] gives them)
    opened: frozenset = frozenset()     # the scopes open now
    selected: str = None                # box key
    position: int = 0                   # backprop's step
    training_step: int = None           # the run's step shown, None for the checkpoint's own
    panel: str = None                   # the panel in front, if the teacher names one


def name_of(trace, key):
    """The name a tour gives box `key`: a group's scope path, a scalar's parameter or full name (a vector box
    is named by the group it stands in)."""
    kind, i = split_key(key)
    if kind == 'n':
        return trace.param_name(i) or full_name(trace, i)
    return trace.scopes[i].path


def capture(trace, shown):
    """A step's "state" for what `shown` shows of the recording `trace`."""
    state = {}
    if shown.workspace:
        state['workspace'] = shown.workspace
    extra = shown.opened - shown.overview
    above = set()  # opened to show a scope listed anyway: the player opens what holds a scope
    for s in extra:
        parent = trace.scopes[s].parent
        while parent is not None and parent >= 0 and parent not in above:
            above.add(parent)
            parent = trace.scopes[parent].parent
    state['open'] = sorted(trace.scopes[s].path for s in extra - above if trace.scopes[s].path)
    if shown.selected:
        state['select'] = name_of(trace, shown.selected)
    state['backprop'] = shown.position
    if shown.training_step is not None:
        state['training_step'] = shown.training_step
    if shown.panel:
        state['panel'] = shown.panel
    return state


def make_step(trace, shown, text, kind='show', do='select', answer='sign', of='grad', why=''):
    """A step of `kind` made from what is shown: its state, pointing at the selection; a do step asks the
    learner to get to what is shown now (select it, reach it by backprop, get to this backprop step, open
    it, scrub to this training step) from the state of the step before; a predict step asks for the
    selection's gradient (or value) as a sign or a number. ValueError (one sentence) if what is shown cannot
    make that step."""
    if kind not in KINDS:
        raise ValueError(f'A step is one of {", ".join(KINDS)}.')
    step = {'text': text.strip() or '…'}
    named = name_of(trace, shown.selected) if shown.selected else None
    if named is not None:
        step['target'] = {'node' if shown.selected[0] == 'n' else 'box': named}
    if kind == 'show':
        step['state'] = capture(trace, shown)
        return step
    if kind == 'predict':
        if named is None or shown.selected[0] != 'n':
            raise ValueError('Select the scalar to predict first (a box is not one number).')
        if answer not in ANSWERS:
            raise ValueError(f'A prediction\'s answer is one of {", ".join(ANSWERS)}.')
        step['state'] = capture(trace, shown)
        step['predict'] = {'of': f'{of} of {named}', 'answer': answer, 'why': why.strip() or '…'}
        return step
    if do not in DO_KINDS:
        raise ValueError(f'A do step asks one of {", ".join(DO_KINDS)}.')
    step['do'] = {do: _do_what(trace, shown, do, named)}
    return step


def _do_what(trace, shown, do, named):
    if do == 'backprop':
        return shown.position
    if do == 'scrub':
        if shown.training_step is None:
            raise ValueError('Scrub the timeline to the step the learner should reach first.')
        return shown.training_step
    if named is None:
        raise ValueError(f'Select what the learner should {"open" if do == "open" else do} first.')
    if do == 'open':
        if shown.selected[0] == 'n':
            raise ValueError('Select a box to open (a scalar does not open).')
        return named
    if do == 'reach' and shown.selected[0] != 'n':
        raise ValueError('Select the scalar backprop should reach (a box holds many).')
    return named


def tour_dict(title, goal, checkpoint, doc, steps):
    return {'tour': VERSION, 'title': title, 'goal': goal, 'checkpoint': checkpoint, 'doc': doc, 'steps': list(steps)}


def dumps(title, goal, checkpoint, doc, steps):
    """The tour file's text (checked: it reads back as a tour); ValueError (one sentence) if it would not."""
    text = json.dumps(tour_dict(title, goal, checkpoint, doc, steps), indent=2, ensure_ascii=False) + '\n'
    try:
        parse(text)
    except Exception as e:  # TourError: the sentence says what is missing (a title, a goal, a step)
        raise ValueError(str(e)) from None
    return text
