"""The Gradient dock and its menu: Code, Nudge, Gradcheck and Provenance as tabs of one panel (seven tabs
side by side would not be readable), and a Gradient menu that raises each and runs the whole check."""

from PySide6.QtWidgets import QDockWidget, QMenu, QTabWidget

from explorer.actions import make_action
from explorer.dock_column import scrollable
from explorer.gradient.code_panel import CodePanel
from explorer.gradient.gradcheck_panel import GradcheckPanel
from explorer.gradient.nudge_panel import NudgePanel
from explorer.gradient.provenance_panel import ProvenancePanel


class GradientDock(QDockWidget):
    def __init__(self, session, parent=None):
        super().__init__('Gradient', parent)
        self.setObjectName('gradient_dock')
        self.code_panel = CodePanel(session)
        self.nudge_panel = NudgePanel(session)
        self.gradcheck_panel = GradcheckPanel(session)
        self.provenance_panel = ProvenancePanel(session)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setWidget(self.tabs)
        for title, widget in self._pages():
            self.tabs.addTab(scrollable(widget), title)  # no minimum size: the window's stays small

    def _pages(self):
        return (('Code', self.code_panel), ('Nudge', self.nudge_panel), ('Gradcheck', self.gradcheck_panel),
                ('Provenance', self.provenance_panel))

    def show_tab(self, widget):
        """This dock in front, on the tab of that panel."""
        self.show()
        self.raise_()
        for i in range(self.tabs.count()):
            if self.tabs.widget(i).widget() is widget:
                self.tabs.setCurrentIndex(i)

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
        for title, widget in self._pages():
            key, tip = tips[title]
            menu.addAction(make_action(parent, f'Show {title}', lambda _=False, w=widget: self.show_tab(w), key, tip))
        menu.addSeparator()
        menu.addAction(make_action(parent, 'Light the &cone', self.provenance_panel.light_cone, 'Ctrl+Shift+O',
                                   'Light everything the selected scalar depends on and everything that depends '
                                   'on it, down to the loss'))
        menu.addAction(make_action(parent, 'Check &all gradients', self.check_all, 'Ctrl+Shift+K',
                                   'Run the central-difference check of every parameter in the background'))
        menu.addAction(make_action(parent, 'C&lear the lit nodes', clear_tint, None, 'Light nothing in the graph'))
        return menu
