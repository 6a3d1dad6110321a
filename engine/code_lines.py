"""Which lines of engine/model.py a model runs, and what changes from the rung below (issue 23: "the Code panel
shows which lines a preset runs, and what changes from the rung below").

The lines are found by running the code, not by reading it: `lines_run` records a two-position document
through a small model of the configuration (engine.trace, the recording the Code panel shows) under
`sys.settrace`, keeping every line of engine/model.py executed (a function's `def` line counts when it is
called). Which lines run depends on the configuration's options (arch, attention, activation, norm, …), not
on its width or its weights (no line of the model branches on a number), so the model is made two numbers
wide per head with fresh weights: instant whatever the shape. The rung below is `engine.presets.below_config`:
the same options and shape but the fields the two rungs set, so the difference is the idea one rung adds.
"""

import dataclasses
import linecache
import random
import sys
from dataclasses import dataclass

from engine import model as model_code
from engine.errors import ConfigError
from engine.model import GPTConfig, Model
from engine.presets import below_config, preset_of
from engine.trace import record

MODEL_FILE = model_code.gpt.__code__.co_filename
BIGRAM_READS = ('n_layer', 'block_size', 'init_std', 'arch')  # the fields a bigram model reads: its other
                                                              # fields are defaults it never uses


@dataclass(frozen=True)
class RungLines:
    rung: str              # the rung the configuration stands on (engine.presets.preset_of)
    ran: frozenset         # line numbers of engine/model.py its recording runs
    below: object = None   # the rung under it, or None on the first
    fields: tuple = ()     # (field, the rung below's value, this one's) for each GPTConfig field that differs
    added: frozenset = frozenset()    # lines this rung runs and the rung below does not
    removed: frozenset = frozenset()  # lines the rung below runs and this one does not


def _small(config):
    """The configuration two numbers wide per head (and as it is, if it cannot be made so)."""
    try:
        return dataclasses.replace(config, n_embd=2 * config.n_head, block_size=max(2, min(config.block_size, 4)))
    except ConfigError:
        return config


def lines_run(config, tokenizer):
    """The line numbers of engine/model.py that recording a document through a model of `config` runs."""
    model = Model.init(_small(config), tokenizer, random.Random(0))
    doc = tokenizer.decode([0])  # one token, two positions: every line a longer one runs ('' for an empty vocabulary)
    ran = set()

    def in_model(frame, event, _arg):
        if event == 'line':
            ran.add(frame.f_lineno)
        return in_model

    def on_call(frame, _event, _arg):
        if frame.f_code.co_filename != MODEL_FILE:
            return None  # value.py, trace.py: not followed line by line
        first = frame.f_code.co_firstlineno
        while linecache.getline(MODEL_FILE, first).lstrip().startswith('@'):
            first += 1  # a decorator: the def line is under it
        ran.add(first)
        return in_model

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        record(model, doc)
    finally:
        sys.settrace(previous)
    return frozenset(ran)


def rung_lines(config, tokenizer):
    """What `config` runs of engine/model.py and how that differs from the rung below (RungLines)."""
    ran = lines_run(config, tokenizer)
    lower = below_config(config)
    if lower is None:
        return RungLines(preset_of(config), ran)
    name, other = lower
    ran_below = lines_run(other, tokenizer)
    fields = tuple((f.name, getattr(other, f.name), getattr(config, f.name)) for f in dataclasses.fields(GPTConfig)
                   if getattr(other, f.name) != getattr(config, f.name)
                   and (other.arch != 'bigram' or f.name in BIGRAM_READS))
    return RungLines(preset_of(config), ran, name, fields, ran - ran_below, ran_below - ran)
