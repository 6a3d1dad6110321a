"""What a closed group has sent back along each edge of the view so far, while backprop steps through it.

Inside a closed group (a position's attention, its mlp) almost every step stays inside the box: the one
scalar a step applies rarely sends anything across the box's side. So the view labels the edges out of
the group being stepped with what the group has sent along each so far: per scalar on the other side, the
sum of `local_grad × grad(node)` over the group's nodes already applied; the label gives that vector's
size (its Euclidean norm), or the number itself when it reaches one scalar.
"""

import math

from engine.graph.geometry import flow_text
from engine.numbers import shown


class BoxFlows:
    """The scalar edges that leave one box backwards (from its nodes to children shown elsewhere), grouped by
    the view's edge they run along; `sent(...)` adds up what has crossed them at a stepper position."""

    def __init__(self, trace, visible, nodes, key, edge_keys):
        """`nodes`: the scalars the box `key` holds; `edge_keys`: the (source, target) edges the view draws
        (a child read through a vector box of an open head goes along the edge from that vector box)."""
        key_of, vectors_of = visible.key_of, visible.vectors_of
        self.key = key
        self.entries = []  # (node, child, local gradient, edge key), by node
        for node in sorted(nodes):
            for child, local in zip(trace.children[node], trace.local_grads[node]):
                src = key_of[child]
                if src is None or src == key:
                    continue
                via = next((v for v in vectors_of.get(child, ()) if (v, key) in edge_keys), None)
                if (via or src, key) in edge_keys:  # (a weight's edge the view hides: its badge stands for it)
                    self.entries.append((node, child, local, (via or src, key)))

    def sent(self, grads, applied_at, position):
        """{edge key: {child: gradient sent to it so far}} at stepper `position` (a node's grad is final once
        applied, so each applied node's share is local × its grad)."""
        out = {}
        for node, child, local, edge in self.entries:
            if applied_at[node] <= position:
                per_child = out.setdefault(edge, {})
                per_child[child] = per_child.get(child, 0.0) + local * grads[node]
        return out


def sent_text(per_child):
    """The label of what a group has sent along an edge: '∂ 0.2000' to one scalar, '‖∂‖ 0.0412' (the norm of
    the vector) to several."""
    values = list(per_child.values())
    if len(values) == 1:
        return flow_text(values[0], 1)
    return f'‖∂‖ {shown(math.sqrt(sum(v * v for v in values)))}'
