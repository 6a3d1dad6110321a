"""What a group summary is made of (engine.gradient.group_steps makes them, engine.gradient.block_steps too):
the identities as text, tables of numbers, and `Check`s of an identity against the stepper."""

from dataclasses import dataclass, field

from engine.numbers import shown

SHOWN = 6  # rows of a long vector shown in a table (the largest by |grad|); a softmax shows every row


@dataclass
class Check:
    """An identity computed from forward values beside the stepper's own numbers, element by element."""
    what: str        # '∂L/∂logits = (probs − onehot)/n'
    identity: list   # floats, from the formula
    stepper: list    # floats, from the stepper's grads (or its per-edge contributions)

    @property
    def max_diff(self):
        return max((abs(a - b) for a, b in zip(self.identity, self.stepper)), default=0.0)

    @property
    def agrees(self):
        scale = max((abs(b) for b in self.stepper), default=0.0)
        return len(self.identity) == len(self.stepper) and self.max_diff <= 1e-9 * max(1.0, scale)


@dataclass
class Table:
    title: str
    header: tuple
    rows: list       # tuples of str / float / int, one per row
    highlight: int = -1  # a row to stress (the target), or -1


@dataclass(frozen=True)
class Marked:
    """Scalars a summary's note points at on the graph (relu's inputs whose gradient is exactly 0): how the view
    draws them, if it does, decides the words (explorer/panels/chain_rule.py), never the engine."""
    nodes: tuple     # node ids
    scope: int       # the group whose output strip shows them once that group is on screen
    what: str        # 'the 40 with grad exactly 0'


@dataclass
class Summary:
    path: str
    title: str                                   # 'softmax backward at pos 4'
    formulas: list = field(default_factory=list)  # the identities, as text
    notes: list = field(default_factory=list)     # sentences with the key numbers
    tables: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    marked: list = field(default_factory=list)    # Marked: scalars the notes name, to be pointed at on the graph

    def text(self):
        """The summary as plain text (for a terminal, a test, a report)."""
        lines = [f'{self.title} — {self.path}']
        lines += [f'  {f}' for f in self.formulas]
        lines += self.notes
        for t in self.tables:
            lines.append(t.title)
            lines.append('  ' + ' | '.join(t.header))
            for i, row in enumerate(t.rows):
                mark = '→ ' if i == t.highlight else '  '
                lines.append(mark + ' | '.join(cell_text(v) for v in row))
        for c in self.checks:
            lines.append(f'check {c.what}: max |identity − stepper| = {c.max_diff:.1e} '
                         f'over {len(c.stepper)} numbers{"" if c.agrees else "  DISAGREES"}')
        return '\n'.join(lines)


def cell_text(v):
    """A table cell as text: text as is, a number as the screen shows it (engine.numbers.shown)."""
    return v if isinstance(v, str) else shown(v)


def top_rows(values, k=SHOWN):
    """Indices of the k largest |values|, in index order."""
    return sorted(sorted(range(len(values)), key=lambda i: -abs(values[i]))[:k])
