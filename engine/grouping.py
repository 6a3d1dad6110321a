"""What is on screen: the recorded scalar graph folded by its scope tree into boxes and edges.

A scope is *open* or closed. A scalar is drawn as the outermost closed scope above it, or as itself
when every scope above it is open. Edges between boxes stand for the scalar edges between their
members (`count`). Open scopes that hold boxes become clusters, so the picture keeps its structure.
"""

from dataclasses import dataclass

from .model import param_shapes
from .trace import PARAMS_SCOPE

ROOT = 0

# What a group computes, by the name of its scope (a name with an index, 'q[3]', is one dot product).
KINDS = {'q': 'linear', 'k': 'linear', 'v': 'linear', 'wo': 'linear', 'fc1': 'linear', 'fc2': 'linear',
         'lm_head': 'linear', 'sum of squares': 'dot', 'weighted sum': 'weights·v', 'scores': 'q·k/√d',
         'softmax': 'softmax', 'rmsnorm': 'rmsnorm', 'relu': 'relu', 'residual': 'add', 'tok + pos': 'add',
         'sum': 'sum', '-log p': '-log', 'embedding': 'lookup'}


def group_key(scope):
    """The key of the box (or frame) that shows scope `scope`: 'g12'."""
    return f'g{scope}'


def node_key(node):
    """The key of the box that shows scalar `node` by itself: 'n345'."""
    return f'n{node}'


def split_key(key):
    """('g', scope) or ('n', node) from a box key."""
    return key[0], int(key[1:])


def key_scope(trace, key):
    """The scope a box is about: a group's own scope, or the scope its scalar was made in."""
    kind, index = split_key(key)
    return index if kind == 'g' else trace.scope_of[index]


@dataclass(frozen=True)
class Box:
    key: str          # 'g<scope id>' for a group, 'n<node id>' for a scalar
    scope: int        # the group's scope, or the scope a scalar was made in
    node: int         # the scalar's id, -1 for a group
    title: str        # group name, or the scalar's name in the code ('q[3]', 'exps[2]')
    detail: str       # 'linear 16→16 · 528 scalars' for a group; data for a scalar
    size: int         # scalars inside (1 for a scalar)


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
        self.grids = frozenset(s for s, scope in enumerate(scopes) if scope.path.startswith(PARAMS_SCOPE + ' / '))

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
        # rep[s]: the outermost closed scope at or above s, or -1 if s and all above are open.
        rep = [-1] * len(scopes)
        for s in range(1, len(scopes)):
            up = rep[scopes[s].parent]
            rep[s] = up if up >= 0 else (-1 if s in shown_open else s)

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
                boxes.append(Box(key, scope_of[node], node, trace.name(node), f'{trace.data[node]:.4f}', 1))
            key_of[node] = key

        params = trace.params
        edges = {}
        for node, children in enumerate(trace.children):
            dst = key_of[node]
            if dst is None:
                continue
            for child in children:
                src = key_of[child]
                if src is None or src == dst:
                    continue
                edges[(src, dst)] = edges.get((src, dst), 0) + 1
                if dst[0] == 'g' and child not in params and op[child] != 'const':
                    groups[rep[scope_of[node]]]['in'].add(child)
                if src[0] == 'g':
                    groups[rep[scope_of[child]]]['out'].add(child)

        for r in sorted(groups):
            ins, outs = len(groups[r]['in']), len(groups[r]['out'])
            boxes.append(Box(group_key(r), r, -1, scopes[r].name, self.describe(r, ins, outs), self.size[r]))
        boxes.sort(key=lambda b: (b.scope, b.node))

        # Clusters: open scopes (not the root) that hold a box, with their open ancestors.
        members = {}
        for b in boxes:
            s = b.scope if b.node >= 0 else scopes[b.scope].parent
            members.setdefault(s, []).append(b.key)
        needed = set()
        for s in members:
            needed.update(self.ancestors(s))
        clusters = tuple(Cluster(s, scopes[s].name, scopes[s].parent if scopes[s].parent > ROOT else -1,
                                 tuple(members.get(s, ()))) for s in sorted(needed))
        return VisibleGraph(tuple(boxes), tuple((s, d, c) for (s, d), c in edges.items()), clusters,
                            opened, show_constants, tuple(key_of))

    def describe(self, scope, ins, outs):
        """A closed group's second line: 'linear 16→27 · 891 scalars', or '27×16 · 64 used' for a matrix."""
        trace = self.trace
        name = trace.scopes[scope].name
        if trace.scopes[scope].path.startswith(PARAMS_SCOPE + ' /'):
            if self.children[scope]:  # a matrix, whose rows are the groups inside
                rows, cols = param_shapes(trace.config, len(trace.vocabulary) + 1)[name]
                return f'{rows}×{cols} · {outs} used'
            return f'row of {self.size[scope]} · {outs} used'
        kind = 'dot' if name.endswith(']') else KINDS.get(name, '')
        shape = f'{ins}→{outs}' if ins else f'{outs} out'
        return f'{kind} {shape} · {self.size[scope]:,} scalars'.lstrip()
