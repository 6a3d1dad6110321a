"""Every colour the app uses: light and dark palettes (the graph's marks and the panels' messages, rows and
charts), the one in use now, the gradient and value scales, the Qt palette, and the attention heads' colours."""

import functools
import math

from PySide6.QtGui import QColor, QPalette

LIGHT = {
    'background': '#fbfbfd', 'text': '#1f2430', 'muted': '#555d6b', 'edge': '#8b95a5',
    'group': '#e8eef8', 'group_border': '#7b8fb3', 'param': '#f3ead7', 'param_border': '#b89650',
    'scalar': '#ffffff', 'scalar_border': '#9aa5b1', 'cluster': '#f1f3f7', 'cluster_border': '#c5ccd6',
    'selection': '#e8590c',
    'unreached': '#eceef2', 'unreached_text': '#5f6673', 'negative': '#1c64d9', 'positive': '#d9261c',
    'progress': '#c3ecd0', 'current': '#7048e8', 'flow': '#7048e8', 'breakpoint': '#e03131',
    'attention': '#4c2db3',
    'kv': '#0c8599', 'value_negative': '#7b3294', 'value_positive': '#b35806', 'zero_grad': '#a9afb9',
    'tint': '#f59f00', 'tint_source': '#1098ad', 'tour_dim': '#0b1020', 'tour_outline': '#e8590c',
    # panels: messages, rows and charts outside the graph
    'error_text': '#d9480f', 'note_text': '#b08900', 'alarm_text': '#d9261c', 'hint_text': '#808080',
    'faint_text': '#8a8f99', 'text_on_strong': '#ffffff', 'highlight_row': '#ffe8a3', 'applying_row': '#d9ccff',
    'call_site_row': '#fff4d1', 'target_row': '#e5dbff', 'bar': '#7048e8', 'chart_points': '#1c64d9',
    'bar_cut': '#d3d7de', 'chart_reference': '#aab1bd', 'export_background': '#ffffff',
    'added_row': '#d3f9d8', 'removed_row': '#ffe3e3',  # the Code panel's diff from the rung below: + and −
}
DARK = {
    'background': '#1d2027', 'text': '#e6e8ee', 'muted': '#b0b8c5', 'edge': '#6f7a8c',
    'group': '#2b3445', 'group_border': '#6f86b3', 'param': '#3d3526', 'param_border': '#b89650',
    'scalar': '#262a33', 'scalar_border': '#6f7a8c', 'cluster': '#23262e', 'cluster_border': '#3c4350',
    'selection': '#ff922b',
    'unreached': '#22252c', 'unreached_text': '#8d95a3', 'negative': '#4d8ef7', 'positive': '#f0534a',
    'progress': '#2a4a36', 'current': '#b197fc', 'flow': '#b197fc', 'breakpoint': '#ff6b6b',
    'attention': '#c0a8ff',
    'kv': '#3bc9db', 'value_negative': '#c29ee0', 'value_positive': '#f1a340', 'zero_grad': '#555c68',
    'tint': '#ffd43b', 'tint_source': '#66d9e8', 'tour_dim': '#000000', 'tour_outline': '#ff922b',
    'error_text': '#ff8a4c', 'note_text': '#e0b93a', 'alarm_text': '#ff6b6b', 'hint_text': '#9aa1ad',
    'faint_text': '#7d8593', 'text_on_strong': '#ffffff', 'highlight_row': '#5c4a1a', 'applying_row': '#3d3366',
    'call_site_row': '#3a3320', 'target_row': '#3d3366', 'bar': '#b197fc', 'chart_points': '#4d8ef7',
    'bar_cut': '#474d58', 'chart_reference': '#5c6470', 'export_background': '#ffffff',  # an exported picture is on white
    'added_row': '#1f4d2c', 'removed_row': '#5c2626',
}

_current = [LIGHT]  # the palette the window uses now (set_dark): what panels without a palette of their own read


def use(colors):
    """Make `colors` (LIGHT or DARK) the palette current() gives."""
    _current[0] = colors


def current():
    """The palette the window uses now."""
    return _current[0]

# Text colours keep a contrast of 4.5:1 or more (WCAG AA) on the fills they are drawn on: 'text' on every
# fill, 'muted' on groups, weights, frames and the done fill, 'unreached_text' on 'unreached'.

GRAD_DECADES = 6  # the colour scale spans |grad| from 1e-6 (faint) to 1 and above (full)


def grad_strength(grad):
    """0 for exactly 0; otherwise 0.15..1 growing with log10|grad| from 1e-6 to 1."""
    if grad == 0:
        return 0.0
    t = (math.log10(abs(grad)) + GRAD_DECADES) / GRAD_DECADES
    return 0.15 + 0.85 * min(1.0, max(0.0, t))


@functools.lru_cache(maxsize=64)
def _rgb_f(name):
    """A colour's red, green and blue in 0..1 (the scales below mix thousands of cells from a few names)."""
    color = QColor(name)
    return color.redF(), color.greenF(), color.blueF()


def _mix(base, end, t):
    (r, g, b), (r2, g2, b2) = _rgb_f(base), _rgb_f(end)
    return QColor.fromRgbF(r + (r2 - r) * t, g + (g2 - g) * t, b + (b2 - b) * t)


def grad_color(grad, colors):
    """The diverging scale: the scalar background mixed towards blue (negative) or red (positive)."""
    t = grad_strength(grad) * 0.8  # never fully saturated, so black or white text stays readable
    return _mix(colors['scalar'], colors['negative' if grad < 0 else 'positive'], t)


def value_color(value, largest, colors, strength=0.9):
    """A value on its own diverging scale (purple negative, orange positive, linear up to `largest` |value|:
    a weight matrix's, a vector's), so a grid of values never passes for a grid of gradients. `strength`:
    how far towards the end colour the largest goes (a vector strip's cells: 0.85)."""
    return value_colors((value,), largest, colors, strength)[0]


def value_colors(values, largest, colors, strength=0.9):
    """value_color of each of `values`, the scale's ends read once (a weight matrix at every timeline step)."""
    (r, g, b), neg, pos = _rgb_f(colors['scalar']), _rgb_f(colors['value_negative']), _rgb_f(colors['value_positive'])
    nr, ng, nb = neg[0] - r, neg[1] - g, neg[2] - b
    pr, pg, pb = pos[0] - r, pos[1] - g, pos[2] - b
    rgb = QColor.fromRgbF
    ts = [min(1.0, abs(value) / largest) * strength for value in values] if largest else [0.0] * len(values)
    return [rgb(r + nr * t, g + ng * t, b + nb * t) if value < 0 else rgb(r + pr * t, g + pg * t, b + pb * t)
            for value, t in zip(values, ts)]


def palette(colors):
    p = QPalette()
    window = QColor(colors['background']).darker(104 if colors is LIGHT else 90)
    for role, color in [(QPalette.Window, window), (QPalette.Base, QColor(colors['background'])),
                        (QPalette.AlternateBase, QColor(colors['cluster'])), (QPalette.Text, QColor(colors['text'])),
                        (QPalette.WindowText, QColor(colors['text'])), (QPalette.ButtonText, QColor(colors['text'])),
                        (QPalette.Button, window), (QPalette.ToolTipBase, QColor(colors['scalar'])),
                        (QPalette.ToolTipText, QColor(colors['text'])), (QPalette.PlaceholderText, QColor(colors['muted'])),
                        (QPalette.Highlight, QColor(colors['selection'])), (QPalette.HighlightedText, QColor(colors['text_on_strong'])),
                        (QPalette.Link, QColor(colors['group_border']))]:
        p.setColor(role, color)
    return p


# One colour per attention head, the same in every attention view (heatmap titles, token lines, one
# query's steps) and in the graph (a head's frame). Tableau's categorical colours without its orange,
# which the selection uses; distinct on the light and the dark background; heads beyond 10 repeat them.
HEAD_COLORS = ('#4e79a7', '#59a14f', '#b07aa1', '#e15759', '#76b7b2', '#b6992d', '#9c755f', '#ff9da7',
               '#79706e', '#a0cbe8')


def head_color(h):
    """The colour of attention head h (as a QColor)."""
    return QColor(HEAD_COLORS[h % len(HEAD_COLORS)])


def run_color(i):
    """The colour of the i-th run in Compare runs: the same categorical colours, distinct on both backgrounds."""
    return QColor(HEAD_COLORS[i % len(HEAD_COLORS)])
