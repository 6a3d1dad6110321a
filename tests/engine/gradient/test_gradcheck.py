"""engine.gradient.gradcheck: numeric gradients by central differences agree with backprop's."""

import pytest

from engine.gradient.gradcheck import GradCheck, ParamCheck, iter_gradcheck
from engine.model import finish


def test_numeric_gradients_agree_with_backprop(model, emma, grads):
    """A sample of every matrix, through both ways gradcheck computes L(p ± h) (tape and fused pass).
    Bound: with h = 1e-4 the rounding error of the difference is ~ε·|L|/h ≈ 6e-12, i.e. ≤ 6e-6 of the
    smallest non-zero gradients here (~1e-6), and truncation (h²·L'''/6) measured ≤ 3e-9 absolute on
    gradients of ≥ 1e-3; 1e-5 leaves room for both (all 4,192 measured: 4.5e-7)."""
    names = {emma.param_name(n) for k, n in enumerate(sorted(emma.params)) if k % 61 == 0}
    names |= {'wte[4][3]', 'wte[1][0]'}  # 'b' is not in emma: numeric and analytic both exactly 0
    result = finish(iter_gradcheck(model, emma, grads, only=names))
    assert {p.name for p in result.params} == names and len(names) > 60
    for p in result.params:
        assert p.analytic == (float(grads[p.node]) if p.node >= 0 else 0.0)
        assert p.rel_error < 1e-5, (p.name, p.analytic, p.numeric)
    assert any(p.analytic != 0 for p in result.params)


# (analytic, numeric, relative error): the documented |numeric - analytic| / max(|numeric|, |analytic|), 0 when
# both are 0, on numbers whose every step is exact in binary. Each row tells the formula from its look-alikes:
# dividing by |analytic| alone gives 1.0 for (2, 4) and 2.0 for (0.5, 1.5); by |numeric| alone 1.0 for (4, 2);
# by |analytic| + |numeric| 1/3 for (2, 4) and 1.0 for (-1, 1); a floor such as max(..., 1e-12) 1e-288 for (0, 1e-300).
REL_ERRORS = [(2.0, 4.0, 0.5), (4.0, 2.0, 0.5), (-1.0, 1.0, 2.0), (1.0, -3.0, 4 / 3), (0.5, 1.5, 2 / 3),
              (-8.0, -6.0, 0.25), (3.0, 3.0, 0.0), (0.0, 1e-300, 1.0), (-1e-300, 0.0, 1.0), (0.0, 0.0, 0.0),
              (0.0, -0.0, 0.0)]


@pytest.mark.parametrize('analytic, numeric, expected', REL_ERRORS)
def test_relative_error_is_the_documented_formula(analytic, numeric, expected):
    """What README and the gradcheck JSON promise: |numeric − analytic| / max(|numeric|, |analytic|)."""
    assert ParamCheck('w[0][0]', 7, analytic, numeric).rel_error == expected


def test_max_and_worst_rank_by_the_documented_relative_error():
    """Ranked by the formula, not by absolute error (the (100, 90) pair is off by the most, relatively the least)
    nor by a formula that divides by |analytic| (which would put (1, 3) first, at 2.0, and report 2.0)."""
    params = tuple(ParamCheck(f'w[0][{i}]', i, a, n) for i, (a, n) in
                   enumerate([(100.0, 90.0), (1.0, 3.0), (-1.0, 1.0), (0.0, 0.0), (0.25, 0.5)]))
    check = GradCheck(1e-4, params)
    assert check.max_rel_error == 2.0 and check.to_json()['max_rel_error'] == 2.0
    assert [(p.name, p.rel_error) for p in check.worst(4)] == [
        ('w[0][2]', 2.0), ('w[0][1]', 2 / 3), ('w[0][4]', 0.5), ('w[0][0]', 0.1)]
    assert GradCheck(1e-4, ()).max_rel_error == 0.0
