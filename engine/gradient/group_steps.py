"""Group steps by the model's structure, and what each group's backward pass did, with its numbers.

A *unit* is one stage of the model at one position (`pos 4 / softmax`, `pos 4 / layer 0 / mlp / fc2`,
`pos 4 / layer 0 / attention / head 1`, …), the loss's mean and sum, or one weight matrix. It is
*complete* at the stepper position after which every scalar in it has had its chain rule applied; the
units are listed in that order, which is backprop's own: the loss's mean, then position n-1 from its
-log p down to its embedding, then n-2, …; microgpt's depth-first order finishes a few units late
(`wo` after most heads, because its first dot products reach deep into them), and the weights last.
What is on screen never changes the units.

`summary(trace, grads, unit)` writes out the group's backward pass as the identity it implements
(`∂L/∂logits = (probs − onehot(target))/n`, `∂L/∂x = Wᵀ·∂L/∂y`, …), computes it from the forward
values and the gradient arriving at the group's output, and sets it beside what the stepper actually
computed, scalar by scalar (`Check`).
"""

import bisect
from dataclasses import dataclass

from engine.backprop import Schedule
from engine.graph.grouping import Hierarchy
from engine.graph.keys import is_matrix_path, is_weight_path
from engine.gradient import block_steps
from engine.gradient.summary_parts import Check, Marked, Summary, Table, cell_text, top_rows  # noqa: F401  (cell_text: the panels')
from engine.numbers import shown

LINEARS = {'q', 'k', 'v', 'wo', 'fc1', 'fc2', 'fc3', 'lm_head'}
MATRIX_OF = {'q': 'attn_wq', 'k': 'attn_wk', 'v': 'attn_wv', 'wo': 'attn_wo', 'fc1': 'mlp_fc1', 'fc2': 'mlp_fc2',
             'fc3': 'mlp_fc3'}


@dataclass(frozen=True)
class Unit:
    scope: int   # the scope whose backward pass this unit is
    kind: str    # 'mean', 'sum', 'nll', 'softmax', 'linear', 'relu', 'residual', 'embed', 'rmsnorm', 'head', 'matrix'
    end: int     # the stepper position after which all of it is applied
    path: str    # 'pos 4 / layer 0 / mlp / fc2'


def unit_kind(path):
    """The kind of unit a scope path is, or None if it is not one."""
    parts = path.split(' / ')
    name = parts[-1]
    if path == 'loss':
        return 'mean'
    if path == 'loss / sum':
        return 'sum'
    if is_weight_path(path):
        return 'matrix' if is_matrix_path(path) else None
    if not parts[0].startswith('pos '):
        return None
    if len(parts) == 2:
        return {'-log p': 'nll', 'softmax': 'softmax', 'lm_head': 'linear'}.get(name)
    if len(parts) == 3 and parts[1] in ('embedding', 'final norm'):
        return {'rmsnorm': 'rmsnorm', 'layernorm': 'layernorm', 'tok + pos': 'embed'}.get(name)
    if len(parts) == 4 and parts[1].startswith('layer '):
        if name in LINEARS:
            return 'linear'
        return {'residual': 'residual', 'relu': 'relu', 'gelu': 'gelu', 'rmsnorm': 'rmsnorm', 'layernorm': 'layernorm',
                'rope': 'rope', 'swiglu': 'swiglu'}.get(name) or (
            'head' if name.startswith('head ') else None)
    return None


def unit_nodes(hierarchy, unit_or_scope, kind=None):
    """The scalars of a unit, in creation order (the mean: only its own, not its sum's)."""
    scope = getattr(unit_or_scope, 'scope', unit_or_scope)
    kind = kind or getattr(unit_or_scope, 'kind', None) or unit_kind(hierarchy.trace.scopes[scope].path)
    return sorted(hierarchy.direct[scope] if kind == 'mean' else hierarchy.nodes_in(scope))


def units(trace, schedule=None, hierarchy=None):
    """Every unit of a recording, in the order backprop completes them (by `end`)."""
    schedule = schedule or Schedule(trace)
    hierarchy = hierarchy or Hierarchy(trace)
    out = []
    for s, scope in enumerate(trace.scopes):
        kind = unit_kind(scope.path)
        if kind is None:
            continue
        nodes = unit_nodes(hierarchy, s, kind)
        if nodes:
            out.append(Unit(s, kind, max(schedule.applied_at[n] for n in nodes), scope.path))
    out.sort(key=lambda u: (u.end, u.scope))
    return out


class UnitSteps:
    """Moving by units: the next and previous unit end from a stepper position."""

    def __init__(self, unit_list):
        self.units = list(unit_list)
        self.ends = [u.end for u in self.units]

    def next_end(self, position):
        """The first unit end after `position`, or None."""
        i = bisect.bisect_right(self.ends, position)
        return self.ends[i] if i < len(self.ends) else None

    def previous_end(self, position):
        """The last unit end before `position`, or None."""
        i = bisect.bisect_left(self.ends, position)
        return self.ends[i - 1] if i > 0 else None

    def ending_at(self, position):
        """The units completed exactly at `position` (usually one, or none)."""
        i = bisect.bisect_left(self.ends, position)
        out = []
        while i < len(self.ends) and self.ends[i] == position:
            out.append(self.units[i])
            i += 1
        return out


def under_way(hierarchy, schedule, unit_list, position):
    """The units begun but not complete at stepper `position`, as (unit, scalars applied, scalars): microgpt's
    depth-first backward reaches into the stages below a unit before the unit's last scalar, so a group step
    that completes a softmax has applied most of the lm_head beneath it too. Most applied first."""
    out = []
    for unit in unit_list:
        if unit.end <= position or unit.kind == 'matrix':
            continue
        nodes = unit_nodes(hierarchy, unit)
        done = sum(1 for n in nodes if schedule.applied_at[n] <= position)
        if 0 < done < len(nodes):
            out.append((unit, done, len(nodes)))
    return sorted(out, key=lambda t: -t[1])


# Summaries

class _Unit:
    """Reading one unit's scalars out of the trace: its vectors, in index order, and what the stepper sent."""

    def __init__(self, trace, hierarchy, grads, scope):
        self.trace, self.h, self.grads, self.scope = trace, hierarchy, grads, scope
        self.path = trace.scopes[scope].path
        self.nodes = sorted(hierarchy.nodes_in(scope))
        self.inside = set(self.nodes)

    def sub(self, name):
        """A child scope by name."""
        for c in self.h.children[self.scope]:
            if self.trace.scopes[c].name == name:
                return c
        raise KeyError(name)

    def subs(self, prefix):
        """Child scopes whose names start with `prefix` ('out[' → out[0], out[1], …), in index order."""
        return [c for c in self.h.children[self.scope] if self.trace.scopes[c].name.startswith(prefix)]

    def last_in(self, scope):
        """The value a scope computes last: its final sum, its output."""
        return max(self.h.nodes_in(scope))

    def inputs(self):
        """Children from outside the unit that are neither constants nor parameters, in order of first use."""
        seen, out = set(), []
        trace = self.trace
        for n in self.nodes:
            for c in trace.children[n]:
                if c not in self.inside and c not in seen and trace.op[c] not in ('const', 'param'):
                    seen.add(c)
                    out.append(c)
        return out

    def sent(self, targets):
        """What the stepper sent from this unit into each target: Σ local_grad × grad(node) over its edges."""
        trace, grads = self.trace, self.grads
        want = {t: 0.0 for t in targets}
        for n in self.nodes:
            for c, local in zip(trace.children[n], trace.local_grads[n]):
                if c in want:
                    want[c] += local * grads[n]
        return [want[t] for t in targets]

    def other_users(self, nodes):
        """Whether any of `nodes` also feeds something outside this unit (then its grad is a sum of more)."""
        return any(p not in self.inside for n in nodes for p in self.trace.parents[n])

    def pos(self):
        return int(self.path.split(' / ')[0].split()[1])

    def data(self, nodes):
        return [self.trace.data[n] for n in nodes]

    def grad(self, nodes):
        return [float(self.grads[n]) for n in nodes]


def summary(trace, grads, unit, hierarchy=None):
    """What `unit`'s backward pass computed, as identities with their numbers (see the module docstring)."""
    hierarchy = hierarchy or Hierarchy(trace)
    u = _Unit(trace, hierarchy, grads, unit.scope)
    return SUMMARIES[unit.kind](u)


def _mean(u):
    trace = u.trace
    n = trace.n
    mul = max(u.h.direct[u.scope])
    total = next(c for c in trace.children[mul] if trace.op[c] != 'const')
    s = Summary(u.path, 'the mean: loss = (1/n)·Σ loss_t')
    s.formulas = [f'∂L/∂(Σ loss_t) = 1/n = 1/{n}']
    s.notes = [f'loss = {shown(trace.loss)}, the mean of −log p over {n} positions; backprop starts from '
               f'∂L/∂L = 1, and the mean sends 1/n = {shown(1 / n)} to the sum, which passes it on to every '
               "position's loss_t."]
    s.checks = [Check('∂L/∂(Σ loss_t) = 1/n', [1 / n], u.sent([total]))]
    return s


def _sum(u):
    trace = u.trace
    n = trace.n
    losses = u.inputs()
    g_total = float(u.grads[u.last_in(u.scope)])
    s = Summary(u.path, 'the sum: Σ loss_t passes its gradient to every term')
    s.formulas = ['∂L/∂loss_t = ∂L/∂(Σ loss_t) · 1 = 1/n, for every position t']
    s.notes = [f'∂L/∂(Σ loss_t) = {shown(g_total)} = 1/{n}: each of the {n} positions gets the same 1/n.']
    rows = [(f'pos {t}', f'{trace.token_texts[t]}→{trace.token_texts[t + 1]}', trace.data[l], float(u.grads[l]))
            for t, l in enumerate(losses)]
    s.tables = [Table('per position', ('position', 'input→target', 'loss_t = −log p', '∂L/∂loss_t'), rows)]
    s.checks = [Check('∂L/∂loss_t = 1/n', [1 / n] * len(losses), u.sent(losses))]
    return s


def _nll(u):
    trace = u.trace
    pos = u.pos()
    log = next(m for m in u.nodes if trace.op[m] == 'log')
    p_node = trace.children[log][0]
    loss_t = u.last_in(u.scope)
    p, g = trace.data[p_node], float(u.grads[loss_t])
    target = trace.token_texts[pos + 1]
    s = Summary(u.path, f'−log p at pos {pos}: loss_t = −log probs[target]')
    s.formulas = ['∂L/∂probs[target] = −(1/probs[target]) · ∂L/∂loss_t']
    s.notes = [f'target {target!r}: probs[target] = {shown(p)}, loss_t = {shown(trace.data[loss_t])}, '
               f'∂L/∂loss_t = {shown(g)} (1/n), so ∂L/∂probs[target] = −{shown(g)}/{shown(p)} = {shown(-g / p)}. '
               'The other probabilities do not reach the loss: only the target\'s is used.']
    s.checks = [Check('∂L/∂probs[target] = −∂L/∂loss_t / p', [-g / p], u.sent([p_node]))]
    return s


def _softmax(u):
    trace = u.trace
    pos, n = u.pos(), trace.n
    exps = [m for m in u.nodes if trace.op[m] == 'exp']
    logits = [trace.children[trace.children[e][0]][0] for e in exps]  # exp(logits[i] - max_val)
    inv = next(m for m in u.nodes if trace.op[m] == '**-1')
    probs = [trace.data[e] * trace.data[inv] for e in exps]  # e / total, as microgpt computes it
    target_id = trace.tokens[pos + 1]
    onehot = [1 if i == target_id else 0 for i in range(len(logits))]
    loss_grad = 1 / n
    expected = [(p - y) * loss_grad for p, y in zip(probs, onehot)]
    # the bigram rung's logits are a row of wte, whose grad gathers every position reading that token
    got = u.sent(logits) if logits[0] in trace.params else u.grad(logits)
    names = [trace.vocabulary[i] if i < len(trace.vocabulary) else 'BOS' for i in range(len(logits))]
    s = Summary(u.path, f'softmax backward at pos {pos}')
    s.formulas = ['∂L/∂logits = (probs − onehot(target)) · ∂L/∂loss_t',
                  f'= (probs − onehot(target)) / n, with n = {n}: microgpt\'s loss is the mean over positions']
    s.notes = [f"target {names[target_id]!r}: probs[target] = {shown(probs[target_id])}; every other logit is pushed "
               f'down by its probability/n, the target\'s up by (1 − p)/n = {shown(-expected[target_id])}.']
    rows = [(names[i], probs[i], onehot[i], probs[i] - onehot[i], expected[i], got[i]) for i in range(len(logits))]
    s.tables = [Table('per token', ('token', 'probs', 'onehot', 'probs − onehot', '÷ n', '∂L/∂logits (stepper)'),
                      rows, target_id)]
    s.checks = [Check('∂L/∂logits = (probs − onehot)/n', expected, got)]
    return s


def _linear(u):
    trace = u.trace
    rows = u.subs(trace.scopes[u.scope].name + '[')
    ys = [u.last_in(r) for r in rows]
    muls = [[m for m in sorted(u.h.nodes_in(r)) if trace.op[m] == '*'] for r in rows]
    params = trace.params
    w_nodes = [[next(c for c in trace.children[m] if c in params) for m in row] for row in muls]
    xs = [next(c for c in trace.children[m] if c not in params) for m in muls[0]]
    W = [[trace.data[w] for w in row] for row in w_nodes]
    x = u.data(xs)
    gy = u.grad(ys)
    n_out, n_in = len(ys), len(xs)
    wt_gy = [sum(W[j][i] * gy[j] for j in range(n_out)) for i in range(n_in)]
    got_x = u.sent(xs)
    dW = [gy[j] * x[i] for j in range(n_out) for i in range(n_in)]
    got_W = u.sent([w for row in w_nodes for w in row])
    matrix = params[w_nodes[0][0]][0]
    name = trace.scopes[u.scope].name
    s = Summary(u.path, f'linear {name}: y = W·x, W = {matrix} ({n_out}×{n_in})')
    s.formulas = ['∂L/∂x = Wᵀ·∂L/∂y', '∂L/∂W += ∂L/∂y·xᵀ']
    s.notes = [f'shapes: x [{n_in}], y [{n_out}], W [{n_out}×{n_in}]; the largest |∂L/∂y| is {shown(max(abs(g) for g in gy))}.']
    if u.other_users(xs):
        s.notes.append('x also feeds other parts (the residual, or q, k, v together): the column ∂L/∂x is this '
                       "linear's share; x's grad adds the rest.")
    top = top_rows(wt_gy)
    s.tables.append(Table(f'∂L/∂x = Wᵀ·∂L/∂y (the {len(top)} largest of {n_in})',
                          ('i', 'x[i]', '(Wᵀ·∂L/∂y)[i]', 'stepper sent'),
                          [(i, x[i], wt_gy[i], got_x[i]) for i in top]))
    big = sorted(sorted(range(len(dW)), key=lambda k: -abs(dW[k]))[:4])
    s.tables.append(Table(f'∂L/∂W += ∂L/∂y·xᵀ (the 4 largest of {n_out * n_in})',
                          ('W[j][i]', '∂L/∂y[j]', 'x[i]', '∂L/∂y·x', 'grad so far'),
                          [(trace.param_name(w_nodes[k // n_in][k % n_in]), gy[k // n_in], x[k % n_in], dW[k],
                            float(u.grads[w_nodes[k // n_in][k % n_in]])) for k in big]))
    s.checks = [Check('∂L/∂x = Wᵀ·∂L/∂y', wt_gy, got_x), Check('∂L/∂W += ∂L/∂y·xᵀ', dW, got_W)]
    block_steps.linear_bias(u, s, ys)
    return s


def _relu(u):
    trace = u.trace
    relus = [m for m in u.nodes if trace.op[m] == 'relu']
    xs = [trace.children[m][0] for m in relus]
    x, gy = u.data(xs), u.grad(relus)
    expected = [g if xi > 0 else 0.0 for xi, g in zip(x, gy)]
    passed = sum(xi > 0 for xi in x)
    s = Summary(u.path, 'relu: y = max(0, x)')
    s.formulas = ['∂L/∂x = ∂L/∂y where x > 0, else 0']
    s.notes = [f'{passed} of {len(x)} inputs are positive: their gradient passes unchanged; the other '
               f'{len(x) - passed} get exactly 0.']
    zeros = tuple(n for n, xi in zip(xs, x) if xi <= 0)
    if zeros:
        siblings = u.h.children[trace.scopes[u.scope].parent]
        fc1 = next((c for c in siblings if trace.scopes[c].name == 'fc1'), u.scope)  # x is fc1's output
        s.marked = [Marked(zeros, fc1, f'the {len(zeros)} inputs with grad exactly 0')]
    top = top_rows(gy)
    s.tables = [Table(f'the {len(top)} largest |∂L/∂y|', ('i', 'x[i]', '∂L/∂y[i]', 'passes', '∂L/∂x[i] (stepper)'),
                      [(i, x[i], gy[i], 'yes' if x[i] > 0 else 'no', float(u.grads[xs[i]])) for i in top])]
    s.checks = [Check('∂L/∂x = ∂L/∂y·[x > 0]', expected, u.sent(xs))]
    return s


def _add(u, embed):
    trace = u.trace
    adds = [m for m in u.nodes if trace.op[m] == '+']
    a = [trace.children[m][0] for m in adds]
    b = [trace.children[m][1] for m in adds]
    gy = u.grad(adds)
    if embed:
        pos = u.pos()
        s = Summary(u.path, f"tok + pos at pos {pos}: x = wte[{trace.token_texts[pos]!r}] + wpe[{pos}]")
        s.formulas = ['∂L/∂wte[token] += ∂L/∂x', '∂L/∂wpe[pos] += ∂L/∂x']
        s.notes = [f'the gradient copies to both rows, {trace.param_name(a[0]).split("[")[0]}'
                   f'[{trace.params[a[0]][1]}] and wpe[{pos}]; a row used at several positions sums them.']
    else:
        s = Summary(u.path, 'residual: x = f(x) + x_residual')
        s.formulas = ['∂L/∂f(x) = ∂L/∂x', '∂L/∂x_residual += ∂L/∂x  (the gradient copies to both)']
        s.notes = ['the residual path carries the gradient past the block unchanged; the block\'s path adds its own '
                   'share later.']
    top = top_rows(gy)
    s.tables = [Table(f'the {len(top)} largest of {len(gy)}', ('i', '∂L/∂x[i]', 'to the first', 'to the second'),
                      [(i, gy[i], u.sent([a[i]])[0], u.sent([b[i]])[0]) for i in top])]
    s.checks = [Check('both inputs receive ∂L/∂x', gy + gy, u.sent(a) + u.sent(b))]
    return s


def _rmsnorm(u):
    trace = u.trace
    scale = next(m for m in u.nodes if trace.op[m] == '**-0.5')
    ys = [m for m in u.h.direct[u.scope] if trace.op[m] == '*' and scale in trace.children[m]]
    ys.sort()
    xs = [trace.children[m][0] for m in ys]
    x, gy, sc = u.data(xs), u.grad(ys), trace.data[scale]
    y = [xi * sc for xi in x]
    d = len(x)
    proj = sum(g * yi for g, yi in zip(gy, y)) / d
    expected = [sc * (g - yi * proj) for g, yi in zip(gy, y)]
    got = u.sent(xs)
    s = Summary(u.path, 'rmsnorm: y = x · s, s = (mean(x²) + 1e-5)^−½')
    s.formulas = ['∂L/∂x = s·(∂L/∂y − y·(y·∂L/∂y)/d)']
    s.notes = [f'd = {d}, s = {shown(sc)}, (y·∂L/∂y)/d = {shown(proj)}: the gradient is scaled by s and loses its '
               'component along y (scaling x does not change y).']
    if u.other_users(xs):
        s.notes.append("x also feeds the residual: the column is rmsnorm's share of x's grad.")
    top = top_rows(expected)
    s.tables = [Table(f'the {len(top)} largest of {d}', ('i', 'x[i]', '∂L/∂y[i]', 'identity ∂L/∂x[i]', 'stepper sent'),
                      [(i, x[i], gy[i], expected[i], got[i]) for i in top])]
    s.checks = [Check('∂L/∂x = s·(∂L/∂y − y·(y·∂L/∂y)/d)', expected, got)]
    return s


def _head(u):
    trace = u.trace
    parts = u.path.split(' / ')
    pos, layer, head = u.pos(), int(parts[1].split()[1]), int(parts[-1].split()[1])
    if not any(trace.scopes[c].name == 'scores' for c in u.h.children[u.scope]):
        return block_steps.uniform_head(u, pos, layer, head)  # the average rung
    scores_scope = u.sub('scores')
    score_nodes = sorted(m for m in u.h.direct[scores_scope] if trace.op[m] == '*')
    dots = u.h.children[scores_scope]
    q_nodes, k_nodes = None, []
    for dscope in dots:
        muls = [m for m in sorted(u.h.nodes_in(dscope)) if trace.op[m] == '*']
        q_nodes = [trace.children[m][0] for m in muls]
        k_nodes.append([trace.children[m][1] for m in muls])
    a_nodes = list(trace.attention_ids[layer][head][pos])
    weighted = u.sub('weighted sum')
    outs = u.h.children[weighted]
    out_nodes = [u.last_in(o) for o in outs]
    v_nodes = []
    for t in range(len(a_nodes)):
        v_nodes.append([next(c for c in trace.children[m] if c != a_nodes[t])
                        for o in outs for m in sorted(u.h.nodes_in(o)) if trace.op[m] == '*' and a_nodes[t] in
                        trace.children[m]])
    T, hd = len(a_nodes), len(out_nodes)
    inv_sqrt = 1 / hd ** 0.5
    a = u.data(a_nodes)
    g = u.grad(out_nodes)
    q = u.data(q_nodes)
    k = [u.data(kt) for kt in k_nodes]
    v = [u.data(vt) for vt in v_nodes]
    da = [sum(g[j] * v[t][j] for j in range(hd)) for t in range(T)]
    mean_da = sum(at * dat for at, dat in zip(a, da))
    ds = [a[t] * (da[t] - mean_da) for t in range(T)]
    dq = [sum(ds[t] * k[t][i] for t in range(T)) * inv_sqrt for i in range(hd)]
    dk = [ds[t] * q[i] * inv_sqrt for t in range(T) for i in range(hd)]
    dv = [a[t] * g[j] for t in range(T) for j in range(hd)]
    s = Summary(u.path, f'attention head {head} at pos {pos}: out = Σ_t weights[t]·v[t]')
    s.formulas = ['∂L/∂weights[t] = ∂L/∂out · v[t]',
                  '∂L/∂scores[t] = weights[t]·(∂L/∂weights[t] − Σ_u weights[u]·∂L/∂weights[u])  (softmax backward)',
                  f'∂L/∂q = Σ_t ∂L/∂scores[t]·k[t]/√{hd}', f'∂L/∂k[t] = ∂L/∂scores[t]·q/√{hd}',
                  '∂L/∂v[t] = weights[t]·∂L/∂out']
    s.notes = [f'{T} keys and values (positions 0…{pos}); Σ_u weights·∂L/∂weights = {shown(mean_da)}. Keys and '
               "values of earlier positions get this head's share here and more from their own position."]
    texts = trace.token_texts
    s.tables = [Table('per key position t', ('t', 'token', 'weights[t]', '∂L/∂weights[t]', 'stepper', '∂L/∂scores[t]',
                                             'stepper'),
                      [(t, texts[t], a[t], da[t], float(u.grads[a_nodes[t]]), ds[t], float(u.grads[score_nodes[t]]))
                       for t in range(T)]),
                Table('∂L/∂q', ('i', 'q[i]', 'identity', 'stepper sent'),
                      [(i, q[i], dq[i], s_) for i, s_ in zip(range(hd), u.sent(q_nodes))])]
    s.checks = [Check('∂L/∂weights = ∂L/∂out·v', da, u.grad(a_nodes)),
                Check('∂L/∂scores = softmax backward', ds, u.grad(score_nodes)),
                Check('∂L/∂q = Σ ∂L/∂scores·k/√d', dq, u.sent(q_nodes)),
                Check('∂L/∂k = ∂L/∂scores·q/√d', dk, u.sent([n for kt in k_nodes for n in kt])),
                Check('∂L/∂v = weights·∂L/∂out', dv, u.sent([n for vt in v_nodes for n in vt]))]
    return s


def _matrix(u):
    trace = u.trace
    name = trace.scopes[u.scope].name
    used = [n for n in u.nodes if n in trace.params]
    g = u.grad(used)
    # The same gradient rebuilt from every position's use: Σ_pos ∂L/∂y·xᵀ (a linear) or ∂L/∂x (a lookup).
    rebuilt = {n: 0.0 for n in used}
    kinds = []
    for s_id, scope in enumerate(trace.scopes):
        parts = scope.path.split(' / ')
        if not parts[0].startswith('pos '):
            continue
        if name not in _reads(parts, trace.config):
            continue
        part = _Unit(trace, u.h, u.grads, s_id)
        for m in part.nodes:
            for c, local in zip(trace.children[m], trace.local_grads[m]):
                if c in rebuilt:
                    rebuilt[c] += local * u.grads[m]
        kinds.append(scope.path)
    rows, cols = len({trace.params[n][1] for n in used}), len({trace.params[n][2] for n in used})
    s = Summary(u.path, f'weights {name}: every position\'s share, summed')
    if name == 'wte' and trace.config.tie:
        s.formulas = ['∂L/∂wte[row] = Σ over positions that read the row of ∂L/∂x  (the embedding)',
                      '+ Σ_pos ∂L/∂logits_pos[row]·x_pos  (lm_head, tied to wte: the same numbers, used twice)']
    elif name.endswith('_b'):
        s.formulas = [f'∂L/∂{name} = Σ_pos ∂L/∂y_pos  (a bias adds to every position\'s y alike)']
    elif trace.config.arch == 'bigram':
        s.formulas = ['∂L/∂wte[token] = Σ over positions that read the token of ∂L/∂logits']
    elif name in ('wte', 'wpe'):
        s.formulas = [f'∂L/∂{name}[row] = Σ over positions that read the row of ∂L/∂x']
    else:
        s.formulas = [f'∂L/∂{name} = Σ_pos ∂L/∂y_pos·x_posᵀ']
    s.notes = [f'{len(used)} weights used ({rows} rows × {cols} columns) by {len(kinds)} reads; '
               f'Σ|grad| = {shown(sum(abs(x) for x in g))}. This is the gradient Adam uses.']
    top = top_rows(g)
    s.tables = [Table(f'the {len(top)} largest', ('weight', 'data', 'grad'),
                      [(trace.param_name(used[i]), trace.data[used[i]], g[i]) for i in top])]
    s.checks = [Check('grad = Σ over the positions that read it', [rebuilt[n] for n in used], g)]
    return s


def _reads(parts, config):
    """The weight matrices a stage at one position reads (a scope path's parts): {'layer0.attn_wq', 'layer0.attn_wq_b'}."""
    last, reads = parts[-1], set()
    if len(parts) == 2 and last == 'lm_head':
        reads = {'wte' if config.tie else 'lm_head', 'lm_head_b'}
    elif len(parts) == 4 and last in MATRIX_OF:
        matrix = f'{parts[1].replace(" ", "")}.{MATRIX_OF[last]}'
        reads = {matrix, f'{matrix}_b'}
    elif last == 'tok + pos':
        reads = {'wte', 'wpe'}
    elif len(parts) == 2 and last == 'softmax' and config.arch == 'bigram':
        reads = {'wte'}  # the bigram rung: the softmax reads the token's row of wte as its logits
    elif last == 'layernorm':  # LayerNorm's gain and bias: 'emb_ln_gain', 'layer0.mlp_ln_bias'
        where = {'embedding': 'emb', 'final norm': 'final'}.get(parts[1]) or f'{parts[1].replace(" ", "")}.{"attn" if parts[2] == "attention" else "mlp"}'
        reads = {f'{where}_ln_gain', f'{where}_ln_bias'}
    if parts[1:] in (['embedding', 'rmsnorm'], ['embedding', 'layernorm']) and config.position == 'rope':
        reads.add('wte')  # no wpe, no tok + pos: the norm reads the token's row itself
    return reads


SUMMARIES = {'mean': _mean, 'sum': _sum, 'nll': _nll, 'softmax': _softmax, 'linear': _linear, 'relu': _relu,
             'residual': lambda u: _add(u, False), 'embed': lambda u: _add(u, True), 'rmsnorm': _rmsnorm,
             'head': _head, 'matrix': _matrix}
SUMMARIES.update(block_steps.SUMMARIES)
