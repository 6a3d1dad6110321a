"""The window's wiring for the shipped ladder (issue 23): File › Open ladder rung › lists each rung trained on
names.txt (bigram to microgpt, with what it adds and its parameter count) and opens it, so its overview, Code
panel and Timeline can be explored; a double-click on a shipped rung in Compare runs opens it too. "Compare
the rungs' curves" brings the Learn workspace's Training panel forward with every shipped rung drawn and Compare runs in view.
As explorer.tours.room is for tours, this is a room: the menu and the list know nothing of the window."""

import json

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QScrollArea

from engine.model import GPTConfig, param_count
from engine.presets import RUNGS, describe, shipped_checkpoint

from explorer.actions import make_action


def rung_params(name):
    """The parameter count of the shipped rung `name`, read from its file's config and vocabulary (without
    building the model), or None if the file cannot be read as one."""
    try:
        obj = json.loads(shipped_checkpoint(name).read_text(encoding='utf-8'))
        return param_count(GPTConfig(**obj['config']), len(obj['uchars']) + 1)
    except (OSError, ValueError, KeyError, TypeError):
        return None


class LadderRoom:
    def __init__(self, window):
        self.window = window
        file_menu = next(m for m in window.menus() if m.title().replace('&', '') == 'File')
        self.menu = file_menu.addMenu('Open &ladder rung')
        file_menu.insertMenu(window.recent_menu.menuAction(), self.menu)  # beside Open recent, above it
        self.menu.setToolTipsVisible(True)
        self.actions = {}
        for name in RUNGS:
            self.actions[name] = action = make_action(
                window, name, lambda _=False, name=name: self.open(name), None,
                f'Open the {name} rung trained 1,000 steps on names.txt ({describe(name)}): its overview, code and run')
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.compare_act = make_action(window, "&Compare the rungs' curves", self.compare, None,
                                       'Every shipped rung\'s loss curve drawn over the others in the Training panel '
                                       '(Compare runs), each with its parameter count')
        self.menu.addAction(self.compare_act)
        self.menu.aboutToShow.connect(self._label_actions)
        compare = getattr(window.training, 'compare', None)
        if compare is not None:
            compare.list.itemDoubleClicked.connect(self._on_double_clicked)

    def _label_actions(self):
        """Each rung with what it adds and its size, read when the menu first opens (not at start)."""
        for name, action in self.actions.items():
            if action.data() is None:
                params = rung_params(name)
                action.setData(params or 0)
                action.setText(f'{name} — {describe(name)}' + (f' · {params:,} params' if params else ' (missing)'))
                action.setEnabled(params is not None)

    def open(self, name):
        """The shipped rung `name` in the window (asking first if trained weights are unsaved)."""
        if self.window.files.maybe_save():  # not open_checkpoint: the folder of File › Open stays the learner's
            self.window.session.load_checkpoint(str(shipped_checkpoint(name)))

    def compare(self):
        """The Learn workspace (the widest column) with the Training panel in front, every shipped rung ticked
        (drawn as it arrives), its chart and list in view."""
        w = self.window
        w.workspaces.switch('Learn')
        dock = w.docks['training_dock']
        dock.show()
        dock.raise_()
        w.runs.want_history()
        w.training.compare.ladder_box.setChecked(True)
        QTimer.singleShot(0, self._scroll_to_compare)  # once the dock has its size

    def _scroll_to_compare(self):
        compare = self.window.training.compare
        area = compare.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is not None:
            area.ensureWidgetVisible(compare, 0, 0)
            area.ensureWidgetVisible(self.window.training.chart, 0, 0)  # its chart above it, as much as fits

    def _on_double_clicked(self, item):
        key = item.data(Qt.UserRole)
        run = next((r for r in self.window.runs.runs if r.key == key), None)
        if run is not None and run.rung is not None:
            self.open(run.rung)
