"""Where the window and its panels go: the first window's size on a screen, and the column of tabbed panels
on the right (DockColumn): its docks, the room a raised tab is given, hiding them all. How they are split and
sized is each workspace's (explorer.workspaces)."""

from contextlib import contextmanager

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QDockWidget, QFrame, QScrollArea, QTabBar

from explorer.actions import make_action

SCREEN_MARGIN = 8   # between a first window and the edges of the screen
TITLE_BAR = 32      # room left for the window manager's title bar, which is not part of geometry()


def first_geometry(screen, preferred=QSize(1400, 900)):
    """The first window: the preferred size, or less so that it and its title bar fit on the screen, centred."""
    size = preferred.boundedTo(QSize(screen.width() - 2 * SCREEN_MARGIN, screen.height() - TITLE_BAR - 2 * SCREEN_MARGIN))
    rect = QRect(QPoint(0, 0), size)
    rect.moveCenter(screen.center() + QPoint(0, TITLE_BAR // 2))
    return rect


def first_size(screen, share=0.85):
    """The first window's size: 1400×900, or on a bigger screen that share of it (2,176×1,224 on 2,560×1,440),
    so a big screen shows more of the graph; first_geometry fits it to the screen."""
    return QSize(max(1400, round(screen.width() * share)), max(900, round(screen.height() * share)))


def attention_top(column):
    """Height of the upper tabs (Backprop, …) while Attention is raised below: its buttons and slider, and
    the rest of a short column (1280×720) for the heatmaps."""
    return max(130, min(int(column * 0.24), 260))


def scrollable(panel):
    """A panel in a scroll area, so that its dock can be made smaller than the panel's minimum."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    return area


def raise_if_hidden(dock):
    """Bring a panel to the front of its tabs when the learner needs it (unless they closed it)."""
    if dock.isVisible() and dock.widget().visibleRegion().isEmpty():
        dock.raise_()


class LearnerTabs:
    """Which panels the learner brought to the front of their tabs (a tab clicked, a panel shown from the
    menu) as against those the window raised for them, so that the window never takes the front from a
    tab the learner chose (stepping backprop raises Chain rule, but not over Code or Attention picked)."""

    def __init__(self, window, docks):
        self.window, self.chosen, self._raising = window, set(), False
        self.docks = list(docks)
        for dock in self.docks:
            dock.visibilityChanged.connect(lambda shown, d=dock: self._on_shown(d, shown))
        self.watch_tab_bars()

    def _on_shown(self, dock, shown):
        if not shown:
            return  # hidden (also as the window goes: nothing to watch or choose)
        self.watch_tab_bars()  # a tab shown: Qt may have made a new tab bar for the panels tabbed together
        if not self._raising and self.window.isActiveWindow():
            self._choose(dock)

    def _choose(self, dock):
        self.chosen -= set(self.window.tabifiedDockWidgets(dock))
        self.chosen.add(dock)

    def watch_tab_bars(self):
        """A click on a tab counts as the learner's choice even when that tab was in front already (it shows
        nothing new, so only the click says so): each dock tab bar of the window is watched once."""
        for bar in self.window.findChildren(QTabBar):
            if bar.parent() is self.window and not bar.property('learner_watched'):
                bar.setProperty('learner_watched', True)
                bar.tabBarClicked.connect(lambda index, b=bar: self._on_tab_clicked(b, index))

    def _on_tab_clicked(self, bar, index):
        title = bar.tabText(index)
        dock = next((d for d in self.docks if d.windowTitle() == title), None)
        if dock is not None:
            self._choose(dock)

    def raise_unless_chosen(self, dock):
        """Bring `dock` to the front of its tabs, unless the one in front there is the learner's choice."""
        if any(other in self.chosen and in_front(other) for other in self.window.tabifiedDockWidgets(dock)):
            return
        self.raise_(dock)

    def raise_(self, dock):
        """The window brings `dock` forward (not the learner's choice); only if it is hidden behind a tab."""
        with self.arranging():
            raise_if_hidden(dock)

    @contextmanager
    def arranging(self):
        """Docks shown and raised meanwhile are the window's doing (a workspace), not tabs the learner chose."""
        was, self._raising = self._raising, True
        try:
            yield
        finally:
            self._raising = was


def in_front(dock):
    """Shown and in front of its tabs."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def full_tab_names(window):
    """The panels' tabs show whole names ('Inspector', not 'I…'): a row of tabs wider than the column
    scrolls with arrows instead. Qt makes these tab bars as panels are tabbed, so this runs again then."""
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window:  # the main window's own dock tab bars, not a panel's inner tabs
            bar.setElideMode(Qt.ElideNone)
            bar.setUsesScrollButtons(True)


def panel_key(number):
    """The key of the number-th panel in View › Panels: Alt+1 … Alt+9, Alt+0 for the tenth, then Alt+Shift+1 …
    (None past the nineteenth)."""
    if number <= 10:
        return f'Alt+{number % 10}'
    return f'Alt+Shift+{number - 10}' if number <= 19 else None


class DockColumn:
    """The panels of a main window on the right; each dock is listed in a menu (View › Panels) and kept in
    `docks` by its object name."""

    def __init__(self, window, menu):
        self.window, self.menu = window, menu
        self.docks = {}
        self._hidden = []

    def add(self, title, widget, name):
        """A dock for the widget (in a scroll area unless it scrolls itself), on the right, in the menu."""
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget if isinstance(widget, QAbstractScrollArea) else scrollable(widget))
        return self.adopt(dock)

    def adopt(self, dock):
        """A dock made elsewhere, put in the column and the menu under its object name."""
        self.window.addDockWidget(Qt.RightDockWidgetArea, dock)
        self.menu.addAction(self._show_action(dock, len(self.docks) + 1))
        self.docks[dock.objectName()] = dock
        return dock

    def _show_action(self, dock, number):
        """View › Panels › its title (Alt+1 … Alt+9, Alt+0, then Alt+Shift+1 …: every panel has a key): shows the
        panel in front of its tabs, or hides it when it is in front already. (A dock's own toggle hid a panel
        that was only behind a tab.)"""
        title = dock.windowTitle()
        action = make_action(self.window, title, lambda: show_or_hide(), panel_key(number),
                             f'Show the {title} panel in front of its tabs (hide it if it is in front)', checkable=True)
        action.setObjectName(dock.objectName() + '_action')

        def show_or_hide():
            if not dock.isHidden() and in_front(dock):
                dock.hide()
            else:
                dock.show()
                dock.raise_()
            action.setChecked(not dock.isHidden())
        dock.visibilityChanged.connect(lambda _shown: action.setChecked(not dock.isHidden()))
        action.setChecked(True)
        return action

    def give_room_when_shown(self, dock, give):
        """Call give() once the tabs have settled, each time the dock is raised while docked."""
        dock.visibilityChanged.connect(lambda shown: shown and not dock.isFloating() and QTimer.singleShot(0, give))

    def give_attention_room(self, upper, attention):
        """Attention raised in a short window: the upper tabs give it most of the column's height."""
        upper, attention = self.docks[upper], self.docks[attention]
        if not attention.isVisible() or attention.isFloating():
            return
        column = upper.height() + attention.height()  # a hidden tab's height is stale: not the Inspector's
        top = attention_top(column)
        if upper.height() > top and upper.isVisible():
            self.window.resizeDocks([upper, attention], [top, max(column - top, 1)], Qt.Vertical)

    def give_whole_height(self, name, height, lowers):
        """A panel raised in the upper tabs grows to `height` (its widget's), if the column has the room (the
        panel in front below, the first of `lowers` shown there, keeps 150 px: its tab and a few lines)."""
        upper = self.docks[name]
        if not upper.isVisible() or upper.isFloating() or not in_front(upper):
            return  # (shown a moment while a workspace was arranged, and behind a tab since)
        area = self.window.dockWidgetArea(upper)
        lower = next((d for d in (self.docks.get(n) for n in lowers)
                      if d is not None and in_front(d) and not d.isFloating()
                      and self.window.dockWidgetArea(d) == area), None)
        if lower is None:
            return
        column = upper.height() + lower.height()
        need = height + upper.height() - upper.widget().viewport().height() + 4
        top = min(need, column - 150)
        if upper.height() < top:
            self.window.resizeDocks([upper, lower], [top, max(column - top, 1)], Qt.Vertical)

    def any_shown(self):
        return any(dock.isVisible() for dock in self.docks.values())

    def toggle(self):
        """Hide every shown panel, or bring back those hidden so (all, if none were); True if now hidden."""
        shown = [dock for dock in self.docks.values() if dock.isVisible()]
        if shown:
            self._hidden = shown
            for dock in shown:
                dock.hide()
            return True
        for dock in self._hidden or self.docks.values():
            dock.show()
        return False


def dock_of(widget):
    """The dock a panel sits in (its nearest QDockWidget ancestor), or None."""
    w = widget.parentWidget()
    while w is not None and not isinstance(w, QDockWidget):
        w = w.parentWidget()
    return w


def pop_out(dock, button, largest):
    """A panel's Pop out button pressed: toggle_floating, and the button says Dock while the dock floats and
    Pop out while docked, however it got there (a workspace docks it again, or a double-click on its title)."""
    if not button.property('follows_dock'):
        button.setProperty('follows_dock', True)
        dock.topLevelChanged.connect(lambda floating: button.setText('Dock' if floating else 'Pop out'))
    toggle_floating(dock, largest)
    button.setText('Dock' if dock.isFloating() else 'Pop out')


def toggle_floating(dock, largest):
    """Float `dock` as a window of its own, at most `largest` (QSize), over the middle of the main window and
    inside the screen; or dock it back. Whether it floats now."""
    floating = not dock.isFloating()
    dock.setFloating(floating)
    if floating:
        screen = dock.screen().availableGeometry()
        size = QSize(min(largest.width(), screen.width() - 40), min(largest.height(), screen.height() - 60))
        dock.resize(size)
        home = dock.parentWidget().geometry() if dock.parentWidget() else screen
        x = max(screen.left(), min(home.center().x() - size.width() // 2, screen.right() - size.width()))
        y = max(screen.top(), min(home.center().y() - size.height() // 2, screen.bottom() - size.height()))
        dock.move(x, y)
    return floating
