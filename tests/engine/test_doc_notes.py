"""engine/doc_notes.py: what block_size cut from a document, as a sentence and in a few words."""

from types import SimpleNamespace

from engine.doc_notes import truncation_note, truncation_summary
from engine.model import GPTConfig


def cut(doc, n=16):
    return SimpleNamespace(truncated=len(doc) > n - 1, doc=doc, n=n, config=GPTConfig())


def test_the_truncation_note_of_a_long_document_cuts_it_and_says_its_length():
    note = truncation_note(cut('a' * 100_000))
    assert len(note) < 400 and note == (
        f"block_size 16 cuts '{'a' * 77}…' (100,000 characters): recorded its first 16 positions, as microgpt trains "
        f"it; not predicted: '{'a' * 77}…' (99,984 characters) and the end of the document.")


def test_the_summary_names_a_short_cut_and_counts_a_long_one():
    assert truncation_summary(cut('abcdefghijklmnopqrstu')) == "cut to 16 positions by block_size: 'qrstu' never predicted"
    assert truncation_summary(cut('a' * 100_000)) == 'cut to 16 positions by block_size: 99,984 characters never predicted'
    assert truncation_summary(cut('a' * 16)) == 'cut to 16 positions by block_size: its end never predicted'
    assert truncation_summary(cut('emma')) is None and truncation_note(cut('emma')) is None


def test_the_size_of_a_recording_is_known_before_it_is_made():
    """Within 2% of the scalars the recording really makes, for microgpt and for a model 50 times its size."""
    import random
    from engine.model import Model
    from engine.tokenizer import Tokenizer
    from engine.trace import record
    from engine.doc_notes import recording_note, recording_size
    tokenizer = Tokenizer.from_docs(['abcdefghijklmnopqrstuvwxyz'])
    notes = []
    for config in (GPTConfig(), GPTConfig(n_layer=2, n_embd=48)):
        model = Model.init(config, tokenizer, random.Random(1))
        real = len(record(model, 'emma'))
        assert abs(recording_size(model, 'emma') - real) < 0.02 * real
        notes.append(recording_note(model, 'emma'))
    assert notes[0] == "Recording 'emma'…" and 'about 0.6 million scalars' in notes[1]
    big = Model.init(GPTConfig(n_layer=4, n_embd=64), tokenizer, random.Random(1))
    assert recording_note(big, 'emma') == ("Recording 'emma': about 2.2 million scalars, which takes a while "
                                           "(Esc stops)…")
    assert recording_note(big, 'emma', 2) == ("Recording the first 2 positions of 'emma': about 1.0 million "
                                              "scalars, which takes a while (Esc stops)…")  # a part: its own size
