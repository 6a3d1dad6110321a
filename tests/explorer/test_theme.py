"""explorer/theme.py: the light and dark palettes name the same colours, text stays readable (WCAG AA) on
the fills it is drawn on, and the gradient and value scales go the way the legend says."""

import pytest
from PySide6.QtGui import QColor, QPalette

from explorer import theme
from explorer.theme import DARK, LIGHT


def luminance(color):
    def channel(v):
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    c = QColor(color)
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a, b):
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_light_and_dark_name_the_same_colours():
    assert LIGHT.keys() == DARK.keys()
    assert all(QColor(c).isValid() for c in (*LIGHT.values(), *DARK.values()))


@pytest.mark.parametrize('colors', [LIGHT, DARK], ids=['light', 'dark'])
def test_text_keeps_a_contrast_of_4_5_on_its_fills(colors):
    for fill in ('background', 'group', 'param', 'scalar', 'cluster', 'progress', 'unreached'):
        assert contrast(colors['text'], colors[fill]) >= 4.5, fill
    for fill in ('group', 'param', 'cluster', 'progress'):
        assert contrast(colors['muted'], colors[fill]) >= 4.5, fill
    assert contrast(colors['unreached_text'], colors['unreached']) >= 4.5


def test_use_sets_the_palette_current_gives():
    try:
        theme.use(DARK)
        assert theme.current() is DARK
    finally:
        theme.use(LIGHT)
    assert theme.current() is LIGHT


def test_grad_strength_is_0_for_exactly_0_and_grows_with_log_grad():
    assert theme.grad_strength(0) == 0.0
    assert theme.grad_strength(1e-9) == theme.grad_strength(1e-6) == 0.15  # faint, never invisible
    assert theme.grad_strength(1) == theme.grad_strength(-50) == 1.0
    steps = [theme.grad_strength(10.0 ** -k) for k in range(6, -1, -1)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)


def test_grad_color_is_blue_for_negative_red_for_positive_and_never_saturated():
    negative, positive = theme.grad_color(-1, LIGHT), theme.grad_color(1, LIGHT)
    assert negative.blue() > negative.red() and positive.red() > positive.blue()
    assert positive != QColor(LIGHT['positive'])  # 80% of the way: text on it stays readable
    assert theme.grad_color(0, LIGHT) == QColor(LIGHT['scalar'])


def test_value_color_is_linear_up_to_the_largest_and_purple_orange():
    assert theme.value_color(0.0, 2.0, LIGHT) == QColor(LIGHT['scalar'])
    assert theme.value_color(3.0, 0, LIGHT) == QColor(LIGHT['scalar'])  # no largest: no scale
    half, whole = theme.value_color(1.0, 2.0, LIGHT), theme.value_color(2.0, 2.0, LIGHT)
    assert theme.value_color(5.0, 2.0, LIGHT) == whole  # beyond the largest: clipped
    base, end = QColor(LIGHT['scalar']), QColor(LIGHT['value_positive'])
    assert abs(half.redF() - (base.redF() + (end.redF() - base.redF()) * 0.45)) < 1e-4  # 16 bits a channel
    negative = theme.value_color(-2.0, 2.0, LIGHT)
    assert negative.blue() > negative.green()  # purple, not a gradient's blue or red


def test_palette_uses_the_colours_for_text_and_selection():
    p = theme.palette(DARK)
    assert p.color(QPalette.Text) == QColor(DARK['text'])
    assert p.color(QPalette.Highlight) == QColor(DARK['selection'])
    assert p.color(QPalette.Base) == QColor(DARK['background'])


def test_each_head_has_its_colour_and_heads_beyond_ten_repeat_them():
    colors = [theme.head_color(h).name() for h in range(10)]
    assert len(set(colors)) == 10 and LIGHT['selection'] not in colors
    assert theme.head_color(13) == theme.head_color(3)


def test_the_scales_mix_exactly_as_from_fresh_colours():
    """The colours' components are kept per name (a weight grid mixes 4,192 cells at first paint): the
    colour of a cell is the same as when each call read its colours anew."""
    from PySide6.QtGui import QColor
    from explorer.theme import DARK, LIGHT, grad_color, grad_strength, value_color

    def mixed(base, end, t):
        base, end = QColor(base), QColor(end)
        return QColor.fromRgbF(base.redF() + (end.redF() - base.redF()) * t,
                               base.greenF() + (end.greenF() - base.greenF()) * t,
                               base.blueF() + (end.blueF() - base.blueF()) * t).getRgbF()
    for colors in (LIGHT, DARK):
        for x in (-2.5, -0.37, -1e-9, 0.0, 1e-7, 0.011, 0.5, 3.0):
            end = colors['value_negative' if x < 0 else 'value_positive']
            assert value_color(x, 1.3, colors).getRgbF() == mixed(colors['scalar'], end, min(1.0, abs(x) / 1.3) * 0.9)
            end = colors['negative' if x < 0 else 'positive']
            assert grad_color(x, colors).getRgbF() == mixed(colors['scalar'], end, grad_strength(x) * 0.8)


def test_value_colors_are_value_color_of_each():
    values = [-3.0, -0.7, -1e-9, -0.0, 0.0, 0.2, 0.5, 2.0, 9.0]
    for largest, strength in ((2.0, 0.9), (0.5, 0.85), (0, 0.9)):
        assert theme.value_colors(values, largest, DARK, strength) == \
            [theme.value_color(v, largest, DARK, strength) for v in values]
