"""engine.graph.text: a label's width and height as DejaVu Sans draws it, the same numbers Qt measures with the font
the graph paints in (unhinted), so a box sized for a label holds it; eliding keeps both ends."""

import pytest

from engine.graph.text import FONT_FAMILY, elide_middle, line_height, text_width

SAMPLES = ['attention', 'wq wk wv wo', 'lookup 16 out · 70 scalars', '16→48 · 2,302/2,302 done', '∂ Σ16 -0.0001235',
           'q·k/√d 12→2 · 22 scalars', 'pos 0–1 (KV cache) 2×4', 'layer 0']


@pytest.mark.parametrize('px, bold', [(10, False), (11, True), (8, False)])
def test_widths_are_what_qt_measures_in_the_graphs_font(qapp, px, bold):
    from PySide6.QtGui import QFont, QFontInfo, QFontMetricsF
    font = QFont(FONT_FAMILY)
    font.setHintingPreference(QFont.PreferNoHinting)
    font.setPixelSize(px)
    font.setBold(bold)
    if QFontInfo(font).family() != FONT_FAMILY:
        pytest.skip(f'{FONT_FAMILY} is not installed here')
    metrics = QFontMetricsF(font)
    for text in SAMPLES:  # kerning only narrows what Qt draws: never wider than measured here
        assert metrics.horizontalAdvance(text) <= text_width(text, px, bold) + 0.01, text
        assert metrics.horizontalAdvance(text) >= 0.98 * text_width(text, px, bold), text
    assert metrics.height() == pytest.approx(line_height(px), abs=0.05)


def test_an_unknown_character_is_given_a_whole_em():
    assert text_width('中', 10) == 10.0 and text_width('', 10) == 0.0


def test_eliding_keeps_both_ends_and_fits():
    name = 'attn_weights[2]·values[2][5]'
    assert elide_middle(name, 1000, 10) == name
    short = elide_middle(name, 70, 10)
    assert short.startswith('attn') and short.endswith('[5]') and '…' in short and text_width(short, 10) <= 70
