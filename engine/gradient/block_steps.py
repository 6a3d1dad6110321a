"""Group summaries of the blocks the ladder and the seeds' models add to microgpt's (engine.gradient.group_steps
holds microgpt's own and how units are found, and adds these to its own): GELU, the average rung's uniform head, LayerNorm,
a linear's bias, RoPE's rotation back, SwiGLU's two paths. Each is checked against the stepper like the others."""

from engine.gradient.summary_parts import Check, Summary, Table, top_rows
from engine.numbers import shown
from engine.value import gelu_and_grad, gelu_erf_and_grad, silu_and_grad


_GELU_FORMS = {  # op: (its function and slope, what y is, what gelu′ is)
    'gelu': (gelu_and_grad, 'gelu: y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))',
             'gelu′(x) = ½(1+t) + ½x(1−t²)·√(2/π)(1 + 3·0.044715x²)'),
    'gelu-erf': (gelu_erf_and_grad, 'gelu (exact): y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2))',
                 'gelu′(x) = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)'),
}


def _gelu(u):
    trace = u.trace
    nodes = [m for m in u.nodes if trace.op[m] in _GELU_FORMS]
    form, title, slope = _GELU_FORMS[trace.op[nodes[0]]]
    xs = [trace.children[m][0] for m in nodes]
    x, gy = u.data(xs), u.grad(nodes)
    slopes = [form(xi)[1] for xi in x]
    s = Summary(u.path, title)
    s.formulas = [f'∂L/∂x = gelu′(x)·∂L/∂y, {slope}']
    s.notes = ['Unlike relu, no input is cut to exactly 0: a negative x passes a small gradient '
               f'(its smallest slope here {shown(min(slopes))}), a large one passes it whole (slope → 1).']
    top = top_rows(gy)
    s.tables = [Table(f'the {len(top)} largest |∂L/∂y|', ('i', 'x[i]', 'gelu′(x[i])', '∂L/∂y[i]', '∂L/∂x[i] (stepper)'),
                      [(i, x[i], slopes[i], gy[i], float(u.grads[xs[i]])) for i in top])]
    s.checks = [Check('∂L/∂x = gelu′(x)·∂L/∂y', [d * g for d, g in zip(slopes, gy)], u.sent(xs))]
    return s


def uniform_head(u, pos, layer, head):
    """The average rung's head: out = Σ_t (1/T)·v[t], the weights constants (nothing learns where to look)."""
    trace = u.trace
    a_nodes = list(trace.attention_ids[layer][head][pos])
    outs = [u.last_in(o) for o in u.h.children[u.sub('weighted sum')]]
    v_nodes = [[trace.children[m][1] for m in sorted(u.h.nodes_in(o)) if trace.op[m] == '*'] for o in
               u.h.children[u.sub('weighted sum')]]  # [j][t]
    T, g = len(a_nodes), u.grad(outs)
    dv = [trace.data[a_nodes[t]] * g[j] for t in range(T) for j in range(len(outs))]
    s = Summary(u.path, f'uniform attention head {head} at pos {pos}: out = Σ_t v[t] / {T}')
    s.formulas = [f'∂L/∂v[t] = (1/{T})·∂L/∂out: every position up to this one gets the same share']
    s.notes = ['The weights are constants 1/T (no q, no k): their gradients are computed but change nothing.']
    s.checks = [Check('∂L/∂v = weights·∂L/∂out', dv, u.sent([vt[t] for t in range(T) for vt in v_nodes]))]
    return s


def _layernorm(u):
    trace = u.trace
    scale = next(m for m in u.nodes if trace.op[m] == '**-0.5')
    neg_mean = next(m for m in u.nodes if trace.names[m] == '-mean')
    xc = sorted(m for m in u.h.direct[u.scope] if trace.op[m] == '+' and neg_mean in trace.children[m])
    xs = [trace.children[m][0] for m in xc]
    scaled = sorted(m for m in u.h.direct[u.scope] if trace.op[m] == '*' and scale in trace.children[m])
    gained = [next(p for p in trace.parents[m] if trace.op[p] == '*') for m in scaled]
    gains = [next(c for c in trace.children[m] if c in trace.params) for m in gained]
    ys = [next(p for p in trace.parents[m] if trace.op[p] == '+') for m in gained]
    biases = [next(c for c in trace.children[m] if c in trace.params) for m in ys]
    sc, d = trace.data[scale], len(xs)
    xhat, g, gy = u.data(scaled), u.data(gains), u.grad(ys)
    dxhat = [gi * gyi for gi, gyi in zip(g, gy)]
    mean_d = sum(dxhat) / d
    proj = sum(a * b for a, b in zip(dxhat, xhat)) / d
    expected = [sc * (dh - mean_d - xh * proj) for dh, xh in zip(dxhat, xhat)]
    s = Summary(u.path, 'layernorm: y = x̂·gain + bias, x̂ = (x − mean)·s, s = (var + 1e-5)^−½')
    s.formulas = ['∂L/∂gain = ∂L/∂y·x̂,  ∂L/∂bias = ∂L/∂y', '∂L/∂x = s·(∂L/∂x̂ − mean(∂L/∂x̂) − x̂·mean(∂L/∂x̂·x̂)), ∂L/∂x̂ = gain·∂L/∂y']
    s.notes = [f'd = {d}, s = {shown(sc)}, mean(∂L/∂x̂) = {shown(mean_d)}, mean(∂L/∂x̂·x̂) = {shown(proj)}: unlike '
               "rmsnorm the gradient also loses its mean (shifting x does not change y); gain and bias learn from this "
               "position's share."]
    top = top_rows(expected)
    s.tables = [Table(f'the {len(top)} largest of {d}', ('i', 'x̂[i]', 'gain[i]', '∂L/∂y[i]', 'identity ∂L/∂x[i]', 'stepper sent'),
                      [(i, xhat[i], g[i], gy[i], expected[i], got) for i, got in zip(top, u.sent([xs[i] for i in top]))])]
    s.checks = [Check('∂L/∂x = s·(∂L/∂x̂ − mean(∂L/∂x̂) − x̂·mean(∂L/∂x̂·x̂))', expected, u.sent(xs)),
                Check('∂L/∂gain = ∂L/∂y·x̂', [a * b for a, b in zip(gy, xhat)], u.sent(gains)),
                Check('∂L/∂bias = ∂L/∂y', gy, u.sent(biases))]
    return s


def linear_bias(u, s, ys):
    """A linear with the bias option: y = W·x + b, so ∂L/∂b = ∂L/∂y (added to the linear's summary `s`)."""
    trace = u.trace
    biases = [trace.children[y][1] for y in ys if trace.op[y] == '+' and trace.children[y][1] in trace.params]
    if len(biases) != len(ys):
        return
    gy = u.grad(ys)
    s.title = s.title.replace('y = W·x', 'y = W·x + b')
    s.formulas.append('∂L/∂b = ∂L/∂y  (+ passes the gradient to both W·x and b)')
    if trace.scopes[u.scope].name == 'k' and trace.config.position == 'learned':
        s.notes.append("k's bias adds q·b to every score of a query alike, which softmax undoes: summed over the "
                       'queries that read this key its gradient is 0 (up to rounding), so it never learns.')
    s.checks.append(Check('∂L/∂b = ∂L/∂y', gy, u.sent(biases)))


def _rope(u):
    """RoPE: each pair (a, b) of q and k turned by θ; backward turns the gradient pair back by −θ."""
    trace = u.trace
    outs = [m for m in u.nodes if trace.op[m] == '+' and (trace.names[m] or '').startswith(('q_rot[', 'k_rot['))]
    rows, expected, ins = [], [], []
    for y0, y1 in zip(outs[0::2], outs[1::2]):
        (p0, p1), g0, g1 = trace.children[y0], float(u.grads[y0]), float(u.grads[y1])
        a, b = trace.children[p0][0], trace.children[p1][0]
        c, s_ = trace.data[trace.children[p0][1]], -trace.data[trace.children[p1][1]]
        expected += [c * g0 + s_ * g1, -s_ * g0 + c * g1]
        ins += [a, b]
        rows.append((trace.names[y0], c, s_, g0, g1, expected[-2], expected[-1]))
    pos = u.pos()
    s = Summary(u.path, f'rope at pos {pos}: (a, b) → (a·cos θ − b·sin θ, a·sin θ + b·cos θ), θ = {pos}·10000^(−2i/d)')
    s.formulas = ['∂L/∂a = cos θ·∂L/∂y₀ + sin θ·∂L/∂y₁,  ∂L/∂b = −sin θ·∂L/∂y₀ + cos θ·∂L/∂y₁',
                  "the rotation's transpose: the gradient pair is turned back by −θ (its length kept)"]
    s.notes = [f'cos θ and sin θ are constants of position {pos} (named cos[i], sin[i] in the graph), not weights: '
               'nothing learns them. q·k of two rotated vectors depends on how far apart their positions are.']
    top = top_rows([r[3] for r in rows])
    s.tables = [Table(f'the {len(top)} pairs with the largest |∂L/∂y₀|', ('pair', 'cos θ', 'sin θ', '∂L/∂y₀', '∂L/∂y₁',
                                                                       '∂L/∂a', '∂L/∂b'), [rows[i] for i in top])]
    s.checks = [Check('(∂L/∂a, ∂L/∂b) = the gradient turned back by −θ', expected, u.sent(ins))]
    return s


def _swiglu(u):
    """SwiGLU: y = silu(h) ⊙ up, so the gradient takes two paths: to h through silu′, to up through silu(h)."""
    trace = u.trace
    gates = [m for m in u.nodes if trace.op[m] == 'silu']
    ys = [next(p for p in trace.parents[g] if trace.op[p] == '*') for g in gates]
    hs, ups = [trace.children[g][0] for g in gates], [trace.children[y][1] for y in ys]
    h, up, gy = u.data(hs), u.data(ups), u.grad(ys)
    silu = [silu_and_grad(x) for x in h]
    dh = [d * b * g for (_, d), b, g in zip(silu, up, gy)]
    dup = [a * g for (a, _), g in zip(silu, gy)]
    s = Summary(u.path, 'swiglu: y = silu(h) ⊙ up, h = fc1·x, up = fc3·x, silu(h) = h·σ(h)')
    s.formulas = ['∂L/∂h = silu′(h)·up·∂L/∂y,  silu′(h) = σ(h)·(1 + h·(1 − σ(h)))  (the gate\'s path, to fc1)',
                  '∂L/∂up = silu(h)·∂L/∂y  (the linear path, to fc3)']
    s.notes = ['The product sends each factor the other one times ∂L/∂y: where the gate is near 0 (h very negative) '
               'up learns nothing; silu passes a little gradient below 0, unlike relu.']
    top = top_rows(gy)
    s.tables = [Table(f'the {len(top)} largest |∂L/∂y|', ('i', 'h[i]', 'silu(h)', 'up[i]', '∂L/∂y[i]', '∂L/∂h[i]', '∂L/∂up[i]'),
                      [(i, h[i], silu[i][0], up[i], gy[i], dh[i], dup[i]) for i in top])]
    s.checks = [Check('∂L/∂h = silu′(h)·up·∂L/∂y', dh, u.sent(hs)), Check('∂L/∂up = silu(h)·∂L/∂y', dup, u.sent(ups))]
    return s


SUMMARIES = {'gelu': _gelu, 'layernorm': _layernorm, 'rope': _rope, 'swiglu': _swiglu}  # by unit kind; group_steps adds them to its own
