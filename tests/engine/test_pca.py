"""engine.pca: the two directions of largest variance of a few dozen rows, found by power iteration, and
each row's place on their plane."""

import math
import random

import pytest

from engine.pca import covariance, pca_basis, project


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


def test_covariance_of_two_points_is_the_spread_along_their_line():
    mean, cov = covariance([[1.0, 2.0], [3.0, 6.0]])
    assert mean == [2.0, 4.0]
    assert cov == [[1.0, 2.0], [2.0, 4.0]]


def test_each_axis_has_its_largest_component_positive():
    """Rows along (-3, 2, 2), a little spread along (4, 5, 1): power iteration finds (-3, 2, 2), which
    comes out as (3, -2, -2), so the picture does not flip between two sets of weights."""
    rows = [[-3.0 * t + 0.04 * (-1) ** t, 2.0 * t + 0.05 * (-1) ** t, 2.0 * t + 0.01 * (-1) ** t]
            for t in range(-5, 6)]
    _, (u, v), (var_u, var_v) = pca_basis(rows)
    assert u == pytest.approx([3 / math.sqrt(17), -2 / math.sqrt(17), -2 / math.sqrt(17)], abs=1e-6)
    assert v == pytest.approx([4 / math.sqrt(42), 5 / math.sqrt(42), 1 / math.sqrt(42)], abs=1e-3)
    assert var_u > 100 * var_v > 0
