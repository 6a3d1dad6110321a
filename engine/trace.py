"""Recording one forward pass as the literal scalar graph microgpt builds, with scopes and ids.

`record(model, doc)` runs microgpt's forward pass to the mean loss with `TraceOps`, which builds every
`*`, `+` and constant exactly as microgpt's own code does, and names where each node was made
(`pos 2 / layer 0 / attention / head 1 / scores / q·k[0]`) and what the code calls it:
- a vector's scalars by the vector's name in microgpt: `q[3]`, `exps[2]`, `probs[4]`, `x[7]`;
- a parameter by its matrix: `wte[4][3]`, `layer0.attn_wq[3][5]`;
- inside a dot product or a sum, the products by their operands (`wq[3][5]·x[5]`, `q[5]·keys[0][5]`),
  the running sums by how far they got (`q[3] (Σ 0..5)`), the 0 that `sum` starts from as `0`;
- a node inside an expression by the expression (`logits[2] - max_val`, `1/total`, `ms + 1e-5`), and
  constants by what they are (`1e-5`, `1/√head_dim`, `-max_val`, `-1`).
Names repeat across positions; `Trace.qualified_name` adds the position (`pos 2 · q[3]`).
The result is a `Trace`: plain, immutable data with integer node ids in creation order, deterministic
from run to run.
"""

import bisect
import contextlib
import functools
import os
import sys
from dataclasses import dataclass

from engine.doc_notes import not_evaluable
from engine.graph.keys import PARAMS_SCOPE
from engine.model import finish, param_shapes
from engine.value import Value, topological_order

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_getframe = sys._getframe


class TracedValue(Value):
    """A Value that registers itself, and the scope it was made in, with the recorder of its class."""

    __slots__ = ('index', 'scope', 'name')
    _recorder = None  # set on the per-recording subclass made by Recorder

    def __init__(self, data, children=(), local_grads=(), op=''):
        Value.__init__(self, data, children, local_grads, op)
        recorder = self._recorder
        self.index = len(recorder.nodes)
        self.scope = recorder.current_scope
        self.name = None  # what the code calls it, given by TraceOps once the code has made it
        recorder.nodes.append(self)


class LinedValue(TracedValue):
    """A TracedValue that also notes the line of the model code that made it (see Recorder.note_lines)."""

    __slots__ = ()

    def __init__(self, data, children=(), local_grads=(), op=''):
        Value.__init__(self, data, children, local_grads, op)
        recorder = self._recorder
        self.index = len(recorder.nodes)
        self.scope = recorder.current_scope
        self.name = None
        recorder.nodes.append(self)
        if recorder.line_ids is not None:
            line = recorder.fixed_line  # inside TraceOps.dot/total: the line that called it, found once
            recorder.line_of.append(line if line is not None else recorder.line_id(_getframe(1)))


class Recorder:
    """Collects nodes and the scope tree while a forward pass runs."""

    def __init__(self, lines=False):
        self.nodes = []                   # every TracedValue, in creation order
        self.scope_names = ['']           # scope id -> name; 0 is the root
        self.scope_parents = [-1]         # scope id -> parent scope id
        self._scope_ids = {}              # (parent, name) -> scope id
        self.current_scope = 0
        base = LinedValue if lines else TracedValue  # lines=False: exactly the recorder before lines were noted
        self.value_type = type('Traced', (base,), {'__slots__': (), '_recorder': self})
        self.line_ids = None              # (file, line) -> line id, once note_lines() is called
        self.line_of = []                 # node index - self.first_lined -> line id
        self.fixed_line = None            # the line id every node made now has (TraceOps.dot, total), or None

    def line_id(self, frame):
        """The id of the line of the first frame, from `frame` outwards, outside value.py and this module."""
        while frame.f_code.co_filename in _ENGINE_INTERNALS:
            frame = frame.f_back
        function = frame
        while function.f_code.co_name[0] == '<' and function.f_back is not None:  # a comprehension's function
            function = function.f_back
        name = function.f_code.co_name
        caller = (name, function.f_back.f_lineno) if name in HELPERS else None
        where = (frame.f_code.co_filename, frame.f_lineno, caller)
        line = self.line_ids.get(where)
        if line is None:
            line = self.line_ids[where] = len(self.line_ids)
        return line

    def note_lines(self):
        """From now on note, for every node made, the first frame outside value.py and this module: the line
        of the model code (engine/model.py) where microgpt's expression is written."""
        self.line_ids = {}
        self.first_lined = len(self.nodes)

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
    """Recording backend for engine.model: microgpt's own `sum(...)`, each in a named scope, and every
    value named by what the code calls it (with names=False, as `literal_loss` wants, no names)."""

    def __init__(self, recorder, n_layer, n_head, names=True):
        self.recorder = recorder
        self.scope = recorder.scope
        self.attention_values = [[[] for _ in range(n_head)] for _ in range(n_layer)]  # [layer][head][query][key]
        self.refs = {}  # node index -> how later code refers to it, where that differs from its name
        self.sums = []  # (first node index, last, products?) of each sum(...) built: see Trace.name
        if not names:
            self.vector = self.name = self.alias = lambda *args: None
        self.names = names

    def dot(self, a, b, name=None, index=None, out=None):
        recorder = self.recorder
        if recorder.line_ids is not None:  # every node of the sum comes from the caller's line
            recorder.fixed_line = recorder.line_id(_getframe(1))
        with self.scope(name if index is None else f'{name}[{index}]'):
            result = sum(ai * bi for ai, bi in zip(a, b))
        recorder.fixed_line = None
        if self.names:  # p0, 0, s0, p1, s1, …: 2n + 1 nodes in a row, named when asked (Trace.name)
            result.name = out if index is None else f'{out}[{index}]'
            self.sums.append((result.index - 2 * len(a), result.index, True))
        return result

    def total(self, xs, name=None, out=None):
        recorder = self.recorder
        if recorder.line_ids is not None:
            recorder.fixed_line = recorder.line_id(_getframe(1))
        with self.scope(name):
            result = sum(xs)
        recorder.fixed_line = None
        if self.names:  # 0, s0, s1, …: n + 1 nodes in a row
            result.name = out
            self.sums.append((result.index - len(xs), result.index, False))
        return result

    def vector(self, name, values, *consts):
        for i, v in enumerate(values):
            if v.name is None:
                v.name = f'{name}[{i}]'
                self._name_inside(v, iter(consts))

    def name(self, name, value, *consts):
        if value.name is None:
            value.name = name
            self._name_inside(value, iter(consts))

    def alias(self, name, values):
        refs = self.refs
        for t, row in enumerate(values):
            if isinstance(row, list):
                for j, v in enumerate(row):
                    refs.setdefault(v.index, f'{name}[{t}][{j}]')
            else:
                refs.setdefault(row.index, f'{name}[{t}]')

    def _name_inside(self, node, consts):
        """Name the unnamed nodes inside a just-named one by their expression; constants from `consts`."""
        for child in node._children:
            if child.name is None:
                expression_name(child, consts)

    def attention(self, layer, head, weights):
        self.attention_values[layer][head].append(weights)


# The model's helper functions: a node made inside one also notes the line that called it (which linear).
HELPERS = frozenset(('linear', 'softmax', 'rmsnorm', 'layernorm', 'rope'))

# The files whose frames a node's line skips: Value's ops and TraceOps's helpers (by their code's own file name).
_ENGINE_INTERNALS = frozenset((Value.__add__.__code__.co_filename, TraceOps.dot.__code__.co_filename))


def _operand(name):
    return f'({name})' if ' ' in name else name


def expression_name(node, consts=iter(())):
    """Name an unnamed node (and the unnamed ones under it) by its expression: `logits[2] - max_val`,
    `1/total`, `log(probs[target])`; a constant by the next of `consts`, else by its value."""
    for child in node._children:
        if child.name is None:
            expression_name(child, consts)
    op, children = node._op, node._children
    if not children:
        node.name = next(consts, None) or f'{node.data:g}'
        return node.name
    a = children[0].name
    if op == '+':
        b = children[1].name
        node.name = f'{a} - {b[1:]}' if b.startswith('-') else f'{a} + {b}'
    elif op == '*':
        b = children[1].name
        node.name = f'-{_operand(a)}' if b == '-1' else f'{_operand(a)}·{_operand(b)}'
    elif op == '**-1':
        node.name = f'1/{_operand(a)}'
    elif op.startswith('**'):
        node.name = f'{_operand(a)}{op}'
    else:
        node.name = f'{op}({a})'
    return node.name


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
    names: tuple              # [N] what the code calls each node ('q[3]', 'exps[2]', '1/total'), None inside a sum
    sums: tuple               # (first id, last id, products?) of each sum(...): its nodes, named by Trace.name
    refs: dict                # node id -> how a later product refers to it ('keys[0][5]', 'x_attn[7]')
    loss_id: int
    backward_order: tuple     # node ids in the order Value.backward() applies the chain rule
    attention: tuple          # [n_layer][n_head][query][key] softmax weights
    attention_ids: tuple      # [n_layer][n_head][query][key] node id of each weight
    lines: tuple = ()         # [L] (path relative to the project, line number) of the model code that made nodes
    line_of: tuple = ()       # [N] index into `lines` of the line that made each node, -1 for parameters
    callers: tuple = ()       # [L] a line inside a helper: (helper, line number that called it), e.g. ('linear', 151); else None
    whole_n: int = None       # a part recorded (a model too large to record whole): the document's positions; else None

    def call_site(self, node):
        """('linear', 151): for a node made inside a helper of the model code, the helper and the line of
        the model that called it (`q = linear(x, …)`); None otherwise."""
        i = self.line_of[node] if self.line_of else -1
        return self.callers[i] if i >= 0 and self.callers else None

    def line(self, node):
        """'engine/model.py:97': the line of the model code that made this node, or None (a parameter)."""
        i = self.line_of[node] if self.line_of else -1
        return None if i < 0 else '%s:%d' % self.lines[i]

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

    def name(self, node):
        """What the model code calls this node: 'q[3]', 'wq[3][5]·x[5]', 'total', 'layer0.attn_wq[3][5]'."""
        name = self.names[node]
        return name if name is not None else self._sum_names.get(node) or self._name_in_sum(node)

    @functools.cached_property
    def _sum_names(self):
        return {}

    @functools.cached_property
    def _sum_starts(self):
        return [first for first, _, _ in self.sums]

    def _name_in_sum(self, node):
        """A node of microgpt's `sum(...)`, built in a row: [a0·b0,] 0, s0, [a1·b1,] s1, … The 0 that
        sum starts from is `0`; the running sums `q[3] (Σ 0..k)` (the last is `q[3]`); the products
        `wq[3][5]·x[5]`, each operand as the code refers to it."""
        i = bisect.bisect_right(self._sum_starts, node) - 1
        first, last, products = self.sums[i] if i >= 0 else (0, -1, False)
        if node >= last:  # not inside a sum: every node the code makes is named, so this is only a net
            return self.op[node]
        offset = node - first
        if products:
            kind, k = (('product', 0), ('zero', 0), ('sum', 0))[offset] if offset < 3 else \
                (('product', 'sum')[(offset - 3) % 2], (offset - 3) // 2 + 1)
        else:
            kind, k = ('zero', 0) if offset == 0 else ('sum', offset - 1)
        if kind == 'zero':
            name = '0'
        elif kind == 'sum':
            name = f'{self.names[last]} (Σ 0..{k})'
        else:
            a, b = self.children[node]
            name = f'{self._ref(a)}·{self._ref(b)}'
        self._sum_names[node] = name
        return name

    def _ref(self, node):
        """How a product's code refers to an operand: `wq[3][5]` (in its layer), `keys[0][5]`, or its name."""
        if node in self.refs:
            return self.refs[node]
        if node in self.params:
            matrix, row, col = self.params[node]
            return f'{short_param_name(matrix)}[{row}][{col}]'
        return self.name(node)

    @functools.cached_property
    def all_names(self):
        """[N] every node's name (search reads them all)."""
        return tuple(self.name(i) for i in range(len(self.op)))

    def position(self, node):
        """The position whose forward pass made this node, or None (parameters, the mean loss)."""
        return self._position_of_scope[self.scope_of[node]]

    @functools.cached_property
    def _position_of_scope(self):
        out = []
        for scope in self.scopes:
            top = scope.path.split(' / ', 1)[0]
            out.append(int(top[4:]) if top.startswith('pos ') and top[4:].isdigit() else None)
        return tuple(out)

    def qualified_name(self, node, context=None):
        """The name with its position where the context does not give it: 'pos 2 · q[3]'. `context` is a
        node whose position the reader already knows (its position is then left out)."""
        pos = self.position(node)
        if pos is None or (context is not None and self.position(context) == pos):
            return self.name(node)
        return f'pos {pos} · {self.name(node)}'

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
            node['name'] = self.name(i)
            node['line'] = self.line(i)
            if i in self.params:
                node['param'] = self.param_name(i)
            if grads is not None:
                node['grad'] = grads[i]
            nodes.append(node)
        out = {'doc': self.doc, 'tokens': list(self.tokens), 'token_texts': list(self.token_texts),
               'positions': self.n, 'truncated': self.truncated, 'config': self.config.to_dict(),
               **({} if self.whole_n is None else {'of_positions': self.whole_n}),
               'vocabulary': self.vocabulary,
               'loss': self.loss, 'loss_id': self.loss_id,
               'scopes': [{'id': i, 'name': s.name, 'parent': s.parent, 'path': s.path}
                          for i, s in enumerate(self.scopes)],
               'nodes': nodes, 'backward_order': list(self.backward_order),
               'attention': self.attention, 'attention_ids': self.attention_ids}
        if grads is not None:
            out['param_grads'] = param_grads(self, grads)
        return out


def short_param_name(name):
    """'layer0.attn_wq' -> 'wq', 'layer0.mlp_fc1' -> 'fc1', 'wte' -> 'wte': a matrix as microgpt's
    `linear(x, w)` reads it, inside its layer."""
    name = name.rsplit('.', 1)[-1]
    for prefix in ('attn_', 'mlp_'):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


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
    return literal.loss(tokens, n, TraceOps(recorder, model.config.attention_layers, model.config.n_head, names=False)), literal


def iter_record(model, doc, positions=None):
    """Record `doc` through `model`: yields the fraction done after each position, returns the Trace.
    With `positions`, only the first that many (a part of a document too large to record whole,
    engine.record_cost): the loss is their mean, as if the document stopped there."""
    tokens, whole = model.positions(doc)
    n = whole if positions is None else max(1, min(whole, int(positions)))
    recorder = Recorder(lines=True)
    config = model.config
    state_dict, param_at = _traced_params(recorder, model)
    recorder.note_lines()
    ops = TraceOps(recorder, config.attention_layers, config.n_head)
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

    topo, new_id, nodes = _kept_nodes(recorder, loss, param_at)
    new_scope, scopes = _kept_scopes(recorder, nodes['scope_of'])
    sums = _kept_sums(ops, new_id, nodes['names'])
    tok = model.tokenizer
    trace = Trace(
        doc=doc, tokens=tuple(tokens), n=n, truncated=len(tokens) - 1 > whole, whole_n=whole if n < whole else None,
        token_texts=tuple(tok.token_text(t) for t in tokens), config=config,
        vocabulary=tok.vocabulary_text(),
        op=tuple(nodes['op']), data=tuple(nodes['data']), children=tuple(nodes['children']),
        local_grads=tuple(nodes['local_grads']),
        scope_of=tuple(new_scope[s] for s in nodes['scope_of']), scopes=tuple(scopes),
        params={new_id[old]: where for old, where in param_at.items() if old in new_id},
        names=tuple(nodes['names']), sums=tuple(sums),
        refs={new_id[old]: ref for old, ref in ops.refs.items() if old in new_id},
        loss_id=new_id[loss.index],
        backward_order=tuple(new_id[v.index] for v in reversed(topo)),
        attention=tuple(tuple(tuple(tuple(w.data for w in row) for row in head) for head in layer)
                        for layer in ops.attention_values),
        attention_ids=tuple(tuple(tuple(tuple(new_id[w.index] for w in row) for row in head) for head in layer)
                            for layer in ops.attention_values),
        lines=nodes['lines'], line_of=nodes['line_of'], callers=nodes['callers'],
    )
    # The recorder and its Traced class refer to each other: a cycle only a full collection breaks, and
    # while it lasts it keeps every recorded Value alive (~44,000 for 'emma'). Emptied, they go as soon
    # as this generator ends; a later full collection no longer has them to walk (a 40-70 ms stall).
    recorder.nodes.clear()
    yield 1.0
    return trace


def _traced_params(recorder, model):
    """The model's weights as recorded Values named 'wte[3][7]', each matrix a scope in the weights' scope
    and each of its rows a group of its own (opening a matrix stays small): (state_dict, {recorded index:
    (matrix, row, column)})."""
    Traced = recorder.value_type
    state_dict, param_at = {}, {}
    with recorder.scope(PARAMS_SCOPE):
        for name, mat in model.state_dict.items():
            with recorder.scope(name):
                state_dict[name] = []
                for r, row in enumerate(mat):
                    with recorder.scope(f'{name}[{r}]'):
                        state_dict[name].append([Traced(p.data, op='param') for p in row])
    for name, mat in state_dict.items():
        for r, row in enumerate(mat):
            for c, p in enumerate(row):
                param_at[p.index] = (name, r, c)
                p.name = f'{name}[{r}][{c}]'
    return state_dict, param_at


def _kept_nodes(recorder, loss, param_at):
    """What the loss depends on, renumbered in creation order: (its topological order, old index -> new,
    {column name: per kept node}, with the source lines they were made on)."""
    topo = topological_order(loss)
    kept = sorted(v.index for v in topo)
    new_id = {old: new for new, old in enumerate(kept)}
    nodes = recorder.nodes
    op, data, children, local_grads, scope_of, names = [], [], [], [], [], []
    first_lined, line_ids = recorder.first_lined, recorder.line_of
    line_of = tuple(line_ids[old - first_lined] if old >= first_lined else -1 for old in kept)
    lines = tuple((os.path.relpath(path, PROJECT_ROOT).replace(os.sep, '/'), number)
                  for path, number, _ in recorder.line_ids)  # dicts keep insertion order: the line ids
    callers = tuple(caller for _, _, caller in recorder.line_ids)
    for old in kept:
        v = nodes[old]
        names.append(v.name)
        op.append(v._op or ('param' if old in param_at else 'const'))
        data.append(v.data)
        children.append(tuple(new_id[c.index] for c in v._children))
        local_grads.append(tuple(v._local_grads))
        scope_of.append(v.scope)
    return topo, new_id, {'op': op, 'data': data, 'children': children, 'local_grads': local_grads,
                          'scope_of': scope_of, 'names': names, 'line_of': line_of, 'lines': lines,
                          'callers': callers}


def _kept_scopes(recorder, scope_of):
    """The scopes that hold a kept node, and their ancestors, renumbered in creation order:
    (old scope -> new, [Scope])."""
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
    return new_scope, scopes


def _kept_sums(ops, new_id, names):
    """The recorded sums whose nodes are kept, renumbered; the running sums inside one lose their names
    (names is changed in place)."""
    in_sums, sums = set(), []
    for first, last, products in ops.sums:
        if last in new_id:  # a sum's nodes are all kept (they are what its last one is made of) or none
            sums.append((new_id[first], new_id[last], products))
            in_sums.update(range(new_id[first], new_id[last]))
    for i in in_sums:
        names[i] = None
    return sums


def record(model, doc, positions=None):
    """The Trace of `doc`'s forward pass to the mean loss (see iter_record)."""
    return finish(iter_record(model, doc, positions))


def made_by(trace, model, doc):
    """True if `trace` is what record(model, doc) gives: the same document, configuration and vocabulary,
    and every weight the pass read equal to the model's (a recording made in another process is checked
    so before it is used with this model)."""
    weights = model.state_dict
    return (trace.doc == doc and trace.config == model.config and
            trace.vocabulary == model.tokenizer.vocabulary_text() and
            all(trace.data[node] == weights[name][row][column].data
                for node, (name, row, column) in trace.params.items()))
