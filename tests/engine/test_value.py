"""The Value engine: every op's local gradients, and backward() against microgpt's recursive original."""

import math

import pytest
from hypothesis import assume, given, settings, strategies as st

from engine.value import Value, topological_order


def reference_backward(root):
    """microgpt's backward() exactly as it is written, recursion and all."""
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._children:
                build_topo(child)
            topo.append(v)
    build_topo(root)
    root.grad = 1
    for v in reversed(topo):
        for child, local_grad in zip(v._children, v._local_grads):
            child.grad += local_grad * v.grad
    return topo


UNARY = {
    'neg': lambda a: -a, 'exp': lambda a: a.exp(), 'log': lambda a: a.log(), 'relu': lambda a: a.relu(),
    'gelu': lambda a: a.gelu(), 'gelu_erf': lambda a: a.gelu_erf(), 'silu': lambda a: a.silu(),
    'square': lambda a: a ** 2, 'rsqrt': lambda a: a ** -0.5, 'inverse': lambda a: a ** -1,
    'rtruediv': lambda a: 3.0 / a, 'rsub': lambda a: 2.0 - a,
}
BINARY = {
    'add': lambda a, b: a + b, 'mul': lambda a, b: a * b, 'sub': lambda a, b: a - b,
    'truediv': lambda a, b: a / b, 'radd': lambda a, b: 1.5 + a * b,
}


def numeric_grad(f, xs, i, h=1e-6):
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


@pytest.mark.parametrize('name', UNARY)
@pytest.mark.parametrize('x', [0.3, 1.7, -0.8])
def test_unary_ops_match_finite_differences(name, x):
    if name in ('log', 'rsqrt') and x <= 0:
        x = -x
    a = Value(x)
    out = UNARY[name](a)
    out.backward()
    expected = numeric_grad(lambda v: UNARY[name](Value(v)).data, [x], 0)
    assert a.grad == pytest.approx(expected, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize('name', BINARY)
def test_binary_ops_match_finite_differences(name):
    a, b = Value(0.7), Value(-1.3)
    BINARY[name](a, b).backward()
    f = lambda x, y: BINARY[name](Value(x), Value(y)).data  # noqa: E731
    assert a.grad == pytest.approx(numeric_grad(f, [0.7, -1.3], 0), rel=1e-5)
    assert b.grad == pytest.approx(numeric_grad(f, [0.7, -1.3], 1), rel=1e-5)


def test_op_labels_name_what_made_the_node():
    a, b = Value(2.0), Value(3.0)
    assert [(a + b)._op, (a * b)._op, (a ** -0.5)._op, a.log()._op, a.exp()._op, a.relu()._op, a._op] == \
           ['+', '*', '**-0.5', 'log', 'exp', 'relu', '']
    assert (a - b)._op == '+' and (a - b)._children[1]._op == '*'  # sub is a + (b * -1), as in microgpt


def test_relu_gradient_is_zero_below_zero_and_at_zero():
    for x, g in [(-1.0, 0.0), (0.0, 0.0), (2.0, 1.0)]:
        a = Value(x)
        a.relu().backward()
        assert a.grad == g


# Random expression DAGs: nodes reuse earlier nodes, so gradients accumulate from several parents.
ops = st.sampled_from(['add', 'mul', 'sub', 'neg', 'exp', 'tanhish', 'relu', 'pow2', 'div'])


@st.composite
def expressions(draw, leaf=st.floats(-2, 2, allow_nan=False)):
    n_leaves = draw(st.integers(1, 4))
    leaves = draw(st.lists(leaf, min_size=n_leaves, max_size=n_leaves))
    program = draw(st.lists(st.tuples(ops, st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=25))
    return leaves, program


def build(leaves, program):
    vals = [Value(x) for x in leaves]
    for op, i, j in program:
        a, b = vals[i % len(vals)], vals[j % len(vals)]
        if op == 'add':
            out = a + b
        elif op == 'mul':
            out = a * b
        elif op == 'sub':
            out = a - b
        elif op == 'neg':
            out = -a
        elif op == 'exp':
            out = (a * 0.1).exp()
        elif op == 'tanhish':
            out = ((a * 0.1).exp() + 1.0).log()
        elif op == 'relu':
            out = a.relu()
        elif op == 'pow2':
            out = (a * 0.5) ** 2
        else:
            out = a / ((b * b) + 1.0)
        vals.append(out)
    return vals


@settings(max_examples=150, deadline=None)
@given(expressions())
def test_backward_is_bit_identical_to_microgpts_recursive_backward(expr):
    leaves, program = expr
    ours, ref = build(leaves, program), build(leaves, program)
    ours[-1].backward()
    topo = reference_backward(ref[-1])
    assert [v.grad for v in ours] == [v.grad for v in ref]
    assert [v.data for v in topological_order(ours[-1])] == [v.data for v in topo]


def relu_signs(leaves, program):
    """For every relu in the program, whether its input is above 0 when built from these leaves."""
    vals = build(leaves, program)
    return [vals[i % (len(leaves) + k)].data > 0 for k, (op, i, _) in enumerate(program) if op == 'relu']


@settings(max_examples=60, deadline=None)
@given(expressions(leaf=st.floats(0.1, 2) | st.floats(-2, -0.1)))
def test_backward_matches_finite_differences(expr):
    """Every leaf's grad against central differences, relu included: a leaf is left out only when
    moving it by h moves some relu's input across 0 (the kink, where the two sides disagree)."""
    leaves, program = expr
    vals = build(leaves, program)
    assume(all(math.isfinite(v.data) and abs(v.data) < 1e6 for v in vals))
    vals[-1].backward()
    f = lambda *xs: build(list(xs), program)[-1].data  # noqa: E731
    h = 1e-5
    checked = 0
    for i, leaf in enumerate(vals[:len(leaves)]):
        up, down = list(leaves), list(leaves)
        up[i] += h
        down[i] -= h
        if not relu_signs(up, program) == relu_signs(leaves, program) == relu_signs(down, program):
            continue
        assert leaf.grad == pytest.approx(numeric_grad(f, leaves, i, h=h), rel=1e-3, abs=1e-5)
        checked += 1
    assume(checked)  # an example whose every leaf sits at a kink checks nothing: do not count it


def test_deep_graph_needs_no_recursion():
    x = Value(1.0)
    y = x
    for _ in range(20000):  # far deeper than Python's recursion limit
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


@pytest.mark.parametrize('x', [-6.0, -2.5, -0.3, 0.0, 0.05, 1.0, 4.0])
def test_gelu_is_the_tanh_form_and_its_local_gradient_agrees_with_central_differences(x):
    """GELU's tanh form (GPT-2's; engine.value.gelu_and_grad says why not erf), against its formula written
    out here and its derivative against central differences of the function itself, across its bend."""
    a = Value(x)
    y = a.gelu()
    assert y._op == 'gelu' and y.data == pytest.approx(
        0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), rel=1e-15, abs=1e-300)
    assert y.data == pytest.approx(x * 0.5 * (1 + math.erf(x / math.sqrt(2))), abs=2e-3)  # close to the erf form
    y.backward()
    h = 1e-6
    numeric = (Value(x + h).gelu().data - Value(x - h).gelu().data) / (2 * h)
    assert a.grad == pytest.approx(numeric, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize('x', [-40.0, -6.0, -2.5, -0.3, 0.0, 0.05, 1.0, 4.0, 40.0])
def test_gelu_erf_is_x_phi_x_and_its_local_gradient_agrees_with_central_differences(x):
    """GELU's exact form (PyTorch's nn.GELU(), the mini GPT's): x·Φ(x) against its formula written out here, its
    derivative Φ(x) + x·φ(x) against central differences of the function itself, across its bend and far out."""
    a = Value(x)
    y = a.gelu_erf()
    assert y._op == 'gelu-erf' and y.data == pytest.approx(x * 0.5 * (1 + math.erf(x / math.sqrt(2))), rel=1e-15, abs=1e-300)
    assert y.data == pytest.approx(Value(x).gelu().data, abs=2e-3)  # within 0.002 of the tanh form
    y.backward()
    h = 1e-6
    numeric = (Value(x + h).gelu_erf().data - Value(x - h).gelu_erf().data) / (2 * h)
    assert a.grad == pytest.approx(numeric, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize('x', [-800.0, -6.0, -0.3, 0.0, 0.05, 1.0, 4.0, 800.0])
def test_silu_is_x_sigmoid_x_and_its_local_gradient_agrees_with_central_differences(x):
    """SwiGLU's gate: x·σ(x), against the formula written out here, its derivative against central differences,
    and finite where e^−x alone would overflow (x = −800)."""
    from engine.value import silu_and_grad
    a = Value(x)
    y = a.silu()
    sigma = 1 / (1 + math.exp(-x)) if x > -700 else 0.0
    assert y._op == 'silu' and y.data == pytest.approx(x * sigma, rel=1e-15, abs=1e-300)
    y.backward()
    h = 1e-6
    numeric = (silu_and_grad(x + h)[0] - silu_and_grad(x - h)[0]) / (2 * h)
    assert a.grad == pytest.approx(numeric, rel=1e-7, abs=1e-9)
    assert a.grad == pytest.approx(sigma * (1 + x * (1 - sigma)), rel=1e-12, abs=1e-300)
