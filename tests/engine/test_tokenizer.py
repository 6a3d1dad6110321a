"""engine.tokenizer: microgpt's character tokenizer: sorted unique characters are 0..n-1 and BOS is n,
documents encode between two BOS and decode back, and a character it has never seen is one sentence."""

import pytest

from engine.errors import ConfigError, DocumentError
from engine.tokenizer import Tokenizer


def test_ids_are_the_sorted_characters_and_bos_comes_last():
    tok = Tokenizer.from_docs(['emma', 'ava'])
    assert tok.uchars == ['a', 'e', 'm', 'v'] and tok.BOS == 4 and tok.vocab_size == 5
    assert tok.encode('emma') == [4, 1, 2, 2, 0, 4]
    assert tok.decode(tok.encode('emma')) == 'emma'
    assert [tok.token_text(i) for i in (4, 0)] == ['BOS', 'a']
    assert tok == Tokenizer('aemv') != Tokenizer('aem')


def test_an_unknown_character_names_it_and_the_vocabulary():
    with pytest.raises(DocumentError) as e:
        Tokenizer('aemv').encode('zoë')
    assert str(e.value) == "'z' is not in the vocabulary; it has: aemv"


def test_a_vocabulary_that_repeats_a_character_is_refused():
    with pytest.raises(ConfigError, match="'a' is there more than once"):
        Tokenizer('aba')
