"""The same document's recording with other weights of the same model (another step of its training run),
recomputed on its tape instead of recorded again.

The recorded graph of a document does not depend on the weights: the same nodes, ops, children, scopes
and names, in the same order (`_kept_nodes` keeps what the loss depends on, and that is the structure).
Only the numbers change: every node's data and local gradients, and the attention weights. `Retracer`
recomputes them node by node in creation order with each op's forward rule and local gradients exactly
as engine.value.Value computes them (`a * b` and `(b, a)`, `a**k` and `(k * a**(k-1),)`, `math.log(a)`
and `(1/a,)`, …), and softmax's recorded `-max_val` constant from its logits, so the Trace it gives is
the one `engine.trace.record` gives with those weights, float for float (tests/engine/test_retrace.py);
it is about eight times faster, and shares every structural part (and what Trace caches about them)
with the trace it started from.
"""

import dataclasses
import math

from engine.gradient.nudge import max_constants
from engine.doc_notes import not_evaluable
from engine.value import gelu_and_grad, gelu_erf_and_grad, silu_and_grad

# Trace's cached properties: all of them describe the structure, so a retraced Trace keeps them
STRUCTURAL_CACHES = ('parents', '_scope_ids', '_sum_names', '_sum_starts', 'all_names', '_position_of_scope')

_PARAM, _CONST, _MAX, _ADD, _MUL, _POW, _EXP, _LOG, _RELU, _GELU, _GELU_ERF, _SILU = range(12)
_KINDS = {'+': _ADD, '*': _MUL, 'exp': _EXP, 'log': _LOG, 'relu': _RELU, 'gelu': _GELU, 'gelu-erf': _GELU_ERF,
          'silu': _SILU}


def _exponent(op):
    """The k of a '**k' op, as Value.__pow__ was given it (an int for '**-1', a float for '**-0.5')."""
    k = op[2:]
    return int(k) if k.lstrip('-').isdigit() else float(k)


class Retracer:
    """`Retracer(trace)(model)`: `trace`'s document recorded with `model`'s weights (same config and
    vocabulary), by recomputing its numbers; the plan is made once and serves every step."""

    def __init__(self, trace):
        self.trace = trace
        self.max_logits = max_constants(trace)   # -max_val node -> the logits it is minus the max of
        plan = []
        for i, op in enumerate(trace.op):
            if i in trace.params:
                plan.append((_PARAM, trace.params[i]))
            elif i in self.max_logits:
                plan.append((_MAX, self.max_logits[i]))
            elif not trace.children[i]:
                plan.append((_CONST, None))
            elif op.startswith('**'):
                plan.append((_POW, _exponent(op)))
            elif op in _KINDS:
                plan.append((_KINDS[op], None))
            else:
                raise ValueError(f'{op!r} has no forward rule')
        self.plan = tuple(plan)

    def fits(self, model, doc):
        """Whether `model` records `doc` into this structure: the same document, config and vocabulary."""
        trace = self.trace
        return doc == trace.doc and model.config == trace.config and model.tokenizer.vocabulary_text() == trace.vocabulary

    def __call__(self, model, like=None):
        """The Trace of the same document through `model`; the EngineError `record` raises where these
        weights cannot be evaluated (a log of 0, an overflow). `like`, a trace of the same structure (the
        one shown), lends what it has cached about the structure, so what one step worked out serves the next."""
        trace = self.trace
        if not self.fits(model, trace.doc):
            raise ValueError('a retrace needs the config and vocabulary the document was recorded with')
        state = model.state_dict
        data, local = list(trace.data), list(trace.local_grads)
        children = trace.children
        exp, log = math.exp, math.log
        i = 0
        try:
            for i, (kind, arg) in enumerate(self.plan):
                if kind == _ADD:
                    a, b = children[i]
                    data[i] = data[a] + data[b]  # local gradients (1, 1) whatever the numbers
                elif kind == _MUL:
                    a, b = children[i]
                    a, b = data[a], data[b]
                    data[i] = a * b
                    local[i] = (b, a)
                elif kind == _PARAM:
                    name, row, col = arg
                    data[i] = state[name][row][col].data
                elif kind == _CONST:
                    continue
                elif kind == _MAX:
                    data[i] = -max(data[j] for j in arg)
                else:
                    a = data[children[i][0]]
                    if kind == _POW:
                        data[i] = a ** arg
                        local[i] = (arg * a ** (arg - 1),)
                    elif kind == _EXP:
                        data[i] = exp(a)
                        local[i] = (exp(a),)
                    elif kind == _LOG:
                        data[i] = log(a)
                        local[i] = (1 / a,)
                    elif kind == _GELU:
                        data[i], dy = gelu_and_grad(a)
                        local[i] = (dy,)
                    elif kind == _GELU_ERF:
                        data[i], dy = gelu_erf_and_grad(a)
                        local[i] = (dy,)
                    elif kind == _SILU:
                        data[i], dy = silu_and_grad(a)
                        local[i] = (dy,)
                    else:
                        data[i] = max(0, a)
                        local[i] = (float(a > 0),)
        except (ValueError, OverflowError, ZeroDivisionError) as e:  # as record's forward pass fails
            pos = trace.position(i)
            raise not_evaluable(model, trace.doc, trace.tokens, trace.n - 1 if pos is None else pos, e) from None
        attention = tuple(tuple(tuple(tuple(data[w] for w in row) for row in head) for head in layer)
                          for layer in trace.attention_ids)
        new = dataclasses.replace(trace, data=tuple(data), local_grads=tuple(local), attention=attention)
        for source in (trace, like) if like is not None else (trace,):
            for name in STRUCTURAL_CACHES:
                if name in source.__dict__:
                    new.__dict__[name] = source.__dict__[name]
        return new
