"""Stepping through backpropagation one node at a time, forward and back, exactly.

The Stepper walks a Trace's `backward_order` (the order `Value.backward()` uses). Step 0 seeds
`grad(loss) = 1`; step k ≥ 1 applies `child.grad += local_grad * node.grad` for every child of the
k-th node. Each step remembers the grads it overwrote, so `back()` restores them bit for bit.

`Schedule` says, for every node, at which position its own step is applied and at which position
the gradient first reaches it, so that a group can be stepped over and a breakpoint found without
stepping to look.
"""

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class Contribution:
    child: int          # node id
    local_grad: float   # d(node)/d(child)
    contribution: float # local_grad * grad(node)
    grad_before: float
    grad_after: float


@dataclass(frozen=True)
class StepRecord:
    step: int              # 1-based number of this step; the stepper's position after it
    node: int              # the node whose chain rule was applied (the loss for the seed step)
    node_grad: float       # grad(node) when it was applied
    seed: bool             # True for the first step, which sets grad(loss) = 1
    contributions: tuple   # one Contribution per child, in order


class Stepper:
    """Backprop over a Trace, one step at a time; grads live in `self.grads`, indexed by node id."""

    def __init__(self, trace):
        self.trace = trace
        self.order = trace.backward_order
        self.total = len(self.order) + 1         # the seed, then one step per node
        self.position = 0                        # steps applied so far
        self.grads = [0] * len(trace.op)         # Value.grad starts at int 0, as in microgpt
        self.arrived = [0] * len(trace.op)       # contributions received so far
        self._before = []                        # per applied step: the grads it overwrote

    @property
    def at_end(self):
        return self.position == self.total

    def current_node(self):
        """The node the next step will apply, or None at the end."""
        if self.position == 0:
            return self.trace.loss_id
        return None if self.at_end else self.order[self.position - 1]

    def step(self):
        """Apply the next step and return its StepRecord (None at the end)."""
        if self.at_end:
            return None
        trace, grads, arrived = self.trace, self.grads, self.arrived
        if self.position == 0:
            loss = trace.loss_id
            self._before.append((grads[loss],))
            grads[loss] = 1
            self.position = 1
            return StepRecord(1, loss, 1, True, ())
        node = self.order[self.position - 1]
        node_grad = grads[node]
        before = []
        contributions = []
        for child, local_grad in zip(trace.children[node], trace.local_grads[node]):
            old = grads[child]
            before.append(old)
            grads[child] += local_grad * node_grad
            arrived[child] += 1
            contributions.append(Contribution(child, local_grad, local_grad * node_grad, old, grads[child]))
        self._before.append(tuple(before))
        self.position += 1
        return StepRecord(self.position, node, node_grad, False, tuple(contributions))

    def back(self):
        """Undo the last step exactly; returns the position reached (None at the start)."""
        if self.position == 0:
            return None
        before = self._before.pop()
        self.position -= 1
        if self.position == 0:
            self.grads[self.trace.loss_id] = before[0]
            return 0
        node = self.order[self.position - 1]
        children = self.trace.children[node]
        for child, old in zip(reversed(children), reversed(before)):
            self.grads[child] = old
            self.arrived[child] -= 1
        return self.position

    def seek(self, position):
        """Step forward or back to `position` (0..total)."""
        position = max(0, min(self.total, position))
        while self.position > position:
            self.back()
        if self.position == 0 and position > 0:
            self.step()
        trace, grads, arrived, order, before_log = self.trace, self.grads, self.arrived, self.order, self._before
        children_of, local_grads_of = trace.children, trace.local_grads
        while self.position < position:  # the loop of step() without building records
            node = order[self.position - 1]
            node_grad = grads[node]
            before = []
            for child, local_grad in zip(children_of[node], local_grads_of[node]):
                before.append(grads[child])  # read child by child: x*x updates x twice
                grads[child] += local_grad * node_grad
                arrived[child] += 1
            before_log.append(tuple(before))
            self.position += 1
        return self.position

    def last_record(self):
        """The StepRecord of the last applied step, rebuilt from the state (None at the start)."""
        if self.position == 0:
            return None
        if self.position == 1:
            return StepRecord(1, self.trace.loss_id, 1, True, ())
        node = self.order[self.position - 2]
        node_grad = self.grads[node]  # final once applied: every parent came before it
        contributions = tuple(
            Contribution(child, local, local * node_grad, old, old + local * node_grad)
            for child, local, old in zip(self.trace.children[node], self.trace.local_grads[node], self._before[-1]))
        return StepRecord(self.position, node, node_grad, False, contributions)

    def last_node(self):
        """The node of the last applied step: the loss after the seed, None at the start."""
        if self.position == 0:
            return None
        return self.trace.loss_id if self.position == 1 else self.order[self.position - 2]

    def reset(self):
        """Back to the start: every grad 0, the loss's grad of 1 not yet applied."""
        self.position = 0
        self.grads = [0] * len(self.trace.op)
        self.arrived = [0] * len(self.trace.op)
        self._before = []

    def run_to_end(self):
        return self.seek(self.total)


class Schedule:
    """When each node's step is applied and when the gradient first reaches it, as stepper positions."""

    def __init__(self, trace):
        n = len(trace.op)
        self.total = len(trace.backward_order) + 1
        applied_at = [0] * n                # the position right after the node's own step
        for i, node in enumerate(trace.backward_order, 2):  # position 1 is the seed
            applied_at[node] = i
        reached_at = [self.total + 1] * n   # the position after which the node holds a contribution
        reached_at[trace.loss_id] = 1
        needed = [0] * n                    # contributions a node's grad is the sum of
        children_of = trace.children
        for node in trace.backward_order:   # parents before children: the first parent to apply reaches it
            at = applied_at[node]
            for child in children_of[node]:
                needed[child] += 1
                if reached_at[child] > at:
                    reached_at[child] = at
        self.applied_at, self.reached_at, self.needed = applied_at, reached_at, needed

    def steps(self, nodes):
        """The sorted positions at which `nodes` are applied, for `done_count`."""
        return sorted(self.applied_at[n] for n in nodes)

    @staticmethod
    def done_count(steps, position):
        """How many of a group's nodes (given by `steps`) are applied at `position`."""
        return bisect.bisect_right(steps, position)

    def reached(self, nodes):
        """The first position at which any of `nodes` holds a gradient."""
        return min(self.reached_at[n] for n in nodes)


def rule(op):
    """The local gradient of an op, as a formula: 'mul: ∂(a·b)/∂a = b, ∂(a·b)/∂b = a'."""
    if op.startswith('**'):
        n = op[2:]
        return f'pow: ∂(a^{n})/∂a = {n}·a^({n}-1)'
    return RULES.get(op, f'{op}: a leaf; it passes nothing on')


def local_symbol(op, i):
    """The local gradient to child i in the terms of `rule`: 'b' for the first child of a mul."""
    if op.startswith('**'):
        return f'{op[2:]}·a^({op[2:]}-1)'
    return LOCAL_SYMBOLS[op][i]


LOCAL_SYMBOLS = {'+': ('1', '1'), '*': ('b', 'a'), 'exp': ('e^a',), 'log': ('1/a',), 'relu': ('1 if a>0',),
                 'gelu': ('½(1+t) + ½a(1−t²)·c(1+3k·a²)',), 'gelu-erf': ('Φ(a) + a·φ(a)',), 'silu': ('σ(a)(1 + a(1−σ(a)))',)}
RULES = {
    '+': 'add: ∂(a+b)/∂a = 1, ∂(a+b)/∂b = 1',
    '*': 'mul: ∂(a·b)/∂a = b, ∂(a·b)/∂b = a',
    'exp': 'exp: ∂(e^a)/∂a = e^a',
    'log': 'log: ∂(log a)/∂a = 1/a',
    'relu': 'relu: ∂relu(a)/∂a = 1 if a>0 else 0',
    'gelu': 'gelu: ∂gelu(a)/∂a = ½(1+t) + ½a(1−t²)·c(1+3k·a²), t = tanh(c(a + k·a³)), c = √(2/π), k = 0.044715',
    'gelu-erf': 'gelu-erf: ∂(a·Φ(a))/∂a = Φ(a) + a·φ(a), Φ(a) = ½(1 + erf(a/√2)), φ(a) = e^(−a²/2)/√(2π)',
    'silu': 'silu: ∂(a·σ(a))/∂a = σ(a)·(1 + a·(1 − σ(a))), σ(a) = 1/(1 + e^−a)',
    'param': 'param: a leaf; its grad is what Adam uses',
    'const': 'const: a literal; its grad is computed and never used',
}
