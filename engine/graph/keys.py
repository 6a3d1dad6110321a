"""Box keys and the weights' scope: the one place that makes and reads a box's key ('g12' a group,
'n345' a scalar, 'v12.keys' a vector box) and that says whether a scope or a box is a weight."""

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
