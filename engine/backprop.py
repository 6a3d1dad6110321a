"""Stepping through backpropagation one node at a time, forward and back, exactly.

The Stepper walks a Trace's `backward_order` (the order `Value.backward()` uses). Step 0 seeds
`grad(loss) = 1`; step k ≥ 1 applies `child.grad += local_grad * node.grad` for every child of the
k-th node. Each step remembers the grads it overwrote, so `back()` restores them bit for bit.
"""

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
            children = children_of[node]
            before_log.append(tuple(grads[c] for c in children))
            for child, local_grad in zip(children, local_grads_of[node]):
                grads[child] += local_grad * node_grad
                arrived[child] += 1
            self.position += 1
        return self.position

    def reset(self):
        """Back to the start: every grad 0, the loss's grad of 1 not yet applied."""
        self.position = 0
        self.grads = [0] * len(self.trace.op)
        self.arrived = [0] * len(self.trace.op)
        self._before = []

    def run_to_end(self):
        return self.seek(self.total)
