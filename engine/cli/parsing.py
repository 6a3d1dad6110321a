"""Command-line parsing shared by every command: argparse that reports a bad command line in one line."""

import argparse

from engine.paths import DEFAULT_CHECKPOINT


class UsageError(Exception):
    """A command line that cannot be parsed; the message is one line naming the program."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage dump) with exit code 2."""

    def error(self, message):
        raise UsageError(f'{self.prog}: {message}')


def add_recording(parser):
    """The options that say which recording a command works on: --doc (required) and --checkpoint."""
    parser.add_argument('--doc', required=True)
    parser.add_argument('--checkpoint', default=str(DEFAULT_CHECKPOINT))
