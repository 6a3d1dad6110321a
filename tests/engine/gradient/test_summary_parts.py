"""engine.gradient.summary_parts: a Check agrees only within its bound, a Summary reads as text, top_rows ranks
by magnitude and keeps index order."""

from engine.gradient.summary_parts import Check, Summary, Table, top_rows


def test_a_check_agrees_within_its_bound_and_says_so_in_the_text():
    good, bad = Check('a = b', [1.0, -2.0], [1.0, -2.0 + 1e-12]), Check('a = b', [1.0], [1.001])
    assert good.agrees and not bad.agrees and abs(bad.max_diff - 0.001) < 1e-12
    assert not Check('a = b', [1.0], []).agrees  # a missing number is not agreement
    s = Summary('pos 1 / softmax', 'softmax backward', ['∂L/∂x = y'], ['a note'],
                [Table('rows', ('i', 'x'), [(0, 0.5), (1, 'text')], highlight=1)], [good, bad])
    text = s.text()
    assert text.startswith('softmax backward — pos 1 / softmax') and '→ 1 | text' in text
    assert text.count('DISAGREES') == 1


def test_top_rows_are_the_largest_by_magnitude_in_index_order():
    assert top_rows([0.1, -5.0, 3.0, 0.0, 4.0], k=3) == [1, 2, 4]
