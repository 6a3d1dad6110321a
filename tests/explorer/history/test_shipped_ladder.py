"""explorer/history/shipped_ladder.py: the shipped rungs' runs come into Compare runs without training, read once
off the UI thread, each checked against its checkpoint (a history changed after it was shipped is left out,
with the reason); the shipped microgpt is left to the Timeline while it is the checkpoint in use."""

import shutil

from PySide6.QtCore import Qt

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine.presets import RUNGS, shipped_checkpoint

from explorer.history import shipped_ladder
from explorer.history.shipped_ladder import read_ladder, read_rung, run_key


def test_each_rung_is_read_with_its_checked_history():
    for name in ('bigram', 'one-head'):
        params, losses, key = read_rung(name)
        path = shipped_checkpoint(name)
        ckpt = ckpt_io.load(path)
        assert params == len(ckpt.model.params) and key == ckpt.history_sha256
        assert list(losses) == history_io.load_for(path, ckpt).losses and len(losses) == 1000
    ckpt = ckpt_io.load(shipped_checkpoint('microgpt'))  # named by no SHA-256: known by its file
    ckpt.history_file = history_io.history_path(shipped_checkpoint('microgpt'), ckpt)
    assert run_key(ckpt) == ('file', str(ckpt.history_file.resolve()))


def test_a_rung_whose_history_was_changed_is_left_out_with_the_reason(tmp_path, monkeypatch):
    source = shipped_checkpoint('bigram')
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    name = ckpt_io.load(source).history_name
    raw = bytearray((source.parent / name).read_bytes())
    raw[raw.index(b'"loss"') + 9] ^= 1  # one digit of the first loss
    (tmp_path / name).write_bytes(bytes(raw))
    monkeypatch.setattr(shipped_ladder, 'shipped_checkpoint', lambda rung: copy if rung == 'bigram' else source)
    ((rung, why),) = read_ladder(['bigram'])
    assert rung == 'bigram' and isinstance(why, str) and 'changed after it was saved' in why


def test_the_ladder_arrives_in_compare_runs_and_draws_at_one_tick(window, qtbot, monkeypatch):
    asked = []
    real = shipped_ladder.read_ladder
    monkeypatch.setattr(shipped_ladder, 'read_ladder', lambda names: asked.append(list(names)) or real(names))
    runs, compare = window.runs, window.training.compare
    runs.ladder.started = False  # read again for this test, through the spy
    with qtbot.waitSignal(runs.ladder.done, timeout=30000):
        runs.want_history()
    assert asked == [[p for p in RUNGS if p != 'microgpt']]  # microgpt is in use: the Timeline brings it
    qtbot.waitUntil(lambda: compare.list.count() == 5, timeout=30000)
    texts = [compare.list.item(i).text() for i in range(5)]
    assert [t.split(' ·')[0] for t in texts] == [f'{p} (shipped)' for p in RUNGS]
    assert [t.split(' · ')[1] for t in texts] == ['729 params', '3,168 params', '3,680 params', '4,192 params',
                                                 '4,192 params']
    assert runs.ladder.problems == {}
    runs.want_history()  # once: not read again
    assert len(asked) == 1
    before = len(compare.chart.series())
    compare.ladder_box.setChecked(True)
    assert len(compare.chart.series()) == before + 5
    assert all(compare.list.item(i).checkState() == Qt.Checked for i in range(5))
    compare.ladder_box.setChecked(False)
    assert len(compare.chart.series()) == before
