"""The Training panel finds names.txt where the CLI does, remembers the file chosen, words failures
for the window, and stops saying "unsaved" once saved; sampling runs off the UI thread."""

import io
import re
import threading

from PySide6.QtCore import Qt

from engine import sampling as engine_sampling
from engine.paths import DEFAULT_CHECKPOINT
from engine.cli.commands import main as cli_main
from engine.data import DownloadFailed
from explorer.host import Host
from explorer.panels.training import TrainingPanel


def host(tmp_path, messages=None):
    return Host(last_dir=lambda: tmp_path, show_message=(messages if messages is not None else []).append,
                maybe_save=lambda: True)


def test_the_file_chosen_is_remembered(window, tmp_path, monkeypatch):
    data = tmp_path / 'pets.txt'
    data.write_text('rex\nfido\n')
    monkeypatch.setattr('explorer.panels.training.QFileDialog.getOpenFileName', lambda *a, **k: (str(data), ''))
    window.training.choose_dataset()
    assert window.settings.value('dataset') == str(data)
    again = TrainingPanel(window.session, host(tmp_path), window.settings.value('dataset'))
    assert again.data_path == data and 'pets.txt' in again.dataset.text()


def test_names_from_the_environment_as_the_cli_finds_it(window, tmp_path, monkeypatch):
    data = tmp_path / 'names.txt'
    data.write_text('emma\nava\n')
    monkeypatch.setenv('MICROGPT_NAMES', str(data))
    assert TrainingPanel(window.session, host(tmp_path)).data_path == data
    gone = tmp_path / 'moved.txt'  # a remembered file that is no longer there
    assert TrainingPanel(window.session, host(tmp_path), str(gone)).data_path == data


def test_offline_start_says_what_to_do_in_the_window(window, qtbot, monkeypatch):
    panel = window.training
    panel.data_path = None
    threads = []

    def offline():
        threads.append(threading.current_thread())
        raise DownloadFailed('no network')
    monkeypatch.setattr('explorer.panels.training.download_names', offline)
    panel.start()
    qtbot.waitUntil(lambda: panel.fetch is None, timeout=20000)
    text = panel.problem.text()
    assert 'no network' in text and 'choose a file with Dataset…' in text and '--data' not in text
    assert threads and threads[0] is not threading.main_thread()
    assert panel.run is None and panel.start_button.isEnabled()


def test_after_saving_the_panel_no_longer_says_unsaved(window, qtbot, tmp_path, monkeypatch):
    panel = window.training
    data = tmp_path / 'names.txt'
    data.write_text('emma\nolivia\nava\nmia\n')
    assert panel.set_dataset(str(data))
    panel.fields['steps'].setValue(3)
    with qtbot.waitSignal(window.session.view_changed, timeout=60000):
        panel.start()
        qtbot.waitUntil(lambda: panel.run is None, timeout=60000)
    assert 'unsaved' in panel.status.text()
    out = tmp_path / 'kept.json'
    monkeypatch.setattr('explorer.main_window.QFileDialog.getSaveFileName', lambda *a, **k: (str(out), ''))
    qtbot.keyClick(window, 'S', modifier=Qt.ControlModifier)
    assert out.exists()
    assert 'unsaved' not in panel.status.text() and 'saved as kept.json' in panel.status.text()


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
