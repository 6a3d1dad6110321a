"""engine.bpe: a byte-level BPE learned from a text reads every text back exactly (non-ASCII too), keeps BOS last,
labels each token with its text, cuts a text into windows of tokens, and travels as its own JSON; a checkpoint
trained on it (numpy, a tiny model) saves its tokenizer beside it, loads, samples, and says one sentence when the
tokenizer file is missing, changed or not a BPE. Skipped where the tokenizers library is not installed."""

import hashlib
import json
import pickle
import random
import sys

import pytest

pytest.importorskip('tokenizers')

from engine import checkpoint as ckpt_io  # noqa: E402 (after the skip: these need the library)
from engine import pair  # noqa: E402
from engine.bpe import BYTES, MIN_VOCAB, BpeTokenizer, MissingLibrary, require  # noqa: E402
from engine.errors import CheckpointError, ConfigError  # noqa: E402
from engine.model import GPTConfig  # noqa: E402
from engine.optim import TrainConfig  # noqa: E402
from engine.sampling import Settings, iter_samples  # noqa: E402

TEXT = ('emma olivia ava isabella sophia mia charlotte amelia harper evelyn abigail emily elizabeth '
        'zoë chloé renée josé naïve café 日本語 日本 🙂🙂 — “quoted” tabs\tand\nlines\n') * 20
ODD = 'Ünïcödé: ÆØÅ ß ΩΣ ж 中文 한국어 🙂👍🏽 \x00\x7f\r\n\t end'


@pytest.fixture(scope='module')
def tok():
    return BpeTokenizer.train([TEXT], 300)


def test_every_text_reads_back_exactly_with_bos_last(tok):
    assert tok.vocab_size <= 300 and tok.BOS == tok.vocab_size - 1
    for text in (TEXT, ODD, '', 'never seen: qxj ☃'):
        ids = tok.encode(text)
        assert ids[0] == ids[-1] == tok.BOS and tok.BOS not in ids[1:-1]
        assert all(0 <= i < tok.BOS for i in ids[1:-1])
        assert tok.decode(ids) == text
    assert len(tok.ids(TEXT)) < 0.7 * len(TEXT.encode('utf-8'))  # the merges learned something: fewer tokens than bytes


def test_the_first_tokens_are_the_bytes_and_each_token_is_labelled_with_its_text(tok):
    labels = [tok.token_text(i) for i in range(tok.vocab_size)]
    assert labels[-1] == 'BOS' and tok.vocabulary_text() == tuple(labels[:-1])
    assert all(len(tok.ids(chr(b))) == 1 and tok.ids(chr(b))[0] < BYTES for b in range(128))  # a byte: one of the first
    assert {tok.token_text(tok.ids(ch)[0]) for ch in 'ae!'} == {'a', 'e', '!'}
    space = [t for t in labels if t.startswith('␣')]
    assert space and all(tok.decode(tok.ids(' ' + t[1:])) == ' ' + t[1:] for t in space if '\\x' not in t)
    assert tok.token_text(tok.ids('\n')[0]) == '⏎'
    halves = [tok.token_text(i) for i in tok.ids('日')]  # three bytes of one character, unmerged: shown as bytes
    assert ''.join(halves) in ('日', r'\xe6\x97\xa5') and all(h == '日' or h.startswith('\\x') for h in halves)


def test_training_is_deterministic_and_stops_short_on_a_small_text():
    again = BpeTokenizer.train([TEXT], 300)
    assert again == BpeTokenizer.train([TEXT], 300) and again.to_json() == BpeTokenizer.train([TEXT], 300).to_json()
    small = BpeTokenizer.train(['abab'], 50_000)
    assert small.vocab_size < 300  # 'ab' seen twice: one merge, then no pair is left
    with pytest.raises(ConfigError, match=f'at least {MIN_VOCAB} tokens'):
        BpeTokenizer.train([TEXT], 100)


def test_a_text_is_cut_into_windows_of_block_size_tokens(tok):
    windows = tok.windows(TEXT, 16)
    assert ''.join(windows) == TEXT
    sizes = [len(tok.ids(w)) for w in windows]
    assert all(13 <= n <= 19 for n in sizes[:-1]) and sum(sizes) >= len(tok.ids(TEXT))


def test_it_travels_as_its_own_json_and_pickles(tok):
    copy = BpeTokenizer(tok.to_json())
    assert copy == tok and copy.encode(ODD) == tok.encode(ODD) and copy.vocabulary_text() == tok.vocabulary_text()
    assert pickle.loads(pickle.dumps(tok)) == tok
    assert tok.sha256() == hashlib.sha256(tok.to_json().encode('utf-8')).hexdigest()


@pytest.mark.parametrize('text, says', [
    ('{', 'not a tokenizer the tokenizers library can read'),
    ('[1, 2]', 'not a tokenizer the tokenizers library can read'),
])
def test_a_file_that_is_not_a_tokenizer_is_one_sentence(text, says):
    with pytest.raises(ConfigError, match=says):
        BpeTokenizer(text)


def test_a_tokenizer_that_is_not_byte_level_bpe_is_one_sentence(tok):
    obj = json.loads(tok.to_json())
    obj['pre_tokenizer'] = {'type': 'Whitespace'}
    with pytest.raises(ConfigError, match='not a byte-level BPE'):
        BpeTokenizer(json.dumps(obj))
    obj = json.loads(tok.to_json())
    obj['model']['vocab']['ǅ'] = len(obj['model']['vocab'])  # a token not written in bytes
    with pytest.raises(ConfigError, match='not a byte-level BPE'):
        BpeTokenizer(json.dumps(obj))


def test_without_the_library_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, 'tokenizers', None)
    with pytest.raises(MissingLibrary) as e:
        require()
    assert str(e.value) == ("The BPE tokenizer needs the tokenizers library, which is not installed: "
                            "run pip install '.[bpe]'.")


@pytest.fixture(scope='module')
def saved(tmp_path_factory, tok):
    """A tiny model trained 3 steps with numpy on the BPE's ids, saved as engine.pair saves it."""
    from engine.vectorized import VectorTrainer
    docs = [line for line in TEXT.split('\n') if line][:40]
    trainer = VectorTrainer(docs, GPTConfig(n_embd=8, n_head=2, block_size=16), TrainConfig(num_steps=3), batch=4,
                            tokenizer=tok)
    for _ in trainer.run():
        pass
    folder = tmp_path_factory.mktemp('bpe')
    path = folder / 'tiny.json'
    pair.save(path, ckpt_io.from_trainer(trainer))
    return path, trainer


def test_a_bpe_checkpoint_saves_its_tokenizer_beside_it_loads_and_samples(saved, tok):
    path, trainer = saved
    name = f'tiny.tokenizer.{tok.sha256()[:16]}.json'
    assert (path.parent / name).read_text() == tok.to_json()
    obj = json.loads(path.read_text())
    assert 'uchars' not in obj and obj['tokenizer'] == {'file': name, 'sha256': tok.sha256()}
    loaded = ckpt_io.load(path)
    assert loaded.model.tokenizer == tok and loaded.tokenizer_name == name
    assert loaded.model.floats() == trainer.model.floats() and loaded.step == 3
    assert len(loaded.model.state_dict['wte']) == tok.vocab_size
    assert ckpt_io.to_json(loaded) == path.read_text()
    samples = list(iter_samples(loaded.model, random.Random(1), 3, settings=Settings(prompt='zoë ')))
    assert len(samples) == 3 and all(s.startswith('zoë ') for s in samples)
    numpy_samples = list(trainer.iter_samples(3, rng=random.Random(1)))  # the vectorized sampler decodes as well
    assert numpy_samples == list(iter_samples(loaded.model, random.Random(1), 3))


def test_a_missing_or_changed_tokenizer_file_is_one_sentence(saved, tmp_path):
    path, _ = saved
    copy = tmp_path / 'tiny.json'
    copy.write_bytes(path.read_bytes())
    name = json.loads(path.read_text())['tokenizer']['file']
    with pytest.raises(CheckpointError) as e:
        ckpt_io.load(copy)
    assert str(e.value) == (f'tiny.json is not a valid checkpoint: its tokenizer file {name} cannot be read beside it '
                            '(No such file or directory).')
    (tmp_path / name).write_text((path.parent / name).read_text().replace('"a"', '"b"', 1))
    with pytest.raises(CheckpointError, match=f'its tokenizer file {name} has changed since it was saved'):
        ckpt_io.load(copy)


def test_a_tokenizer_file_with_its_recorded_sha_that_is_not_a_bpe_is_one_sentence(saved, tmp_path):
    path, _ = saved
    bad = b'{"not": "a tokenizer"}'
    sha = hashlib.sha256(bad).hexdigest()
    name = f'tiny.tokenizer.{sha[:16]}.json'
    (tmp_path / name).write_bytes(bad)
    obj = json.loads(path.read_text())
    obj['tokenizer'] = {'file': name, 'sha256': sha}
    (tmp_path / 'tiny.json').write_text(json.dumps(obj))
    with pytest.raises(CheckpointError, match=f'its tokenizer file {name} is not a byte-level BPE tokenizer.$'):
        ckpt_io.load(tmp_path / 'tiny.json')
    obj['tokenizer'] = {'file': '../x.json', 'sha256': sha}
    (tmp_path / 'tiny.json').write_text(json.dumps(obj))
    with pytest.raises(CheckpointError, match='its tokenizer is not {"file"'):
        ckpt_io.load(tmp_path / 'tiny.json')


def test_a_recording_labels_each_token_with_its_text(saved, tok):
    """What the window's heatmaps, token lines and chain rule show: Trace.token_texts, the tokenizer's labels."""
    from engine.trace import record
    model = ckpt_io.load(saved[0]).model
    trace = record(model, 'emma café')
    ids = tok.ids('emma café')
    assert trace.tokens == (tok.BOS, *ids, tok.BOS)
    assert trace.token_texts == ('BOS', *(tok.token_text(i) for i in ids), 'BOS')
    assert ''.join(trace.token_texts[1:-1]).replace('␣', ' ') in ('emma café', r'emma caf\xc3\xa9')
    assert trace.vocabulary == tok.vocabulary_text() and len(trace.vocabulary) + 1 == tok.vocab_size
