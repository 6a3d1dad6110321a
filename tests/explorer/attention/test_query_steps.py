"""explorer.attention.query_steps: one query's page links every quantity to its node, and its steps link their
titles to the head's boxes at the vector level (q, keys, values, scores, softmax, weighted sum): a click
opens the head and selects that box, not a scalar deep inside."""

import itertools
import re

from engine.attention import query_nodes
from engine.graph.keys import group_key, vector_key
from explorer.attention.query_steps import steps_html

HEAD = 'pos 2 / layer 0 / attention / head 1'


def test_each_step_title_links_to_its_box_in_the_open_head(window):
    trace = window.session.trace
    head = trace.scope_id(HEAD)
    page = steps_html(trace, 0, 1, 2)
    boxes = set(re.findall(r'href="box:([^"]+)"', page))
    assert boxes == {vector_key(head, 'q'), vector_key(head, 'keys'), vector_key(head, 'values'),
                     *(group_key(trace.scope_id(f'{HEAD} / {g}')) for g in ('scores', 'softmax', 'weighted sum'))}


def test_a_click_on_keys_opens_the_head_at_its_vectors_and_selects_the_keys(window, qtbot):
    s = window.session
    key = vector_key(s.trace.scope_id(HEAD), 'keys')
    with qtbot.waitSignal(s.view_changed, timeout=20000):
        window.attention.steps.box_clicked.emit(key)
    assert s.selected == key
    assert key in {b.key for b in s.visible.boxes}  # the head is open at the vector level, not to scalars
    assert not any(b.node >= 0 and s.trace.scopes[b.scope].path.startswith(HEAD) for b in s.visible.boxes)


def test_one_query_page_links_every_quantity_to_its_node(emma_trace):
    nodes = query_nodes(emma_trace, 0, 2, 3)
    page = steps_html(emma_trace, 0, 2, 3)
    ids = [*nodes.q, *itertools.chain(*nodes.keys), *nodes.dots, *nodes.logits, *nodes.exps, nodes.total,
           *nodes.weights, *itertools.chain(*nodes.values), *nodes.head_out]
    for node in ids:
        assert f'href="node:{node}"' in page
    assert 'masked (after the query)' in page and page.count('masked (after the query)') == emma_trace.n - 4
