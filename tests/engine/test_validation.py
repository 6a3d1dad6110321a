"""engine.validation: the validation loss is the mean of each held-out document's training loss, over the
documents the model can read, at most MAX_DOCS of them spread evenly."""

import math

import pytest

from engine.errors import TrainingDiverged
from engine.model import Model
from engine.validation import MAX_DOCS, evaluated, validation_loss


def test_the_validation_loss_is_the_mean_of_the_documents_training_losses(model):
    docs = ['emma', 'ava', 'xavier']
    expected = sum(model.loss(*model.positions(d)).data for d in docs) / 3
    assert validation_loss(model, docs) == expected
    assert validation_loss(model, ['emma']) == model.loss(*model.positions('emma')).data


def test_documents_the_vocabulary_cannot_read_are_left_out_and_counted(model):
    docs, left_out = evaluated(['emma', 'Zoe', 'ava', 'zoë'], model.tokenizer)
    assert docs == ['emma', 'ava'] and left_out == 2


def test_at_most_max_docs_spread_evenly(model):
    val = [f'{"a" * (i % 7 + 1)}' for i in range(3 * MAX_DOCS)]
    docs, _ = evaluated(val, model.tokenizer)
    assert len(docs) == MAX_DOCS and docs == val[::3]
    assert evaluated(val[:10], model.tokenizer)[0] == val[:10]


def test_weights_that_give_no_finite_loss_are_one_sentence(model):
    nan = {name: [[math.nan] * len(row) for row in mat] for name, mat in model.floats().items()}
    with pytest.raises(TrainingDiverged, match='^The validation loss is'):
        validation_loss(Model.from_floats(model.config, model.tokenizer, nan), ['emma'])
