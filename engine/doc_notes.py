"""Sentences about one document's recording: how big it will be, what block_size cut from it (whole, and in
a few words for a line beside its field), and why weights cannot evaluate it."""

from engine.checks import short
from engine.errors import EngineError


LARGE_RECORDING = 300_000  # scalars: a recording this big takes seconds, and the window says so first


def recording_size(model, doc, positions=None):
    """About how many scalars recording `doc` (its first `positions` positions, if given) makes: within a few
    percent (engine.recording_cost)."""
    from engine.recording_cost import record_cost
    n = min(model.config.block_size, len(model.tokenizer.encode(doc)) - 1)
    return record_cost(model.config, model.tokenizer.vocab_size, n if positions is None else min(n, positions)).nodes


def recording_note(model, doc, positions=None):
    """The status line while `doc` (its first `positions` positions, if given) is recorded: its size too when
    it is large enough to take a while."""
    size = recording_size(model, doc, positions)
    what = short(doc) if positions is None else f'the first {positions} positions of {short(doc)}'
    if size < LARGE_RECORDING:
        return f'Recording {what}…'
    return f'Recording {what}: about {size / 1e6:.1f} million scalars, which takes a while (Esc stops)…'


def not_evaluable(model, doc, tokens, pos, error):
    """The EngineError for weights whose forward pass of `doc` fails at position `pos` (a diverged run's)."""
    target = model.tokenizer.token_text(tokens[pos + 1])
    what = repr(target) if target != 'BOS' else 'the end'
    if isinstance(error, ValueError):
        why = f'The probability of {what} at position {pos} of {short(doc)} is 0'
    else:
        why = f'A number overflows at position {pos} of {short(doc)}'
    return EngineError(f'{why}: these weights cannot be evaluated.')


def truncation_note(trace):
    """What block_size cut from a document, as one sentence (None if nothing was cut)."""
    if not trace.truncated:
        return None
    doc, n = trace.doc, trace.n
    cut = doc[n:]  # characters never predicted; the end of the document is never predicted either
    lost = f'{short(cut)} and the end of the document' if cut else 'the end of the document'
    quoted = short(doc) if len(repr(doc)) > len(short(doc)) else f'{doc!r} ({len(doc):,} characters)'  # cut: says its length
    return (f'block_size {trace.config.block_size} cuts {quoted}: recorded its first '
            f'{n} positions, as microgpt trains it; not predicted: {lost}.')


def truncation_summary(trace):
    """truncation_note in a few words, for a line beside the document's field (None if nothing was cut):
    "cut to 16 positions by block_size: 'qrstu' never predicted"."""
    if not trace.truncated:
        return None
    cut = trace.doc[trace.n:]
    lost = (repr(cut) if len(cut) <= 12 else f'{len(cut):,} characters') if cut else 'its end'
    return f'cut to {trace.n} positions by block_size: {lost} never predicted'


def part_note(trace):
    """What a recording of part of a document leaves out, as one sentence (None if it is whole)."""
    if trace.whole_n is None:
        return None
    first = 'only the first' if trace.n == 1 else f'the first {trace.n}'
    return (f'Recorded {first} of the {trace.whole_n} positions of {short(trace.doc)}: the model is too large to '
            f'record it whole, and the loss is the mean over these. Press Enter in the field to record more.')


def part_summary(trace):
    """part_note in a few words: "first 1 of 5 positions recorded (a large model)"."""
    if trace.whole_n is None:
        return None
    return f'first {trace.n} of {trace.whole_n} positions recorded (a large model): Enter for more'
