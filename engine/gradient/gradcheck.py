"""Checking every parameter's gradient against central differences.

For each parameter p: numeric = (L(p + h) - L(p - h)) / 2h, in float64, beside the analytic gradient that
backprop over the recorded trace gives (what `trace` reports). h = 1e-4 (H). The central difference's
error is its truncation, h²·L'''/6, plus rounding, ~ε·|L|/h (ε = 2.2e-16, L ≈ 3: 6e-12 at h = 1e-4).
The absolute error is least near h = (3ε)^(1/3) ≈ 1e-5, but the relative error, which is what is
compared, is set by the smallest gradients (~1e-6), where rounding dominates; so a larger h is better
while truncation stays small. Measured on 'emma' over all parameters (max relative error):
h = 1e-6: 6.3e-5, h = 1e-5: 7.2e-6, h = 1e-4: 4.5e-7 (largest absolute error 2.9e-9).

L(p ± h) comes from the cheaper of two exact ways: the tape (engine.gradient.nudge.Tape), which recomputes
only what p reaches and stops where nothing changes (an lm_head weight: a few hundred nodes), or
training's own fused forward pass (engine.model.FAST, bit for bit the recorded loss), when p reaches
most of the graph (an attention weight). A matrix goes the tape's way while its first used weight
reaches at most TAPE_LIMIT nodes. A parameter the document never uses (a row of wte for a letter not in
it, wpe past its length) has numeric 0.0 without computing: the loss does not depend on it.
"""

from dataclasses import dataclass

from engine.backprop import Stepper
from engine.model import FAST, Model, finish
from engine.gradient.nudge import Tape, relative_error
from engine.trace import record

H = 1e-4
TAPE_LIMIT = 3000  # nodes a tape recompute may touch before the fused forward pass is cheaper (~5 ms)


@dataclass(frozen=True)
class ParamCheck:
    name: str        # 'layer0.attn_wq[3][5]'
    node: int        # its node id in the trace, or -1 when the document does not use it
    analytic: float  # its gradient, as `trace` reports it
    numeric: float   # (L(p+h) - L(p-h)) / 2h

    @property
    def rel_error(self):
        return relative_error(self.numeric, self.analytic)


@dataclass(frozen=True)
class GradCheck:
    h: float
    params: tuple    # ParamCheck, in the model's order (param_shapes)

    @property
    def max_rel_error(self):
        return max((p.rel_error for p in self.params), default=0.0)

    def worst(self, k=20):
        return sorted(self.params, key=lambda p: -p.rel_error)[:k]

    def to_json(self):
        return {'h': self.h, 'max_rel_error': self.max_rel_error,
                'params': [{'name': p.name, 'analytic': p.analytic, 'numeric': p.numeric} for p in self.params]}


def analytic_grads(trace):
    """Every node's gradient after the full backward pass over the trace (the Stepper, as `trace` runs it)."""
    stepper = Stepper(trace)
    stepper.run_to_end()
    return stepper.grads


def iter_gradcheck(model, trace, grads=None, h=H, only=None):
    """Yields (parameters done, total) as it goes; returns the GradCheck. `grads` defaults to analytic_grads;
    `only` (a set of parameter names) checks just those."""
    grads = analytic_grads(trace) if grads is None else grads
    node_of = {trace.param_name(node): node for node in trace.params}
    tape = Tape(trace)
    copy = Model.from_floats(model.config, model.tokenizer, model.floats())  # nudged in place, restored exactly
    tokens, n = copy.positions(trace.doc)
    total = sum(len(row) for mat in copy.state_dict.values() for row in mat) if only is None else len(only)
    done, out = 0, []
    for matrix, rows in copy.state_dict.items():
        use_tape = None  # decided by the matrix's first used weight
        for r, row in enumerate(rows):
            for c, p in enumerate(row):
                name = f'{matrix}[{r}][{c}]'
                if only is not None and name not in only:
                    continue
                node = node_of.get(name, -1)
                if node < 0:
                    out.append(ParamCheck(name, -1, 0.0, 0.0))
                else:
                    x = trace.data[node]
                    if use_tape is None:
                        changed, plus = tape.recompute({node: x + h})
                        use_tape = len(changed) <= TAPE_LIMIT
                        minus = tape.loss_at(node, x - h)
                    elif use_tape:
                        plus, minus = tape.loss_at(node, x + h), tape.loss_at(node, x - h)
                    else:
                        p.data = x + h
                        plus = copy.loss(tokens, n, FAST).data
                        p.data = x - h
                        minus = copy.loss(tokens, n, FAST).data
                        p.data = x
                    out.append(ParamCheck(name, node, float(grads[node]), (plus - minus) / (2 * h)))
                done += 1
                yield done, total
    return GradCheck(h, tuple(out))


def gradcheck_process(config, tokenizer, floats, doc, messages, report_every=64, only=None):
    """The whole check in a child process (the app's Gradcheck: no GIL shared with the window, killable):
    records `doc` under the weights, then puts ('progress', done, total) every `report_every` parameters
    and ('done', h, [(name, node, analytic, numeric)]) or ('failed', sentence) on `messages`; `only` as
    iter_gradcheck's; `tokenizer`: the model's (characters or a BPE, each pickled as its vocabulary)."""
    try:
        model = Model.from_floats(config, tokenizer, floats)
        trace = record(model, doc)

        def report(progress):
            done, total = progress
            if done % report_every == 0 or done == total:
                messages.put(('progress', done, total))
        result = finish(iter_gradcheck(model, trace, only=only), report)
        messages.put(('done', result.h, [(p.name, p.node, p.analytic, p.numeric) for p in result.params]))
    except Exception as e:  # one sentence for the panel; the window carries on
        messages.put(('failed', f'{type(e).__name__}: {e}'))
