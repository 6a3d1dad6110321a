"""Writing a tour from the app's state: what is captured names every box and scalar as a tour file does, and
a tour made of captured steps plans back to exactly the state it was captured from."""

import json

import pytest

from engine import tour_writing as writing
from engine import tours
from engine.backprop import Schedule
from engine.graph.grouping import ROOT, Hierarchy
from engine.graph.keys import group_key, node_key, vector_key
from engine.gradient.provenance import resolve

KNOWN = tours.Known(frozenset({'Inspector', 'Chain rule'}), frozenset(), frozenset({'Graph', 'Backprop'}))


@pytest.fixture(scope='module')
def hierarchy(emma):
    return Hierarchy(emma)


def shown(emma, hierarchy, **over):
    head = emma.scope_id('pos 2 / layer 0 / attention / head 2')
    opened = hierarchy.overview() | set(hierarchy.ancestors(head)) | {ROOT}
    base = dict(workspace='Backprop', overview=hierarchy.overview(), opened=frozenset(opened),
                selected=node_key(resolve(emma, 'wte[4][3]')), position=120, training_step=None, panel='Inspector')
    base.update(over)
    return writing.Shown(**base)


def test_boxes_and_scalars_are_named_as_a_tour_names_them(emma):
    softmax = emma.scope_id('pos 4 / softmax')
    assert writing.name_of(emma, group_key(softmax)) == 'pos 4 / softmax'
    assert writing.name_of(emma, node_key(resolve(emma, 'layer0.attn_wq[3][5]'))) == 'layer0.attn_wq[3][5]'
    exps = resolve(emma, 'pos 0 / softmax / exps[2]')
    assert writing.name_of(emma, node_key(exps)) == 'pos 0 / softmax / exps[2]'
    head = emma.scope_id('pos 2 / layer 0 / attention / head 2')
    assert writing.name_of(emma, vector_key(head, 'keys')) == 'pos 2 / layer 0 / attention / head 2'


def test_a_captured_step_plans_back_to_the_state_it_was_captured_from(emma, hierarchy):
    now = shown(emma, hierarchy)
    step = writing.make_step(emma, now, 'Look at {grad of wte[4][3]}.')
    assert step['state']['open'] == ['pos 2 / layer 0 / attention / head 2']  # only what the overview lacks
    text = writing.dumps('Captured', 'One step, captured.', 'microgpt-names.json', 'emma', [step])
    planned, = tours.plan(tours.parse(text), emma, KNOWN)
    assert planned.workspace == 'Backprop' and planned.panel == 'Inspector'
    replayed = set(hierarchy.overview()) | {ROOT}  # as the player opens them: each scope, and what holds it
    for scope in planned.opened:
        replayed |= set(hierarchy.opening(scope)) | set(hierarchy.ancestors(scope))
    assert replayed == now.opened
    assert planned.select == now.selected and planned.backprop == now.position
    assert planned.target == ('node', now.selected)
    assert str(tours.analytic_grads(emma)[resolve(emma, 'wte[4][3]')])[:4] in planned.text.replace('−', '-')


def test_each_kind_of_step_asks_what_was_shown(emma, hierarchy):
    now = shown(emma, hierarchy)
    schedule = Schedule(emma)
    reach = writing.make_step(emma, now, 'Step until it arrives.', 'do', 'reach')
    assert reach == {'text': 'Step until it arrives.', 'target': {'node': 'wte[4][3]'}, 'do': {'reach': 'wte[4][3]'}}
    to_here = writing.make_step(emma, now, 'Step to here.', 'do', 'backprop')
    assert to_here['do'] == {'backprop': 120}
    predict = writing.make_step(emma, now, 'Guess.', 'predict', answer='number', of='value', why='It is a weight.')
    assert predict['predict'] == {'of': 'value of wte[4][3]', 'answer': 'number', 'why': 'It is a weight.'}
    steps = tours.plan(tours.parse(writing.dumps('T', 'G', 'microgpt-names.json', 'emma', [reach, to_here, predict])),
                       emma, KNOWN)
    assert steps[0].do == ('reach', schedule.reached_at[resolve(emma, 'wte[4][3]')])
    assert steps[1].do == ('reach', 120)
    assert steps[2].predict.true == emma.data[resolve(emma, 'wte[4][3]')]


@pytest.mark.parametrize('kind, do, over, sentence', [
    ('predict', 'select', dict(selected='g3'), 'Select the scalar to predict first'),
    ('predict', 'select', dict(selected=None), 'Select the scalar to predict first'),
    ('do', 'reach', dict(selected='g3'), 'Select the scalar backprop should reach'),
    ('do', 'open', dict(selected=None), 'Select what the learner should open first'),
    ('do', 'scrub', {}, 'Scrub the timeline to the step'),
])
def test_a_step_that_cannot_be_made_says_why(emma, hierarchy, kind, do, over, sentence):
    with pytest.raises(ValueError, match=sentence):
        writing.make_step(emma, shown(emma, hierarchy, **over), 'x', kind, do)


def test_a_tour_without_a_title_is_not_written(emma, hierarchy):
    step = writing.make_step(emma, shown(emma, hierarchy), 'x')
    with pytest.raises(ValueError, match='has no "title"'):
        writing.dumps('', 'G', 'microgpt-names.json', 'emma', [step])
    text = writing.dumps('T', 'G', 'microgpt-names.json', 'emma', [step])
    assert json.loads(text)['tour'] == tours.VERSION
