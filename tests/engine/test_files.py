"""engine.files: a file the user cares about is checked before any work and written whole through a temp
file beside it; a symlink is written through, a folder or a missing folder refused in one sentence, and
the temp files of killed saves removed by the next save."""

import os
import subprocess
import sys

import pytest

from engine import files
from engine.errors import OutputError


def test_a_write_replaces_the_file_whole_and_keeps_its_mode(tmp_path):
    """A new file is 0644, not the 0600 of the temp file it was written to; a file that exists keeps its mode
    (0640 and 0604 are neither of those two, so neither a temp file's mode nor a fixed one passes)."""
    target = tmp_path / 'out.json'
    files.write_atomic(target, 'first')
    assert target.read_text() == 'first' and (target.stat().st_mode & 0o777) == 0o644
    for mode, content in ((0o640, b'second'), (0o604, 'third'), (0o600, b'fourth')):
        target.chmod(mode)
        files.write_atomic(target, content)
        assert target.read_bytes() == (content if isinstance(content, bytes) else content.encode())
        assert (target.stat().st_mode & 0o777) == mode, oct(target.stat().st_mode & 0o777)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out.json']  # no temp file left


def test_a_failed_write_keeps_the_old_file_and_names_the_users_path(tmp_path, monkeypatch):
    target = tmp_path / 'out.json'
    target.write_text('old')

    def full(src, dst):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'replace', full)
    with pytest.raises(OutputError) as e:
        files.write_atomic(target, 'new')
    assert str(e.value) == f'Cannot write {target}: no space left on device.'
    assert target.read_text() == 'old' and sorted(p.name for p in tmp_path.iterdir()) == ['out.json']


def test_what_cannot_be_written_is_said_before_any_work(tmp_path):
    with pytest.raises(OutputError, match='it is a folder'):
        files.check_output(tmp_path)
    with pytest.raises(OutputError, match=f'the folder {tmp_path / "no"} does not exist'):
        files.check_output(tmp_path / 'no' / 'x.json')
    with pytest.raises(OutputError, match='the path is empty'):
        files.check_output('')
    link = tmp_path / 'link.json'
    link.symlink_to(tmp_path / 'real.json')
    assert files.check_output(link) == tmp_path / 'real.json'  # written through to its target


def test_only_temp_files_of_gone_processes_are_removed(tmp_path):
    gone = subprocess.Popen([sys.executable, '-c', 'pass'])
    gone.wait()
    target = tmp_path / 'out.json'
    stale, live = tmp_path / f'.out.json.{gone.pid}.abcdefgh.tmp', tmp_path / f'.out.json.{os.getpid()}.abcdefgh.tmp'
    other = tmp_path / f'.other.json.{gone.pid}.abcdefgh.tmp'
    for p in (stale, live, other):
        p.write_text('half')
    files.remove_stale_temp_files(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
