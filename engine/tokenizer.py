"""Characters to token ids and back: sorted unique characters are 0..n-1, BOS is n."""

from engine.errors import ConfigError, DocumentError


class Tokenizer:
    """microgpt's character tokenizer, with a clear error for characters it has never seen."""

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

    def encode(self, doc):
        """[BOS] + ids of the characters + [BOS]."""
        ids = []
        for ch in doc:
            if ch not in self._ids:
                raise DocumentError(f'{ch!r} is not in the vocabulary; it has: {self.vocabulary_text()}')
            ids.append(self._ids[ch])
        return [self.BOS] + ids + [self.BOS]

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
