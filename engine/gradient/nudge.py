"""Nudging one scalar of a recorded forward pass and recomputing what depends on it, on the tape.

`Tape(trace).recompute({node: value})` gives every node's data after setting `node` to `value`: only the
node's descendants are recomputed, in creation (topological) order, each with its op's forward rule
as `Value` computes it (`a + b`, `a * b`, `a**k`, `math.log`, `math.exp`, `max(0, a)`). One recorded
number is not an op: softmax's `max_val = max(val.data for val in logits)`, which microgpt subtracts as
a constant (`-max_val`). The tape recomputes those constants from their logits, so a recompute gives
the same floats, bit for bit, as recording again with the nudged value (tests/engine/gradient/test_nudge.py).
A node whose new value equals its old one stops the recompute there (its parents see no change).
"""

import heapq
import math
from dataclasses import dataclass

MAX_VAL = '-max_val'  # the name of softmax's recorded constant (engine.model.softmax)


def forward(op, a, b=None):
    """The forward rule of a recorded op on its children's data, exactly as engine.value.Value computes it."""
    if op == '+':
        return a + b
    if op == '*':
        return a * b
    if op == 'exp':
        return math.exp(a)
    if op == 'log':
        return math.log(a)
    if op == 'relu':
        return max(0, a)
    if op.startswith('**'):
        k = op[2:]
        return a ** (int(k) if k.lstrip('-').isdigit() else float(k))
    raise ValueError(f'{op!r} has no forward rule')


def _same(a, b):
    """Equal as floats, zero's sign included (1/x tells 0.0 from -0.0)."""
    return a == b and (a != 0 or math.copysign(1, a) == math.copysign(1, b))


@dataclass(frozen=True)
class Nudge:
    node: int
    h: float
    loss: float        # L(x)
    loss_plus: float   # L(x + h)
    loss_minus: float  # L(x - h)
    numeric: float     # (L(x+h) - L(x-h)) / 2h
    changed: dict      # node id -> data after x + h, for the nodes whose data changed

    def relative_difference(self, grad):
        return relative_error(self.numeric, grad)


def relative_error(numeric, analytic):
    """|numeric - analytic| / max(|numeric|, |analytic|); 0 when both are 0."""
    scale = max(abs(numeric), abs(analytic))
    return abs(numeric - analytic) / scale if scale else 0.0


class Tape:
    """A Trace's forward pass as data to recompute from any node."""

    def __init__(self, trace):
        self.trace = trace
        self.parents = trace.parents
        # softmax's constants: each `-max_val` node recomputed from the logits of its softmax
        groups = {}
        for i, name in enumerate(trace.names):
            if name == MAX_VAL and not trace.children[i]:
                groups.setdefault(trace.scope_of[i], []).append(i)
        self.max_logits = {}    # -max_val node -> the logits it is the max of
        self.max_consts = {}    # logit -> the -max_val nodes that depend on it
        for consts in groups.values():
            logits = tuple(trace.children[self.parents[c][0]][0] for c in consts)
            for c in consts:
                self.max_logits[c] = logits
            for logit in logits:
                self.max_consts.setdefault(logit, []).extend(consts)

    def recompute(self, overrides, data=None):
        """{node: new data} -> ({node: new data} of every node that changed, loss). `data` defaults to the trace's."""
        trace = self.trace
        data = trace.data if data is None else data
        op_of, children_of, parents_of = trace.op, trace.children, self.parents
        max_logits, max_consts = self.max_logits, self.max_consts
        new = dict(overrides)
        heap = []
        queued = set()

        def push(node):
            for p in parents_of[node]:
                if p not in queued:
                    queued.add(p)
                    heapq.heappush(heap, p)
            for c in max_consts.get(node, ()):
                if c not in queued:
                    queued.add(c)
                    heapq.heappush(heap, c)

        for node in overrides:
            push(node)
        while heap:
            i = heapq.heappop(heap)
            if i in overrides:
                continue
            if i in max_logits:
                value = -max(new[j] if j in new else data[j] for j in max_logits[i])
            else:
                ch = children_of[i]
                a = new[ch[0]] if ch[0] in new else data[ch[0]]
                if len(ch) == 2:
                    b = new[ch[1]] if ch[1] in new else data[ch[1]]
                    value = forward(op_of[i], a, b)
                else:
                    value = forward(op_of[i], a)
            if not _same(value, data[i]):
                new[i] = value
                push(i)
        loss = new.get(trace.loss_id, data[trace.loss_id])
        return new, loss

    def full_recompute(self, overrides):
        """Every node's data recomputed from the leaves, in id order (the reference `recompute` must match)."""
        trace = self.trace
        data = list(trace.data)
        for i in range(len(data)):
            if i in overrides:
                data[i] = overrides[i]
            elif i in self.max_logits:
                data[i] = -max(data[j] for j in self.max_logits[i])
            elif trace.children[i]:
                data[i] = forward(trace.op[i], *(data[c] for c in trace.children[i]))
        return data

    def loss_at(self, node, value):
        """The loss with `node` set to `value`."""
        return self.recompute({node: value})[1]

    def nudge(self, node, h):
        """Set `node` to x + h and to x - h: the new losses, the central difference, what changed at x + h."""
        x = self.trace.data[node]
        changed, plus = self.recompute({node: x + h})
        minus = self.loss_at(node, x - h)
        return Nudge(node, h, self.trace.loss, plus, minus, (plus - minus) / (2 * h), changed)
