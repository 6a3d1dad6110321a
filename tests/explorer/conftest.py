"""The explorer window, offscreen, recorded on 'emma' with the trained checkpoint.

Building a window (Session, MainWindow, checkpoint, recording 'emma') costs seconds, so `window` is one
window per test module, handed to each test back in its first state: the overview, backprop at step 0,
nothing selected, toggles, docks and size as first shown. A test that leaves it where a reset cannot bring it back
(another document or checkpoint, training, dark mode, the window closed) makes the next test get a new one;
so does a test marked `fresh_window`.
A test about the first start, settings or closing takes `make_window`, always fresh.
"""

import hashlib
import re

import pytest
from PySide6.QtCore import QEvent, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QWidget

from engine.history import history_path
from engine.paths import DEFAULT_CHECKPOINT
from explorer.main_window import MainWindow
from explorer.state.history_check import KEY as CHECKED_HISTORIES
from explorer.state.session import Session
from explorer.workspaces import FIRST

DOC = 'emma'
# The shipped history is its run's byte for byte (tests/engine/test_model.py retrains it): windows here
# know it as checked on this machine, so none spends a core replaying it again beside the tests.
SHIPPED_HISTORY = hashlib.sha256(history_path(DEFAULT_CHECKPOINT).read_bytes()).hexdigest()


def build_window(qtbot, settings, size=None, record=True):
    """A shown MainWindow on `settings`, checkpoint loaded and (if `record`) 'emma' recorded."""
    if not settings.contains(CHECKED_HISTORIES):
        settings.setValue(CHECKED_HISTORIES, [SHIPPED_HISTORY])
    session = Session()
    win = MainWindow(session, settings)
    if size is not None:
        win.resize(*size)
    assert session.load_checkpoint()
    win.show()
    if record:
        with qtbot.waitSignal(session.view_changed, timeout=60000):  # a busy machine: slow, not broken
            session.record(DOC)
        qtbot.waitUntil(lambda: not win.graph.building(), timeout=60000)  # every box in, the first view set: on a
        # busy machine the slices of a big scene came after the test had read the view (the loss not in it yet)
    else:
        qtbot.wait(20)
    return win


def close_window(win):
    """Close without a question: a training run is stopped, trained weights are not offered for saving."""
    if win.training.run is not None:
        win.training.run.wait()
    win.session.unsaved = False       # closing must not wait on a "save the trained weights?" box
    win.close()                       # here, not in pytest-qt's teardown, which would come first
    win.session.worker.wait()
    win.deleteLater()                 # closed is only hidden: free the widgets, scene and trace now;
    win.session.deleteLater()         # the session's signals hold the window's slots (Qt keeps them alive)
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)


class SharedWindow:
    """One test module's window and what it looked like when first shown, to put it back between tests."""

    def __init__(self, folder):
        self.folder, self.made, self.win = folder, 0, None

    def get(self, qtbot):
        if self.win is not None and not self._reusable():
            self.discard()
        if self.win is None:
            self.made += 1
            settings = QSettings(str(self.folder / f'settings{self.made}.ini'), QSettings.IniFormat)
            self.win = build_window(qtbot, settings)
            self.ckpt, self.size = self.win.session.checkpoint, self.win.size()
            self.state = self.win.saveState()
            self.checked = {a: a.isChecked() for a in self.win.findChildren(QAction) if a.isCheckable()}
            self.extra = set(QApplication.topLevelWidgets())
        else:
            self._reset(qtbot)
        return self.win

    def _reusable(self):
        win, s = self.win, self.win.session
        return (win.isVisible() and win.training.run is None and not s.unsaved and s.recording is None
                and s.checkpoint is self.ckpt and s.model is self.ckpt.model and s.doc == DOC
                and not win.dark_act.isChecked())

    def _reset(self, qtbot):
        win, s = self.win, self.win.session
        s.backprop.reset()
        s.cancel_layout()
        s.set_show_constants(False)
        s.collapse_all()
        qtbot.waitUntil(lambda: not s.layout_pending and not win.graph.building(), timeout=20000)
        s.select(None)
        s.focus = None
        win.search_field.clear()
        win.attention.set_quantity('weight')
        for action, checked in self.checked.items():  # minimap, weight edges, ... as first shown
            if action.isChecked() != checked:
                action.setChecked(checked)
        for widget in set(QApplication.topLevelWidgets()) - self.extra:  # help boxes, dialogs a test opened
            if isinstance(widget, QWidget) and widget.isVisible() and widget is not win:
                widget.close()
        win.settings.remove('workspaces')  # the workspace as first shown, and no learner's arrangements kept
        win.workspaces.current = FIRST
        win.workspaces.actions[FIRST].setChecked(True)
        win.restoreState(self.state)
        win.resize(self.size)
        qtbot.wait(10)

    def discard(self):
        if self.win is not None:
            close_window(self.win)
            self.win = None


@pytest.fixture(scope='module')
def _shared_window(qapp, tmp_path_factory):
    shared = SharedWindow(tmp_path_factory.mktemp('window'))
    yield shared
    shared.discard()


@pytest.fixture
def window(_shared_window, qtbot, request):
    """The module's window, back in its first state (see the module docstring); a new one for a test
    marked `fresh_window` (it needs what a reset does not undo, such as no layout cached yet)."""
    if request.node.get_closest_marker('fresh_window'):
        _shared_window.discard()
    return _shared_window.get(qtbot)


@pytest.fixture
def make_window(qtbot, tmp_path):
    """make_window(w, h, settings=None, record=True): a new window of that size on fresh settings."""
    made = []

    def make(width, height, settings=None, record=True):
        win = build_window(qtbot, settings or QSettings(str(tmp_path / f'{len(made)}.ini'), QSettings.IniFormat),
                           (width, height), record)
        made.append(win)
        assert win.size().toTuple() == (width, height)
        return win
    yield make
    for win in made:
        close_window(win)


def long_numbers(text):
    """Numbers in `text` written with more than 6 significant digits (a repr's 16-17): what a tooltip or the
    Inspector must not show (every digit is the Inspector's 'copy exact', engine.numbers.exact)."""
    out = []
    for number in re.findall(r'\d+\.\d+(?:e-?\d+)?', text):
        digits = number.split('e')[0].replace('.', '').lstrip('0')
        if len(digits) > 6:
            out.append(number)
    return out
