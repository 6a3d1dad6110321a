"""Command-line parsing shared by every command: argparse that reports a bad command line in one line."""

import argparse
import ast
import re

from engine.checks import short
from engine.paths import DEFAULT_CHECKPOINT


NEGATIVE_NUMBER = re.compile(r'-\.?[0-9]')  # a dash, maybe a point, then a digit: -1e-4, -.5, -3:2
QUOTED = re.compile(r"'(?:[^'\\]|\\.){79,}'" '|' r'"(?:[^"\\]|\\.){79,}"')  # a long value argparse quotes (repr)


class UsageError(Exception):
    """A command line that cannot be parsed; the message is one line naming the program."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage dump) with exit code 2, and reads a
    token that starts like a negative number as a value: `--by -1e-4`, `--steps -3:2`, `--lr -.5` (argparse
    itself takes only -5 and -.5 for values and calls -1e-4 an option, so `--by -1e-4` "expected one argument").
    No option of ours starts with a dash and a digit, so nothing that starts so is one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER  # argparse's own hook for "-5 is a value, not an option"

    def error(self, message):
        """argparse's message, with the user's text in it cut to a readable length (checks.short)."""
        message = QUOTED.sub(_cut, message)
        if len(message) > 300:  # unquoted text ('unrecognized arguments: …'): the message itself is cut
            message = message[:297] + '…'
        raise UsageError(f'{self.prog}: {message}')


def _cut(match):
    """A quoted value in argparse's message, cut by checks.short (left as it is if it is not one repr)."""
    try:
        return short(ast.literal_eval(match[0]))
    except (ValueError, SyntaxError):
        return match[0]


def add_recording(parser):
    """The options that say which recording a command works on: --doc (required) and --checkpoint."""
    parser.add_argument('--doc', required=True)
    parser.add_argument('--checkpoint', default=str(DEFAULT_CHECKPOINT))
