"""engine.gradient.provenance: names resolve to nodes, a gradient splits into its terms by use and by
prediction and they sum back to it bit for bit, and a node's cone is what it depends on and what
depends on it."""

import re

import pytest

from engine.backprop import Schedule
from engine.errors import EngineError
from engine.gradient.provenance import (Predictions, ancestors, descendants, path_between, resolve, sum_in_order,
                                        terms_by_use)

# Nodes of every kind: the embedding weight, weights of every matrix, a node used twice by one
# parent (x·x in rmsnorm), attention weights, keys and values used by later positions, the loss terms.
NAMED = ['wte[4][3]', 'wpe[2][7]', 'lm_head[13][0]', 'layer0.attn_wq[3][5]', 'layer0.attn_wk[0][1]',
         'layer0.attn_wv[9][2]', 'layer0.attn_wo[1][1]', 'layer0.mlp_fc1[10][3]', 'layer0.mlp_fc2[4][40]',
         'pos 1 / embedding / tok + pos / x[3]', 'pos 0 / layer 0 / attention / k / k[5] / k[5]',
         'pos 2 / layer 0 / attention / head 1 / softmax / attn_weights[0]', 'pos 3 / softmax / exps[2]',
         'pos 2 / -log p / loss_t', 'pos 1 / layer 0 / mlp / rmsnorm / scale']


def test_names_resolve_and_unknown_names_fail_with_one_sentence(emma):
    assert emma.param_name(resolve(emma, 'wte[4][3]')) == 'wte[4][3]'
    assert resolve(emma, '19') == 19
    for bad in ('bogus', 'wte[99][0]', '999999', 'exps[2]'):  # the last names 17 nodes: it says which
        with pytest.raises(EngineError) as e:
            resolve(emma, bad)
        message = str(e.value)
        assert '\n' not in message and message.endswith('.') and not re.search(r'\.\s+[A-Z]', message)


@pytest.mark.parametrize('bad, says', [
    ('²', "No node is called '²'"), ('①', "No node is called '①'"), ('٤', "No node is called '٤'"),  # isdigit, not ids
    ('wte[4][3]]]]', "'wte[4][3]]]]' is not a parameter name"), ('wte[1_0][3]', 'is not a parameter name'),
    ('wte[²][3]', 'is not a parameter name'), ('wte[40][3]', "'wte[40][3]' is outside wte, which is 27×16."),
    ('x' * 100_000, "No node is called 'xxx"), ('1' * 5000, "There is no node '1111"),  # int() reads 4,300 digits at most
])
def test_every_name_that_is_not_a_node_is_one_short_sentence(emma, bad, says):
    with pytest.raises(EngineError) as e:
        resolve(emma, bad)
    message = str(e.value)
    assert says in message and len(message) < 300
    assert '\n' not in message and message.endswith('.') and not re.search(r'\.\s+[A-Z]', message)


def test_a_parameter_the_document_does_not_use_is_named_with_the_rows_it_reads(model):
    from engine.trace import record
    a = record(model, 'a')
    with pytest.raises(EngineError) as e:
        resolve(a, 'wte[4][3]')
    assert str(e.value) == ("wte[4][3] is not used by the document 'a' (of wte it reads only the rows of its "
                            "characters: 0 ('a'), 26 ('BOS')); pick a parameter it uses, e.g. wte[0][3], or record "
                            'a document that uses it.')
    with pytest.raises(EngineError, match=r"wpe\[5\]\[0\] is not used .* the rows of its positions: 0, 1\)"):
        resolve(a, 'wpe[5][0]')
    assert a.param_name(resolve(a, 'wte[0][3]')) == 'wte[0][3]' and resolve(a, 'wte[00][3]') == resolve(a, 'wte[0][3]')


@pytest.mark.parametrize('name', NAMED)
def test_terms_by_use_sum_to_the_grad_bit_for_bit(emma, grads, name):
    node = resolve(emma, name)
    terms = terms_by_use(emma, grads, node)
    assert terms and sum_in_order(terms) == grads[node]
    applied = Schedule(emma).applied_at
    assert [applied[t.parent] for t in terms] == sorted(applied[t.parent] for t in terms)


def test_terms_by_use_sum_exactly_for_every_node(emma, grads):
    schedule = Schedule(emma)
    for node in range(0, len(emma), 3):
        if node != emma.loss_id:
            assert sum_in_order(terms_by_use(emma, grads, node, schedule)) == grads[node], node


def test_a_node_used_twice_by_one_parent_gets_two_terms(emma, grads):
    node = resolve(emma, 'pos 1 / embedding / rmsnorm / x[0]')
    x = emma.children[node][0]  # x before rmsnorm: squared in x·x
    terms = terms_by_use(emma, grads, x)
    assert len([t for t in terms if emma.children[t.parent] == (x, x)]) == 2
    assert sum_in_order(terms) == grads[x]


@pytest.mark.parametrize('name', NAMED)
def test_by_prediction_parts_sum_to_the_grad(emma, grads, name):
    node = resolve(emma, name)
    parts = Predictions(emma, grads).parts(node)
    assert [t for t, _, _ in parts] == list(range(emma.n))
    total = sum(g for _, _, g in parts)
    assert abs(total - grads[node]) <= 1e-12 * sum(abs(g) for _, _, g in parts)


def test_by_prediction_covers_every_position_for_every_node_the_last_included(emma, grads):
    """Every node below the mean (the loss_t of the last position too) splits over positions 0..n-1, in order;
    a position whose loss_t it does not reach asks for nothing, and the parts added in position order give its
    grad. The named nodes above miss the last loss_t, whose split an audit emptied unnoticed."""
    predictions = Predictions(emma, grads)
    terms, last = predictions.loss_terms, emma.n - 1
    assert len(terms) == emma.n == 5 and terms[-1] < emma.loss_id
    # the last -log p term: only the last prediction asks for it, and for all of its grad (1/n)
    assert grads[terms[-1]] != 0
    assert predictions.parts(terms[-1]) == [(t, emma.token_texts[t + 1], grads[terms[-1]] if t == last else 0)
                                            for t in range(emma.n)]
    reaches = [ancestors(emma, term) | {term} for term in terms]  # the nodes each position's loss_t is computed from
    for node in range(terms[-1] + 1):
        parts = predictions.parts(node)
        assert [(t, target) for t, target, _ in parts] == list(enumerate(emma.token_texts[1:])), node
        total = 0
        for t, _, g in parts:
            assert g == 0 or node in reaches[t], (node, t)
            total += g
        assert abs(total - grads[node]) <= 1e-12 * sum(abs(g) for _, _, g in parts), node
    for node in range(terms[-1] + 1, len(emma)):  # the mean above the -log p terms: no split
        assert predictions.parts(node) == [], node


def test_wte_4_3_one_use_and_four_predictions(emma, grads):
    """The issue's example: `e` at position 1 is used once, and predictions 1-4 each ask for a part."""
    node = resolve(emma, 'wte[4][3]')
    assert len(terms_by_use(emma, grads, node)) == 1
    parts = Predictions(emma, grads).parts(node)
    assert parts[0][2] == 0 and all(g != 0 for _, _, g in parts[1:])
    assert [target for _, target, _ in parts] == ['e', 'm', 'm', 'a', 'BOS']


def test_the_cone_is_what_a_node_depends_on_and_what_depends_on_it(emma):
    node = resolve(emma, 'pos 2 / layer 0 / attention / head 1 / softmax / attn_weights[0]')
    up, down = ancestors(emma, node), descendants(emma, node)
    assert emma.loss_id in down and not up & down
    assert all(c in up for c in emma.children[node]) and all(p in down for p in emma.parents[node])
    assert not any(n in down for n in range(node))  # made later than it, all of them
    wte = resolve(emma, 'wte[4][3]')
    loss_1 = resolve(emma, 'pos 1 / -log p / loss_t')
    path = path_between(emma, wte, loss_1)
    assert wte in path and loss_1 in path and path <= descendants(emma, wte) | {wte}


def test_a_tied_wte_gets_its_gradient_from_both_uses():
    """With lm_head tied to wte (the tie option), a row of wte is read by the embedding and by every position's
    lm_head: its terms by use are both kinds, and they sum to its grad bit for bit."""
    import random

    from engine.backprop import Stepper
    from engine.model import GPTConfig, Model
    from engine.tokenizer import Tokenizer
    from engine.trace import record
    from engine.gradient.provenance import terms_by_use
    trace = record(Model.init(GPTConfig(n_embd=8, n_head=2, tie=True), Tokenizer('abcdem'), random.Random(4)), 'emma')
    stepper = Stepper(trace)
    stepper.run_to_end()
    node = resolve(trace, 'wte[4][3]')  # 'e', read at pos 1 by the embedding
    terms = terms_by_use(trace, stepper.grads, node)
    scopes = [trace.scope_path(t.parent) for t in terms]
    assert 'pos 1 / embedding / tok + pos' in scopes and sum(s.endswith('lm_head / lm_head[4]') for s in scopes) == 5
    assert sum_in_order(terms) == stepper.grads[node]
