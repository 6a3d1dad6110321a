"""A checkpoint and its training history on disk as one pair: replaced together or not at all.

The history is named by its content, `NAME.history.<first 16 hex digits of its SHA-256>.json`, and the
checkpoint names it ("history": file and whole SHA-256, engine.checkpoint). A save writes and syncs the new
history under its own name first (the checkpoint on disk still names the old history, which stays), then
replaces the checkpoint atomically (engine.files.write_atomic), and only then removes the old history. So
whatever is killed, interrupted or full at any moment, the checkpoint on disk names a history that is there
and is its own: the pair is the old one or the new one. A save killed between the two writes leaves a
history no checkpoint names, which is harmless.

Checkpoints saved before this (and the shipped one) name no history: theirs is NAME.history.json beside
them (engine.history.history_path), bound to the run by replay.

A checkpoint with a byte-level BPE (engine.bpe) names its tokenizer the same way, `NAME.tokenizer.<16 hex>.json`
(the tokenizers library's JSON), written before the checkpoint that names it, the old one removed after.
"""

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from engine import checkpoint as ckpt_io
from engine.checkpoint import HISTORY_NAME
from engine.files import check_output, remove_stale_temp_files, write_atomic
from engine.history import history_path


def history_name(checkpoint_path, sha256):
    """The file name of the history with this SHA-256 saved with the checkpoint at `checkpoint_path`."""
    name = Path(checkpoint_path).name
    stem = name[:-len('.json')] if name.endswith('.json') else name
    return f'{stem}.history.{sha256[:16]}.json'


def check_outputs(path):
    """Before the work: the checkpoint and a history beside it can both be written (OutputError if not)."""
    target = check_output(path)
    check_output(target.with_name(history_name(target, '0' * 64)))


def tokenizer_name(checkpoint_path, sha256):
    """The file name of a BPE tokenizer with this SHA-256 saved with the checkpoint at `checkpoint_path`."""
    return history_name(checkpoint_path, sha256).replace('.history.', '.tokenizer.', 1)


def _save_tokenizer(target, ckpt):
    """Write a BPE checkpoint's tokenizer beside it (before the checkpoint names it): (its file name, the old
    checkpoint's tokenizer file, to remove after), or (None, None) for a character vocabulary."""
    tok = ckpt.model.tokenizer
    if tok.kind == 'char':
        return None, None
    old = _named(target, 'tokenizer', ckpt_io.TOKENIZER_NAME, _read(target))
    name = tokenizer_name(target, tok.sha256())
    new = target.with_name(name)
    check_output(new)
    if not (new.is_file() and _sha256(new) == tok.sha256()):
        write_atomic(new, tok.to_json())
    return name, (old if old != new else None)


def save(path, ckpt, history=None):
    """Write `ckpt` to `path` with `history` (the history file's bytes, or None for none) as one pair. On
    success `ckpt` names its history and `ckpt.history_file` is where it is; OutputError if it cannot be
    written, and then the pair on disk is the old one."""
    target = check_output(path)  # a symlink followed: the pair lives where the checkpoint really is
    old = _named_history(target)
    _remove_stale_history_temps(target)
    new = name = sha = None
    if history is not None:
        sha = hashlib.sha256(history).hexdigest()
        name = history_name(target, sha)
        new = target.with_name(name)
        check_output(new)
        if not (new.is_file() and _sha256(new) == sha):
            write_atomic(new, history)
        _sync_folder(target.parent)  # the history stands before any checkpoint names it
    tokenizer, old_tokenizer = _save_tokenizer(target, ckpt)
    if tokenizer is not None:
        _sync_folder(target.parent)  # the tokenizer too stands before the checkpoint names it
    write_atomic(target, ckpt_io.to_json(dataclasses.replace(ckpt, history_name=name, history_sha256=sha,
                                                             tokenizer_name=tokenizer)))
    _sync_folder(target.parent)
    ckpt.history_name, ckpt.history_sha256, ckpt.history_file = name, sha, new
    ckpt.tokenizer_name = tokenizer
    if old_tokenizer is not None:
        old_tokenizer.unlink(missing_ok=True)
    if old is not None and old != new:
        try:
            old.unlink(missing_ok=True)  # the old checkpoint's history: no checkpoint here names it now
        except OSError:
            pass  # a leftover, not a loss


def _named_history(target):
    """The history the checkpoint now at `target` goes with: the file it names, else its NAME.history.json
    if there is one; None if there is no checkpoint there (or it cannot be read as one)."""
    obj = _read(target)
    if obj is None:
        return None
    if obj.get('history') is None:
        legacy = history_path(target)
        return legacy if legacy.is_file() else None
    return _named(target, 'history', HISTORY_NAME, obj)


def _named(target, key, pattern, obj):
    """The file beside the checkpoint at `target` its JSON `obj` names under `key` (history, tokenizer), or None."""
    ref = obj.get(key) if isinstance(obj, dict) else None
    name = ref.get('file') if isinstance(ref, dict) else None
    return target.with_name(name) if isinstance(name, str) and pattern.fullmatch(name) else None


def _read(target):
    """The JSON of the checkpoint at `target`, or None if there is none (or it cannot be read as one)."""
    try:
        if not target.is_file() or target.stat().st_size > ckpt_io.MAX_BYTES:
            return None
        obj = json.loads(target.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) and obj.get('format') == ckpt_io.FORMAT else None


def _remove_stale_history_temps(target):
    """Temp files of histories of this checkpoint whose save was killed (engine.files names them
    `.NAME.history.<16 hex>.json.PID.XXXXXXXX.tmp`; each history name is new, so no later save of it cleans them)."""
    prefix = '.' + history_name(target, '')[:-len('.json')]
    try:
        names = {e.name[1:e.name.index('.json.') + len('.json')] for e in os.scandir(target.parent)
                 if e.name.startswith(prefix) and e.name.endswith('.tmp') and '.json.' in e.name}
    except OSError:
        return
    for name in names:
        if HISTORY_NAME.fullmatch(name):
            remove_stale_temp_files(target.with_name(name))


def _sha256(path):
    digest = hashlib.sha256()
    try:
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _sync_folder(folder):
    """Make the renames in `folder` durable (a power cut after a save keeps the pair it made)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # a file system that cannot sync folders: the renames still happened in order
    finally:
        os.close(fd)

