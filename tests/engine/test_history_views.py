"""What the timeline's plots read from a history: a parameter's series from the run's gradients
(the same numbers as the `history` command), and the embedding PCA."""

import math
import random

import pytest

from engine.data import load_docs
from engine.model import GPTConfig
from engine.pca import pca_basis, project
from engine.model import finish
from engine.optim import TrainConfig
from engine.train import Trainer


def test_series_from_the_runs_gradients_is_param_series(names_file):
    trainer = Trainer(load_docs(names_file), GPTConfig(), TrainConfig(num_steps=12), history_every=5)
    list(trainer.run())
    history = trainer.finished_history()
    grads = finish(history.run_grads())
    for name in ('wte[1][2]', 'layer0.mlp_fc2[3][40]'):
        i = history.param_index(name)
        assert history.series(i, grads) == finish(history.param_series(i))
    assert history.series(history.param_index('wte[1][2]'), grads)[-1]['data'] == trainer.model.state_dict['wte'][1][2].data


def test_pca_finds_the_planted_directions():
    rng = random.Random(1)
    a = [1.0 if j == 3 else 0.0 for j in range(16)]
    b = [1.0 if j == 7 else 0.0 for j in range(16)]
    rows = [[5 * s * a[j] + 2 * t * b[j] + 0.01 * rng.gauss(0, 1) for j in range(16)]
            for s, t in ((rng.gauss(0, 1), rng.gauss(0, 1)) for _ in range(200))]
    mean, (u, v), (var_u, var_v) = pca_basis(rows)
    assert abs(u[3]) == pytest.approx(1, abs=1e-3) and abs(v[7]) == pytest.approx(1, abs=1e-3)
    assert var_u > var_v > 0 and abs(sum(x * y for x, y in zip(u, v))) < 1e-6
    xy = project(rows, (mean, (u, v), (var_u, var_v)))
    assert sum(x for x, _ in xy) / len(xy) == pytest.approx(0, abs=1e-9)
    assert math.sqrt(sum(x * x for x, _ in xy) / len(xy)) == pytest.approx(math.sqrt(var_u), rel=1e-6)
