"""engine.data: a dataset file split into documents as microgpt splits it, its bad files refused in one
sentence, and names.txt found on this machine or downloaded once into the cache."""

import socket
import urllib.error
import urllib.request

import pytest

from engine import data as data_mod
from engine.errors import DataError


def test_docs_are_split_as_microgpt_splits_them(tmp_path):
    path = tmp_path / 'd.txt'
    path.write_text('\n\n a b \r\nc\n\n\t\nd')
    assert data_mod.load_docs(path) == ['a b', 'c', 'd']
    with pytest.raises(DataError, match='folder'):
        data_mod.load_docs(tmp_path)


def test_download_goes_to_the_cache_once(monkeypatch, tmp_path):
    monkeypatch.delenv(data_mod.NAMES_ENV, raising=False)
    calls = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            pass

        def read(self):
            return b'emma\nava\n'

    def fake(url, timeout):
        calls.append(url)
        return Response()
    monkeypatch.setattr(urllib.request, 'urlopen', fake)
    first = data_mod.default_names_path()
    second = data_mod.default_names_path()
    assert first == second == data_mod.cached_names_path() and calls == [data_mod.NAMES_URL]
    assert data_mod.load_docs(first) == ['emma', 'ava']


@pytest.mark.parametrize('error,words', [
    (urllib.error.URLError(socket.gaierror(-2, 'Name or service not known')), 'cannot reach the internet'),
    (urllib.error.URLError(TimeoutError('timed out')), 'did not answer in time'),
    (urllib.error.HTTPError(data_mod.NAMES_URL, 404, 'Not Found', {}, None), 'answered 404 Not Found'),
])
def test_a_failed_download_says_why_in_words(monkeypatch, error, words):
    def urlopen(*a, **k):
        raise error
    monkeypatch.setattr(urllib.request, 'urlopen', urlopen)
    with pytest.raises(data_mod.DownloadFailed) as failed:
        data_mod.download_names()
    assert words in str(failed.value) and 'Errno' not in str(failed.value)


def test_parse_docs_reads_universal_newlines_and_strips_each_line():
    assert data_mod.parse_docs('emma\r\n  ava\t\rmia\n\n') == ['emma', 'ava', 'mia']
    assert data_mod.parse_docs(' \n\r\n') == []


@pytest.mark.parametrize('content, says', [(b'\x00\x01abc', 'is a binary file'),
                                           ('zo\u00eb\n'.encode('latin-1'), 'is not UTF-8 text (bad byte at offset 2)'),
                                           (b'\n \n\t\n', 'has no documents')])
def test_a_file_that_is_no_dataset_is_one_sentence(tmp_path, content, says):
    path = tmp_path / 'bad.txt'
    path.write_bytes(content)
    with pytest.raises(DataError) as e:
        data_mod.load_docs(path)
    assert str(e.value).startswith(f'The dataset {path} ') and str(e.value).endswith('.')
    assert says in str(e.value) and '\n' not in str(e.value)
    with pytest.raises(DataError, match='does not exist'):
        data_mod.load_docs(tmp_path / 'none.txt')


def test_names_are_found_in_the_environment_first_then_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(data_mod.NAMES_ENV, raising=False)
    assert data_mod.find_names() is None  # the cache is empty (XDG_CACHE_HOME is a temp folder here)
    cached = data_mod.cached_names_path()
    cached.parent.mkdir(parents=True)
    cached.write_text('emma\n')
    assert data_mod.find_names() == cached and cached.is_relative_to(tmp_path)
    mine = tmp_path / 'mine.txt'
    mine.write_text('ava\n')
    monkeypatch.setenv(data_mod.NAMES_ENV, str(mine))
    assert data_mod.find_names() == mine
    monkeypatch.setenv(data_mod.NAMES_ENV, str(tmp_path / 'gone.txt'))  # not a file: the cache instead
    assert data_mod.find_names() == cached


# --- any text: windows of block_size, a seeded validation split (issue 23) ---

def test_a_text_is_cut_into_consecutive_windows_of_block_size():
    text = 'To be, or not to be:\nthat is the question.'
    windows = data_mod.text_windows(text, 16)
    assert ''.join(windows) == text and [len(w) for w in windows] == [16, 16, 10]
    assert data_mod.text_windows('abc', 16) == ['abc']


def test_a_text_keeps_its_lines_and_reads_line_ends_as_text_mode(tmp_path):
    path = tmp_path / 'play.txt'
    path.write_bytes(b'ROMEO:\r\nBut soft!\rWhat light\n\n')
    assert data_mod.load_text(path) == 'ROMEO:\nBut soft!\nWhat light\n\n'


@pytest.mark.parametrize('content, says', [
    (b'', 'is empty.'), (b' \n\t\n', 'is empty (only white space).'),
    (b'\x00\x01abc', 'is a binary file, not UTF-8 text.'), ('zoë'.encode('latin-1'), 'is not UTF-8 text (bad byte at offset 2).')])
def test_a_text_that_cannot_be_trained_on_is_one_sentence(tmp_path, content, says):
    path = tmp_path / 'bad.txt'
    path.write_bytes(content)
    with pytest.raises(DataError) as e:
        data_mod.load_text(path)
    assert str(e.value) == f'The text {path} {says}'


def test_the_validation_split_is_seeded_disjoint_and_keeps_the_order():
    docs = [f'doc{i}' for i in range(50)]
    train, val = data_mod.split_docs(docs, 0.1, seed=42)
    assert len(val) == 5 and len(train) == 45 and sorted(train + val) == sorted(docs) and not set(train) & set(val)
    assert train == [d for d in docs if d in train] and val == [d for d in docs if d in val]  # in the docs' order
    assert data_mod.split_docs(docs, 0.1, seed=42) == (train, val)      # the same seed, the same split
    assert data_mod.split_docs(docs, 0.1, seed=7)[1] != val              # another seed, another
    assert data_mod.split_docs(docs, 0, seed=42) == (docs, [])
    with pytest.raises(DataError, match=r'^A validation fraction of 0.1 of 4 documents leaves no validation documents;'):
        data_mod.split_docs(docs[:4], 0.1, seed=42)
    with pytest.raises(DataError, match='leaves no training documents'):
        data_mod.split_docs(docs[:2], 0.9, seed=42)
