"""The window's checkpoint files: File › Open (read off the UI thread by the session), Save, Open recent, the
folder file dialogs start in, and "the model trained here is not saved: save it first?" before it would be lost."""

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

RECENT = 8  # checkpoints Open recent lists


class CheckpointFiles:
    """What File's checkpoint entries do, for `window` (its session, settings, status bar and recent menu)."""

    def __init__(self, window):
        self.window, self.session, self.settings = window, window.session, window.settings

    def open(self, path=None):
        if not self.maybe_save():
            return
        if not path:
            path, _ = QFileDialog.getOpenFileName(self.window, 'Open checkpoint', str(self.last_dir()),
                                                  'Checkpoints (*.json)')
        if path:
            self.settings.setValue('last_dir', str(Path(path).parent))
            self.session.open_checkpoint(path)

    def save(self):
        """Ask where, then write the weights in use; True if they were written."""
        path, _ = QFileDialog.getSaveFileName(self.window, 'Save checkpoint', str(self.last_dir() / 'checkpoint.json'),
                                              'Checkpoints (*.json)')
        if not path:
            return False
        try:
            self.session.save_checkpoint(path)
        except OSError as e:
            QMessageBox.warning(self.window, 'Save checkpoint', f'Could not save {path}: {e.strerror or e}')
            return False
        self.window.statusBar().showMessage(f'Saved {path}', 5000)
        return True

    def maybe_save(self):
        """Before trained weights would be lost: save, discard or cancel. True to go on."""
        if not self.session.unsaved:
            return True
        answer = QMessageBox.question(
            self.window, 'Unsaved weights', f'The model trained here ({self.session.checkpoint_name}) is not saved. '
            'Save it first?', QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def add_recent(self, path):
        recent = [p for p in self.settings.value('recent', [], type=list) if p != str(path)]
        self.settings.setValue('recent', [str(path), *recent][:RECENT])
        self.fill_recent()

    def fill_recent(self):
        menu = self.window.recent_menu
        menu.clear()
        for p in self.settings.value('recent', [], type=list):
            menu.addAction(Path(p).name, lambda p=p: self.open(p)).setStatusTip(p)
        menu.setEnabled(not menu.isEmpty())

    def last_dir(self):
        return Path(self.settings.value('last_dir', str(Path.home())))
