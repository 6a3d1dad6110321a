"""explorer/document_bar.py: the document field with its message beside it. A character outside the
vocabulary keeps the graph and says why, beside the field (the tool bar keeps its height); an over-long
document is cut with a notice."""

import pytest


def test_bad_character_keeps_the_graph_and_says_why(window):
    s = window.session
    before = s.trace
    bar_height = window.document.height()
    window.document.field.setText('zoë')
    window.document.field.returnPressed.emit()
    assert s.trace is before
    assert "'ë' is not in the vocabulary" in window.document.message.toolTip()
    assert 'abcdefghijklmnopqrstuvwxyz' in window.document.message.toolTip()
    assert window.document.message.text().startswith("'ë' is not in the vocabulary")
    window.document.layout().activate()
    assert window.document.sizeHint().height() <= bar_height  # beside the field: the tool bar keeps its height


@pytest.mark.slow  # records a document of 16 positions
def test_over_long_document_is_cut_with_a_notice(window, qtbot):
    with qtbot.waitSignal(window.session.view_changed, timeout=30000):
        window.session.record('a' * 20)
    assert window.document.message.toolTip() == ("block_size 16 cuts 'aaaaaaaaaaaaaaaaaaaa' (20 characters): "
                                                 "recorded its first 16 positions, as microgpt trains it; "
                                                 "not predicted: 'aaaa' and the end of the document.")
    assert window.statusBar().currentMessage() == window.document.message.toolTip()  # whole where there is room
    message = window.document.message  # beside the field: a few words that fit, not a sentence cut mid-word
    assert message.text() == "cut to 16 positions by block_size: 'aaaa' never predicted"
    assert message.fontMetrics().horizontalAdvance(message.text()) <= window.document.MESSAGE_WIDTH


def test_an_empty_document_is_recorded_with_a_word_on_what_it_is(window, qtbot):
    from explorer.document_bar import EMPTY_NOTE
    with qtbot.waitSignal(window.session.view_changed, timeout=30000):
        window.session.record('')
    assert window.session.trace.doc == '' and window.document.message.toolTip() == EMPTY_NOTE
    assert window.statusBar().currentMessage() == EMPTY_NOTE
