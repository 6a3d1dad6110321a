"""The model level of the picture, arranged without Graphviz: the weights' band at the top (each matrix
under the position's column whose stage reads it, in the model's reading order), the positions as
columns left to right, the loss below them; and what makes two items the same stage, so that the same
stage of every position stands in one row."""

import re

from engine.graph.geometry import COLUMN_GAP, GRID_GAP_IN, GRID_GAP_OUT, ROW_GAP
from engine.graph.keys import PARAMS_SCOPE

SEQUENCES = re.compile(r'(pos \d+|layer \d+)$')  # stages in a column, aligned across positions


def stage_slot(title):
    """What makes two items the same stage: their title, without the position's number."""
    return 'pos' if re.fullmatch(r'pos \d+', title) else title


def stage_of_weight(name):
    """The stage a weight matrix is used in, as a stage name path: 'layer0.attn_wq' -> attention."""
    m = re.fullmatch(r'layer(\d+)\.(attn|mlp)_\w+', name)
    if m:
        return ('pos', f'layer {m.group(1)}', 'attention' if m.group(2) == 'attn' else 'mlp')
    return {'wte': ('pos', 'embedding'), 'wpe': ('pos', 'embedding'), 'lm_head': ('pos', 'lm_head'), 'lm_head_b': ('pos', 'lm_head'),
            'emb_ln_gain': ('pos', 'embedding'), 'emb_ln_bias': ('pos', 'embedding'),
            'final_ln_gain': ('pos', 'final norm'), 'final_ln_bias': ('pos', 'final norm')}.get(name)


def stage_order(stage):
    """Where a stage comes in the model's reading order (for the weights' band): embedding, then each
    layer's attention and mlp, then lm_head; a weight no stage reads comes last."""
    if stage is None:
        return 1 << 20
    if stage[1:2] == ('embedding',):
        return 0
    if stage[1:2] == ('lm_head',):
        return 1 << 19
    if stage[1:2] == ('final norm',):
        return (1 << 19) - 1
    return 1 + 2 * int(stage[1].split()[1]) + (stage[2] == 'mlp')


def arrange_weights(keys, sizes, stages, columns):
    """The weight matrices in a band, grouped by the stage that reads them, the groups in reading order,
    the k-th group at the left of the k-th position's column (`columns`: their x), so that a column
    that grows moves the groups right of it with it and nothing passes anything; groups beyond the last
    column follow the one before."""
    order = sorted(range(len(keys)), key=lambda i: (stages[i], i))
    corners, x, last, group = {}, 0.0, None, -1
    for i in order:
        if stages[i] != last:
            group += 1
            start = columns[group] if group < len(columns) else x + GRID_GAP_OUT
            x = max(start, x + GRID_GAP_OUT) if last is not None else start
        else:
            x += GRID_GAP_IN
        corners[keys[i]] = (x, 0.0)
        x += sizes[i][0]
        last = stages[i]
    return x, max((h for _, h in sizes), default=0.0), corners, {}


def arrange_model(keys, sizes, titles):
    """The model level: the weights' band at the top left, then the positions as columns left to right
    in order, the loss below the last one: whatever grows, grows right or down, past nothing."""
    corners, y = {}, 0.0
    for i, t in enumerate(titles):
        if t == PARAMS_SCOPE:
            corners[keys[i]] = (0.0, 0.0)
            y = sizes[i][1] + ROW_GAP
    x, last_x, bottom = 0.0, 0.0, y
    for i, t in enumerate(titles):
        if t not in (PARAMS_SCOPE, 'loss'):
            corners[keys[i]] = (x, y)
            last_x = x
            x += sizes[i][0] + COLUMN_GAP
            bottom = max(bottom, y + sizes[i][1] + ROW_GAP)
    right = max([0.0, x - COLUMN_GAP] + [sizes[i][0] for i, t in enumerate(titles) if t == PARAMS_SCOPE])
    for i, t in enumerate(titles):
        if t == 'loss':
            corners[keys[i]] = (last_x, bottom)
            right = max(right, last_x + sizes[i][0])
    height = max([y - ROW_GAP if y else 0.0] + [corners[k][1] + sizes[i][1] for i, k in enumerate(keys)])
    return right, height, corners, {}
