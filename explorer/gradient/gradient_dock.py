"""The Gradient dock and its menu: Code, Nudge, Gradcheck and Provenance as tabs of one panel (seven tabs
side by side would not be readable), and a Gradient menu that raises each and runs the whole check.

The four panels are made the first time the dock shows or one of them is asked for, and are then brought
up to date with the session: behind the Inspector's tab at start, their modules and widgets, and the
Code panel's table of the recording, held the window's first paint back ~0.1 s (issue 21 item 10)."""

from PySide6.QtWidgets import QDockWidget, QMenu, QTabWidget, QWidget

from explorer.actions import make_action
from explorer.dock_column import scrollable

PAGES = ('Code', 'Nudge', 'Gradcheck', 'Provenance')


class GradientDock(QDockWidget):
    def __init__(self, session, parent=None, wire=None):
        """wire(dock) is called once the panels are made (the window connects them there)."""
        super().__init__('Gradient', parent)
        self.setObjectName('gradient_dock')
        self.session, self._wire, self._panels = session, wire, None
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setWidget(self.tabs)
        for title in PAGES:
            self.tabs.addTab(scrollable(QWidget()), title)  # no minimum size: the window's stays small
        self.visibilityChanged.connect(lambda shown: shown and self.panels())

    def panels(self):
        """{title: panel}, made the first time they are needed and told what the session holds."""
        if self._panels is None:
            from explorer.gradient.code_panel import CodePanel
            from explorer.gradient.gradcheck_panel import GradcheckPanel
            from explorer.gradient.nudge_panel import NudgePanel
            from explorer.gradient.provenance_panel import ProvenancePanel
            s = self.session
            self._panels = dict(zip(PAGES, (CodePanel(s), NudgePanel(s), GradcheckPanel(s), ProvenancePanel(s))))
            for i, panel in enumerate(self._panels.values()):
                self.tabs.widget(i).setWidget(panel)
            if s.trace is not None:  # what they would have heard: the recording, then the selection
                for panel in self._panels.values():
                    panel._on_recorded()
                    if hasattr(panel, '_on_selection_changed'):
                        panel._on_selection_changed()
            if self._wire is not None:
                self._wire(self)
        return self._panels

    code_panel = property(lambda self: self.panels()['Code'])
    nudge_panel = property(lambda self: self.panels()['Nudge'])
    gradcheck_panel = property(lambda self: self.panels()['Gradcheck'])
    provenance_panel = property(lambda self: self.panels()['Provenance'])

    def show_tab(self, widget):
        """This dock in front, on the tab of that panel."""
        self.show()
        self.raise_()
        for i in range(self.tabs.count()):
            if self.tabs.widget(i).widget() is widget:
                self.tabs.setCurrentIndex(i)

    def set_page(self, title):
        """The page of that title current, without bringing the dock forward (a workspace's choice)."""
        self.tabs.setCurrentIndex(PAGES.index(title))

    def check_all(self):
        self.show_tab(self.gradcheck_panel)
        self.gradcheck_panel.start()

    def create_menu(self, parent, clear_tint):
        """The Gradient menu: a key for each tab, the cone, the whole check, and clear_tint to light nothing."""
        menu = QMenu('&Gradient', parent)
        tips = {'Code': ('Ctrl+Shift+C', 'engine/model.py as it ran: the line that made the selection, and the '
                         'line being applied while stepping'),
                'Nudge': ('Ctrl+Shift+N', 'Nudge the selected scalar by ±h and compare (L(x+h) − L(x−h))/2h with '
                          'its grad'),
                'Gradcheck': ('Ctrl+Shift+G', 'Central differences for every parameter against backprop'),
                'Provenance': ('Ctrl+Shift+V', "Where the selection's gradient comes from: its terms by use and "
                               'by prediction')}
        for title in PAGES:
            key, tip = tips[title]
            menu.addAction(make_action(parent, f'Show {title}', lambda _=False, t=title: self.show_tab(self.panels()[t]),
                                       key, tip))
        menu.addSeparator()
        def cone():  # nothing to light: say why where the learner looks (the panel may be behind a tab)
            why = self.provenance_panel.light_cone()
            if why:
                parent.statusBar().showMessage(why, 8000)
        menu.addAction(make_action(parent, 'Light the &cone', lambda _=False: cone(), 'Ctrl+Shift+O',
                                   'Light everything the selected scalar depends on and everything that depends '
                                   'on it, down to the loss'))
        menu.addAction(make_action(parent, 'Check &all gradients', self.check_all, 'Ctrl+Shift+K',
                                   'Run the central-difference check of every parameter in the background'))
        menu.addAction(make_action(parent, 'C&lear the lit nodes', clear_tint, None, 'Light nothing in the graph'))
        return menu
