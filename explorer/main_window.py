"""The main window: the graph with its breadcrumb in the middle, the document and find fields and the name of
the checkpoint in use above it, tool bars, menus, the column of panels on the right and the status bar. It
builds the panels and connects them to each other and to the session; where they go is explorer.dock_column's."""

from PySide6.QtCore import QByteArray, QEvent, QMargins, QSettings, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QToolBar,
                               QVBoxLayout, QWidget)

from engine.doc_notes import recording_note
from engine.graph.keys import key_scope, split_key
from engine.numbers import shown

from explorer.actions import make_action
from explorer.attention.panel import AttentionPanel
from explorer.breadcrumb import Breadcrumb
from explorer.checkpoint_files import CheckpointFiles
from explorer.dock_column import DockColumn, LearnerTabs, first_geometry, first_size, full_tab_names, in_front
from explorer.document_bar import DocumentBar
from explorer.gradient.gradient_dock import GradientDock
from explorer.graph.view import GraphView
from explorer.history.adam_plot import AdamPlot
from explorer.history.compare_runs import RunCurves
from explorer.history.embedding_plot import EmbeddingPlot
from explorer.history.timeline_panel import TimelinePanel
from explorer.ladder_room import LadderRoom
from explorer.host import Host
from explorer.panels.backprop import BackpropPanel
from explorer.panels.chain_rule import ChainRulePanel
from explorer.panels.help import HOW_TO_READ, HelpDialogs, over_the_panels, panels_html, shortcuts_html
from explorer.panels.inspector import Inspector
from explorer.panels.legend import GradLegend
from explorer.panels.sampling import SamplingPanel
from explorer.panels.scope_tree import ScopeTree
from explorer.panels.training import TrainingPanel
from explorer.search_field import SearchField
from explorer.status_bar import StatusBar
from explorer.state.session_model import LARGE_VIEW
from explorer.state.timeline import Timeline
from explorer import keys, theme
from explorer.theme import DARK, LIGHT, palette
from explorer.tours.room import TourRoom
from explorer.workspaces import Workspaces

STATE_VERSION = 2   # of saveState: 2 is one narrow column of tabbed panels on the right


class MainWindow(QMainWindow):
    def __init__(self, session, settings=None):
        super().__init__()
        self.session = session
        self.settings = settings or QSettings()
        self.files = CheckpointFiles(self)
        self.setWindowTitle('microgpt explorer[*]')
        self.graph = GraphView(session, self)
        self.setCentralWidget(self._central())
        self.create_actions()
        self.create_panels()
        self.create_menus()
        self.create_tool_bars()
        self.create_docks()
        self.create_status_bar()
        self.connect_panels()
        session.checkpoint_changed.connect(self._on_checkpoint_changed)
        session.recording_started.connect(lambda doc: self.statusBar().showMessage(
            recording_note(session.model, doc, session.part)))
        session.recording_progress.connect(self.statusBar().showMessage)
        session.recording_cancelled.connect(lambda: self.statusBar().showMessage(
            'Recording stopped; the graph is as it was.', 5000))
        session.layout_started.connect(lambda: self.statusBar().showMessage('Laying out… (Esc cancels)'))
        session.layout_cancelled.connect(lambda: self.statusBar().showMessage('Layout cancelled; the view is as it was.', 5000))
        session.view_changed.connect(self._on_view_changed)
        session.error.connect(lambda message: QMessageBox.warning(self, 'microgpt explorer', message))
        self.read_settings()
        self._help, self.tours = HelpDialogs(self), TourRoom(self)  # tours: a room beside the graph, Help › Start tour…
        self.ladder = LadderRoom(self)  # File › Open ladder rung ›: the shipped rungs
        QTimer.singleShot(0, self.maybe_show_intro)

    def _central(self):
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.breadcrumb = Breadcrumb(self.session)
        layout.addWidget(self.breadcrumb)
        layout.addWidget(self.graph, 1)
        return box

    # Qt's application.py shape: actions, panels, menus, tool bars, docks, status bar; then the wiring.

    def _action(self, text, slot, shortcut=None, tip='', checkable=False):
        return make_action(self, text, slot, shortcut, tip, checkable)

    def create_actions(self):
        s = self.session
        self.open_act = self._action('&Open checkpoint…', lambda: self.files.open(), QKeySequence.Open,
                                     'Load the weights of a checkpoint (JSON)')
        self.save_act = self._action('&Save checkpoint as…', self.files.save, QKeySequence.Save,
                                     'Write the current weights to a checkpoint file')
        self.export_svg_act = self._action('Export view as &SVG…', lambda: self.export('svg'), None,
                                           'Save the graph as it is shown, as SVG')
        self.export_png_act = self._action('Export view as &PNG…', lambda: self.export('png'), None,
                                           'Save the graph as it is shown, as PNG')
        self.export_dot_act = self._action('Export view as &DOT…', lambda: self.export('dot'), None,
                                           'Save the Graphviz DOT text of the current view')
        self.quit_act = self._action('&Quit', self.close, QKeySequence.Quit, 'Quit the explorer')
        self.fit_act = self._action('&Fit', self.graph.fit, 'F', 'The whole graph in the window, as far as its text stays readable')
        self.zoom_in_act = self._action('Zoom &in', lambda: self.graph.zoom(1.25), QKeySequence.ZoomIn, 'Zoom in')
        self.zoom_out_act = self._action('Zoom &out', lambda: self.graph.zoom(0.8), QKeySequence.ZoomOut, 'Zoom out')
        self.zoom_sel_act = self._action('Zoom to &selection', self.graph.zoom_to_selection, 'Z',
                                         'Zoom to the selected box')
        self.open_sel_act = self._action('Open &group', lambda: self._open_selected(False), 'Return',
                                         'Open the selected group where it stands')
        self.open_scalars_act = self._action('Open to s&calars', lambda: self._open_selected(True), 'Shift+Return',
                                             'Open the selected group and everything inside it')
        self.close_sel_act = self._action('&Close group', self._close_selected, 'Backspace',
                                          'Close the group the selection is in')
        self.collapse_act = self._action('Collapse &all', lambda: (self.graph.first_view_when_drawn(),
                                                                   s.collapse_all()),
                                         'Ctrl+Shift+A', 'Back to the model overview, as first shown')
        self.constants_act = self._action('Show &constants', lambda on: s.set_show_constants(on), 'Ctrl+K',
                                          'Show literal constants (1e-5, 1/sqrt(head_dim), the 0 that starts a sum)',
                                          checkable=True)
        self.minimap_act = self._action('&Minimap', self.graph.set_minimap, 'M',
                                        'Show the whole graph in small in a corner when it does not fit', checkable=True)
        self.minimap_act.setChecked(True)
        self.weight_edges_act = self._action('&Weight edges', self.graph.set_weight_edges, 'W',
                                             'Draw the edges out of the weight grids (off: badges name what each box '
                                             'reads; hover one to see every use)', checkable=True)
        self.dark_act = self._action('&Dark theme', self.set_dark, 'Ctrl+Shift+D', 'Switch light and dark colours',
                                     checkable=True)
        self.find_act = self._action('&Find…', lambda: self.search_field.focus(), QKeySequence.Find,
                                     'Find a scalar by its name in the code (q[3], pos 2 · total), a parameter, '
                                     'scope, op or value')
        self.find_next_act = self._action('Find &next', self.find_next, QKeySequence.FindNext, 'Next match')
        self.about_act = self._action('&About', self.about, None, 'About microgpt explorer')
        self.how_to_read_act = self._action('How to &read this picture', self.show_how_to_read, 'F1',
                                            'What frames, edges, the loss and the weight grids stand for')
        self.legend_act = self._action('&Legend', self.show_legend, 'Shift+F1',
                                       'What every colour, fill and mark on the graph means (the Legend panel)')
        self.shortcuts_act = self._action('&Keyboard shortcuts', self.show_shortcuts, 'Ctrl+/',
                                          'Every action with its key')
        self.panels_help_act = self._action('&Panels', lambda: self._help.show('Panels', panels_html(
            self.docks_menu.actions(), self.workspaces_menu.actions())), None,
            'Each panel and workspace, the key that brings it forward, and what it teaches')
        self.cancel_layout_act = self._action('Cancel &layout', lambda: s.cancel() or self._help.close_one(), 'Esc',
                                              'Stop a layout or recording that takes long (else close a help window); '
                                              'keep the view as it is')
        self.panels_act = self._action('Hide &panels', self.toggle_panels, 'Ctrl+Shift+P',
                                       'Hide every panel so the graph has the whole window, or bring them back')
        self.create_backprop_actions()
        self.graph.context_actions = self.view_actions()

    def create_backprop_actions(self):
        bp = self.session.backprop
        self.reset_act = self._action('Reset', bp.reset, 'Home', 'Back to the start: every grad 0, the loss not yet seeded')
        self.back_group_act = self._action('⇤ Group', bp.back_group, 'Shift+Left',
                                           'Step back to where the previous unit of the model (a softmax, a linear, a head, …) was done')
        self.back_act = self._action('← Back', bp.back, 'Left', 'Undo the last backprop step exactly')
        self.play_act = self._action('Play', self._toggle_play, 'Space', 'Play backprop at the chosen speed; Space pauses',
                                     checkable=True)
        self.step_act = self._action('Step →', bp.step, 'Right', "Apply the next node's chain rule to its children")
        self.step_group_act = self._action('Group ⇥', bp.step_group, 'Shift+Right',
                                           'Step until the next unit of the model (a softmax, a linear, a head, …) has its backward done; the Chain rule panel sums it up')
        self.end_act = self._action('End', bp.run_to_end, 'End', 'Run backprop to the end, as loss.backward() does')
        self.breakpoint_act = self._action('Toggle &breakpoint', self.toggle_breakpoint, 'F9',
                                           'Mark or unmark the selected box: Play stops when the gradient reaches it')
        self.clear_breakpoints_act = self._action('Clear breakpoints', bp.clear_breakpoints, 'Ctrl+Shift+F9',
                                                  'Remove every breakpoint')
        bp.playing_changed.connect(self._on_playing_changed)
        bp.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        bp.moved.connect(self._drop_stale_group_message)

    def _drop_stale_group_message(self, _changed=None):
        """A 'Done: <group>' message belongs to the group step that landed; a node step after it clears it."""
        if not self.session.backprop.landed and self.statusBar().currentMessage().startswith('Done: '):
            self.statusBar().clearMessage()

    def backprop_actions(self):
        return [self.reset_act, self.back_group_act, self.back_act, self.play_act, self.step_act,
                self.step_group_act, self.end_act]

    def view_actions(self):
        return [self.open_sel_act, self.open_scalars_act, self.close_sel_act, self.collapse_act, self.fit_act,
                self.zoom_sel_act]

    def create_menus(self):
        bar = self.menuBar()
        file_menu = bar.addMenu('&File')
        file_menu.addAction(self.open_act)
        self.recent_menu = file_menu.addMenu('Open &recent')
        self.files.fill_recent()
        for a in (self.save_act, None, self.export_svg_act, self.export_png_act, self.export_dot_act, None,
                  self.quit_act):
            file_menu.addSeparator() if a is None else file_menu.addAction(a)
        view_menu = bar.addMenu('&View')
        for a in (*self.view_actions(), self.cancel_layout_act, self.zoom_in_act, self.zoom_out_act, self.minimap_act,
                  self.weight_edges_act, None, self.constants_act,
                  self.dark_act, None, self.find_act, self.find_next_act):
            view_menu.addSeparator() if a is None else view_menu.addAction(a)
        self.docks_menu = view_menu.addMenu('&Panels')
        self.workspaces_menu = view_menu.addMenu('Wor&kspaces')  # filled once the docks exist
        self.toolbars_menu = view_menu.addMenu('&Toolbars')  # filled once the toolbars exist
        backprop_menu = bar.addMenu('&Backprop')
        for a in (*self.backprop_actions(), None, self.breakpoint_act, self.clear_breakpoints_act):
            backprop_menu.addSeparator() if a is None else backprop_menu.addAction(a)
        bar.addMenu(self.gradient_dock.create_menu(self, lambda: self.set_tint({})))
        help_menu = bar.addMenu('&Help')
        for a in (self.how_to_read_act, self.legend_act, self.panels_help_act, self.shortcuts_act, None, self.about_act):
            help_menu.addSeparator() if a is None else help_menu.addAction(a)

    def create_tool_bars(self):
        doc_bar = self.addToolBar('Document')
        doc_bar.setObjectName('document_toolbar')
        self.document = DocumentBar(self.session)
        self.document.noted.connect(lambda note: setattr(self, '_note', note))  # said when the view is in
        doc_bar.addWidget(self.document)
        self.model_label = QLabel()
        self.model_label.setContentsMargins(10, 0, 10, 0)
        self.model_label.setToolTip('The checkpoint whose weights are shown (File › Open checkpoint…)')
        doc_bar.addWidget(self.model_label)
        self.search_field = SearchField(self.session)  # beside the document field: both typed in, both overflow last
        self.search_field.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.search_field.found.connect(lambda key: self.land(key))  # (built before land's dock exists)
        doc_bar.addWidget(self.search_field)
        doc_bar.addWidget(self.search_field.count)  # "3 of 12"
        view_bar = self.addToolBar('View')
        view_bar.setObjectName('view_toolbar')
        for a in (self.fit_act, self.collapse_act, self.open_sel_act, self.close_sel_act, self.constants_act):
            view_bar.addAction(a)
        self.backprop_bar = backprop_bar = self.addToolBar('Backprop')
        backprop_bar.setObjectName('backprop_toolbar')
        for a in self.backprop_actions():
            backprop_bar.addAction(a)
        for bar in (doc_bar, view_bar, backprop_bar):
            self.toolbars_menu.addAction(bar.toggleViewAction())

    def create_panels(self):
        s = self.session
        host = Host(last_dir=self.files.last_dir, show_message=lambda text: self.statusBar().showMessage(text, 8000),
                    maybe_save=self.files.maybe_save)
        self.scope_tree = ScopeTree(s)
        self.inspector = Inspector(s)
        self.backprop_panel = BackpropPanel(s, self.backprop_actions(),
                                            (self.breakpoint_act, self.clear_breakpoints_act))
        self.legend = GradLegend(self.graph.colors)  # its own tab: whole at 1280×720 (under Backprop it scrolled)
        self.chain_rule = ChainRulePanel(s)
        self.attention = AttentionPanel(s, host, self.graph.colors)
        self.timeline = Timeline(s, self, self.settings)  # the run's history, shared by the panels after it
        self.runs = RunCurves(s, self.timeline, self)  # every run seen here, for Training's Compare runs
        self.training = TrainingPanel(s, host, self.settings.value('dataset', None), self.runs)
        self.sampling = SamplingPanel(s)
        self.timeline_panel = TimelinePanel(self.timeline, s)
        self.adam_plot = AdamPlot(self.timeline, s)
        self.embedding_plot = EmbeddingPlot(self.timeline, s)
        self.gradient_dock = GradientDock(s, self, self._connect_gradient)  # Code, Nudge, Gradcheck, Provenance
        keys.bind(self)  # where each key acts, by one rule

    def create_docks(self):
        """The panels on the right, arranged by the workspace (All panels at first: one column, what drives the
        picture above what explains it). The graph gets the rest."""
        self.column = column = DockColumn(self, self.docks_menu)
        self.docks = column.docks
        for title, widget, name in (('Backprop', self.backprop_panel, 'backprop_dock'),
                                    ('Legend', self.legend, 'legend_dock'),
                                    ('Scopes', self.scope_tree, 'scopes_dock'),
                                    ('Training', self.training, 'training_dock'),
                                    ('Sampling', self.sampling, 'sampling_dock'),
                                    ('Inspector', self.inspector, 'inspector_dock'),
                                    ('Chain rule', self.chain_rule, 'chain_rule_dock'),
                                    ('Attention', self.attention, 'attention_dock'),
                                    ('Timeline', self.timeline_panel, 'timeline_dock'),
                                    ('Parameter over time', self.adam_plot, 'adam_plot_dock'),
                                    ('Embeddings', self.embedding_plot, 'embedding_dock')):
            column.add(title, widget, name)
        d = self.docks
        self.inspector_dock, self.chain_rule_dock, self.attention_dock = (
            d['inspector_dock'], d['chain_rule_dock'], d['attention_dock'])
        self.docks_menu.addSeparator()
        self.docks_menu.addAction(self.panels_act)
        column.adopt(self.gradient_dock)
        self.tabs = LearnerTabs(self, self.docks.values())
        self.workspaces = Workspaces(self, self.docks, self.settings, self.tabs, self.gradient_dock.set_page,
                                     STATE_VERSION)  # split, tabbed and sized when the window first shows
        self.workspaces.create_menu(self.workspaces_menu)
        self.workspaces.place()
        column.give_room_when_shown(self.attention_dock,
                                    lambda: column.give_attention_room('backprop_dock', 'attention_dock'))
        lowers = ('inspector_dock', 'chain_rule_dock', 'attention_dock', 'adam_plot_dock', 'embedding_dock',
                  'gradient_dock')  # an upper panel raised grows to its whole height over these (150 px kept)
        column.give_room_when_shown(d['legend_dock'], lambda: column.give_whole_height(
            'legend_dock', self.legend.minimumHeight(), lowers))
        column.give_room_when_shown(d['training_dock'], lambda: (self.runs.want_history(), column.give_whole_height(
            'training_dock', self.training.sizeHint().height(), lowers)))  # its curve and Compare runs, filled
        column.give_room_when_shown(d['sampling_dock'], lambda: column.give_whole_height(
            'sampling_dock', self.sampling.sizeHint().height(), lowers))  # its samples and bars
        self._docks_arranged = False  # sized to the window when it first shows, unless a saved state was restored
        for dock in self.docks.values():  # a panel brought back from the menu: the action says Hide again
            dock.visibilityChanged.connect(self._update_panels_act)

    def connect_panels(self):
        """The panels and the graph, connected to each other and to the session, in one place."""
        s = self.session
        self.graph.open_requested.connect(self._on_open_requested)
        self.graph.close_requested.connect(s.close_group)
        self.graph.box_clicked.connect(self._on_box_clicked)
        self.graph.box_clicked.connect(s.select)
        self.scope_tree.open_requested.connect(self._on_open_requested)
        self.scope_tree.found.connect(lambda key: self.land(key, take_keys=False))  # arrows go on in the tree
        self.graph.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        s.recorded.connect(lambda: s.numbers_only or self.set_tint({}))  # what was lit: nodes of the old recording
        self.scope_tree.close_requested.connect(s.close_group)
        self.backprop_panel.follow_toggled.connect(self.graph.set_follow)
        self.training.dataset_chosen.connect(lambda path: self.settings.setValue('dataset', path))
        for name in ('timeline_dock', 'adam_plot_dock', 'embedding_dock'):  # the history is read when one shows
            self.docks[name].visibilityChanged.connect(lambda shown: shown and self.timeline.ensure_loaded())
        for action in self.backprop_actions()[1:-1]:  # steps; not Reset and End, jumps with no step to write out
            action.triggered.connect(self._show_chain_rule)

    def _connect_gradient(self, g):
        """The Gradient dock's panels, connected once it has made them (the first time it shows)."""
        for panel in (g.code_panel, g.nudge_panel, g.provenance_panel):
            panel.tint_requested.connect(self.set_tint)
        g.gradcheck_panel.param_chosen.connect(lambda node: node >= 0 and self.session.reveal(f'n{node}'))

    code_panel = property(lambda self: self.gradient_dock.code_panel)
    nudge_panel = property(lambda self: self.gradient_dock.nudge_panel)
    gradcheck_panel = property(lambda self: self.gradient_dock.gradcheck_panel)
    provenance_panel = property(lambda self: self.gradient_dock.provenance_panel)

    def toggle_panels(self):
        if self.column.toggle():
            self._bar_was_hidden = self.backprop_bar.isHidden()
            self.backprop_bar.show()  # the Backprop panel's buttons, now that the panel is gone
        elif getattr(self, '_bar_was_hidden', False):
            self.backprop_bar.hide()

    def _update_panels_act(self):
        self.panels_act.setText('Hide &panels' if self.column.any_shown() else 'Show &panels')

    def create_status_bar(self):
        self.setStatusBar(StatusBar(self))  # a message cut where the words on the right begin; what is lit
        self.stats_label = QLabel()
        self.statusBar().addPermanentWidget(self.stats_label)
        self.statusBar().showMessage('Ready')

    # Settings

    def read_settings(self):
        geometry = self.settings.value('geometry', QByteArray())
        if geometry:
            self.restoreGeometry(geometry)
        state = self.settings.value('window_state', QByteArray())
        # A state saved by an older arrangement (wide docks left and right) has another version: ignored.
        self._docks_arranged = bool(state) and self.restoreState(state, STATE_VERSION)
        screen = self.screen().availableGeometry()
        if not geometry:
            self.setGeometry(first_geometry(screen, first_size(screen)))
        elif not screen.contains(self.frameGeometry()):  # saved on a bigger screen
            self.setGeometry(self.geometry().intersected(screen.marginsRemoved(QMargins(0, 0, 0, 40))))
        self.dark_act.setChecked(self.settings.value('dark', False, type=bool))
        self.set_dark(self.dark_act.isChecked())

    def showEvent(self, event):
        super().showEvent(event)
        first = not self._docks_arranged
        if first:
            self._docks_arranged = True
            self.workspaces.fit()
            for dock in self.findChildren(QDockWidget):  # a panel docked again may get a new tab bar
                dock.dockLocationChanged.connect(lambda *_: QTimer.singleShot(0, lambda: full_tab_names(self)))
        bars = [self.findChild(QToolBar, name) for name in ('document_toolbar', 'view_toolbar', 'backprop_toolbar')]
        one_row = all(self.toolBarArea(bar) == Qt.TopToolBarArea and not self.toolBarBreak(bar) for bar in bars)
        if one_row and sum(bar.sizeHint().width() for bar in bars) + 24 > self.width():
            self.insertToolBarBreak(self.backprop_bar)  # two rows rather than buttons behind the overflow arrow
            if first and not self.docks['backprop_dock'].isHidden():
                # The Backprop panel has the same buttons (and the Backprop menu and keys drive them): a
                # second row of them would take the graph's room. View › Toolbars brings it back; hiding
                # the panels (Ctrl+Shift+P) shows it, since then it is the only place they are.
                self.backprop_bar.hide()
        full_tab_names(self)

    def closeEvent(self, event):
        if self.training.run is not None:
            answer = QMessageBox.question(self, 'Training', 'A model is training. Stop it and keep the weights '
                                          'reached so far?', QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
            if answer != QMessageBox.Yes:
                event.ignore()
                return
            self.training.run.wait()  # brings the weights in, unsaved
        if not self.files.maybe_save():
            event.ignore()
            return
        self.settings.setValue('geometry', self.saveGeometry())
        self.settings.setValue('window_state', self.saveState(STATE_VERSION))
        self.workspaces.save()
        self.settings.setValue('dark', self.dark_act.isChecked())
        self.session.backprop.pause()
        self.sampling.cancel()
        self.training.cancel()
        self.timeline.close()
        self.session.worker.wait(5000)
        self.session.close()
        event.accept()

    def set_dark(self, dark):
        colors = DARK if dark else LIGHT
        theme.use(colors)
        QApplication.instance().setPalette(palette(colors))
        self.graph.set_colors(colors)
        self.attention.set_colors(colors)
        self.legend.colors = colors
        self.legend.update()

    # Handlers

    def _on_checkpoint_changed(self):
        s = self.session
        self.model_label.setText(f'Model: <b>{s.checkpoint_name}</b>' + (' (unsaved)' if s.unsaved else ''))
        self.model_label.setToolTip(str(s.checkpoint_path) if s.checkpoint_path else
                                    'Trained in this window and not saved yet (File › Save checkpoint as…)')
        self.setWindowModified(s.unsaved)
        if s.checkpoint_path:
            self.files.add_recent(s.checkpoint_path)

    def _on_view_changed(self):
        trace, lay = self.session.trace, self.session.layout
        self.stats_label.setText(f'{trace.doc!r} · {len(trace):,} scalars · {len(lay.boxes)} boxes · '
                                 f'loss {shown(trace.loss)}')
        QApplication.sendPostedEvents(self.statusBar(), QEvent.LayoutRequest)  # whole at the graph's first paint
        now, note, self._note = self.statusBar().currentMessage(), getattr(self, '_note', None), None
        if note:  # the document's note, whole (beside the document field it may be cut)
            self.statusBar().showMessage(note, 20000)
        elif not now or now.startswith(('Laying out', 'Recording', 'Ready', 'The whole graph')):  # never over what Find just said
            self.statusBar().showMessage('Double-click a box to open it; double-click a frame title to close it.', 8000)

    def _on_box_clicked(self, key):
        """A click in the graph shows the Inspector, unless Parameter over time is in front: it follows the
        selection itself, and a learner clicks weight after weight there to watch each one's history."""
        if in_front(self.docks['adam_plot_dock']):
            return
        self.tabs.raise_(self.inspector_dock)

    def _show_chain_rule(self):
        self.tabs.raise_unless_chosen(self.chain_rule_dock)  # behind the Inspector, or a tab the window raised

    def _toggle_play(self):
        self.session.backprop.toggle_play()
        self._on_playing_changed(self.session.backprop.playing)  # also when there was nothing to play

    def _on_playing_changed(self, playing):
        self.play_act.setChecked(playing)
        self.play_act.setText('Pause' if playing else 'Play')

    def toggle_breakpoint(self):
        key = self.session.selected
        if key is None:
            self.statusBar().showMessage('Select a box first, then toggle a breakpoint on it (F9).', 5000)
            return
        self.session.backprop.toggle_breakpoint(key)

    def _on_open_requested(self, scope, to_scalars):
        s = self.session
        h = s.current.hierarchy
        extra = h.descendants(scope) if to_scalars else h.opening(scope)
        count = s.boxes_if_opened(s.opened | set(extra))
        if count > LARGE_VIEW:
            answer = QMessageBox.question(
                self, 'Large view', f'This view would have {count:,} boxes: they take a few seconds to lay out '
                f'and draw (Esc stops it), and the view pans slowly. Open {s.trace.scopes[scope].name} anyway?', QMessageBox.Open | QMessageBox.Cancel)
            if answer != QMessageBox.Open:
                return
        s.open_group(scope, to_scalars)

    def _open_selected(self, to_scalars):
        key = self.session.selected
        if key and split_key(key)[0] == 'g':
            self._on_open_requested(split_key(key)[1], to_scalars)
        elif key and split_key(key)[0] == 'v':  # a vector box: to the box that computes it
            self.graph.activate(key)

    def _close_selected(self):
        key, trace = self.session.selected, self.session.trace
        if not key:
            return
        scope = key_scope(trace, key)
        if split_key(key)[0] == 'g' and scope not in self.session.opened:
            scope = trace.scopes[scope].parent
        if scope > 0:
            self.session.close_group(scope)

    def find_next(self):
        self.search_field.find_next()

    def land(self, key, take_keys=True):
        """Find and Scopes: the graph shows `key` (readable, once laid out), the Inspector comes forward
        with it, and after Find the graph takes the keys (→ steps backprop, F fits), not the field typed in."""
        self.tabs.raise_(self.inspector_dock)
        if take_keys:
            self.graph.setFocus()
        self.graph.land_when_drawn(key)

    def export(self, fmt):
        from explorer.graph.export import export_view_as  # the graph command's code: loaded when asked for
        export_view_as(self, self.graph, self.session.layout, fmt, self.files.last_dir() / f'{self.session.doc}.{fmt}',
                       lambda text: self.statusBar().showMessage(text, 5000))

    def show_how_to_read(self):
        return self._help.show('How to read this picture', HOW_TO_READ)

    def show_legend(self):
        """The Legend panel in front of its tabs (shown again if it was closed)."""
        dock = self.docks['legend_dock']
        dock.show()
        dock.raise_()

    def show_shortcuts(self):
        return self._help.show('Keyboard shortcuts', shortcuts_html(self.menus()))

    def menus(self):
        """The menus of the menu bar, in order (for the shortcut list)."""
        return [a.menu() for a in self.menuBar().actions() if a.menu() is not None]

    def maybe_show_intro(self, offscreen=None):
        """On first start, 'how to read this picture', non-modal; never offscreen (tests, --screenshot)."""
        if offscreen is None:
            offscreen = QApplication.platformName() == 'offscreen'
        if offscreen or self.settings.value('how_to_read_shown', False, type=bool):
            return None
        self.settings.setValue('how_to_read_shown', True)
        dialog = self._help.show('How to read this picture', self.tours.welcome_html() + HOW_TO_READ, activate=False)
        self.tours.follow_links(dialog.text)  # (the keys stay on the graph) the welcome's links start a tour
        over_the_panels(dialog, self)
        return dialog

    def about(self):
        QMessageBox.about(self, 'About microgpt explorer',
                          '<p><b>microgpt explorer</b> shows microgpt — Karpathy\'s 200-line GPT — as it runs: '
                          'the computation graph of one forward pass, recorded from its own Value engine and laid '
                          'out by Graphviz.</p>')

    def set_tint(self, strengths, label=''):
        """Light nodes in the graph; what is lit is said in the status bar, where it covers nothing."""
        self.graph.set_tint(strengths, label)
        self.statusBar().show_tint(self.graph.tint_label())

    def show_gradient_tab(self, widget):
        self.gradient_dock.show_tab(widget)
