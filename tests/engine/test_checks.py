"""engine.checks: whether a value a user or a file gives is a number or a whole number (a bool is
neither), and how a value is quoted in a message."""

import pytest

from engine.checks import is_number, is_whole, short


@pytest.mark.parametrize('x, number, whole', [(3, True, True), (2.5, True, False), (True, False, False),
                                              ('3', False, False), (None, False, False), (10**400, True, True)])
def test_numbers_and_whole_numbers(x, number, whole):
    assert (is_number(x), is_whole(x)) == (number, whole)


def test_a_long_value_is_cut_in_a_message():
    assert short('fast') == "'fast'"
    text = short(10**400)
    assert len(text) == 40 and text.endswith('...') and text.startswith('1000')


def test_a_long_text_is_cut_with_an_ellipsis_and_its_length():
    name = 'pos 1 / layer 0 / attention / head 1 / softmax / attn_weights[0]'
    assert short(name) == repr(name)  # a name a user types is never cut
    text = short('x' * 100_000)
    assert text == "'" + 'x' * 77 + "…' (100,000 characters)"
