"""Characters to token ids and back: sorted unique characters are 0..n-1, BOS is n."""

from engine.errors import ConfigError, DocumentError

VISIBLE = {' ': '␣', '\n': '⏎', '\t': '⇥'}  # white space as a sign where a token is shown as a label


class Tokenizer:
    """microgpt's character tokenizer, with a clear error for characters it has never seen. engine.bpe's
    BpeTokenizer has the same interface (encode, ids, decode, can_read, token_text, vocabulary_text, BOS)."""

    kind = 'char'

    def __init__(self, uchars):
        self.uchars = list(uchars)           # unique characters, sorted: ids 0..n-1
        if len(set(self.uchars)) != len(self.uchars):
            repeated = next(ch for i, ch in enumerate(self.uchars) if ch in self.uchars[:i])
            raise ConfigError(f'A vocabulary lists each character once; {repeated!r} is there more than once.')
        self.BOS = len(self.uchars)          # Beginning (and end) Of Sequence token
        self.vocab_size = len(self.uchars) + 1
        self._ids = {ch: i for i, ch in enumerate(self.uchars)}

    @classmethod
    def from_docs(cls, docs):
        return cls(sorted(set(''.join(docs))))

    def ids(self, text):
        """The ids of text's characters (no BOS); DocumentError for a character the vocabulary does not have."""
        ids = []
        for ch in text:
            if ch not in self._ids:
                raise DocumentError(f'{ch!r} is not in the vocabulary; it has: {self.vocabulary_text()}')
            ids.append(self._ids[ch])
        return ids

    def encode(self, doc):
        """[BOS] + ids of the characters + [BOS]."""
        return [self.BOS] + self.ids(doc) + [self.BOS]

    def can_read(self, text):
        """Whether every character of text is in the vocabulary."""
        return all(ch in self._ids for ch in text)

    def token_text(self, token_id):
        """How a token is shown: its character, or BOS."""
        return 'BOS' if token_id == self.BOS else self.uchars[token_id]

    def decode(self, ids):
        return ''.join(self.uchars[i] for i in ids if i != self.BOS)

    def vocabulary_text(self):
        return ''.join(self.uchars)

    def __eq__(self, other):
        return isinstance(other, Tokenizer) and self.uchars == other.uchars

    def __repr__(self):
        return f'Tokenizer({self.vocabulary_text()!r})'
