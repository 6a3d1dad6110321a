"""Workspaces: named arrangements of the panels, each giving one task its room (issue 21 item 5).

An arrangement is data (WORKSPACES): which panels stand in the column on the right, in which tab groups and
how high, how wide the column is, what lies along the bottom under the graph, which tab is in front. The
rest are tabbed behind and closed, so View › Panels brings one back where it belongs. `Workspaces` applies
one with what Qt gives (addDockWidget, splitDockWidget, tabifyDockWidget, resizeDocks), keeps the
learner's own changes to each (saveState in QSettings, per workspace) until Reset workspace, and moves
only docks: the graph is neither laid out again nor rebuilt, its view is only resized."""

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QTabBar, QToolBar

from explorer.actions import make_action

SEPARATOR = 6  # px between two groups of docks (the splitter handle), near enough for every style
SETTINGS = 'workspaces'  # workspaces/<name>: the learner's arrangement of it; workspaces/current: its name


@dataclass(frozen=True)
class Size:
    """A length as a share of what there is, kept between `least` and `most` pixels."""
    share: float
    least: int = 0
    most: int = 100_000

    def of(self, length):
        return max(self.least, min(self.most, round(length * self.share)))


@dataclass(frozen=True)
class Group:
    """Panels tabbed together (tabs in this order), `front` in front (the first unless named), and its
    height in the column (None: what the groups with a height leave)."""
    docks: tuple
    height: Size = None
    front: str = None

    @property
    def first(self):
        return self.front or self.docks[0]


@dataclass(frozen=True)
class Workspace:
    name: str
    key: str
    tip: str                 # what it is for: the menu's status tip and Help › Panels
    column: tuple            # Groups in the column on the right, top to bottom
    width: Size              # the column's width, of the window's
    bottom: Group = None     # tabs along the bottom, the whole width of the window
    kept: tuple = ()         # panels in front that stepping backprop never covers (the learner chose them)
    gradient_tab: str = None  # the Gradient panel's page in front (Code, Nudge, …)
    keys: str = None         # the control that takes the keyboard on arriving ('timeline_panel.slider'): else the graph keeps it

    @property
    def groups(self):
        return (*self.column, self.bottom) if self.bottom else self.column


NARROW = Size(0.27, 300, 420)  # the first column: the graph keeps over 60% of 1400×900, 55% of 1280×720

WORKSPACES = (
    Workspace('All panels', 'Ctrl+0', 'Every panel in one narrow column beside the graph, as the explorer first '
              'opens: Backprop above, Attention below',
              (Group(('backprop_dock', 'legend_dock', 'scopes_dock', 'training_dock', 'sampling_dock',
                      'timeline_dock'), Size(0.24, 130, 260)),
               Group(('inspector_dock', 'chain_rule_dock', 'attention_dock', 'adam_plot_dock', 'embedding_dock',
                      'gradient_dock'), front='attention_dock')), NARROW),
    Workspace('Graph', 'Ctrl+1', 'The graph as big as it gets, with the Inspector, Scopes and Legend beside it',
              (Group(('inspector_dock', 'scopes_dock', 'legend_dock')),), Size(0.22, 280, 360)),
    Workspace('Backprop', 'Ctrl+2', 'Step backprop with the Chain rule beside the graph, the whole height of the window, '
              'and the Code under the graph: the line that made the node and the line of Value applying the chain rule',
              (Group(('backprop_dock', 'legend_dock', 'scopes_dock'), Size(0.45, 128, 290)),
               Group(('chain_rule_dock', 'inspector_dock'))), Size(0.3, 320, 460),
              bottom=Group(('gradient_dock',), Size(0.4, 270, 420)), kept=('gradient_dock',), gradient_tab='Code'),
    Workspace('Attention', 'Ctrl+3', "Each head's heatmaps with room, Backprop's buttons above them",
              (Group(('backprop_dock', 'scopes_dock', 'legend_dock'), Size(0.24, 130, 220)),
               Group(('attention_dock', 'inspector_dock', 'chain_rule_dock'))), Size(0.5, 520, 900),
              kept=('attention_dock',)),
    Workspace('Gradient', 'Ctrl+4', 'Check one gradient: Nudge, Provenance, Gradcheck and Code above the Inspector',
              (Group(('gradient_dock',), Size(0.58, 300, 700)),
               Group(('inspector_dock', 'chain_rule_dock', 'legend_dock'))), Size(0.4, 460, 760),
              kept=('gradient_dock',), gradient_tab='Nudge'),
    Workspace('Learn', 'Ctrl+5', 'The training run: the Timeline with its loss curve beside the graph as it '
              'changes step by step (its slider has the keys: Page Up/Down, Home, End), Training and Sampling behind it, '
              'Parameter over time and Embeddings below',
              (Group(('timeline_dock', 'training_dock', 'sampling_dock'), Size(0.64, 400, 900)),
               Group(('adam_plot_dock', 'embedding_dock', 'inspector_dock'))), Size(0.46, 540, 820),
              kept=('timeline_dock',), keys='timeline_panel.slider'),  # Page Up/Down, Home, End: the run's steps
)
BY_NAME = {w.name: w for w in WORKSPACES}
FIRST = WORKSPACES[0].name


class Workspaces:
    """The workspaces of a main window: its docks by object name, its QSettings, the LearnerTabs that must
    not take a workspace's own raising for the learner's choice, and set_gradient_page(title)."""

    def __init__(self, window, docks, settings, tabs, set_gradient_page, version):
        self.window, self.docks, self.settings, self.tabs = window, docks, settings, tabs
        self.set_gradient_page, self.version = set_gradient_page, version
        self.current = settings.value(f'{SETTINGS}/current', FIRST)
        if self.current not in BY_NAME:
            self.current = FIRST
        self.actions = {}
        self.group = QActionGroup(window)
        self._tab_bar = None  # the height of a row of dock tabs, measured once

    def create_menu(self, menu):
        """View › Workspaces: one action per workspace (its key), then Reset workspace."""
        for w in WORKSPACES:
            action = make_action(self.window, w.name, lambda _=False, n=w.name: self.switch(n), w.key, w.tip,
                                 checkable=True)
            action.setObjectName(f'workspace_{w.name}')
            action.setChecked(w.name == self.current)
            self.group.addAction(action)
            self.actions[w.name] = action
            menu.addAction(action)
        menu.addSeparator()
        self.reset_act = make_action(self.window, '&Reset workspace', self.reset, None,
                                     "Put the panels of this workspace back where it first puts them (your own "
                                     "changes to it are kept otherwise, one arrangement per workspace)")
        menu.addAction(self.reset_act)
        return menu

    def switch(self, name):
        """Go to workspace `name`: the one left is kept as the learner arranged it; this one comes back as
        they left it, or as it is first arranged."""
        if name == self.current:
            self._bring_forward(BY_NAME[name])
        else:
            self.save()
            self.current = name
            self.actions[name].setChecked(True)
            state = self.settings.value(f'{SETTINGS}/{name}', QByteArray())
            if not (state and self._restore(state)):
                self.apply(BY_NAME[name])
            else:
                self._bring_forward(BY_NAME[name], restored=True)
        self._give_keys(BY_NAME[name])

    def _give_keys(self, w, tries=100):
        """The workspace's control takes the keyboard (in Learn, Page Up/Down and End moved the graph and ran
        backprop to its end while the learner meant the timeline); a click on the graph gives them back. A
        control not usable yet (the slider, until the run's history is read) takes them when it is, unless
        the learner has gone to another workspace or put the keys elsewhere meanwhile."""
        if not w.keys or self.current != w.name:
            return
        widget = self.window
        for part in w.keys.split('.'):
            widget = getattr(widget, part)
        focus = self.window.focusWidget()
        if widget.isEnabled() and widget.isVisible():
            widget.setFocus(Qt.OtherFocusReason)
        elif tries and (focus is None or focus is self.window.graph or focus is widget):
            QTimer.singleShot(100, self.window, lambda: self._give_keys(w, tries - 1))  # none once it is gone

    def save(self):
        """The current workspace as the learner has it now (kept until Reset workspace)."""
        self.settings.setValue(f'{SETTINGS}/{self.current}', self.window.saveState(self.version))
        self.settings.setValue(f'{SETTINGS}/current', self.current)

    def reset(self):
        """The current workspace as it is first arranged (the arrangement kept for it is this one from now)."""
        self.apply(BY_NAME[self.current])

    def place(self):
        """The current workspace's docks placed as it first arranges them, not yet sized: as the window is
        built (its minimum size is then that of its tab groups, not of every panel one above the other)."""
        self.apply(BY_NAME[self.current], sized=False)

    def fit(self):
        """The current workspace's docks sized for the window, its tabs in front (raised before the window
        showed, a tab group's first tab came forward instead): when it first shows, unless a saved state was
        restored."""
        self._size(BY_NAME[self.current])
        self._bring_forward(BY_NAME[self.current])

    def _restore(self, state):
        """A saved arrangement back; the tool bars stay as they are (they are not part of a workspace)."""
        bars = {bar: bar.isVisible() for bar in self.window.findChildren(QToolBar) if bar.parent() is self.window}
        with self.tabs.arranging():
            done = self.window.restoreState(state, self.version)
        for bar, shown in bars.items():
            bar.setVisible(shown)
        return done

    def apply(self, w, sized=True):
        """Arrange the docks as workspace `w` first puts them, sized for the window as it is now."""
        win, docks = self.window, self.docks
        named = [n for g in w.groups for n in g.docks]
        with self.tabs.arranging():
            for dock in docks.values():
                if dock.isFloating():
                    dock.setFloating(False)
                win.removeDockWidget(dock)
            win.setCorner(Qt.BottomLeftCorner, Qt.BottomDockWidgetArea)  # the bottom runs under the graph only:
            win.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)  # the column keeps the window's height
            above = None
            for group in w.column:
                first = docks[group.docks[0]]
                if above is None:
                    win.addDockWidget(Qt.RightDockWidgetArea, first, Qt.Vertical)
                else:
                    win.splitDockWidget(above, first, Qt.Vertical)
                above = first
            if w.bottom:
                win.addDockWidget(Qt.BottomDockWidgetArea, docks[w.bottom.docks[0]], Qt.Horizontal)
            for group in w.groups:
                for name in group.docks[1:]:
                    win.tabifyDockWidget(docks[group.docks[0]], docks[name])
            for name, dock in docks.items():  # the others behind the last group's tabs, closed
                if name not in named:
                    win.tabifyDockWidget(above, dock)
            for name, dock in docks.items():
                dock.setVisible(name in named)
            if sized:
                self._size(w)
        self._bring_forward(w)

    def _size(self, w):
        win, docks = self.window, self.docks
        column = [docks[g.docks[0]] for g in w.column]
        win.resizeDocks([column[0]], [w.width.of(win.width())], Qt.Horizontal)
        if w.bottom:
            win.resizeDocks([docks[w.bottom.docks[0]]], [w.bottom.height.of(win.height())], Qt.Vertical)
        length = self._column_height(w)
        fixed = [g.height.of(length) if g.height else None for g in w.column]
        rest = max(length - sum(h for h in fixed if h), 1) // max(1, fixed.count(None))
        win.resizeDocks(column, [h or rest for h in fixed], Qt.Vertical)

    def _column_height(self, w):
        """The height the column's groups share, from the window (the docks just placed have not yet been
        given theirs): between the tool bars and the status bar (the bottom panels stop at the column), less the tab bars of
        groups of more than one panel and the separators."""
        win = self.window
        bottom = win.statusBar().geometry().top() if win.statusBar().isVisible() else win.height()
        if self._tab_bar is None:
            bar = QTabBar()
            bar.addTab('Inspector')
            self._tab_bar = bar.sizeHint().height()
        tabbed = sum(1 for g in w.column if len(g.docks) > 1)
        return bottom - win.centralWidget().geometry().top() - tabbed * self._tab_bar - SEPARATOR * len(w.column)

    def _bring_forward(self, w, restored=False):
        """The front tab of each group (unless a restored arrangement says otherwise), the Gradient panel's
        page, and the panels stepping must not cover, counted as the learner's choice."""
        with self.tabs.arranging():
            if not restored:
                for group in w.groups:
                    self.docks[group.first].raise_()
            if w.gradient_tab and not self.docks['gradient_dock'].isHidden():
                self.set_gradient_page(w.gradient_tab)
        self.tabs.chosen = {self.docks[n] for n in w.kept if not self.docks[n].isHidden()}
