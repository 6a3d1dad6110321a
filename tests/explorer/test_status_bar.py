"""explorer/status_bar.py: a long message is cut where the words on the right begin, whole in the tooltip;
what the graph lights is said on the right only while something is lit."""

from explorer.status_bar import TINT_WIDTH, StatusBar
from PySide6.QtWidgets import QLabel


def test_a_long_message_stops_where_the_words_on_the_right_begin(qtbot):
    bar = StatusBar()
    qtbot.addWidget(bar)
    counts = QLabel("'emma' · 43,091 scalars · 41 boxes · loss 2.726")
    bar.addPermanentWidget(counts)
    bar.resize(1280, 24)
    bar.show()
    long = 'Done: pos 4 / softmax — its backward pass is summarised in the Chain rule panel; ' * 4
    bar.showMessage(long)
    shown = bar.shown()
    assert shown.endswith('…') and long.startswith(shown[:-1]) and bar.toolTip() == long == bar.currentMessage()
    assert bar.fontMetrics().horizontalAdvance(shown) <= 1280 - counts.sizeHint().width()
    bar.show_tint('nudge of wte[4][3] by +1e-04: 19,309 nodes changed; ring thickness = |change| on a log scale')
    assert bar.tint.isVisibleTo(bar) and bar.tint.text().startswith('lit: nudge')
    assert bar.fontMetrics().horizontalAdvance(bar.tint.text()) <= TINT_WIDTH
    bar.showMessage(long)
    assert len(bar.shown()) < len(shown)  # less room beside what is lit
    bar.showMessage('Ready')
    assert bar.currentMessage() == 'Ready' and bar.toolTip() == ''
    bar.show_tint('')
    assert not bar.tint.isVisibleTo(bar)
