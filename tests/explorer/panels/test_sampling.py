"""explorer/panels/sampling.py: sampling in the window gives what the sample command prints, runs off the
UI thread, and lists the names it made."""

import io
import re
import threading

from engine import sampling as engine_sampling
from engine.cli.commands import main as cli_main
from engine.paths import DEFAULT_CHECKPOINT


def test_sampling_reproduces_the_sample_command(window, qtbot):
    panel = window.sampling
    for seed, args in (('7', ['--seed', '7']), ('', [])):
        panel.seed.setText(seed)
        panel.count.setValue(5)
        with qtbot.waitSignal(panel.distribution_done, timeout=20000):  # the first sample's, shown once it is in
            with qtbot.waitSignal(panel.samples_done, timeout=20000):
                panel.generate()
        out = io.StringIO()
        assert cli_main(['sample', '--checkpoint', str(DEFAULT_CHECKPOINT), '--num-samples', '5', *args], out) == 0
        assert panel.names == re.findall(r'sample +\d+: (\S*)', out.getvalue())
    assert panel.list.currentRow() == 0
    text = panel.distribution.toPlainText()
    assert 'after BOS' in text and '◀' in text
    panel.seed.setText('x')
    panel.generate()
    assert 'whole number' in panel.problem.text()
    panel.seed.setText('')
    panel.list.setCurrentRow(1)
    with qtbot.waitSignal(window.session.view_changed, timeout=20000):
        panel.record_button.click()
    assert window.session.trace.doc == panel.names[1]


def test_sampling_runs_off_the_ui_thread_and_matches_the_cli(window, qtbot, monkeypatch):
    threads = []
    original = engine_sampling.sample

    def watched(*args, **kwargs):
        threads.append(threading.current_thread())
        return original(*args, **kwargs)
    monkeypatch.setattr(engine_sampling, 'sample', watched)
    panel = window.sampling
    panel.count.setValue(12)
    with qtbot.waitSignal(panel.samples_done, timeout=30000):
        panel.generate()
    assert len(threads) == 12 and all(t is not threading.main_thread() for t in threads)
    out = io.StringIO()
    monkeypatch.setattr(engine_sampling, 'sample', original)
    assert cli_main(['sample', '--checkpoint', str(DEFAULT_CHECKPOINT), '--num-samples', '12'], out) == 0
    assert panel.names == re.findall(r'sample +\d+: (\S*)', out.getvalue())
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == panel.names
