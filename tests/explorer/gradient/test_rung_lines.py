"""explorer/gradient/rung_lines.py: the Code panel's rung line (which rung, how many lines it runs) and, ticked,
the diff from the rung below: + for the lines only this rung runs, − for those only the rung below runs, each in
its colour, the fields that differ above; a line clicked there is shown in the whole file."""

import pytest
from PySide6.QtCore import Qt

from engine import model as model_code
from engine.presets import preset_config
from engine.tokenizer import Tokenizer

from explorer import theme
from explorer.gradient.rung_lines import RungLinesView

TOK = Tokenizer('abcdefghijklmnopqrstuvwxyz')
SOURCE = open(model_code.__file__, encoding='utf-8').read().splitlines()


def rows(view):
    return [(view.diff.topLevelItem(i).text(0), view.diff.topLevelItem(i).text(2).strip())
            for i in range(view.diff.topLevelItemCount())]


@pytest.fixture
def view(qtbot):
    widget = RungLinesView()
    qtbot.addWidget(widget)
    return widget


def test_the_diff_from_the_rung_below_shows_what_one_head_adds(view, qtbot):
    ran = view.show_model(preset_config('one-head'), TOK, SOURCE)
    assert ran == view.lines.ran and 'Rung <b>one-head</b>' in view.summary.text()
    assert f'<b>{len(ran)}</b> lines' in view.summary.text()
    assert view.changes.text() == 'Changes from average' and view.changes.isEnabled() and view.diff.isHidden()
    with qtbot.waitSignal(view.diff_shown) as shown:
        view.changes.setChecked(True)
    assert shown.args == [True] and not view.diff.isHidden()
    listed = rows(view)
    assert ('+', 'def attention(x, li, keys, values, state_dict, config, ops):') in listed
    assert ('−', 'def uniform_attention(x, li, values, state_dict, config, ops):') in listed
    gaps = [view.diff.topLevelItem(i) for i in range(view.diff.topLevelItemCount()) if not view.diff.topLevelItem(i).text(0)]
    assert gaps and all(g.text(1) == '⋯' for g in gaps)  # between lines that are not next to each other
    assert sum(sign == '+' for sign, _ in listed) == len(view.lines.added)
    assert 'attention uniform → softmax' in view.note.text() and 'n_head 4 → 1' in view.note.text()
    plus = next(view.diff.topLevelItem(i) for i in range(view.diff.topLevelItemCount())
                if view.diff.topLevelItem(i).text(0) == '+')
    assert plus.background(2).color().name() == theme.current()['added_row']
    number = plus.data(1, Qt.UserRole)
    with qtbot.waitSignal(view.line_chosen) as chosen:
        view.diff.itemClicked.emit(plus, 2)
    assert chosen.args == [number] and not view.changes.isChecked() and view.diff.isHidden()


def test_a_rung_that_only_adds_says_so_in_words_and_a_cut_line_keeps_its_end(view):
    view.show_model(preset_config('average'), TOK, SOURCE)
    view.changes.setChecked(True)
    assert "and no line of mlp's is left out." in view.note.text() and '−0' not in view.note.text()
    assert view.diff.textElideMode() == Qt.ElideMiddle  # 'x = layernorm(…) if … else rmsnorm(x, ops)' keeps 'rmsnorm'
    item = view.diff.topLevelItem(0)
    assert item.text(2).strip() in item.toolTip(2)  # the whole line, however narrow the column


def test_microgpt_runs_the_same_lines_as_one_head_four_times_over(view):
    view.show_model(preset_config('microgpt'), TOK, SOURCE)
    view.changes.setChecked(True)
    assert rows(view) == [] and view.diff.isHidden() and 'n_head 1 → 4' in view.note.text()
    assert f'the same {len(view.lines.ran)} lines run' in view.note.text() and '4 times instead of 1' in view.note.text()


def test_the_first_rung_has_nothing_below(view):
    view.show_model(preset_config('bigram'), TOK, SOURCE)
    assert not view.changes.isEnabled() and 'Rung <b>bigram</b>' in view.summary.text() and rows(view) == []
