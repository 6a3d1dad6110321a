"""The scalar autograd engine: microgpt's `Value`, plus an op label for the graph."""

import math

GELU_C = math.sqrt(2 / math.pi)  # GELU's tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
GELU_K = 0.044715
SQRT_HALF = math.sqrt(0.5)                   # GELU's exact form: x·Φ(x), Φ(x) = ½(1 + erf(x·√½))
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)    # φ(x) = e^(−x²/2) / √(2π), Φ's slope


def gelu_and_grad(x):
    """GELU in the tanh form GPT-2 trained with, and its derivative: (y, dy/dx). The tanh form rather than
    the exact x·Φ(x) (erf, `gelu_erf_and_grad`, PyTorch's default): it is what GPT-2 trained with, and numpy
    has tanh but no erf (the vectorized backend calls math.erf element by element for the exact form).
    With t = tanh(u), u = √(2/π)·(x + 0.044715·x³): dy/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)."""
    t = math.tanh(GELU_C * (x + GELU_K * x * x * x))
    return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * x * x)


def gelu_erf_and_grad(x):
    """GELU's exact form, x·Φ(x) with Φ(x) = ½(1 + erf(x/√2)) (PyTorch's nn.GELU() default, what the mini GPT
    trains with), and its derivative: (y, dy/dx), dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)."""
    phi_cdf = 0.5 * (1 + math.erf(x * SQRT_HALF))
    return x * phi_cdf, phi_cdf + x * math.exp(-0.5 * x * x) * INV_SQRT_2PI


def silu_and_grad(x):
    """SiLU (swish), SwiGLU's gate: y = x·σ(x), σ(x) = 1/(1 + e^−x), and its derivative dy/dx = σ(x)·(1 + x·(1 − σ(x))).
    σ is computed from e^−|x|, which never overflows (math.exp(800) would), the same way for either sign."""
    e = math.exp(-abs(x))
    sigma = 1 / (1 + e) if x >= 0 else e / (1 + e)
    return x * sigma, sigma * (1 + x * (1 - sigma))


class Value:
    """A scalar node: its data, its gradient, its children and the local gradients to them."""

    __slots__ = ('data', 'grad', '_children', '_local_grads', '_op')

    def __init__(self, data, children=(), local_grads=(), op=''):
        self.data = data                # scalar value computed in the forward pass
        self.grad = 0                   # d(loss)/d(this node), accumulated in the backward pass
        self._children = children       # the nodes this one was computed from
        self._local_grads = local_grads # d(this node)/d(child), one per child
        self._op = op                   # what made it: '+', '*', '**-1', 'log', 'exp', 'relu', 'gelu', 'gelu-erf', 'silu'; '' for a leaf

    # Primitive ops. `type(self)` keeps a recording subclass recording; for `Value` it is `Value`.
    def __add__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        return type(self)(self.data + other.data, (self, other), (1, 1), '+')

    def __mul__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        return type(self)(self.data * other.data, (self, other), (other.data, self.data), '*')

    def __pow__(self, other): return type(self)(self.data**other, (self,), (other * self.data**(other-1),), f'**{other}')
    def log(self): return type(self)(math.log(self.data), (self,), (1/self.data,), 'log')
    def exp(self): return type(self)(math.exp(self.data), (self,), (math.exp(self.data),), 'exp')
    def relu(self): return type(self)(max(0, self.data), (self,), (float(self.data > 0),), 'relu')

    def gelu(self):
        y, dy = gelu_and_grad(self.data)
        return type(self)(y, (self,), (dy,), 'gelu')

    def gelu_erf(self):
        y, dy = gelu_erf_and_grad(self.data)
        return type(self)(y, (self,), (dy,), 'gelu-erf')

    def silu(self):
        y, dy = silu_and_grad(self.data)
        return type(self)(y, (self,), (dy,), 'silu')

    # Derived ops, exactly as microgpt composes them.
    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1
    def __rtruediv__(self, other): return other * self**-1

    def __repr__(self):
        return f'Value(data={self.data!r}, grad={self.grad!r}, op={self._op!r})'

    def backward(self):
        """Apply the chain rule from this node back to every leaf, in microgpt's order."""
        self.grad = 1
        for v in reversed(topological_order(self)):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad


def topological_order(root):
    """Children before parents, in the order of microgpt's recursive `build_topo` (without its recursion limit)."""
    topo = []
    visited = {root}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            topo.append(node)
    return topo
