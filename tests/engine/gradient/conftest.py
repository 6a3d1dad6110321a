"""Fixtures the gradient tools' tests share: the analytic gradients of 'emma' and its nudge tape."""

import pytest

from engine.gradient.gradcheck import analytic_grads
from engine.gradient.nudge import Tape


@pytest.fixture(scope='module')
def grads(emma):
    return analytic_grads(emma)


@pytest.fixture(scope='module')
def tape(emma):
    return Tape(emma)
