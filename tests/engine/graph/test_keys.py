"""engine.graph.keys, the one place that makes and reads a box key ('g12' a group, 'n345' a scalar,
'v12.keys' a vector box), says whether a scope or a box is a weight and reads a parameter's name."""

import pytest

from engine.graph.grouping import Hierarchy
from engine.graph.keys import (group_key, is_group_key, is_matrix_path, is_node_key, is_vector_key, is_weight_box,
                               is_weight_path, key_scope, node_key, parse_param_name, split_key, vector_key,
                               weight_matrix)


def test_keys_read_back_as_what_made_them():
    assert (group_key(12), node_key(345), vector_key(12, 'keys')) == ('g12', 'n345', 'v12.keys')
    assert [split_key(k) for k in ('g12', 'n345', 'v12.keys', 'v7.x_attn')] == [('g', 12), ('n', 345), ('v', 12),
                                                                                ('v', 7)]
    assert [(is_group_key(k), is_node_key(k), is_vector_key(k)) for k in ('g1', 'n1', 'v1.q')] == [
        (True, False, False), (False, True, False), (False, False, True)]


@pytest.mark.parametrize('path, weight, matrix, is_matrix', [
    ('params', True, None, False),
    ('params / wte', True, 'wte', True),
    ('params / layer0.attn_wq / layer0.attn_wq[3]', True, 'layer0.attn_wq', False),
    ('pos 2 / layer 0 / attention', False, None, False),
    ('paramsx / wte', False, None, False),
])
def test_the_weights_scope_and_its_matrices(path, weight, matrix, is_matrix):
    assert (is_weight_path(path), weight_matrix(path), is_matrix_path(path)) == (weight, matrix, is_matrix)


def test_a_key_is_about_its_own_scope_or_the_one_its_scalar_was_made_in(emma):
    head = emma.scope_id('pos 2 / layer 0 / attention / head 1')
    assert key_scope(emma, group_key(head)) == key_scope(emma, vector_key(head, 'keys')) == head
    assert key_scope(emma, node_key(emma.loss_id)) == emma.scope_of[emma.loss_id]
    h = Hierarchy(emma)
    boxes = h.visible(h.overview()).boxes
    weights = [b for b in boxes if is_weight_box(b, emma.scopes)]
    assert weights and all(emma.scopes[b.scope].path.startswith('params / ') for b in weights)
    assert len(weights) < len(boxes)


def test_a_parameter_name_is_a_matrix_and_two_indices_in_plain_digits_and_nothing_else():
    assert parse_param_name('wte[4][3]') == ('wte', 4, 3)
    assert parse_param_name('layer0.attn_wq[3][5]') == ('layer0.attn_wq', 3, 5)
    for bad in ('wte[4][3]]]]', 'wte[4][3', 'wte[1_0][3]', 'wte[²][3]', 'wte[٤][3]', 'wte[-1][3]', 'wte[ 4][3]',
                ' wte[4][3]', 'wte[4][3]\n', 'wte', '[4][3]', 'wte[4]', 'wte[%s][3]' % ('9' * 5000)):
        with pytest.raises(ValueError, match=r'is not a parameter name like wte\[4\]\[3\] or layer0.attn_wq\[3\]\[5\] '
                                             r'\(a matrix and two whole numbers in plain digits\)\.$') as e:
            parse_param_name(bad)
        assert len(str(e.value)) < 250
