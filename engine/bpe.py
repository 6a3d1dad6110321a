"""A byte-level BPE tokenizer trained on the user's text (Hugging Face `tokenizers`, the optional `bpe` extra),
behind the character tokenizer's interface: encode gives [BOS] + ids + [BOS], BOS is the last id.

Byte-level: every text is its UTF-8 bytes, so any text encodes (no character is ever unknown); the 256 bytes
are the first tokens and each merge learned from the text adds one. The library's tokenizer holds only the
bytes and merges; BOS is ours, one id past them (no text can spell it). Nothing is downloaded: the tokenizer is
trained here and saved as the library's own JSON beside the checkpoint (engine.checkpoint names it).
"""

import hashlib

from engine.errors import ConfigError, EngineError
from engine.tokenizer import VISIBLE

BYTES = 256          # the byte tokens every byte-level vocabulary starts with
MIN_VOCAB = BYTES + 1  # the bytes and BOS: no merge at all
MIN_FREQUENCY = 2    # a merge is learned only for a pair seen at least twice: a small text stops early
INSTALL = "pip install '.[bpe]'"


class MissingLibrary(EngineError):
    """The tokenizers library is not installed; one sentence saying how to install it."""


def require():
    """The `tokenizers` module, or MissingLibrary with the command that installs it."""
    try:
        import tokenizers
    except ImportError:
        raise MissingLibrary(f'The BPE tokenizer needs the tokenizers library, which is not installed: run {INSTALL}.') from None
    return tokenizers


def _byte_of_char():
    """GPT-2's table from the printable characters a byte-level token is written with back to its byte."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    chars, extra = {}, 0
    for b in range(BYTES):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(BYTES + extra)] = b
            extra += 1
    return chars


BYTE_OF_CHAR = _byte_of_char()


def label(raw):
    """A token's bytes as text: the characters they spell, white space as a sign (' the' is '␣the'), a byte that
    is not part of a whole UTF-8 character as \\xNN (a token can hold half of one)."""
    return ''.join(VISIBLE.get(ch, ch) for ch in raw.decode('utf-8', errors='backslashreplace'))


class BpeTokenizer:
    """Byte-level BPE: ids 0..n-1 are the library's tokens (bytes, then merges), BOS is n."""

    kind = 'bpe'

    def __init__(self, json_text):
        """From the library's JSON (what `to_json` gives); ConfigError (one sentence) if it is not a byte-level BPE."""
        tokenizers = require()
        try:
            self._tok = tokenizers.Tokenizer.from_str(json_text)
        except Exception as e:  # the library raises its own Exception for any text it cannot read
            raise ConfigError(f'This is not a tokenizer the tokenizers library can read ({str(e)[:80]}).') from None
        model = self._tok.model
        if type(model).__name__ != 'BPE' or type(self._tok.pre_tokenizer).__name__ != 'ByteLevel':
            raise ConfigError('This tokenizer is not a byte-level BPE (a BPE model with the ByteLevel pre-tokenizer).')
        self._json = json_text
        n = self._tok.get_vocab_size(with_added_tokens=True)
        tokens = [self._tok.id_to_token(i) for i in range(n)]
        if n < MIN_VOCAB or any(t is None or any(ch not in BYTE_OF_CHAR for ch in t) for t in tokens):
            raise ConfigError('This tokenizer is not a byte-level BPE: its tokens are not all written in bytes, '
                              f'or it has fewer than the {BYTES} bytes.')
        self._bytes = [bytes(BYTE_OF_CHAR[ch] for ch in t) for t in tokens]
        self.BOS = n                  # Beginning (and end) Of Sequence token, past every token the library has
        self.vocab_size = n + 1
        self._labels = tuple(label(raw) for raw in self._bytes)

    @classmethod
    def train(cls, texts, vocab_size):
        """A byte-level BPE of at most vocab_size tokens (BOS included) learned from texts (an iterable of str):
        the 256 bytes, then merges of pairs seen at least twice, most frequent first, until vocab_size is reached
        or no pair is left (a small text gives fewer)."""
        if not (isinstance(vocab_size, int) and vocab_size >= MIN_VOCAB):
            raise ConfigError(f'A byte-level BPE vocabulary has at least {MIN_VOCAB} tokens (the {BYTES} bytes and BOS), '
                              f'not {vocab_size}.')
        tokenizers = require()
        from tokenizers import decoders, models, pre_tokenizers, trainers
        tok = tokenizers.Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size - 1, min_frequency=MIN_FREQUENCY, show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
        tok.train_from_iterator(texts, trainer)
        return cls(tok.to_str())

    def to_json(self):
        """The library's own JSON of this tokenizer: what is saved beside a checkpoint."""
        return self._json

    def sha256(self):
        return hashlib.sha256(self._json.encode('utf-8')).hexdigest()

    def ids(self, text):
        """The token ids of text (no BOS)."""
        return self._tok.encode(text).ids

    def encode(self, doc):
        """[BOS] + the ids of doc's bytes, merged + [BOS]."""
        return [self.BOS] + self.ids(doc) + [self.BOS]

    def decode(self, ids):
        """The text of the ids (BOS left out); bytes that do not make whole UTF-8 characters as U+FFFD."""
        return b''.join(self._bytes[i] for i in ids if i != self.BOS).decode('utf-8', errors='replace')

    def can_read(self, text):
        return True  # every text is bytes

    def token_text(self, token_id):
        """How a token is shown: the text of its bytes (\\xNN for a part of a character), or BOS."""
        return 'BOS' if token_id == self.BOS else self._labels[token_id]

    def vocabulary_text(self):
        """Every token's text in id order (a tuple: a token is several characters), BOS left out."""
        return self._labels

    def windows(self, text, block_size):
        """text cut into consecutive windows of block_size tokens (the last shorter), each window's text from the
        first character of its first token to the first of the next window's (a window read back alone may
        merge a token or two differently at its edges; the model cuts each at block_size positions)."""
        offsets = self._tok.encode(text).offsets
        starts = [offsets[i][0] for i in range(0, len(offsets), block_size)] + [len(text)]
        return [text[a:b] for a, b in zip(starts, starts[1:]) if b > a]

    def __eq__(self, other):
        return isinstance(other, BpeTokenizer) and self._json == other._json

    def __hash__(self):
        return hash(self._json)

    def __getstate__(self):
        return {'json': self._json}  # a child process rebuilds it from its JSON

    def __setstate__(self, state):
        self.__init__(state['json'])

    def __repr__(self):
        return f'BpeTokenizer({self.vocab_size:,} tokens)'
