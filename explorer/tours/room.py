"""Tours in the window: `install(window)` makes the player, its panel beside the graph and the spotlight,
adds Help › Start tour…, Help › Write a tour…, File › Open tour… and the keys (Alt+Right next, Alt+Left back), and says where
each target is on screen. This is the window's wiring for tours, as explorer.workspaces is for panels; the
panel and the spotlight take the player and a function, never the window."""

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QMenu, QMessageBox, QVBoxLayout, QWidget)

from engine import tours as tour_io
from engine.tour_writing import Shown

from explorer.actions import make_action
from explorer.gradient.gradient_dock import PAGES
from explorer.panels.help import over_the_panels
from explorer.tours.panel import TourPanel
from explorer.tours.player import Stage, TourPlayer
from explorer.tours.spotlight import Spotlight, mapped
from explorer.workspaces import WORKSPACES

PANELS = ('Backprop', 'Legend', 'Scopes', 'Training', 'Sampling', 'Inspector', 'Chain rule', 'Attention',
          'Timeline', 'Parameter over time', 'Embeddings', 'Gradient', *PAGES)
CONTROLS = {  # a tour's name for a control: the window's action (its button) or widget
    'step': 'step_act', 'back': 'back_act', 'step group': 'step_group_act', 'back group': 'back_group_act',
    'play': 'play_act', 'reset': 'reset_act', 'end': 'end_act', 'document': 'document', 'find': 'search_field'}
ROOM = 0.62  # of the window's central height: what a panel a step puts in front gets, at least
KNOWN = tour_io.Known(frozenset(PANELS), frozenset(CONTROLS), frozenset(w.name for w in WORKSPACES))


class TourRoom:
    def __init__(self, window):
        self.window = window
        self.player = TourPlayer(window.session, window.timeline, Stage(
            window.workspaces.switch, lambda: window.workspaces.current, self.raise_panel, KNOWN),
            window.settings, window)
        self.panel = TourPanel(self.player)
        self._beside_graph()
        self.spotlight = Spotlight(window, self.clear_rects)
        p = self.player
        p.started.connect(self._on_started)
        p.step_shown.connect(self._on_step_shown)
        p.changed.connect(self._keys_back)
        p.left.connect(self.spotlight.stop)
        p.left.connect(lambda: self._restore_view(self._view))
        p.restored.connect(self._unlight)
        p.restored.connect(self._give_back_room)
        self._lit_before = ''
        self._view = None
        self._relands = 0
        self.editor = None
        self._heights = []  # (dock, height, workspace) of the panels a step gave room, to give it back
        p.message.connect(lambda text: QMessageBox.warning(window, 'Tour', text))
        self._actions()

    def _beside_graph(self):
        """The panel to the left of the graph, in the central area: it never covers a box."""
        graph = self.window.graph
        column = graph.parentWidget().layout()
        index = column.indexOf(graph)
        column.removeWidget(graph)
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.panel)
        layout.addWidget(graph, 1)
        column.insertWidget(index, row, 1)

    def _actions(self):
        w = self.window
        self.start_act = make_action(w, 'Start &tour…', self.choose, None,
                                     'A guided tour of the live app: it sets the picture, points, asks you to do '
                                     'things and to predict numbers before it shows them')
        self.open_act = make_action(w, 'Open t&our…', self.open_file, None, 'Play a tour from a file (JSON)')
        self.write_act = make_action(w, '&Write a tour…', self.write, None,
                                     'Record a tour from the app: put it in a state, Add step, type the text')
        self.next_act = make_action(w, 'Next tour step', self.player.next, 'Alt+Right',
                                    'The tour\'s next step, once this one is done')
        self.back_act = make_action(w, 'Previous tour step', self.player.back, 'Alt+Left', 'The tour\'s step before')
        for action in (self.next_act, self.back_act):
            action.setShortcutContext(Qt.WindowShortcut)
            w.addAction(action)
        menus = {m.title().replace('&', ''): m for m in w.menus()}
        help_menu, file_menu = menus['Help'], menus['File']
        first = help_menu.actions()[0]
        for action in (self.start_act, self.write_act, self.next_act, self.back_act):  # in the menu: Keyboard shortcuts lists them
            help_menu.insertAction(first, action)
        help_menu.insertSeparator(first)
        save = w.save_act
        file_menu.insertAction(file_menu.actions()[file_menu.actions().index(save) + 1], self.open_act)

    # Where things are

    def raise_panel(self, title):
        w = self.window
        if title in PAGES:
            w.gradient_dock.show()
            w.show_gradient_tab(w.gradient_dock.panels()[title])
            return
        dock = next(d for d in w.docks.values() if d.windowTitle() == title) if title != 'Gradient' else w.gradient_dock
        dock.show()
        dock.raise_()
        QTimer.singleShot(0, w, lambda: self._give_room(dock))  # once the workspace has laid its docks out

    def _give_room(self, dock):
        """The panel a step puts in front gets most of its column's height (Parameter over time's three plots are
        cut at 720 px otherwise); its height before is given back when the tour is left."""
        w = self.window
        if not self.player.active or dock.isFloating() or not dock.isVisible():
            return
        want = int(w.centralWidget().height() * ROOM)
        if dock.height() < want:
            self._heights.append((dock, dock.height(), self.window.workspaces.current))
            w.resizeDocks([dock], [want], Qt.Vertical)

    def _give_back_room(self):
        for dock, height, workspace in reversed(self._heights):
            if self.window.workspaces.current == workspace and dock.isVisible():
                self.window.resizeDocks([dock], [height], Qt.Vertical)
        self._heights = []

    def target_rect(self, target):
        """Where `target` (a Step's) is in the window, or None if it is not on screen."""
        w = self.window
        kind, name = target
        if kind in ('box', 'node'):
            return self._graph_rect(name)
        if kind == 'panel':
            dock = w.gradient_dock if name in PAGES or name == 'Gradient' else \
                next(d for d in w.docks.values() if d.windowTitle() == name)
            return mapped(dock, w)
        thing = getattr(w, CONTROLS[name])
        if hasattr(thing, 'associatedObjects'):
            shown = [o for o in thing.associatedObjects() if isinstance(o, QWidget) and not isinstance(o, QMenu)
                     and o.isVisible() and o.window() is w]
            return mapped(shown[0], w) if shown else None
        return mapped(thing, w)

    def _graph_rect(self, key):
        g, s = self.window.graph, self.window.session
        item = g.items_by_key.get(key)
        rect = item.sceneBoundingRect() if item is not None else g.param_cell_rect(key)
        if rect is None and key.startswith('n') and s.visible is not None:  # inside a closed box: that box
            holder = g.items_by_key.get(s.visible.key_of[int(key[1:])])
            rect = holder.sceneBoundingRect() if holder is not None else None
        if rect is None:
            return None
        return mapped(g.viewport(), self.window, g.mapFromScene(rect).boundingRect())

    def clear_rects(self):
        step = self.player.step
        if step is None or step.target is None:
            return []
        target = self.target_rect(step.target)
        g, s = self.window.graph, self.window.session
        if target is None and step.target[0] in ('box', 'node') and self._relands and not (
                s.layout_pending or g.building()):  # the view moved since (a workspace's panels took their room)
            self._relands -= 1
            g.land(step.target[1], centre=True)
            target = self.target_rect(step.target)
        return [target, mapped(self.panel, self.window)]

    # Handlers

    def _on_started(self):
        g = self.window.graph
        self._view = (g.transform(), g.mapToScene(g.viewport().rect().center()), g.viewport().size())  # put back on leaving
        self._lit_before = g.tint_label()
        self.panel.fit_width(self.window.width())
        self.panel.show()

    def _unlight(self):
        """What the tour's panels lit goes with it (unless the learner had something lit): a nudge still on its way
        (the Nudge panel nudges again when a workspace switch shows it) is dropped."""
        if not self._lit_before:
            job = self.window.gradient_dock.panels()['Nudge'].job
            if job is not None:
                job.abort()
            self.window.set_tint({})

    def _keys_back(self):
        """A number answered: the field gives the keys back to the graph."""
        if self.window.focusWidget() is self.panel.field and self.panel.number.isHidden():
            self.window.graph.setFocus(Qt.OtherFocusReason)

    def _restore_view(self, view, tries=80):
        """The graph's scale and centre as the learner had them, once the view they come back to is drawn."""
        g, s = self.window.graph, self.window.session
        if view is None or self.player.active:
            return
        busy = s.recording is not None or s.layout_pending or g.building() or (
            g.viewport().size() != view[2] and tries > 40)  # the panels given back their room, if within a second
        if busy and tries:
            QTimer.singleShot(25, self.window, lambda: self._restore_view(view, tries - 1))
            return
        g.setTransform(view[0])
        g.centerOn(view[1])

    def _on_step_shown(self, index):
        step = self.player.step
        self._relands = 3  # times the target is brought back into view if the view moves away on its own
        self.window.graph.setFocus(Qt.OtherFocusReason)  # → steps, Return opens (a number to type takes them after)
        if step.target and step.target[0] in ('box', 'node'):
            self.window.graph.land_when_drawn(step.target[1], centre=True)
        elif 'open' in self.player.tour.steps[index].get('state', {}):  # back to the whole picture
            g, s = self.window.graph, self.window.session
            g.first_view_when_drawn() if s.layout_pending or g.building() else g.first_view()
        self.spotlight.start()

    def choose(self):
        """Help › Start tour…: the shipped tours with the learner's record on each; Return starts one."""
        dialog = QDialog(self.window)
        dialog.setWindowTitle('Start a tour')
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel('Each tour sets the picture, points at what it talks about and asks you to do and '
                                'predict things. Leaving puts the app back as you had it.'))
        tours = QListWidget()
        for path in tour_io.shipped():
            try:
                tour = tour_io.load(path)
            except tour_io.TourError as e:
                item = QListWidgetItem(str(e))
                item.setFlags(Qt.NoItemFlags)
            else:
                close, answered = self.player.record(tour)
                mine = f'\n    your predictions: {close} of {answered} close' if answered else ''
                item = QListWidgetItem(f'{tour.title}\n    {tour.goal}{mine}')
                item.setData(Qt.UserRole, tour)
            tours.addItem(item)
        tours.setWordWrap(True)
        tours.setCurrentRow(0)
        layout.addWidget(tours)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText('Start')
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        tours.itemActivated.connect(lambda _: dialog.accept())
        layout.addWidget(buttons)
        dialog.resize(620, 360)
        self.dialog = dialog
        if dialog.exec() == QDialog.Accepted and tours.currentItem() is not None:
            tour = tours.currentItem().data(Qt.UserRole)
            if tour is not None:
                self.player.start(tour)

    def welcome_html(self):
        """What the first start's help says first: the way into the tours (dismissed with the help; never blocking)."""
        first = tour_io.shipped()[0]
        return (f'<h3>Welcome</h3><p>New here? <a href="tour:{first.name}"><b>Take the first tour, '
                f'{tour_io.load(first).title}</b></a>: a few minutes, learner-paced; it sets the picture, points at what '
                'it talks about and asks you to predict numbers before it shows them, and Leave puts the app back as you '
                'had it. Or <a href="tours:">choose a tour</a>; they stay in Help › Start tour….</p><hr>')

    def follow_links(self, browser):
        """The welcome's links start a tour (the help it stands in closes: the tour points at the panels)."""
        browser.setOpenLinks(False)

        def follow(url):
            browser.window().close()
            if url.scheme() == 'tour':
                self.player.start(tour_io.load(tour_io.TOURS / url.path()))
            else:
                self.choose()
        browser.anchorClicked.connect(follow)

    def write(self):
        """Help › Write a tour…: the editor, beside the window (made the first time)."""
        if self.editor is None:
            from explorer.tours.editor import TourEditor  # made when first asked for
            self.editor = TourEditor(self.player, self.shown_now, PANELS, self.window)
            self.editor.show()
            over_the_panels(self.editor, self.window)  # the graph stays in sight: what a step captures
            right = self.window.frameGeometry().right() - self.editor.frameGeometry().width() - 4
            self.editor.move(min(self.editor.x(), right), self.editor.y())  # whole, if wider than the column
            self.editor.title.setFocus()
        self.editor.show()
        self.editor.raise_()
        self.editor.activateWindow()
        return self.editor

    def shown_now(self):
        """(trace, engine.tour_writing.Shown) of what the window shows, or (None, None) while it records."""
        s = self.window.session
        if s.recording is not None or s.current is None:
            return None, None
        return s.trace, Shown(self.window.workspaces.current, s.current.hierarchy.overview(), frozenset(s.opened),
                              s.selected, s.backprop.position, self.player.training_step())

    def open_file(self, path=None):
        """File › Open tour…: a tour from a file; a bad one gets its sentence and changes nothing."""
        if not path:
            path, _ = QFileDialog.getOpenFileName(self.window, 'Open tour', str(tour_io.TOURS), 'Tours (*.json)')
        if path:
            return self.player.open_file(Path(path))
        return False
