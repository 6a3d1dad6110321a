"""Writing files the user cares about: to a temp file beside the target, then renamed over it."""

import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path, content):
    """Write str or bytes to `path` so that a reader sees the old file or the whole new one, never half."""
    path = Path(path)
    data = content.encode('utf-8') if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent or '.', prefix=f'.{path.name}.', suffix='.tmp')
    try:
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)  # mkstemp makes 0600
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
