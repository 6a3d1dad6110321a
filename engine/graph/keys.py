"""Box keys and the weights' scope: the one place that makes and reads a box's key ('g12' a group,
'n345' a scalar, 'v12.keys' a vector box), that says whether a scope or a box is a weight, and that reads
a parameter's name ('wte[4][3]', 'layer0.attn_wq[3][5]')."""

import re

from engine.checks import short

PARAMS_SCOPE = 'params'   # the scope the weights are recorded in: 'params / wte / row 3'
_SEP = ' / '         # between the names of a scope's path


def group_key(scope):
    """The key of the box (or frame) that shows scope `scope`: 'g12'."""
    return f'g{scope}'


def node_key(node):
    """The key of the box that shows scalar `node` by itself: 'n345'."""
    return f'n{node}'


def vector_key(scope, name):
    """The key of a vector box that group `scope` shows of a vector made elsewhere: 'v12.keys'."""
    return f'v{scope}.{name}'


def split_key(key):
    """('g', scope), ('n', node) or ('v', scope of the group the vector box stands in) from a box key."""
    if key[0] == 'v':
        return 'v', int(key[1:key.index('.')])
    return key[0], int(key[1:])


def is_group_key(key):
    return key[0] == 'g'


def is_node_key(key):
    return key[0] == 'n'


def is_vector_key(key):
    return key[0] == 'v'


def key_scope(trace, key):
    """The scope a box is about: a group's own scope (or the group a vector box stands in), or the
    scope its scalar was made in."""
    kind, index = split_key(key)
    return trace.scope_of[index] if kind == 'n' else index


def is_weight_path(path):
    """True for the weights' scope and every scope inside it (a matrix, a row of one)."""
    return path == PARAMS_SCOPE or path.startswith(PARAMS_SCOPE + _SEP)


def weight_matrix(path):
    """The matrix a scope inside the weights belongs to ('wq' for 'params / wq / row 3'), else None."""
    parts = path.split(_SEP)
    return parts[1] if parts[0] == PARAMS_SCOPE and len(parts) > 1 else None


def is_matrix_path(path):
    """True for a weight matrix's own scope ('params / wq'), not the weights' scope or a row."""
    return weight_matrix(path) is not None and path.count(_SEP) == 1


def is_weight_box(box, scopes):
    """True for a box that shows weights: a matrix, a row of one, or one parameter (scope `params / …`)."""
    return is_weight_path(scopes[box.scope].path)


_PARAM_NAME = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)\[([0-9]+)\]\[([0-9]+)\]', re.ASCII)


def parse_param_name(text):
    """'layer0.attn_wq[3][5]' -> ('layer0.attn_wq', 3, 5): a matrix and two indices in plain ASCII digits,
    nothing before or after; ValueError (one sentence) for anything else ('wte[4][3]]', 'wte[1_0][3]', 'wte[²][3]').
    Whether the matrix exists and the indices are inside it is for the caller, who knows the shapes."""
    match = _PARAM_NAME.fullmatch(text)
    try:
        if match is not None:
            return match[1], int(match[2]), int(match[3])
    except ValueError:  # more digits than int() reads (4,300): no matrix has such a row either
        pass
    raise ValueError(f'{short(text)} is not a parameter name like wte[4][3] or layer0.attn_wq[3][5] (a matrix and '
                     f'two whole numbers in plain digits).')
