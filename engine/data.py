"""The dataset: a UTF-8 text file with one document per line, as microgpt reads `input.txt`, or a continuous
text (a play, a book) cut into windows of block_size characters; a seeded train/validation split of either."""

import os
import random
from pathlib import Path

from engine.errors import DataError
from engine.files import read_user_file

# microgpt fetches names.txt from karpathy/makemore; pinned to the commit the published figures come from.
NAMES_URL = 'https://raw.githubusercontent.com/karpathy/makemore/988aa59/names.txt'
NAMES_ENV = 'MICROGPT_NAMES'


class DownloadFailed(DataError):
    """names.txt could not be fetched; `reason` says why, for callers that word the way out themselves."""

    def __init__(self, reason):
        super().__init__(f'Could not download names.txt ({reason}); pass --data FILE.')
        self.reason = reason


def parse_docs(text):
    """Documents of a text, exactly as microgpt splits them: stripped lines, blank ones skipped.

    microgpt opens input.txt in text mode, whose universal newlines turn '\r\n' and a lone '\r' into '\n'.
    """
    text = text.replace('\r\n', '\n').replace('\r', '\n')
    return [line.strip() for line in text.strip().split('\n') if line.strip()]


def _read_text(path, what, shape):
    """The text of a UTF-8 file the user named; a `DataError` with one sentence for a binary or non-UTF-8 one."""
    raw = read_user_file(path, what, DataError, kind='text file')
    if b'\0' in raw:
        raise DataError(f'{what} {path} is a binary file, not UTF-8 text{shape}.')
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError as e:
        raise DataError(f'{what} {path} is not UTF-8 text (bad byte at offset {e.start}).') from None


def load_docs(path):
    """The documents of a dataset file; a `DataError` with one sentence if it cannot be used."""
    path = Path(path)
    docs = parse_docs(_read_text(path, 'The dataset', ' with one document per line'))
    if not docs:
        raise DataError(f'The dataset {path} has no documents (it is empty or only blank lines).')
    return docs


def load_text(path):
    """A continuous text, line ends as text mode reads them ('\r\n' and a lone '\r' are '\n'); a `DataError`
    with one sentence if it cannot be used (missing, binary, not UTF-8, empty or only white space)."""
    path = Path(path)
    text = _read_text(path, 'The text', '').replace('\r\n', '\n').replace('\r', '\n')
    if not text.strip():
        raise DataError(f'The text {path} is empty' + (' (only white space).' if text else '.'))
    return text


def text_windows(text, block_size):
    """The text cut into consecutive windows of block_size characters, the last one shorter if the text ends
    there. Each window is trained as a document: BOS, then its characters, each predicting the next (a full
    window fills block_size positions, so no window is trained to end; the last, shorter one ends the text)."""
    return [text[i:i + block_size] for i in range(0, len(text), block_size)]


def split_docs(docs, val_fraction, seed):
    """(train, val): round(val_fraction × len(docs)) documents held out for validation, chosen by
    random.Random(seed) (a stream of its own: training's draws are untouched), each part in the order of docs.
    A `DataError` if the split would leave either part empty; val_fraction 0 holds nothing out."""
    if not val_fraction:
        return list(docs), []
    n_val = round(val_fraction * len(docs))
    if n_val < 1 or n_val >= len(docs):
        raise DataError(f'A validation fraction of {val_fraction:g} of {len(docs):,} documents leaves '
                        f'{"no validation" if n_val < 1 else "no training"} documents; '
                        'use a longer text or another --val-fraction.')
    held = set(random.Random(seed).sample(range(len(docs)), n_val))
    return ([d for i, d in enumerate(docs) if i not in held], [d for i, d in enumerate(docs) if i in held])


def cache_dir():
    """Where downloads are kept: $XDG_CACHE_HOME (or ~/.cache) / microgpt-explorer."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(base) / 'microgpt-explorer'


def cached_names_path():
    return cache_dir() / 'names.txt'


def find_names():
    """A names.txt that is already on this machine ($MICROGPT_NAMES, then the download cache), or None."""
    candidates = [os.environ.get(NAMES_ENV), cached_names_path()]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def download_names(dest=None, timeout=30):
    """Fetch names.txt once into the cache (written atomically); returns its path."""
    import urllib.error  # here, not at the top: the app starts faster without it
    import urllib.request
    dest = Path(dest) if dest else cached_names_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + '.part')
    try:
        with urllib.request.urlopen(NAMES_URL, timeout=timeout) as response:
            tmp.write_bytes(response.read())
    except (urllib.error.URLError, OSError) as e:
        tmp.unlink(missing_ok=True)
        raise DownloadFailed(_download_reason(e)) from None
    os.replace(tmp, dest)
    return dest


def _download_reason(error):
    """Why a download failed, in words rather than an errno."""
    import socket
    import urllib.error
    reason = getattr(error, 'reason', error)
    if isinstance(error, urllib.error.HTTPError):
        return f'the server answered {error.code} {error.reason}'
    if isinstance(reason, socket.gaierror):
        return 'this machine cannot reach the internet'
    if isinstance(reason, TimeoutError):
        return 'the server did not answer in time'
    return str(reason)


def default_names_path():
    """names.txt from the environment or the cache, downloading it the first time, as microgpt does."""
    return find_names() or download_names()
