"""engine.tours: the format read and checked one sentence at a time, planned on emma's recording, do steps
and predictions judged."""

import json

import pytest

from engine import checkpoint as ckpt_io
from engine import tours
from engine.paths import DEFAULT_CHECKPOINT
from engine.trace import record

KNOWN = tours.Known(frozenset({'Chain rule', 'Provenance', 'Nudge'}), frozenset({'step'}),
                    frozenset({'Graph', 'Backprop', 'Gradient'}))


@pytest.fixture(scope='module')
def trace():
    return record(ckpt_io.load(DEFAULT_CHECKPOINT).model, 'emma')


def tour_text(*steps, **top):
    data = {'tour': 1, 'title': 'T', 'goal': 'G', 'doc': 'emma', 'steps': list(steps) or [{'text': 'hi'}]}
    data.update(top)
    return json.dumps(data)


@pytest.mark.parametrize('text, sentence', [
    ('{"tour": 1, "title": ', 'is not valid JSON (line 1): the file is corrupt or not a tour.'),
    ('[1, 2]', 'is not a tour'),
    (tour_text(tour=2), 'is of version 2, which this explorer does not know (it reads version 1).'),
    (tour_text(steps=[]), 'has no steps'),
    (tour_text({'text': 'a', 'do': {'open': 'pos 1'}, 'predict': {}}), 'Step 1 both asks'),
    (tour_text({'text': 'a'}, {'text': 'b', 'target': {'cell': 'x'}}), 'Step 2: target \'cell\' is not one of'),
    (tour_text({'text': 'a'}, {'text': ''}), 'Step 2 has no text.'),
    (tour_text({'text': 'a', 'predict': {'of': 'grad of loss', 'answer': 'maybe', 'why': 'w'}}),
     'Step 1: a prediction gives "of"'),
])
def test_a_bad_file_gets_one_sentence(text, sentence):
    with pytest.raises(tours.TourError) as e:
        tours.parse(text, '/x/t.json')
    assert sentence in str(e.value) and str(e.value).count('. ') <= 1


def test_a_corrupt_or_missing_file_is_one_sentence(tmp_path):
    (tmp_path / 'bin.json').write_bytes(b'\xff\xfe\x00garbage')
    with pytest.raises(tours.TourError, match='not a text file'):
        tours.load(tmp_path / 'bin.json')
    with pytest.raises(tours.TourError, match='Cannot read the tour'):
        tours.load(tmp_path / 'none.json')


@pytest.mark.parametrize('step, sentence', [
    ({'text': 'a', 'target': {'box': 'layer 9'}}, "Step 2 names box 'layer 9', which this model does not have"),
    ({'text': 'a', 'state': {'open': ['pos 7 / softmax']}}, "Step 2 names box 'pos 7 / softmax'"),
    ({'text': 'a', 'target': {'panel': 'Mixer'}}, "Step 2 names panel 'Mixer'"),
    ({'text': 'a', 'state': {'workspace': 'Cinema'}}, "Step 2 names workspace 'Cinema'"),
    ({'text': '{grad of wte[99][0]}'}, 'Step 2: \'wte[99][0]\' is outside wte, which is 27×16.'),
    ({'text': 'a', 'state': {'backprop': 10 ** 9}}, 'Step 2: backprop 1000000000 is not a step from 0 to 43,092'),
    ({'text': 'a', 'do': {'scrub': 5}}, 'Step 2 scrubs the training run, but this checkpoint has no history.'),
])
def test_a_name_the_model_lacks_says_which_step(trace, step, sentence):
    tour = tours.parse(tour_text({'text': 'fine'}, step))
    with pytest.raises(tours.TourError) as e:
        tours.plan(tour, trace, KNOWN)
    assert sentence in str(e.value)


def test_live_numbers_are_the_recordings(trace):
    tour = tours.parse(tour_text({'text': 'g {grad of wte[4][3]} v {value of loss}'}))
    step, = tours.plan(tour, trace, KNOWN)
    assert step.text == 'g -0.009306 v 2.726'


def test_do_steps_are_done_only_when_done(trace):
    tour = tours.parse(tour_text({'text': 'a', 'do': {'open': 'pos 1 / softmax'}},
                                 {'text': 'b', 'do': {'select': 'wte[4][3]'}},
                                 {'text': 'c', 'do': {'reach': 'pos 4 / -log p / loss_t'}},
                                 {'text': 'd', 'do': {'backprop': 'end'}}))
    opened, select, reach, end = tours.plan(tour, trace, KNOWN)
    scope = trace.scope_id('pos 1 / softmax')
    assert not tours.done(opened.do, tours.Now(frozenset({0})))
    assert tours.done(opened.do, tours.Now(frozenset({0, scope})))
    assert not tours.done(select.do, tours.Now(selected='n20')) and tours.done(select.do, tours.Now(selected='n19'))
    assert reach.do == ('reach', 4)
    assert not tours.done(reach.do, tours.Now(position=3)) and tours.done(reach.do, tours.Now(position=4))
    assert end.do == ('reach', 43092)


def test_a_prediction_is_scored_against_the_recorded_value(trace):
    tour = tours.parse(tour_text({'text': 'a', 'predict': {'of': 'grad of wte[4][3]', 'answer': 'number',
                                                          'within': 0.2, 'why': 'One term.'}},
                                 {'text': 'b', 'predict': {'of': 'grad of pos 1 · logits[12]', 'answer': 'sign',
                                                          'why': 'p − 1 < 0.'}}))
    number, sign = tours.plan(tour, trace, KNOWN)
    assert number.predict.true == -0.009306387442916437
    assert tours.score(number.predict, -0.01) == (True, 'You said -0.01; it is -0.009306, a gap of -0.0006936 — '
                                                        'close. One term.')
    close, sentence = tours.score(number.predict, 0.01)
    assert not close and 'more than 20% of it' in sentence
    assert tours.score(sign.predict, 'negative')[0] and not tours.score(sign.predict, 'positive')[0]


@pytest.mark.parametrize('path', tours.shipped(), ids=lambda p: p.name)
def test_shipped_tours_plan_on_the_shipped_checkpoint(path, trace):
    from explorer.tours.room import KNOWN as WINDOW  # the names the window really has
    steps = tours.prepare(tours.load(path), WINDOW)  # with the run's history, for the numbers a tour quotes of it
    assert len(steps) >= 5 and all('{' not in s.text for s in steps)
    assert {'show', 'do', 'predict'} <= {s.kind for s in steps}


def test_at_least_the_first_two_tours_ship():
    titles = [tours.load(p).title for p in tours.shipped()]
    assert titles[:2] == ['Reading the picture', 'Follow one gradient from the loss to wte[e]']


def test_the_readme_example_is_a_tour_that_plans(trace):
    """The small tour the README documents the format with reads, checks and plans as written."""
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / 'README.md').read_text()
    example = readme.split('A tour is a JSON file, version 1. A small one:\n\n```json\n', 1)[1].split('```', 1)[0]
    from explorer.tours.room import KNOWN as WINDOW
    steps = tours.plan(tours.parse(example), trace, WINDOW)
    assert [s.kind for s in steps] == ['show', 'do', 'do', 'predict']
    assert steps[0].text == 'The loss is 2.726. Backprop starts here.'
    assert steps[3].predict.true == -0.009306387442916437


def test_complete_is_where_a_grad_is_whole(trace):
    """pos 1's x[3] after the mlp is read by lm_head's 27 rows: the gradient reaches it with the first, and it is
    whole only after the 27th (a tour said 'x[3] now holds' the full grad while 1 of 27 had arrived)."""
    from engine.backprop import Stepper
    from engine.gradient.gradcheck import analytic_grads
    name = 'pos 1 / layer 0 / mlp / residual / x[3]'
    tour = tours.parse(tour_text({'text': 'a', 'state': {'backprop': {'reach': name}}},
                                 {'text': 'b', 'state': {'backprop': {'complete': name}}}))
    reach, complete = tours.plan(tour, trace, KNOWN)
    node = tours.resolve(trace, name)
    stepper = Stepper(trace)
    stepper.seek(reach.backprop)
    assert stepper.grads[node] != analytic_grads(trace)[node]
    stepper.seek(complete.backprop)
    assert stepper.grads[node] == analytic_grads(trace)[node] and complete.backprop > reach.backprop
    stepper.seek(complete.backprop - 1)
    assert stepper.grads[node] != analytic_grads(trace)[node]


def test_numbers_of_the_training_run_are_the_historys(trace):
    from engine import history as history_io
    from engine.checkpoint import load
    from engine.paths import DEFAULT_CHECKPOINT
    from engine.model import finish
    from engine.numbers import shown
    run = history_io.load_for(DEFAULT_CHECKPOINT, load(DEFAULT_CHECKPOINT))
    text = tour_text({'text': 'First update {update of wte[4][3] at step 1}; m at 500 {m of wte[4][3] at step 500}.',
                      'predict': {'of': 'update of layer0.attn_wq[3][5] at step 1', 'answer': 'number',
                                  'why': 'Adam: about lr.'}})
    step, = tours.plan(tours.parse(text), trace, history=lambda: run)
    first = finish(run.param_series(run.param_index('wte[4][3]'), 1, 1))[0]
    at_500 = finish(run.param_series(run.param_index('wte[4][3]'), 500, 500))[0]
    assert shown(-first['update']) in step.text and shown(at_500['m']) in step.text  # the change: after − before
    wq = finish(run.param_series(run.param_index('layer0.attn_wq[3][5]'), 1, 1))[0]
    assert step.predict.true == -wq['update'] and abs(abs(wq['update']) - 0.01) < 1e-4  # Adam's first step: ±lr
    for bad, sentence in [('{update of wte[4][3]}', 'needs "at step K"'), ('{m of wte[4][3] at step 5000}', 'not a step from 1 to 1,000'),
                          ('{v of wte[99][0] at step 3}', 'outside wte'), ('{v of wte[1][0] at step 3}', 'no history')]:
        with pytest.raises(tours.TourError, match=sentence):
            tours.plan(tours.parse(tour_text({'text': bad})), trace,
                       history=None if 'no history' in sentence else lambda: run)


def test_which_is_largest_is_scored_by_size(trace):
    weights = [f'value of pos 2 / layer 0 / attention / head 2 / softmax / attn_weights[{t}]' for t in range(3)]
    grads = ['grad of wte[4][3]', 'grad of wte[0][3]']
    text = tour_text({'text': 'Which key?', 'predict': {'of': weights, 'labels': ['BOS', "'e'", "'m'"],
                                                        'answer': 'largest', 'why': 'Softmax.'}},
                     {'text': 'Which grad?', 'predict': {'of': grads, 'answer': 'largest', 'why': 'Size.'}})
    keys, by_size = tours.plan(tours.parse(text), trace)
    values = [trace.data[tours.resolve(trace, w.split(' of ', 1)[1])] for w in weights]
    assert keys.predict.values == tuple(values) and keys.predict.true == values.index(max(values)) == 1
    assert keys.predict.keys == tuple(f'n{tours.resolve(trace, w.split(" of ", 1)[1])}' for w in weights)
    assert tours.score(keys.predict, 1)[0] and not tours.score(keys.predict, 0)[0]
    assert "You chose BOS; the largest is 'e'" in tours.score(keys.predict, 0)[1]
    sizes = [abs(v) for v in by_size.predict.values]
    assert by_size.predict.true == sizes.index(max(sizes)) and by_size.predict.options == tuple(grads)
    for bad, sentence in [({'of': grads[:1], 'answer': 'largest', 'why': 'x'}, 'a list of 2 to 8'),
                          ({'of': grads, 'labels': ['one'], 'answer': 'largest', 'why': 'x'}, 'names each of the 2')]:
        with pytest.raises(tours.TourError, match=sentence):
            tours.parse(tour_text({'text': 't', 'predict': bad}))


def test_a_number_worked_out_is_right_not_only_close(trace):
    step, = tours.plan(tours.parse(tour_text({'text': 'x', 'predict': {'of': 'grad of wte[4][3]', 'answer': 'number',
                                                                       'why': 'y'}})), trace)
    true = step.predict.true
    assert tours.right(step.predict, true * (1 + 5e-4)) and 'right.' in tours.score(step.predict, true * (1 + 5e-4))[1]
    assert not tours.right(step.predict, true * 1.1) and 'close.' in tours.score(step.predict, true * 1.1)[1]
