"""What is on screen: the recorded scalar graph folded by its scope tree into boxes and edges.

A scope is *open* or closed. A scalar is drawn as the outermost closed scope above it, or as itself
when every scope above it is open. Edges between boxes stand for the scalar edges between their
members (`count`). Open scopes that hold boxes become clusters, so the picture keeps its structure.
"""

from dataclasses import dataclass, field, replace

from engine.graph.keys import (PARAMS_SCOPE, group_key, is_group_key, is_matrix_path, is_vector_key, is_weight_path,
                               node_key, split_key, vector_key, weight_matrix)
from engine.model import param_shapes
from engine.numbers import shown

ROOT = 0

# Groups whose inside is a few short dot products: opening one shows their chains of * and + at once.
OPENS_TO_SCALARS = ('scores', 'weighted sum')
VECTOR_ORDER = ('q', 'keys', 'values')   # the vector boxes of an open head, in this order

# What a group computes, by the name of its scope (a name with an index, 'q[3]', is one dot product).
KINDS = {'q': 'linear', 'k': 'linear', 'v': 'linear', 'wo': 'linear', 'fc1': 'linear', 'fc2': 'linear', 'fc3': 'linear',
         'rope': 'rotate', 'swiglu': 'silu·up',
         'lm_head': 'linear', 'sum of squares': 'dot', 'weighted sum': 'weights·v', 'scores': 'q·k/√d',
         'softmax': 'softmax', 'rmsnorm': 'rmsnorm', 'layernorm': 'layernorm', 'relu': 'relu', 'gelu': 'gelu', 'residual': 'add', 'tok + pos': 'add',
         'final norm': 'norm',
         'sum': 'sum', '-log p': '-log', 'embedding': 'lookup'}


@dataclass(frozen=True)
class Box:
    key: str          # 'g<scope id>' for a group, 'n<node id>' for a scalar
    scope: int        # the group's scope, or the scope a scalar was made in
    node: int         # the scalar's id, -1 for a group
    title: str        # group name, or the scalar's name in the code ('q[3]', 'exps[2]')
    detail: str       # 'linear 16→16 · 528 scalars' for a group; data for a scalar
    size: int         # scalars inside (1 for a scalar)
    cells: tuple = () # a closed group's output vector, a vector box's scalars: (node id or -1, name, data)
    rows: int = 1     # a vector box's rows (3 for the keys of positions 0-2), its cells row by row
    op: str = ''      # a scalar's op ('+', '**-0.5', 'param', 'const'), shown in a cell of its own
    shape: tuple = None  # a closed weight matrix's (rows, columns), as the model declares it; None for any other box
    reads: tuple = () # the weight matrices it reads ('layer0.attn_wq', …), in the model's order: its badge

    @property
    def is_vector(self):
        """A vector box: a vector made elsewhere (q, the keys and values of the KV cache) shown in a group."""
        return is_vector_key(self.key)


@dataclass(frozen=True)
class Cluster:
    scope: int
    title: str
    parent: int       # enclosing cluster's scope, or -1
    boxes: tuple      # keys of the boxes directly inside


@dataclass(frozen=True)
class VisibleGraph:
    boxes: tuple      # Box
    edges: tuple      # (source key, target key, scalar edges it stands for); source feeds target
    clusters: tuple   # Cluster, parents before children
    open: frozenset   # the open scopes this was built from
    show_constants: bool
    key_of: tuple     # [N] the key of the box that shows each scalar (None: a hidden constant)
    kv_edges: frozenset = frozenset()  # (source, target) edges that carry keys or values to a later position
    vectors_of: dict = field(default_factory=dict)  # scalar -> keys of the vector boxes that show it too

    def box(self, key):
        return self._index[key]

    def __post_init__(self):
        object.__setattr__(self, '_index', {b.key: b for b in self.boxes})


class Hierarchy:
    """The scope tree of a Trace with what grouping needs precomputed once."""

    def __init__(self, trace):
        self.trace = trace
        scopes = trace.scopes
        self.children = [[] for _ in scopes]   # scope -> child scopes
        for s, scope in enumerate(scopes):
            if scope.parent >= 0:
                self.children[scope.parent].append(s)
        self.direct = [[] for _ in scopes]     # scope -> nodes made directly in it
        for node, s in enumerate(trace.scope_of):
            self.direct[s].append(node)
        self.size = [len(d) for d in self.direct]  # scalars in the whole subtree
        for s in range(len(scopes) - 1, 0, -1):    # children have larger ids than parents
            self.size[scopes[s].parent] += self.size[s]
        self.depth = [0] * len(scopes)
        for s in range(1, len(scopes)):
            self.depth[s] = self.depth[scopes[s].parent] + 1
        # A weight matrix is drawn as a grid of its parameters (hover and click a cell), so it is never
        # opened into rows: it stays in its fixed place whatever is open.
        self.grids = frozenset(s for s, scope in enumerate(scopes) if weight_matrix(scope.path))
        self.shapes = param_shapes(trace.config, len(trace.vocabulary) + 1)  # matrix name -> (rows, columns)
        self._strip_nodes = {}  # scope -> its output cells as (node, name, where its data comes from)
        self._strips = {}       # scope -> its output cells (strip) with this trace's numbers
        self._vectors = {}      # head scope -> its vector boxes' (name, members, rows)

    def renumbered(self, trace):
        """The hierarchy of `trace`, the same document recorded with other weights (engine.retrace): the
        same structure, shared with this one (and what it worked out about it), with the new numbers."""
        new = object.__new__(Hierarchy)
        new.__dict__.update(self.__dict__)
        new.trace, new._strips = trace, {}
        return new

    def renumber(self, visible):
        """`visible`, a view of this structure, with this trace's numbers: the same boxes, edges and clusters,
        only each box's data (a scalar's detail, a strip's or a vector's cells) as this trace has it."""
        data = self.trace.data
        boxes = []
        for b in visible.boxes:
            if b.node >= 0:
                b = replace(b, detail=shown(data[b.node]))  # every other field (its badge's reads) as it was
            elif b.cells:
                cells = self.strip(b.scope) if not b.is_vector else tuple((m, ref, data[m]) for m, ref, _ in b.cells)
                b = replace(b, cells=cells)
            boxes.append(b)
        return VisibleGraph(tuple(boxes), visible.edges, visible.clusters, visible.open, visible.show_constants,
                            visible.key_of, visible.kv_edges, visible.vectors_of)

    def matrix_shape(self, scope):
        """(rows, columns) of the weight matrix `scope` is (its scope `params / <name>`), else None."""
        path = self.trace.scopes[scope].path
        return self.shapes[weight_matrix(path)] if is_matrix_path(path) else None

    def is_head(self, scope):
        """An attention head ('head 1' in an attention)."""
        scopes = self.trace.scopes
        return scopes[scope].name.startswith('head ') and scopes[scopes[scope].parent].name == 'attention'

    def shows_vectors(self, scope):
        """Opened, it shows the vectors it reads as boxes of its own: an attention head (q, keys,
        values) and a linear (its input x), not a matrix of weights."""
        scopes = self.trace.scopes
        return self.is_head(scope) or (KINDS.get(scopes[scope].name) == 'linear' and bool(self.children[scope])
                                       and not is_weight_path(scopes[scope].path))

    def opening(self, scope):
        """The scopes to open to open `scope`: itself, and the dot products inside a `scores` or a
        `weighted sum` too (their chains of * and + are what there is to see)."""
        if self.trace.scopes[scope].name in OPENS_TO_SCALARS:
            return self.descendants(scope)
        return [scope]

    def strip(self, scope):
        """A closed group's output vector as cells (node, name, data) in index order: the scalars it
        makes that are used outside it in the same position (keys and values a later position reads
        from the KV cache are not its output), or its last scalar if none is. The weights have none.
        A position's softmax shows all its probs, though the recording keeps only probs[target] (the
        loss depends on no other): the others are exps[i]·(1/total), as microgpt computes them, node -1."""
        if scope not in self._strips:
            data = self.trace.data
            self._strips[scope] = tuple((n, name, data[n] if of is None else data[of[0]] * data[of[1]])
                                        for n, name, of in self._strip_cells(scope))
        return self._strips[scope]

    def _strip_cells(self, scope):
        """strip's cells without numbers: (node, name, None), or (-1, name, (exps[i], 1/total)) for a prob
        the recording does not keep; they depend on the structure only."""
        if scope in self._strip_nodes:
            return self._strip_nodes[scope]
        trace = self.trace
        if is_weight_path(trace.scopes[scope].path):
            self._strip_nodes[scope] = ()
            return ()
        nodes = self.nodes_in(scope)
        inside, where, scope_of, parents = set(nodes), trace._position_of_scope, trace.scope_of, trace.parents
        out = []
        for n in nodes:
            pn = where[scope_of[n]]
            for p in parents[n]:
                if p not in inside and (pn is None or where[scope_of[p]] in (None, pn)):
                    out.append(n)
                    break
        out.sort()
        if not out and nodes:
            out = [max(nodes)]
        cells = tuple((n, trace.name(n), None) for n in out)
        if trace.scopes[scope].name == 'softmax' and len(out) == 1 and trace.name(out[0]) == 'probs[target]':
            cells = self._all_probs(scope, out[0]) or cells
        self._strip_nodes[scope] = cells
        return cells

    def _all_probs(self, scope, target):
        trace = self.trace
        exps = {trace.name(n): n for n in self.direct[scope] if trace.name(n).startswith('exps[')}
        inv = trace.children[target][1]  # probs[target] = exps[target]·(1/total)
        cells = []
        for i in range(len(exps)):
            e = exps.get(f'exps[{i}]')
            if e is None:
                return None
            if trace.children[target][0] == e:
                cells.append((target, f'probs[{i}] = probs[target]', None))
            else:
                cells.append((-1, f'probs[{i}]', (e, inv)))
        return tuple(cells)

    def vectors(self, head):
        """The vectors an attention head reads, made outside it: (name, member nodes in index order,
        rows), in VECTOR_ORDER: this position's q (the head's slice), the keys and the values of every
        position so far (row t: position t, from the KV cache for t before this one)."""
        if head in self._vectors:
            return self._vectors[head]
        trace = self.trace
        inside = set(self.nodes_in(head))
        found = {}
        for n in inside:
            for c in trace.children[n]:
                if c not in inside and c not in trace.params and trace.op[c] != 'const':
                    found.setdefault(trace._ref(c).split('[')[0], set()).add(c)
        out = []
        for name in sorted(found, key=lambda k: (VECTOR_ORDER.index(k) if k in VECTOR_ORDER else 99, k)):
            members = tuple(sorted(found[name]))
            rows = len({trace.position(m) for m in members})
            out.append((name, members, rows))
        self._vectors[head] = tuple(out)
        return self._vectors[head]

    def ancestors(self, scope):
        """The scope and every scope above it, innermost first (root excluded)."""
        out = []
        while scope > ROOT:
            out.append(scope)
            scope = self.trace.scopes[scope].parent
        return out

    def descendants(self, scope):
        out, stack = [], [scope]
        while stack:
            s = stack.pop()
            out.append(s)
            stack.extend(self.children[s])
        return out

    def nodes_in(self, scope):
        return [n for s in self.descendants(scope) for n in self.direct[s]]

    def overview(self):
        """The default open set: positions and layers open, so each shows its parts (~30 boxes for 'emma')."""
        opened = {ROOT}
        for s, scope in enumerate(self.trace.scopes):
            if self.depth[s] == 1 or (self.depth[s] == 2 and scope.name.startswith('layer ')):
                opened.add(s)
        return frozenset(opened)

    def open_path(self, scope, opened):
        """`opened` plus every scope above `scope`, so that `scope` itself is visible."""
        return frozenset(opened) | set(self.ancestors(self.trace.scopes[scope].parent)) | {ROOT}

    def box_of(self, node, opened):
        """The key of the box that shows `node` under `opened`."""
        top = None
        for s in self.ancestors(self.trace.scope_of[node]):
            if s not in opened:
                top = s
        return group_key(top) if top is not None else node_key(node)

    def count_boxes(self, opened):
        """How many boxes `opened` would show, without building them (to warn before a huge layout)."""
        count, stack = 0, [ROOT]
        while stack:
            s = stack.pop()
            count += len(self.direct[s])
            for c in self.children[s]:
                if c in opened and c not in self.grids:
                    stack.append(c)
                else:
                    count += 1
        return count

    def visible(self, opened, show_constants=False):
        """The VisibleGraph of an open set (ROOT is always open)."""
        trace = self.trace
        opened = frozenset(opened) | {ROOT}
        shown_open = opened - self.grids
        scopes = trace.scopes
        rep = self._representatives(shown_open)
        op, scope_of = trace.op, trace.scope_of
        key_of = [None] * len(op)
        boxes, groups = [], {}
        for node in range(len(op)):
            r = rep[scope_of[node]]
            if r >= 0:
                key = group_key(r)
                if r not in groups:
                    groups[r] = {'in': set(), 'out': set()}
            elif op[node] == 'const' and not show_constants:
                continue
            else:
                key = node_key(node)
                boxes.append(Box(key, scope_of[node], node, trace.name(node), shown(trace.data[node]), 1,
                                 op=op[node]))
            key_of[node] = key

        head_of, via, vector_boxes = self._vector_boxes(opened, rep)
        edges, kv = self._edges(key_of, rep, groups, head_of, via)
        where = trace._position_of_scope
        vectors_of = {}
        for head, key, name, members, rows in vector_boxes:
            for m in members:
                vectors_of.setdefault(m, []).append(key)
                src = key_of[m]
                if src is None:
                    continue
                edges[(src, key)] = edges.get((src, key), 0) + 1
                if where[scope_of[m]] != where[head]:
                    kv.add((src, key))
                if is_group_key(src):
                    groups[rep[scope_of[m]]]['out'].add(m)
            boxes.append(Box(key, head, -1, name, self._vector_detail(head, name, members, rows), len(members),
                             tuple((m, trace._ref(m), trace.data[m]) for m in members), rows))

        for r in sorted(groups):
            ins, outs = len(groups[r]['in']), len(groups[r]['out'])
            boxes.append(Box(group_key(r), r, -1, scopes[r].name, self.describe(r, ins, outs), self.size[r],
                             self.strip(r), shape=self.matrix_shape(r)))
        reads = self._reads(edges)
        boxes = [replace(b, reads=reads[b.key]) if b.key in reads else b for b in boxes]
        boxes.sort(key=lambda b: (b.scope, b.node, is_group_key(b.key)))
        return VisibleGraph(tuple(boxes), tuple((s, d, c) for (s, d), c in edges.items()), self._clusters(boxes),
                            opened, show_constants, tuple(key_of), frozenset(kv), vectors_of)

    def _reads(self, edges):
        """{box key: the weight matrices it reads, in the model's order}, from the edges out of the weights (a
        box's badge)."""
        trace = self.trace
        scopes, matrices = trace.scopes, {}

        def path(key):
            kind, index = split_key(key)
            return scopes[trace.scope_of[index] if kind == 'n' else index].path

        for src, dst in edges:
            if is_vector_key(src) or is_vector_key(dst) or is_weight_path(path(dst)):
                continue
            name = weight_matrix(path(src))
            if name is not None:
                matrices.setdefault(dst, set()).add(name)
        order = {name: trace.scope_id(f'{PARAMS_SCOPE} / {name}') or 0 for names in matrices.values() for name in names}
        return {key: tuple(sorted(names, key=order.get)) for key, names in matrices.items()}

    def _representatives(self, shown_open):
        """rep[s]: the outermost closed scope at or above s, or -1 if s and all above are open."""
        scopes = self.trace.scopes
        rep = [-1] * len(scopes)
        for s in range(1, len(scopes)):
            up = rep[scopes[s].parent]
            rep[s] = up if up >= 0 else (-1 if s in shown_open else s)
        return rep

    def _vector_boxes(self, opened, rep):
        """An open head or linear shows the vectors it reads as boxes of its own; edges from those vectors'
        scalars into it start at them: ({scope: its open head}, {head: {member: vector key}},
        [(head, key, name, members, rows)])."""
        heads = [s for s in opened if s != ROOT and rep[s] < 0 and self.shows_vectors(s)]
        head_of, via, vector_boxes = {}, {}, []
        for head in sorted(heads):
            for s in self.descendants(head):
                head_of[s] = head
            via[head] = {}
            for name, members, rows in self.vectors(head):
                key = vector_key(head, name)
                for m in members:
                    via[head][m] = key
                vector_boxes.append((head, key, name, members, rows))
        return head_of, via, vector_boxes

    def _edges(self, key_of, rep, groups, head_of, via):
        """({(source key, target key): scalar edges}, the edges that cross positions (the KV cache)) between
        the boxes of key_of; notes each closed group's inputs and outputs in `groups`."""
        trace = self.trace
        op, scope_of, params, where = trace.op, trace.scope_of, trace.params, trace._position_of_scope
        edges, kv = {}, set()
        for node, children in enumerate(trace.children):
            dst = key_of[node]
            if dst is None:
                continue
            head = head_of.get(scope_of[node]) if head_of else None
            for child in children:
                src = key_of[child]
                if src is None or src == dst:
                    continue
                if head is not None and child in via[head]:
                    src = via[head][child]
                elif where[scope_of[node]] != where[scope_of[child]] and \
                        where[scope_of[node]] is not None and where[scope_of[child]] is not None:
                    kv.add((src, dst))
                edges[(src, dst)] = edges.get((src, dst), 0) + 1
                if is_group_key(dst) and child not in params and op[child] != 'const':
                    groups[rep[scope_of[node]]]['in'].add(child)
                if is_group_key(src):
                    groups[rep[scope_of[child]]]['out'].add(child)
        return edges, kv

    def _clusters(self, boxes):
        """Open scopes (not the root) that hold a box, with their open ancestors, parents first."""
        scopes = self.trace.scopes
        members = {}
        for b in boxes:
            s = b.scope if b.node >= 0 or b.is_vector else scopes[b.scope].parent
            members.setdefault(s, []).append(b.key)
        needed = set()
        for s in members:
            needed.update(self.ancestors(s))
        return tuple(Cluster(s, scopes[s].name, scopes[s].parent if scopes[s].parent > ROOT else -1,
                             tuple(members.get(s, ()))) for s in sorted(needed))

    def _vector_detail(self, head, name, members, rows):
        """A vector box's second line: 'q[4:8] · 4 cells', 'keys[0][4:8] · 4 cells', '3×4 · pos 0–2 (KV cache)'."""
        trace = self.trace
        cols = len(members) // max(rows, 1)
        if rows > 1:
            first, last = trace.position(members[0]), trace.position(members[-1])
            return f'{rows}×{cols} · pos {first}–{last} (KV cache)'
        ref = trace._ref(members[0])                  # 'q[4]', 'keys[0][4]'
        cut = ref.rfind('[')
        start = ref[cut + 1:-1]
        if cut < 0 or not start.isdigit():
            return f'{cols} cells'
        return f'{ref[:cut]}[{start}:{int(start) + cols}] · {cols} cells'

    def describe(self, scope, ins, outs):
        """A closed group's second line: 'linear 16→27 · 891 scalars', or '27×16 · 64 used' for a matrix."""
        trace = self.trace
        name = trace.scopes[scope].name
        if weight_matrix(trace.scopes[scope].path):
            if self.children[scope]:  # a matrix, whose rows are the groups inside
                rows, cols = param_shapes(trace.config, len(trace.vocabulary) + 1)[name]
                return f'{rows}×{cols} · {outs} used'
            return f'row of {self.size[scope]} · {outs} used'
        kind = 'dot' if name.endswith(']') else KINDS.get(name, '')
        if kind == 'dot' and trace.config.bias and KINDS.get(trace.scopes[trace.scopes[scope].parent].name) == 'linear':
            kind = 'dot + b'  # a linear's row with the bias option: W[i]·x + b[i]
        shape = f'{ins}→{outs}' if ins else f'{outs} out'
        return f'{kind} {shape} · {self.size[scope]:,} scalars'.lstrip()
