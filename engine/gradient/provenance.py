"""Where a gradient comes from: the terms it was summed from, the predictions that ask for it, its cone.

- `terms_by_use`: the `+=` terms a node received in the backward pass, one per use by a parent
  (`local_grad × grad(parent)`), in the order backprop applied them; summed from 0 in that order they
  give the node's grad bit for bit, because that is the sum the backward pass did.
- `Predictions`: the loss is (1/n)·Σ −log p(target_t), so a node's grad is the sum of what each position's
  prediction asks for: a backward pass from each position's `loss_t`, seeded with the grad the full pass
  gives it (1/n). The parts sum to the grad up to rounding (the full pass adds them in another order).
- `ancestors` / `descendants`: everything a node depends on, and everything that depends on it (to the loss).
- `resolve`: a node from what a user types: its id, a parameter (`wte[4][3]`), a name with its position
  (`pos 2 · q[3]`) or its scope path (`pos 0 / softmax / exps[2]`), or a name only one node has.
"""

from dataclasses import dataclass

from engine.checks import short
from engine.errors import EngineError
from engine.graph.keys import parse_param_name
from engine.model import param_shapes


@dataclass(frozen=True)
class Term:
    parent: int        # the node that used this one
    local_grad: float  # d(parent)/d(node)
    parent_grad: float # grad(parent) when it was applied (final: parents apply before their children)
    term: float        # local_grad * parent_grad, as the backward pass added it


def terms_by_use(trace, grads, node, schedule=None):
    """The Terms `node` received, in the order backprop applied them (a parent using it twice gives two)."""
    if schedule is None:
        order = {n: i for i, n in enumerate(trace.backward_order)}
        when = order.__getitem__
    else:
        when = schedule.applied_at.__getitem__
    out = []
    for parent in sorted(set(trace.parents[node]), key=when):
        for child, local in zip(trace.children[parent], trace.local_grads[parent]):
            if child == node:
                out.append(Term(parent, local, grads[parent], local * grads[parent]))
    return out


def sum_in_order(terms):
    """The terms added as the backward pass adds them: from int 0, one `+=` at a time."""
    total = 0
    for t in terms:
        total += t.term
    return total


def loss_terms(trace):
    """[n] the node id of each position's −log p term (`loss_t`), in position order."""
    found = {}
    for i, name in enumerate(trace.names):
        if name == 'loss_t':
            found[trace.position(i)] = i
    return [found[t] for t in range(trace.n)]


class Predictions:
    """Per position t, every node's grad from a backward pass started at loss_t alone."""

    def __init__(self, trace, grads):
        self.trace = trace
        self.loss_terms = loss_terms(trace)
        order = trace.backward_order
        index = {n: i for i, n in enumerate(order)}
        children_of, local_of = trace.children, trace.local_grads
        self.grads = []  # [n][N]
        for term in self.loss_terms:
            g = [0] * len(trace.op)
            g[term] = grads[term]  # 1/n, as the full pass gives it
            for node in order[index[term]:]:  # nothing before loss_t in the order is below it
                node_grad = g[node]
                if node_grad:
                    for child, local in zip(children_of[node], local_of[node]):
                        g[child] += local * node_grad
            self.grads.append(g)

    def parts(self, node):
        """[(position, target text, grad)] for every position; [] above the −log p terms (the mean: the loss)."""
        trace = self.trace
        if node > self.loss_terms[-1]:
            return []
        return [(t, trace.token_texts[t + 1], g[node]) for t, g in enumerate(self.grads)]


def ancestors(trace, node):
    """Every node `node` is computed from (not itself)."""
    return _closure(node, trace.children)


def descendants(trace, node):
    """Every node computed from `node`, down to the loss (not itself)."""
    return _closure(node, trace.parents)


def _closure(node, edges):
    seen, stack = set(), [node]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def path_between(trace, low, high):
    """The nodes on every path from `low` up to `high` (both included): how a gradient came from high to low."""
    if low == high:
        return {low}
    on = descendants(trace, low) & ancestors(trace, high)
    return on | {low, high} if on or high in trace.parents[low] else set()


def full_name(trace, node):
    """'pos 0 / softmax / exps[2]': a node's scope path and name, what `resolve` reads back."""
    path = trace.scope_path(node)
    return f'{path} / {trace.name(node)}' if path else trace.name(node)


def resolve(trace, text):
    """The node id `text` names; EngineError (one sentence) when it names none or several."""
    text = text.strip()
    doc = short(trace.doc)
    if text.isascii() and text.isdigit():  # plain digits: '²' and '①' are digits to isdigit, not to int
        if len(text) <= 18 and int(text) < len(trace.op):  # (int() refuses more than 4,300 digits)
            return int(text)
        raise EngineError(f'There is no node {text if len(text) <= 18 else short(text)} in the recording of {doc}: its ids are 0 to '
                          f'{len(trace.op) - 1}.')
    shapes = param_shapes(trace.config, len(trace.vocabulary) + 1)
    try:
        param = parse_param_name(text)
    except ValueError as not_a_param:
        param = None
        if text.partition('[')[0] in shapes and not any(name == text for name in trace.all_names):
            raise EngineError(str(not_a_param)) from None
    if param is not None and param[0] in shapes:
        return _param_node(trace, shapes, *param)
    hits = [i for i, name in enumerate(trace.all_names) if name == text]
    if not hits and ' · ' in text:
        pos, name = text.split(' · ', 1)
        hits = [i for i, n in enumerate(trace.all_names) if n == name and f'pos {trace.position(i)}' == pos]
    if not hits and ' / ' in text:
        path, name = text.rsplit(' / ', 1)
        scope = trace.scope_id(path)
        hits = [i for i, n in enumerate(trace.all_names) if n == name and trace.scope_of[i] == scope]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise EngineError(f'No node is called {short(text)} in the recording of {doc}; give a parameter '
                          f"(wte[4][3]), a name with its place ('pos 1 / softmax / exps[2]') or a node id.")
    raise EngineError(f'{short(text)} names {len(hits)} nodes in the recording of {doc}; say which, e.g. '
                      f'{full_name(trace, hits[0])!r}, or give its id ({hits[0]}).')


def _param_node(trace, shapes, matrix, row, col):
    """The node of parameter matrix[row][col]; EngineError when it is outside the matrix or the document
    does not use it (a row of wte for a character it does not have, a row of wpe past its positions)."""
    name = f'{matrix}[{row}][{col}]'
    rows, cols = shapes[matrix]
    if not (row < rows and col < cols):
        raise EngineError(f'{short(name)} is outside {matrix}, which is {rows}×{cols}.')
    used = {}  # row -> the node of its parameter in column `col`
    for node, (m, r, c) in trace.params.items():
        if m == matrix and c == col:
            used[r] = node
    if row in used:
        return used[row]
    what = {'wte': 'the rows of its characters', 'wpe': 'the rows of its positions'}.get(matrix, 'the rows')
    token_of = dict(zip(trace.tokens[:trace.n], trace.token_texts[:trace.n]))
    rows_used = ', '.join(f'{r} ({token_of[r]!r})' if matrix == 'wte' else str(r) for r in sorted(used))
    raise EngineError(f'{name} is not used by the document {short(trace.doc)} (of {matrix} it reads only {what}: '
                      f'{rows_used}); pick a parameter it uses, e.g. {matrix}[{min(used, default=0)}][{col}], '
                      f'or record a document that uses it.')
