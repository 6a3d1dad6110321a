"""engine.graph.grouping: the Hierarchy's visible graph at the vector level between groups and scalars.
An open head shows the vectors it reads (its q, the keys and values of the KV cache) and its scores,
softmax and output as a dozen-cell boxes before any scalar; opening the scores shows its dot products and
nothing else; a closed group carries its output vector as cells in index order; the edges of the KV cache
are marked as such in the view and the layout JSON."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.graph import layout as L
from engine.graph.grouping import Hierarchy
from engine.graph.keys import group_key, vector_key
from engine.trace import record

ROOT = Path(__file__).resolve().parents[3]  # the project folder
HEAD = 'pos 2 / layer 0 / attention / head 1'


@pytest.fixture(scope='module')
def emma(emma):
    return emma, Hierarchy(emma)


def opened(trace, h, *paths):
    out = h.overview()
    for path in paths:
        s = trace.scope_id(path)
        out = h.open_path(s, out) | set(h.opening(s))
    return out


def inside(trace, vg, scope):
    """The boxes whose frame is `scope` (vector boxes, closed subgroups, scalars made directly in it)."""
    out = []
    for b in vg.boxes:
        frame = b.scope if (b.node >= 0 or b.is_vector) else trace.scopes[b.scope].parent
        if frame == scope:
            out.append(b)
    return out


def test_an_open_head_shows_its_vectors_first_in_index_order(emma):
    trace, h = emma
    head = trace.scope_id(HEAD)
    vg = h.visible(opened(trace, h, HEAD))
    boxes = inside(trace, vg, head)
    assert [b.title for b in boxes] == ['q', 'keys', 'values', 'scores', 'softmax', 'weighted sum']
    assert [(len(b.cells), b.rows) for b in boxes] == [(4, 1), (12, 3), (12, 3), (3, 1), (3, 1), (4, 1)]
    assert not any(b.node >= 0 for b in boxes)  # no scalar yet
    q, keys, values, scores, softmax, out = boxes
    assert [name for _, name, _ in q.cells] == ['q[4]', 'q[5]', 'q[6]', 'q[7]']   # head 1's slice
    assert [name for _, name, _ in keys.cells] == [f'keys[{t}][{j}]' for t in range(3) for j in range(4, 8)]
    assert [trace.position(n) for n, _, _ in values.cells] == [t for t in range(3) for _ in range(4)]
    assert [name for _, name, _ in scores.cells] == ['attn_logits[0]', 'attn_logits[1]', 'attn_logits[2]']
    assert [name for _, name, _ in out.cells] == [f'head_out[{j}]' for j in range(4)]
    assert all(trace.data[n] == d for b in boxes for n, _, d in b.cells)
    assert q.key == vector_key(head, 'q') and keys.key == f'v{head}.keys'
    # laid out in index order: the vectors in a column (q, keys, values), then scores, softmax, output
    lay = L.layout(vg)
    r = [lay.boxes[b.key] for b in boxes]
    assert r[0][1] + r[0][3] <= r[1][1] and r[1][1] + r[1][3] <= r[2][1]
    assert all(a[0] + a[2] <= b[0] for a, b in zip(r[2:], r[3:])) and r[1][0] + r[1][2] <= r[3][0]
    # edges: the vectors come from outside the head and feed the scores and the weighted sum
    edges = {(s, d) for s, d, _ in vg.edges}
    assert {(q.key, scores.key), (keys.key, scores.key), (values.key, out.key)} <= edges
    assert (group_key(trace.scope_id('pos 2 / layer 0 / attention / q')), q.key) in edges


def test_vector_keys_are_stable_across_views_and_recordings(emma, model):
    trace, h = emma
    keys = [b.key for b in inside(trace, h.visible(opened(trace, h, HEAD)), trace.scope_id(HEAD))]
    other = [b.key for b in inside(trace, h.visible(opened(trace, h, 'pos 3 / layer 0 / mlp', HEAD)),
                                   trace.scope_id(HEAD))]
    again = record(model, 'emma')
    h2 = Hierarchy(again)
    fresh = [b.key for b in inside(again, h2.visible(opened(again, h2, HEAD)), again.scope_id(HEAD))]
    assert keys == other == fresh


def test_every_head_of_every_position_has_its_vector_level(emma):
    trace, h = emma
    for pos in range(trace.n):
        for head in range(trace.config.n_head):
            path = f'pos {pos} / layer 0 / attention / head {head}'
            boxes = inside(trace, h.visible(opened(trace, h, path)), trace.scope_id(path))
            d = trace.config.head_dim
            assert [(b.title, len(b.cells)) for b in boxes] == [
                ('q', d), ('keys', (pos + 1) * d), ('values', (pos + 1) * d), ('scores', pos + 1),
                ('softmax', pos + 1), ('weighted sum', d)], path
            lo, hi = head * d, head * d + d
            assert boxes[0].detail == f'q[{lo}:{hi}] · {d} cells'
            assert boxes[1].detail == (f'{pos + 1}×{d} · pos 0–{pos} (KV cache)' if pos else f'keys[0][{lo}:{hi}] · {d} cells')


def test_opening_the_scores_shows_its_dot_products_and_nothing_else(emma):
    trace, h = emma
    head, scores = trace.scope_id(HEAD), trace.scope_id(f'{HEAD} / scores')
    before = h.visible(opened(trace, h, HEAD))
    after = h.visible(opened(trace, h, HEAD, f'{HEAD} / scores'))
    old, new = {b.key for b in before.boxes}, {b.key for b in after.boxes}
    assert old - new == {group_key(scores)}                       # only the scores box opened
    added = [b for b in after.boxes if b.key in new - old]
    in_scores = set(h.descendants(scores))
    assert added and all(b.node >= 0 and b.scope in in_scores for b in added)
    ops = sorted(trace.op[b.node] for b in added)
    # 3 dot products of 4: 4 products and 4 running sums each (the 0 they start from is a constant,
    # hidden), each divided by √head_dim (·1/√head_dim)
    assert ops.count('*') == 3 * 4 + 3 and ops.count('+') == 3 * 4 and len(ops) == 27
    products = [b for b in added if trace.op[b.node] == '*' and '·keys[' in b.title]
    assert [b.title for b in products][:4] == ['q[4]·keys[0][4]', 'q[5]·keys[0][5]', 'q[6]·keys[0][6]',
                                               'q[7]·keys[0][7]']
    edges = {(s, d) for s, d, _ in after.edges}
    assert all((vector_key(head, 'q'), b.key) in edges and (vector_key(head, 'keys'), b.key) in edges
               for b in products)                                # read from the head's vector boxes
    # it grows in place: no other box passes another left/right anywhere, nor above/below inside the
    # head or outside the attention (the attention's own dot layout re-centres its other boxes)
    attention = trace.scope_id('pos 2 / layer 0 / attention')
    a, b = rects(L.layout(before)), rects(L.layout(after))
    others = sorted(set(a) & set(b) - {group_key(scores)})
    in_head = {k for k in others if head in scope_chain(trace, k)}
    outside = {k for k in others if attention not in scope_chain(trace, k) and k != group_key(attention)}
    assert flips(a, b, others, 0) == []
    assert flips(a, b, sorted(in_head), 1) == [] and flips(a, b, sorted(outside), 1) == []
    grown = sorted(in_head | {group_key(scores)})  # inside the head even the scores keeps its place
    assert flips(a, b, grown, 0) == [] and flips(a, b, grown, 1) == []
    assert len(in_head) == 6 and len(outside) > 30  # the head frame, q, keys, values, softmax, output


def rects(lay):
    out = dict(lay.boxes)
    out.update({group_key(s): r[:4] for s, r in lay.clusters.items()})
    return out


def scope_chain(trace, key):
    """The scopes a box or frame lies in (its own included)."""
    kind, index = key[0], key[1:]
    s = trace.scope_of[int(index)] if kind == 'n' else int(index.split('.')[0])
    out = []
    while s > 0:
        out.append(s)
        s = trace.scopes[s].parent
    return out


def flips(a, b, keys, axis):
    """Pairs of `keys` one of which was wholly before the other along `axis` in a and is not in b."""
    def side(p, q):
        return -1 if p[axis] + p[axis + 2] <= q[axis] + 0.5 else 1 if q[axis] + q[axis + 2] <= p[axis] + 0.5 else 0
    return [(p, q) for i, p in enumerate(keys) for q in keys[i + 1:]
            if side(a[p], a[q]) and side(b[p], b[q]) != side(a[p], a[q])]


def test_a_closed_group_carries_its_output_vector_in_index_order(emma):
    trace, h = emma
    vg = h.visible(h.overview())
    by_path = {trace.scopes[b.scope].path: b for b in vg.boxes if b.node < 0}
    attention = by_path['pos 2 / layer 0 / attention']
    assert [name for _, name, _ in attention.cells] == [f'x[{i}]' for i in range(16)]
    assert all(trace.data[n] == d and 'residual' in trace.scope_path(n) for n, _, d in attention.cells)
    assert [n for n, _, _ in attention.cells] == sorted(n for n, _, _ in attention.cells)
    assert len(by_path['pos 2 / lm_head'].cells) == 27
    assert [name for _, name, _ in by_path['pos 2 / -log p'].cells] == ['loss_t']
    softmax = by_path['pos 2 / softmax'].cells                   # all 27 probs, the target's recorded
    assert len(softmax) == 27 and abs(sum(d for _, _, d in softmax) - 1) < 1e-9
    [target] = [c for c in softmax if c[0] >= 0]
    assert trace.name(target[0]) == 'probs[target]' and target[2] == trace.data[target[0]]
    assert by_path['params / wte'].cells == ()                   # the weights are drawn as grids instead
    head = h.visible(opened(trace, h, 'pos 2 / layer 0 / attention'))
    [h0] = [b for b in head.boxes if trace.scopes[b.scope].path == 'pos 2 / layer 0 / attention / head 0']
    assert [name for _, name, _ in h0.cells] == [f'head_out[{j}]' for j in range(4)]


def test_kv_cache_edges_are_marked(emma):
    trace, h = emma
    head = trace.scope_id(HEAD)
    vg = h.visible(opened(trace, h, HEAD))
    assert vg.kv_edges and vg.kv_edges <= {(s, d) for s, d, _ in vg.edges}

    def position(key):
        kind, index = key[0], key[1:]
        scope = trace.scope_of[int(index)] if kind == 'n' else int(index.split('.')[0])
        return trace.position(next(n for n in h.nodes_in(scope))) if kind != 'n' else trace.position(int(index))
    for s, d, _ in vg.edges:   # marked exactly when it carries a value from one position into a later one
        ps, pd = position(s), position(d)
        crosses = ps is not None and pd is not None and ps != pd
        assert ((s, d) in vg.kv_edges) == crosses, (s, d)
        if crosses:
            assert ps < pd
    into_keys = {s for s, d in vg.kv_edges if d == vector_key(head, 'keys')}
    assert {position(s) for s in into_keys} == {0, 1}          # pos 2's own keys are not from the cache
    assert not any(d == vector_key(head, 'q') for _, d in vg.kv_edges)


def test_graph_json_shows_the_vector_level_and_the_kv_edges(tmp_path, emma):
    trace, h = emma
    out = tmp_path / 'head.json'
    subprocess.run([sys.executable, str(ROOT / 'main.py'), 'graph', '--doc', 'emma', '--open', HEAD, '-o', str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    data = json.loads(out.read_text())
    head = trace.scope_id(HEAD)
    boxes = {b['key']: b for b in data['boxes']}
    keys = boxes[vector_key(head, 'keys')]
    assert keys['scope'] == HEAD and keys['rows'] == 3 and keys['cells'][:2] == ['keys[0][4]', 'keys[0][5]']
    assert boxes[vector_key(head, 'q')]['cells'] == ['q[4]', 'q[5]', 'q[6]', 'q[7]']
    kv = {(e['source'], e['target']) for e in data['kv_edges']}
    assert any(d == vector_key(head, 'keys') for _, d in kv)
    assert kv <= {(e['source'], e['target']) for e in data['edges']}


def test_an_open_linear_shows_its_input_vector_then_its_dot_products(emma):
    trace, h = emma
    for path, name, n_in, n_out in (('pos 2 / layer 0 / attention / q', 'x', 16, 16),
                                    ('pos 2 / layer 0 / attention / wo', 'x_attn', 16, 16),
                                    ('pos 2 / layer 0 / mlp / fc2', 'x', 64, 16), ('pos 2 / lm_head', 'x', 16, 27)):
        scope = trace.scope_id(path)
        vg = h.visible(opened(trace, h, path))
        boxes = inside(trace, vg, scope)
        vector, dots = boxes[0], boxes[1:]
        assert vector.key == vector_key(scope, name) and vector.is_vector
        assert [c[1] for c in vector.cells] == [f'{name}[{i}]' for i in range(n_in)]
        assert all(trace.position(n) == 2 for n, _, _ in vector.cells)
        assert [b.title for b in dots] == [f'{path.split(" / ")[-1]}[{i}]' for i in range(n_out)]
        edges = {(s, d): c for s, d, c in vg.edges}
        assert all(edges.get((vector.key, b.key)) == n_in for b in dots)   # each dot product reads all of x
        assert not any(d == vector.key for _, d in vg.kv_edges)
    assert h.visible(opened(trace, h, 'params / wte')).boxes  # a matrix of weights gets no vector box
    assert not any(b.is_vector for b in h.visible(opened(trace, h, 'params / layer0.attn_wq')).boxes)


def test_each_box_knows_the_weight_matrices_it_reads_in_the_models_order(emma):
    trace, h = emma
    vg = h.visible(h.overview())
    reads = {trace.scopes[b.scope].path: b.reads for b in vg.boxes if b.reads}
    assert reads['pos 1 / layer 0 / attention'] == ('layer0.attn_wq', 'layer0.attn_wk', 'layer0.attn_wv',
                                                   'layer0.attn_wo')
    assert reads['pos 0 / embedding'] == ('wte', 'wpe') and reads['pos 3 / lm_head'] == ('lm_head',)
    assert len(reads) == 4 * trace.n  # embedding, attention, mlp, lm_head: nothing else reads a weight
    tok = trace.scope_id('pos 0 / embedding / tok + pos')  # at the scalar level: each x[i] reads wte and wpe
    scalars = [b for b in h.visible(h.open_path(tok, h.overview()) | {tok}).boxes if b.scope == tok]
    assert len(scalars) == 16 and all(b.reads == ('wte', 'wpe') for b in scalars)


def test_a_view_renumbered_with_other_weights_is_the_view_those_weights_record(emma):
    """The timeline's step: the same document with another step's weights (engine.retrace) keeps every box,
    edge and frame; only the numbers are the new recording's, as a view built from scratch has them."""
    from engine import checkpoint as ckpt_io
    from engine import history as history_io
    from engine.paths import DEFAULT_CHECKPOINT
    from engine.retrace import Retracer
    trace, h = emma
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    history = history_io.load_for(DEFAULT_CHECKPOINT, ckpt)
    history.mark_checked()
    other = history.model_at(7)
    views = [opened(trace, h, HEAD), opened(trace, h, 'pos 3'), h.overview() | set(h.descendants(trace.scope_id('pos 1')))]
    before = [h.visible(v) for v in views] + [h.visible(views[0], show_constants=True)]
    retraced = Retracer(trace)(other)
    fresh = Hierarchy(record(other, 'emma'))
    renumbered = h.renumbered(retraced)
    assert renumbered.trace is retraced and h.trace is trace
    for vg in before:
        new = renumbered.renumber(vg)
        assert new == fresh.visible(vg.open, vg.show_constants) != vg
        assert new.edges is vg.edges and new.clusters is vg.clusters
    assert h.visible(views[0]) == before[0]  # the first hierarchy keeps its own numbers


def test_the_seed_blocks_groups_say_what_they_compute():
    """A linear's row with the bias option is 'dot + b' (W[i]·x + b[i]); RoPE's group rotates, SwiGLU's multiplies
    silu by up; a row of scores stays a plain dot."""
    import random

    from engine.model import GPTConfig, Model
    from engine.tokenizer import Tokenizer
    config = GPTConfig(n_embd=8, n_head=2, bias=True, position='rope', activation='swiglu')
    trace = record(Model.init(config, Tokenizer('abcdem'), random.Random(2)), 'emma')
    h = Hierarchy(trace)
    detail = {trace.scopes[s].path: h.describe(s, 0, 1) for s in range(1, len(trace.scopes))}
    assert detail['pos 2 / layer 0 / attention / q / q[3]'].startswith('dot + b ')
    assert detail['pos 2 / layer 0 / attention / head 0 / scores / q·k[1]'].startswith('dot ')
    assert detail['pos 2 / layer 0 / attention / rope'].startswith('rotate ')
    assert detail['pos 2 / layer 0 / mlp / swiglu'].startswith('silu·up ')
    assert detail['pos 2 / layer 0 / mlp / fc3'].startswith('linear ')
