"""Recording one forward pass as the literal scalar graph microgpt builds, with scopes and ids.

`record(model, doc)` runs microgpt's forward pass to the mean loss with `TraceOps`, which builds every
`*`, `+` and constant exactly as microgpt's own code does, and names where each node was made
(`pos 2 / layer 0 / attention / head 1 / scores / q·k[0]`). The result is a `Trace`: plain, immutable
data with integer node ids in creation order, deterministic from run to run.
"""

import contextlib
import functools
import json
import math
from dataclasses import dataclass

from .errors import EngineError
from .model import finish, param_shapes
from .value import Value, topological_order

PARAMS_SCOPE = 'params'


class TracedValue(Value):
    """A Value that registers itself, and the scope it was made in, with the recorder of its class."""

    __slots__ = ('index', 'scope')
    _recorder = None  # set on the per-recording subclass made by Recorder

    def __init__(self, data, children=(), local_grads=(), op=''):
        Value.__init__(self, data, children, local_grads, op)
        recorder = self._recorder
        self.index = len(recorder.nodes)
        self.scope = recorder.current_scope
        recorder.nodes.append(self)


class Recorder:
    """Collects nodes and the scope tree while a forward pass runs."""

    def __init__(self):
        self.nodes = []                   # every TracedValue, in creation order
        self.scope_names = ['']           # scope id -> name; 0 is the root
        self.scope_parents = [-1]         # scope id -> parent scope id
        self._scope_ids = {}              # (parent, name) -> scope id
        self.current_scope = 0
        self.value_type = type('Traced', (TracedValue,), {'__slots__': (), '_recorder': self})

    @contextlib.contextmanager
    def scope(self, name):
        key = (self.current_scope, name)
        scope_id = self._scope_ids.get(key)
        if scope_id is None:
            scope_id = self._scope_ids[key] = len(self.scope_names)
            self.scope_names.append(name)
            self.scope_parents.append(self.current_scope)
        outer, self.current_scope = self.current_scope, scope_id
        try:
            yield scope_id
        finally:
            self.current_scope = outer


class TraceOps:
    """Recording backend for engine.model: microgpt's own `sum(...)`, each in a named scope."""

    def __init__(self, recorder, n_layer, n_head):
        self.recorder = recorder
        self.scope = recorder.scope
        self.attention_values = [[[] for _ in range(n_head)] for _ in range(n_layer)]  # [layer][head][query][key]

    def dot(self, a, b, name=None, index=None):
        with self.scope(name if index is None else f'{name}[{index}]'):
            return sum(ai * bi for ai, bi in zip(a, b))

    def total(self, xs, name=None):
        with self.scope(name):
            return sum(xs)

    def attention(self, layer, head, weights):
        self.attention_values[layer][head].append(weights)


@dataclass(frozen=True)
class Scope:
    name: str    # e.g. 'head 1'
    parent: int  # scope id, -1 for the root
    path: str    # e.g. 'pos 2 / layer 0 / attention / head 1'


@dataclass(frozen=True, eq=False)
class Trace:
    """One recorded forward pass. Node ids index every per-node tuple; ids are in creation order."""

    doc: str
    tokens: tuple             # [BOS] + ids + [BOS]
    n: int                    # positions recorded (microgpt cuts at block_size)
    truncated: bool           # the document was longer than block_size allows
    token_texts: tuple        # how each token is shown ('BOS', 'e', ...)
    config: object            # the model's GPTConfig
    vocabulary: str           # the tokenizer's characters, in id order
    op: tuple                 # [N] '+', '*', '**-1', 'log', 'exp', 'relu', 'param' or 'const'
    data: tuple               # [N] forward values
    children: tuple           # [N] tuple of child ids
    local_grads: tuple        # [N] d(node)/d(child), parallel to children
    scope_of: tuple           # [N] scope id
    scopes: tuple             # [S] Scope; 0 is the root
    params: dict              # node id -> (parameter name, row, column)
    loss_id: int
    backward_order: tuple     # node ids in the order Value.backward() applies the chain rule
    attention: tuple          # [n_layer][n_head][query][key] softmax weights
    attention_ids: tuple      # [n_layer][n_head][query][key] node id of each weight

    @property
    def loss(self):
        return self.data[self.loss_id]

    def __len__(self):
        return len(self.op)

    @functools.cached_property
    def parents(self):
        """[N] tuple of parent ids (a node used twice by one parent is listed twice)."""
        parents = [[] for _ in self.op]
        for node, children in enumerate(self.children):
            for child in children:
                parents[child].append(node)
        return tuple(tuple(p) for p in parents)

    def scope_path(self, node):
        return self.scopes[self.scope_of[node]].path

    def scope_id(self, path):
        """The id of the scope with this path ('pos 2 / layer 0 / attention'), or None."""
        return self._scope_ids.get(path)

    @functools.cached_property
    def _scope_ids(self):
        return {scope.path: s for s, scope in enumerate(self.scopes)}

    def param_name(self, node):
        """'layer0.attn_wq[3][5]' for a parameter node, else None."""
        if node not in self.params:
            return None
        name, row, col = self.params[node]
        return f'{name}[{row}][{col}]'

    def to_json(self, grads=None):
        """A JSON-ready dict; with grads (per node id) also each node's grad and `param_grads`."""
        nodes = []
        for i in range(len(self.op)):
            node = {'id': i, 'op': self.op[i], 'data': self.data[i], 'children': list(self.children[i]),
                    'local_grads': list(self.local_grads[i]), 'scope': self.scope_of[i]}
            if i in self.params:
                node['param'] = self.param_name(i)
            if grads is not None:
                node['grad'] = grads[i]
            nodes.append(node)
        out = {'doc': self.doc, 'tokens': list(self.tokens), 'token_texts': list(self.token_texts),
               'positions': self.n, 'truncated': self.truncated, 'config': self.config.to_dict(),
               'vocabulary': self.vocabulary,
               'loss': self.loss, 'loss_id': self.loss_id,
               'scopes': [{'id': i, 'name': s.name, 'parent': s.parent, 'path': s.path}
                          for i, s in enumerate(self.scopes)],
               'nodes': nodes, 'backward_order': list(self.backward_order),
               'attention': self.attention, 'attention_ids': self.attention_ids}
        if grads is not None:
            out['param_grads'] = param_grads(self, grads)
        return out


def param_grads(trace, grads):
    """{name: [[float]]}: the gradient of every parameter (0.0 for those the document does not use)."""
    out = {name: [[0.0] * cols for _ in range(rows)]
           for name, (rows, cols) in param_shapes(trace.config, len(trace.vocabulary) + 1).items()}
    for node, (name, row, col) in trace.params.items():
        out[name][row][col] = float(grads[node])
    return out


def literal_loss(model, doc):
    """The loss of `doc` built node for node as microgpt builds it, without scopes kept: (loss, literal model)."""
    recorder = Recorder()
    Traced = recorder.value_type
    state = {name: [[Traced(p.data) for p in row] for row in mat] for name, mat in model.state_dict.items()}
    literal = type(model)(model.config, model.tokenizer, state)
    tokens, n = literal.positions(doc)
    return literal.loss(tokens, n, TraceOps(recorder, model.config.n_layer, model.config.n_head)), literal


def iter_record(model, doc):
    """Record `doc` through `model`: yields the fraction done after each position, returns the Trace."""
    tokens, n = model.positions(doc)
    recorder = Recorder()
    Traced = recorder.value_type
    config = model.config
    state_dict = {}
    with recorder.scope(PARAMS_SCOPE):
        for name, mat in model.state_dict.items():
            with recorder.scope(name):
                state_dict[name] = []
                for r, row in enumerate(mat):  # a row per group: opening a matrix stays small
                    with recorder.scope(f'{name}[{r}]'):
                        state_dict[name].append([Traced(p.data, op='param') for p in row])
    param_at = {state_dict[name][r][c].index: (name, r, c)
                for name, mat in state_dict.items() for r, row in enumerate(mat) for c in range(len(row))}

    ops = TraceOps(recorder, config.n_layer, config.n_head)
    traced_model = type(model)(config, model.tokenizer, state_dict)
    positions = traced_model.iter_loss(tokens, n, ops)
    done = 0  # positions recorded so far
    while True:
        try:
            pos = next(positions)
        except StopIteration as stop:
            loss = stop.value
            break
        except (ValueError, OverflowError, ZeroDivisionError) as e:  # math.log(0), float overflow
            raise not_evaluable(model, doc, tokens, done, e) from None
        done = pos + 1
        yield done / (n + 1)

    # Keep what the loss depends on, renumbered in creation order.
    topo = topological_order(loss)
    kept = sorted(v.index for v in topo)
    new_id = {old: new for new, old in enumerate(kept)}
    nodes = recorder.nodes
    op, data, children, local_grads, scope_of = [], [], [], [], []
    for old in kept:
        v = nodes[old]
        op.append(v._op or ('param' if old in param_at else 'const'))
        data.append(v.data)
        children.append(tuple(new_id[c.index] for c in v._children))
        local_grads.append(tuple(v._local_grads))
        scope_of.append(v.scope)

    # Keep the scopes that hold a node, and their ancestors, renumbered in creation order.
    used = set()
    for s in set(scope_of):
        while s != -1 and s not in used:
            used.add(s)
            s = recorder.scope_parents[s]
    scope_ids = sorted(used)
    new_scope = {old: new for new, old in enumerate(scope_ids)}
    scopes = []
    for old in scope_ids:
        name, parent = recorder.scope_names[old], recorder.scope_parents[old]
        new_parent = new_scope.get(parent, -1)
        path = name if new_parent <= 0 else f'{scopes[new_parent].path} / {name}'
        scopes.append(Scope(name, new_parent, path))

    tok = model.tokenizer
    trace = Trace(
        doc=doc, tokens=tuple(tokens), n=n, truncated=len(tokens) - 1 > n,
        token_texts=tuple(tok.token_text(t) for t in tokens), config=config,
        vocabulary=tok.vocabulary_text(),
        op=tuple(op), data=tuple(data), children=tuple(children), local_grads=tuple(local_grads),
        scope_of=tuple(new_scope[s] for s in scope_of), scopes=tuple(scopes),
        params={new_id[old]: where for old, where in param_at.items() if old in new_id},
        loss_id=new_id[loss.index],
        backward_order=tuple(new_id[v.index] for v in reversed(topo)),
        attention=tuple(tuple(tuple(tuple(w.data for w in row) for row in head) for head in layer)
                        for layer in ops.attention_values),
        attention_ids=tuple(tuple(tuple(tuple(new_id[w.index] for w in row) for row in head) for head in layer)
                            for layer in ops.attention_values),
    )
    yield 1.0
    return trace


def not_evaluable(model, doc, tokens, pos, error):
    """The EngineError for weights whose forward pass of `doc` fails at position `pos` (a diverged run's)."""
    target = model.tokenizer.token_text(tokens[pos + 1])
    what = repr(target) if target != 'BOS' else 'the end'
    if isinstance(error, ValueError):
        why = f'The probability of {what} at position {pos} of {doc!r} is 0'
    else:
        why = f'A number overflows at position {pos} of {doc!r}'
    return EngineError(f'{why}: these weights cannot be evaluated.')


def truncation_note(trace):
    """What block_size cut from a document, as one sentence (None if nothing was cut)."""
    if not trace.truncated:
        return None
    doc, n = trace.doc, trace.n
    cut = doc[n:]  # characters never predicted; the end of the document is never predicted either
    lost = f'{cut!r} and the end of the document' if cut else 'the end of the document'
    return (f'block_size {trace.config.block_size} cuts {doc!r} ({len(doc)} characters): recorded its first '
            f'{n} positions, as microgpt trains it; not predicted: {lost}.')


def dumps(obj):
    """Standard JSON text (RFC 8259). A non-finite float, which JSON cannot hold, is written as the
    string "NaN", "Infinity" or "-Infinity"."""
    try:
        return json.dumps(obj, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(obj), allow_nan=False)


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return 'NaN' if obj != obj else ('Infinity' if obj > 0 else '-Infinity')
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def record(model, doc):
    """The Trace of `doc`'s forward pass to the mean loss (see iter_record)."""
    return finish(iter_record(model, doc))
