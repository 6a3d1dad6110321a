"""engine.files: a file the user cares about is checked before any work and written whole through a temp
file beside it; a symlink is written through, a folder, a missing folder, a name too long for its temp
name and an output that is one of the inputs refused in one sentence, and the temp files of killed saves
removed by the next save."""

import io
import os
import subprocess
import sys

import pytest

import main as main_py
from engine import files
from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine.cli.commands import main
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


def test_a_name_too_long_for_its_temp_name_is_refused_before_any_work(tmp_path):
    limit = os.pathconf(tmp_path, 'PC_NAME_MAX')
    extra = len(f'..{"9" * files.PID_DIGITS}.XXXXXXXX.tmp')  # what write_atomic's temp name adds
    long = tmp_path / ('m' * (limit - 10) + '.json')            # 245 characters where names have 255 bytes
    with pytest.raises(OutputError) as e:
        files.check_output(long)
    over = len(long.name) + extra - limit
    assert str(e.value) == (f'Cannot write {long}: its name is {over} characters too long (a file name here can '
                            f'have {limit} bytes, and saving needs {extra} more for its temp file).')
    fits = tmp_path / ('m' * (limit - extra - 5) + '.json')
    files.write_atomic(fits, 'x')  # the longest name that is allowed is written
    assert [p.name for p in tmp_path.iterdir()] == [fits.name]


def test_a_too_long_name_counts_characters_not_bytes(tmp_path):
    limit = os.pathconf(tmp_path, 'PC_NAME_MAX')
    extra = len(f'..{"9" * files.PID_DIGITS}.XXXXXXXX.tmp')
    name = 'é' * ((limit - 15) // 2) + '.json'  # 245 bytes, 2 to a character: 12 bytes, 6 characters too many
    assert len(name.encode()) + extra - limit == 12
    with pytest.raises(OutputError, match='its name is 6 characters too long'):
        files.check_output(tmp_path / name)


def test_an_output_that_is_one_of_the_inputs_is_refused(tmp_path):
    ckpt, data = tmp_path / 'run.json', tmp_path / 'names.txt'
    ckpt.write_text('{}')
    data.write_text('emma')
    (tmp_path / 'link.json').symlink_to(ckpt)
    os.link(data, tmp_path / 'hard.txt')
    inputs = ((ckpt, 'the checkpoint'), (data, 'the dataset'))
    for output, what in [(ckpt, 'the checkpoint'), (tmp_path / 'link.json', 'the checkpoint'),
                         (tmp_path / '.' / 'names.txt', 'the dataset'), (tmp_path / 'hard.txt', 'the dataset')]:
        with pytest.raises(OutputError) as e:
            files.check_not_input(output, *inputs)
        assert str(e.value) == f'Cannot write {output}: it is one of the inputs ({what}); choose another name.'
    files.check_not_input(tmp_path / 'new.json', *inputs, (None, 'no history'))  # another file: fine
    files.check_not_input(tmp_path / 'other.json', tmp_path / 'missing.json')
    with pytest.raises(OutputError, match=r'inputs \(.*missing.json\)'):
        files.check_not_input(tmp_path / 'missing.json', tmp_path / 'missing.json')


# Every command that writes a file checks it before any work, as a user types it (main.py): an output that
# is also one of its inputs (it would be replaced), and a name too long for its temp name.

def a_run_with_history(tmp_path):
    """tmp_path/run.json and the history it names: a small run's checkpoint and its history; the dataset."""
    data = tmp_path / 'tiny.txt'
    data.write_text('emma\nava\nolivia\nmia\n')
    run_json = tmp_path / 'run.json'
    assert main(['train', '--data', str(data), '--steps', '2', '--n-embd', '8', '--n-head', '2', '--num-samples', '0',
                 '--out', str(run_json), '--history-every', '1'], out=io.StringIO()) == 0
    return run_json, history_io.history_path(run_json, ckpt_io.load(run_json)), data


def no_work(monkeypatch):
    """Make the work of every command (reading the dataset, recording, reading a history) fail the test."""
    def work(*args, **kwargs):
        raise AssertionError('the work began before the output was checked')
    for target in ('engine.cli.training_data.load_docs', 'engine.cli.training_data.load_text', 'engine.cli.commands.record', 'engine.cli.gradient.record',
                   'engine.trace.record', 'engine.history.load'):
        monkeypatch.setattr(target, work)


def writing(out, ckpt, data):
    """Every command that writes a file, writing `out` (train: over `data`), reading `ckpt`."""
    c, o, rec = str(ckpt), str(out), ['--doc', 'emma', '--checkpoint', str(ckpt)]
    return {
        'train': ['train', '--data', str(data), '--steps', '2', '--n-embd', '8', '--n-head', '2', '--out', o],
        'trace': ['trace', *rec, '--json', o], 'graph': ['graph', *rec, '-o', o],
        'attention': ['attention', *rec, '-o', o], 'gradcheck': ['gradcheck', *rec, '--json', o],
        'nudge': ['nudge', *rec, '--node', 'wte[4][3]', '--json', o],
        'provenance': ['provenance', *rec, '--node', 'wte[4][3]', '--json', o],
        'history': ['history', c, '--param', 'wte[0][0]', '--json', o],
    }


def over_inputs(tmp_path):
    """Each case's arguments, the output it names and which input that is."""
    ckpt, history, data = a_run_with_history(tmp_path)
    link = tmp_path / 'run.svg'  # attention writes .csv, .png or .svg: the checkpoint by a link
    link.symlink_to(ckpt)
    cases = {'train over the dataset': (writing(data, ckpt, data)['train'], data, 'the dataset'),
             'attention': (writing(link, ckpt, data)['attention'], link, 'the checkpoint'),
             'history over its history': (writing(history, ckpt, data)['history'], history, 'the training history')}
    for command in ('trace', 'graph', 'gradcheck', 'nudge', 'provenance', 'history'):
        cases[command] = (writing(ckpt, ckpt, data)[command], ckpt, 'the checkpoint')
    return cases


OVER_INPUTS = ['train over the dataset', 'trace', 'graph', 'attention',
               'gradcheck', 'nudge', 'provenance', 'history', 'history over its history']


@pytest.mark.parametrize('case', OVER_INPUTS)
def test_an_output_that_is_an_input_is_refused_before_any_work(tmp_path, capsys, monkeypatch, case):
    args, out, what = over_inputs(tmp_path)[case]
    no_work(monkeypatch)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    capsys.readouterr()
    assert main_py.main(args) == 2
    captured = capsys.readouterr()
    assert captured.err == f'error: Cannot write {out}: it is one of the inputs ({what}); choose another name.\n'
    assert captured.out == ''  # before any work
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


@pytest.mark.parametrize('command', ['train', 'trace', 'graph', 'attention', 'gradcheck', 'nudge', 'provenance',
                                     'history'])
def test_a_name_too_long_for_its_temp_file_is_refused_before_the_work(tmp_path, capsys, monkeypatch, command):
    ckpt, _, data = a_run_with_history(tmp_path)
    no_work(monkeypatch)
    limit = os.pathconf(tmp_path, 'PC_NAME_MAX')
    ext = {'attention': '.csv'}.get(command, '.json')
    out = tmp_path / ('m' * (limit - 10 - len(ext)) + ext)  # 245 characters: a valid name, too long for its temp
    before = sorted(p.name for p in tmp_path.iterdir())
    capsys.readouterr()
    assert main_py.main(writing(out, ckpt, data)[command]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f'error: Cannot write {out}: its name is 12 characters too long ')
    assert captured.err.count('\n') == 1 and captured.out == ''
    assert sorted(p.name for p in tmp_path.iterdir()) == before
