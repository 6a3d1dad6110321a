"""The files a user names: read with one sentence when they cannot be; written (checked before any work, to a
temp file beside the target, renamed over it) as standard JSON text (dumps) or bytes. A symlink is written
through to its target; a device, FIFO or socket is refused.

Temp files are named `.NAME.PID.XXXXXXXX.tmp`; one whose process is gone (a save killed mid-write) is
removed by the next save of NAME. So NAME must be short enough for its temp name to fit the folder's limit
on a name (check_output says so before any work), and an output must not be one of the command's inputs
(check_not_input).
"""

import json
import math
import os
import stat
import tempfile
import time
from pathlib import Path

from engine.errors import OutputError

LEGACY_TEMP_AGE = 3600  # seconds: a temp file named without a PID (older versions) is stale after this
NAME_MAX = 255          # bytes in a file name, where the folder does not say (os.pathconf)
PID_DIGITS = 7          # Linux's largest PID (4194304): the longest PID a temp name holds
RANDOM_CHARS = 8        # mkstemp's random part of a temp name
TEMP_SUFFIX = '.tmp'

_SPECIAL = ((stat.S_ISFIFO, 'a named pipe (FIFO)'), (stat.S_ISCHR, 'a device'), (stat.S_ISBLK, 'a device'),
            (stat.S_ISSOCK, 'a socket'))


def read_user_file(path, what, error, kind='file'):
    """The bytes of the file at `path`, which the user named as `what` ('The dataset'); a missing file, a folder or
    an unreadable one raises `error` with one sentence."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error(f'{what} {path} does not exist.') from None
    except IsADirectoryError:
        raise error(f'{what} {path} is a folder, not a {kind}.') from None
    except OSError as e:
        raise error(f'{what} {path} cannot be read ({e.strerror or e}).') from None


def check_output(path):
    """Where `path` is written (a symlink followed to its target), or an OutputError saying why it cannot be."""
    shown = os.fspath(path)
    if not shown:
        raise OutputError("''", 'the path is empty')
    target = Path(os.path.realpath(shown))
    _check_name_length(shown, target)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise OutputError(shown, _reason(e)) from None
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise OutputError(shown, 'it is a folder')
        for is_kind, kind in _SPECIAL:
            if is_kind(mode):
                raise OutputError(shown, f'it is {kind}, not a regular file')
    folder = target.parent
    shown_folder = folder if Path(shown).is_symlink() else (os.path.dirname(shown) or '.')
    if not folder.is_dir():
        raise OutputError(shown, f'the folder {shown_folder} does not exist')
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(shown, f'the folder {shown_folder} is not writable')
    return target


def check_not_input(output, *inputs):
    """An OutputError when `output` is the same file as one of `inputs` (a path, or a pair (path, what) such
    as (checkpoint, 'the checkpoint'); None is left out): writing it would replace what the command reads.
    The same file however it is named (a symlink, a hard link, another spelling of the path)."""
    shown = os.fspath(output)
    for item in inputs:
        path, what = item if isinstance(item, tuple) else (item, None)
        if path is not None and _same_file(shown, os.fspath(path)):
            raise OutputError(shown, f'it is one of the inputs ({what or os.fspath(path)}); choose another name')


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def _temp_prefix(name, pid):
    return f'.{name}.{pid}.'


def _check_name_length(shown, target):
    """An OutputError when the temp name write_atomic makes for `target` is longer than its folder allows,
    saying by how many characters the name is too long."""
    extra = len(os.fsencode(_temp_prefix('', '9' * PID_DIGITS))) + RANDOM_CHARS + len(TEMP_SUFFIX)
    try:
        limit = os.pathconf(target.parent, 'PC_NAME_MAX')
    except (OSError, ValueError, AttributeError):  # a folder that is not there, or no pathconf (Windows)
        limit = NAME_MAX
    limit = limit if limit and limit > 0 else NAME_MAX
    over = len(os.fsencode(target.name)) + extra - limit
    if over > 0:
        stem, ext = os.path.splitext(target.name)
        going = stem[::-1] + ext[::-1]  # characters off the end of the stem first, keeping the extension
        chars, dropped = 0, 0
        while dropped < over and chars < len(going):  # until the bytes fit (UTF-8: several to a character)
            dropped += len(os.fsencode(going[chars]))
            chars += 1
        raise OutputError(shown, f'its name is {chars} character{"s" * (chars != 1)} too long (a file name here can '
                                 f'have {limit} bytes, and saving needs {extra} more for its temp file)')


def write_atomic(path, content):
    """Write str or bytes to `path` so that a reader sees the old file or the whole new one, never half."""
    shown = os.fspath(path)
    target = check_output(path)
    data = content.encode('utf-8') if isinstance(content, str) else content
    remove_stale_temp_files(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(target.name, os.getpid()),
                                   suffix=TEMP_SUFFIX)
    except OSError as e:
        raise OutputError(shown, _reason(e)) from None
    try:
        os.chmod(tmp, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644)  # mkstemp makes 0600
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise OutputError(shown, _reason(e)) from None
        raise


def remove_stale_temp_files(target):
    """Remove temp files of saves of `target` that were killed mid-write (their process is gone)."""
    prefix = f'.{target.name}.'
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith('.tmp')):
            continue
        parts = entry.name[len(prefix):-len('.tmp')].split('.')
        try:
            if len(parts) == 2 and parts[0].isdigit() and len(parts[1]) == 8:
                stale = not _process_alive(int(parts[0]))
            elif len(parts) == 1 and len(parts[0]) == 8:  # mkstemp's name alone, as older versions made it
                stale = time.time() - entry.stat(follow_symlinks=False).st_mtime > LEGACY_TEMP_AGE
            else:
                continue
            if stale and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        except OSError:
            pass  # gone already, or not ours to remove: the save goes on


def _process_alive(pid):
    if pid == os.getpid() or os.name == 'nt':  # os.kill would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


def _reason(e):
    """An OSError as the words after 'Cannot write PATH: ' (never the temp file's name)."""
    text = (e.strerror or str(e)).rstrip('.')
    return text[:1].lower() + text[1:]


def dumps(obj):
    """Standard JSON text (RFC 8259). A non-finite float, which JSON cannot hold, is written as the
    string "NaN", "Infinity" or "-Infinity"."""
    try:
        return json.dumps(obj, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(obj), allow_nan=False)


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return 'NaN' if obj != obj else ('Infinity' if obj > 0 else '-Infinity')
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
