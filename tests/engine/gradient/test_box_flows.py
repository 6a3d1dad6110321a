"""engine.gradient.box_flows: what a closed group being stepped has sent back along each edge of the view; once
the whole recording is stepped, what pos 4's attention sent along the edge from its embedding is the embedding
output's grad minus what mlp's residual and rmsnorm sent it, counted from the stepper's own contributions."""

import math

import pytest

from engine.backprop import Schedule, Stepper
from engine.gradient.box_flows import BoxFlows, sent_text
from engine.graph.grouping import Hierarchy
from engine.graph.keys import group_key


@pytest.fixture(scope='module')
def stepped(emma):
    stepper = Stepper(emma)
    stepper.run_to_end()
    return emma, Hierarchy(emma), Schedule(emma), stepper


def test_a_closed_attention_sends_along_its_input_and_kv_edges(stepped):
    trace, h, schedule, stepper = stepped
    vg = h.visible(h.overview())
    scope = trace.scope_id('pos 4 / layer 0 / attention')
    key = group_key(scope)
    edges = {(a, b) for a, b, _ in vg.edges}
    flows = BoxFlows(trace, vg, h.nodes_in(scope), key, edges)
    assert flows.sent(stepper.grads, schedule.applied_at, 0) == {}  # nothing applied: nothing sent
    sent = flows.sent(stepper.grads, schedule.applied_at, stepper.position)
    assert all(b == key and (a, b) in edges for a, b in sent)
    embedding = group_key(trace.scope_id('pos 4 / embedding'))
    kv = {a for a, b in sent if (a, b) in vg.kv_edges}
    assert kv == {group_key(trace.scope_id(f'pos {p} / layer 0 / attention')) for p in range(4)}
    inside = set(h.nodes_in(scope))
    for child, amount in sent[(embedding, key)].items():  # the embedding's output x: its grad is the sum of
        others = sum(local * stepper.grads[node] for node in trace.parents[child] if node not in inside
                     for c, local in zip(trace.children[node], trace.local_grads[node]) if c == child)
        assert amount + others == pytest.approx(stepper.grads[child], abs=1e-15)  # every user's share
    assert len(sent[(embedding, key)]) == 16


def test_a_label_gives_one_number_or_the_size_of_the_vector():
    assert sent_text({7: -0.25}) == '∂ -0.2500'
    assert sent_text({7: 0.3, 8: -0.4}) == f'‖∂‖ {0.5:.4f}'
    assert math.isclose(float(sent_text({1: 3e-3, 2: 4e-3}).split()[1]), 5e-3)
