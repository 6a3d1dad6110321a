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
        more = ' (F3: the next)' if len(hits) > 1 else ''
        assert said[-1] == f'Match {i + 1} of {len(hits)}: {s.backprop.describe(hits[i])}{more}'
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


def test_a_match_lands_in_view_readable_with_the_inspector_in_front_and_keeps_its_line(window, qtbot):
    """Find wte[4][3]: the view goes to its cell (a 2-point cell in wte's grid, shown several pixels wide),
    the Inspector comes forward, and the status bar still says which match it is once the view is in."""
    from explorer.graph.navigation import LANDED_MAX
    s, view = window.session, window.graph
    window.docks['attention_dock'].raise_()
    window.search_field.setText('wte[4][3]')
    window.search_field.find_next()
    qtbot.waitUntil(lambda: not s.layout_pending and not view.building(), timeout=20000)
    qtbot.wait(50)
    cell = view.param_cell_rect(s.selected)
    on_screen = view.mapFromScene(cell).boundingRect()
    assert view.viewport().rect().contains(on_screen)
    assert on_screen.width() >= min(18, LANDED_MAX * view.readable_scale() * cell.width()) - 1 >= 5
    assert not window.inspector.visibleRegion().isEmpty() and window.attention.visibleRegion().isEmpty()
    assert window.statusBar().currentMessage().startswith('Match 1 of 1: ')


def test_a_click_in_scopes_lands_on_that_group(window, qtbot):
    s, view, tree = window.session, window.graph, window.scope_tree
    scope = s.trace.scope_id('pos 4 / layer 0 / attention / head 1')
    view.centerOn(0, 0)
    tree.clicked.emit(tree.scopes.scope_index(scope))
    qtbot.waitUntil(lambda: not s.layout_pending and not view.building(), timeout=20000)
    qtbot.wait(50)
    key = s.selected
    assert key == f'g{scope}'
    assert view.viewport().rect().contains(view.mapFromScene(view.items_by_key[key].sceneBoundingRect()).boundingRect())


def test_find_next_walks_head_1_in_reading_order_and_counts_beside_the_field(window, qtbot):
    """`head 1` is each position's head 1, pos 0 first, then pos 1, ... (it used to walk into pos 0's
    head: its scores, softmax and sums), and "2 of 5" says so beside the field; the fifth wraps to the first."""
    s, field, view = window.session, window.search_field, window.graph
    heads = [f"g{s.trace.scope_id(f'pos {p} / layer 0 / attention / head 1')}" for p in range(5)]
    mlp = s.trace.scope_id('pos 3 / layer 0 / mlp')
    s.set_open(s.opened | {mlp})  # the learner's own: Find keeps it open
    qtbot.waitUntil(lambda: not s.layout_pending and not view.building(), timeout=20000)
    learners = s.opened
    field.setText('head 1')
    assert field.count.text() == ''
    for i, key in enumerate(heads + heads[:1]):
        field.find_next()
        qtbot.waitUntil(lambda: not s.layout_pending and not view.building(), timeout=20000)
        assert s.selected == key
        assert field.count.text() == f'{i % 5 + 1} of 5 · F3'  # and the key to the next
        attention = s.trace.scopes[int(key[1:])].parent  # open for this match only: the last match's closed again
        assert s.opened == learners | set(s.current.hierarchy.open_path(int(key[1:]), learners)) - {int(key[1:])}
        assert attention in s.opened
        assert field.count.isVisible() and field.count.geometry().left() >= field.geometry().right()  # beside it
    field.setText('head 1 of nothing')  # another text: no count until it is looked for
    assert field.count.text() == ''
    field.find_next()
    assert 'no match' in field.count.text()


def test_a_match_lands_readable_and_outlined_at_a_backprop_step(window, qtbot):
    """At a backprop step > 0 (Chain rule in front), Find `pos 2 · q[3]` lands: the box in view at a readable
    size, selected (outlined), and the Inspector in front."""
    from explorer.graph.navigation import MIN_LABEL_PX
    s, view = window.session, window.graph
    for _ in range(30):
        window.step_act.trigger()
    assert window.inspector.visibleRegion().isEmpty()
    window.search_field.setText('pos 2 · q[3]')
    window.search_field.find_next()
    qtbot.waitUntil(lambda: not s.layout_pending and not view.building(), timeout=20000)
    item = view.items_by_key[s.selected]
    assert view.selected_key == s.selected and s.trace.name(int(s.selected[1:])) == 'q[3]'
    assert view.viewport().rect().contains(view.mapFromScene(item.sceneBoundingRect()).boundingRect())
    assert view.smallest_label_px() >= MIN_LABEL_PX
    assert not window.inspector.visibleRegion().isEmpty() and s.backprop.position == 30
