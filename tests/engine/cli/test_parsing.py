"""engine.cli.parsing: a bad command line is one line naming the program, raised rather than printed
with the usage and an exit."""

import pytest

from engine.cli.parsing import Parser, UsageError


def test_a_bad_command_line_is_one_line_naming_the_program(capsys):
    parser = Parser(prog='main.py train')
    parser.add_argument('--steps', type=int)
    assert parser.parse_args(['--steps', '3']).steps == 3
    with pytest.raises(UsageError) as e:
        parser.parse_args(['--steps', 'ten'])
    assert str(e.value) == "main.py train: argument --steps: invalid int value: 'ten'"
    with pytest.raises(UsageError, match='^main.py train: unrecognized arguments: --fast$'):
        parser.parse_args(['--fast'])
    assert capsys.readouterr() == ('', '')  # nothing printed: the caller says it in its own words


def test_a_token_that_starts_like_a_negative_number_is_a_value_not_an_option():
    parser = Parser(prog='main.py nudge')
    parser.add_argument('--by', type=float)
    parser.add_argument('--steps')
    args = parser.parse_args(['--by', '-1e-4', '--steps', '-3:2'])  # argparse alone: "expected one argument"
    assert (args.by, args.steps) == (-1e-4, '-3:2')
    assert parser.parse_args(['--by', '-.5']).by == -0.5
    with pytest.raises(UsageError, match='^main.py nudge: argument --by: expected one argument$'):
        parser.parse_args(['--by', '-x'])  # a dash and a letter is still an option


@pytest.mark.parametrize('value', ['x' * 100_000, "it's" + 'x' * 100_000])
def test_a_long_value_is_cut_in_the_message(value):
    parser = Parser(prog='main.py train')
    parser.add_argument('--steps', type=int)
    with pytest.raises(UsageError) as e:
        parser.parse_args(['--steps', value])
    quoted = repr(value)
    assert str(e.value) == f"main.py train: argument --steps: invalid int value: {quoted[:78]}…{quoted[0]} (100,00{len(value) - 100_000} characters)"
    with pytest.raises(UsageError) as e:
        parser.parse_args([value])
    assert str(e.value).startswith('main.py train: unrecognized arguments: ') and len(str(e.value)) < 330
    with pytest.raises(UsageError) as e:  # an apostrophe in one argument and another: not one repr, cut as text
        parser.parse_args(["it's", 'x' * 100, "'"])
    assert str(e.value).startswith("main.py train: unrecognized arguments: it's xxx") and len(str(e.value)) < 330
