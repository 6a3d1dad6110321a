"""explorer/search_field.py: the find field goes to the next match each time (Enter, Find next), round
again after the last; it says which match it shows, and says so when nothing matches."""


def test_each_find_goes_from_match_to_match_and_says_which(window, qtbot):
    s, field, said = window.session, window.search_field, []
    field.message.connect(said.append)
    field.setText('pos 2 · q[3]')
    hits = s.search('pos 2 · q[3]')
    assert len(hits) >= 2
    for i in (0, 1):
        field.find_next()
        qtbot.waitUntil(lambda: s.selected == hits[i], timeout=20000)
        assert said[-1] == f'Match {i + 1} of {len(hits)}: {s.backprop.describe(hits[i])}'
    field.setText('wte[4][3]')  # a new text: its own matches, from the first
    [wte] = s.search('wte[4][3]')
    for _ in range(2):  # one match: the next is that one again
        field.find_next()
        qtbot.waitUntil(lambda: s.selected == wte, timeout=20000)
        assert said[-1].startswith('Match 1 of 1: ')


def test_nothing_matching_is_said_and_selects_nothing(window):
    s, field, said = window.session, window.search_field, []
    field.message.connect(said.append)
    field.setText('no such scalar')
    field.find_next()
    assert said == ["Nothing matches 'no such scalar'."] and s.selected is None
