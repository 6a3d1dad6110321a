"""Nudging one scalar of a recorded forward pass and recomputing what depends on it, on the tape.

`Tape(trace).recompute({node: value})` gives every node's data after setting `node` to `value`: only the
node's descendants are recomputed, in creation (topological) order, each with its op's forward rule
as `Value` computes it (`a + b`, `a * b`, `a**k`, `math.log`, `math.exp`, `max(0, a)`). One recorded
number is not an op: softmax's `max_val = max(val.data for val in logits)`, which microgpt subtracts as
a constant (`-max_val`). The tape recomputes those constants from their logits, so a recompute gives
the same floats, bit for bit, as recording again with the nudged value (tests/engine/gradient/test_nudge.py).
A node whose new value equals its old one stops the recompute there (its parents see no change).
A value at which the forward pass has no real, finite result (the log of a negative number, a negative number
to the power -0.5, an exp that overflows) raises NotEvaluable, an EngineError that says which node and why; so
does an h lost to rounding (x + h == x), which would report a central difference of 0.
"""

import heapq
import math
from dataclasses import dataclass

from engine.errors import EngineError
from engine.numbers import exact, shown
from engine.value import gelu_and_grad, gelu_erf_and_grad, silu_and_grad

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
    if op == 'gelu':
        return gelu_and_grad(a)[0]
    if op == 'gelu-erf':
        return gelu_erf_and_grad(a)[0]
    if op == 'silu':
        return silu_and_grad(a)[0]
    if op.startswith('**'):
        k = op[2:]
        y = a ** (int(k) if k.lstrip('-').isdigit() else float(k))
        if isinstance(y, complex):  # Value would carry the complex number on; the loss would be complex
            raise ValueError('a negative number to a fractional power is not a real number')
        return y
    raise ValueError(f'{op!r} has no forward rule')


def max_constants(trace):
    """{-max_val node: the logits of its softmax}: softmax's recorded constants, each recomputed from
    the logits it is minus the max of (in their order, as `max` went through them)."""
    groups = {}
    for i, name in enumerate(trace.names):
        if name == MAX_VAL and not trace.children[i]:
            groups.setdefault(trace.scope_of[i], []).append(i)
    out, parents = {}, trace.parents
    for consts in groups.values():
        logits = tuple(trace.children[parents[c][0]][0] for c in consts)
        for c in consts:
            out[c] = logits
    return out


class NotEvaluable(EngineError):
    """A nudged value at which the loss has no real, finite value; `why` says which node fails and how."""

    def __init__(self, why, prefix='The loss'):
        super().__init__(f'{prefix} cannot be evaluated: {why}.')
        self.why = why


def _why(trace, node, a, error):
    """Why `node` has no value when its (first) child's data is `a`: 'pos 0 · log(probs[target]) would be
    log(-0.04876), the log of a negative number'."""
    op = trace.op[node]
    what = f'{trace.qualified_name(node)} would be'
    if op == 'log':
        return f'{what} log(0), −∞' if a == 0 else f'{what} log({shown(a)}), the log of a negative number'
    if op == 'exp':
        return f'{what} exp({shown(a)}), more than the largest float'
    if op.startswith('**'):
        if isinstance(error, ZeroDivisionError):
            return f'{what} 0{op}, a division by zero'
        if isinstance(error, OverflowError):
            return f'{what} ({shown(a)}){op}, more than the largest float'
        return f'{what} ({shown(a)}){op}, which is not a real number'
    return f'{what} {op}({shown(a)}): {error}'


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
        self.max_logits = max_constants(trace)  # -max_val node -> the logits it is the max of
        self.max_consts = {}                     # logit -> the -max_val nodes that depend on it
        for c, logits in self.max_logits.items():
            for logit in logits:
                self.max_consts.setdefault(logit, []).append(c)

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
                try:
                    if len(ch) == 2:
                        b = new[ch[1]] if ch[1] in new else data[ch[1]]
                        value = forward(op_of[i], a, b)
                    else:
                        value = forward(op_of[i], a)
                except (ArithmeticError, ValueError) as e:  # log(-1), exp(1000), (-1)**-0.5, 0**-1
                    raise NotEvaluable(_why(trace, i, a, e)) from None
            if not _same(value, data[i]):
                new[i] = value
                push(i)
        loss = new.get(trace.loss_id, data[trace.loss_id])
        if not math.isfinite(loss):  # inf reached without an exception (x + h, a sum, a product overflowing)
            first = min(i for i, v in new.items() if not math.isfinite(v))
            raise NotEvaluable(f'{trace.qualified_name(first)} would be {new[first]}, not a finite number')
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
        """Set `node` to x + h and to x - h: the new losses, the central difference, what changed at x + h.
        EngineError (one sentence) when h is lost to rounding at x or the loss cannot be evaluated at x ± h."""
        x = self.trace.data[node]
        for side, value in (('+', x + h), ('−', x - h)):
            if value == x:
                raise EngineError(f'h = {h:g} is lost to rounding at x = {exact(x)}: x {side} h == x, because floats '
                                  f'near x are {math.ulp(x):.3g} apart; use a larger h, e.g. {_usable_h(x):g}.')
        changed, plus = self._at(node, '+', x + h)
        minus = self._at(node, '−', x - h)[1]
        return Nudge(node, h, self.trace.loss, plus, minus, (plus - minus) / (2 * h), changed)

    def _at(self, node, side, value):
        try:
            return self.recompute({node: value})
        except NotEvaluable as e:
            raise NotEvaluable(e.why, f'At x {side} h = {shown(value)} the loss') from None


def _usable_h(x):
    """An h a central difference at x can use: 1e-5 (near the square root of float precision), times x's
    power of ten when |x| > 1."""
    return 10.0 ** (math.floor(math.log10(max(1.0, abs(x)))) - 5)
