"""explorer.checkpoint_files: Open recent lists the checkpoints opened, newest first and each once; Save writes the
weights where asked and says so; trained weights are offered for saving before they would be lost."""

from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine import checkpoint as ckpt_io


def test_open_recent_lists_each_checkpoint_once_newest_first(window):
    files = window.files
    window.settings.remove('recent')
    for p in ('/tmp/a.json', '/tmp/b.json', '/tmp/a.json'):
        files.add_recent(p)
    assert [a.text() for a in window.recent_menu.actions()] == ['a.json', 'b.json'] and window.recent_menu.isEnabled()
    window.settings.remove('recent')
    files.fill_recent()
    assert not window.recent_menu.isEnabled()


def test_save_writes_where_asked_and_unsaved_weights_are_offered_first(window, tmp_path, monkeypatch):
    files, s = window.files, window.session
    out = tmp_path / 'saved.json'
    monkeypatch.setattr(QFileDialog, 'getSaveFileName', lambda *a, **k: (str(out), ''))
    assert files.save()
    saved = ckpt_io.load(out)
    assert [p.data for p in saved.model.params] == [p.data for p in s.model.params] and saved.step == s.checkpoint.step
    assert window.statusBar().currentMessage() == f'Saved {out}'
    s.unsaved = True
    monkeypatch.setattr(QMessageBox, 'question', lambda *a, **k: QMessageBox.Cancel)
    assert not files.maybe_save()
    monkeypatch.setattr(QMessageBox, 'question', lambda *a, **k: QMessageBox.Discard)
    assert files.maybe_save()
    s.unsaved = False
    assert files.last_dir().is_dir()
