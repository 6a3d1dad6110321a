"""What recording a document costs (record_cost), asked before a recording starts: a model too large to
record whole (the mini GPT: 1.8 million scalars a position) is recorded in part, its first positions, when
the user chooses (suggested_part, engine.trace.iter_record's `positions`).

A recording makes one node per multiply and one per add of every dot product (the training pass fuses
them: engine.train.step_counts), the step's other nodes, and one per parameter. Measured on this project's
2-core machine: within 1.5% of the nodes of every shipped rung's 'emma' and 'christopher' and of the mini
GPT's (1,803,539 for one position of 'emma', estimated 1,810,720); the time and memory below are those
of the app's whole recording (the trace, its groups and backprop schedule, the copy the layout process
lays out) at 0.1 and 1.8 million nodes, good to a factor of about 1.5.
"""

from dataclasses import dataclass

from engine.model import param_count
from engine.train import _duration, _size, memory_size, step_counts

SECONDS_PER_NODE = 6e-6
BYTES_PER_NODE = 900
ASK_ABOVE = 500_000   # scalars: a recording larger than this (a few seconds here) is asked for first


@dataclass(frozen=True)
class RecordCost:
    positions: int   # the first positions recorded
    nodes: int       # scalars in the recording, about
    seconds: float
    bytes: int

    def describe(self):
        """'1.8 million scalars, about 11 s and 1.5 GB of memory'."""
        n = self.nodes
        count = f'{n / 1e6:,.1f} million' if n >= 1e6 else f'{n:,}'
        return f'{count} scalars, about {_duration(self.seconds)} and {_size(self.bytes)} of memory'

    def fits_memory(self):
        memory = memory_size()
        return memory is None or self.bytes <= memory


def record_cost(config, vocab_size, positions):
    """The RecordCost of recording the first `positions` positions of a document through this model."""
    macs, nodes = step_counts(config, vocab_size, positions)
    count = 2 * macs + nodes + param_count(config, vocab_size)
    return RecordCost(positions, count, SECONDS_PER_NODE * count, BYTES_PER_NODE * count)


def needs_asking(config, vocab_size, positions):
    """True when recording that many positions is too large to start without asking (ASK_ABOVE)."""
    return record_cost(config, vocab_size, positions).nodes > ASK_ABOVE


def suggested_part(config, vocab_size, positions):
    """The most positions, at least one, recorded without going over ASK_ABOVE scalars."""
    part = 1
    while part < positions and not needs_asking(config, vocab_size, part + 1):
        part += 1
    return part
