"""engine.numbers, the one number formatter: `shown` with four significant digits, `compact` for a
cell or a tick, `exact` every digit."""

import pytest

from engine.numbers import compact, exact, shown


@pytest.mark.parametrize('x, text', [(-0.0961234, '-0.09612'), (3.36604, '3.366'), (1.23456e-5, '1.235e-5'),
                                     (20000.0, '2.000e4'), (0.0, '0'), (-0.0, '0'), (1000, '1000'),
                                     (2.5, '2.500'), (123.4, '123.4')])
def test_shown_keeps_four_significant_digits(x, text):
    assert shown(x) == text


@pytest.mark.parametrize('x, text', [(0.4321, '0.43'), (-1.2, '-1.20'), (0.00031, '3.1e-4'), (0, '0'),
                                     (123.0, '1.2e2'), (99.994, '99.99')])
def test_compact_is_short_for_a_cell(x, text):
    assert compact(x) == text


def test_exact_reads_back_as_the_same_float():
    x = 0.1 + 0.2
    assert float(exact(x)) == x and exact(x) == '0.30000000000000004'
