"""The graph view: a Layout drawn as QGraphicsItems (explorer.graph.items), made by SceneBuild, marked by
Marks, navigated by Navigation. Selecting and hovering never re-run the layout."""

import contextlib
import re

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QMenu

from engine.graph.keys import is_node_key, is_weight_path, split_key
from engine.numbers import shown

from explorer.graph import weight_grid
from engine.graph.text import FONT_FAMILY
from explorer.graph.items import BADGE_PX, LABEL_PX, TITLE_PX, BoxItem, ClusterItem
from explorer.graph.marks import Marks
from explorer.graph.minimap import MINIMAP_MARGIN, Minimap
from explorer.graph.navigation import Navigation
from explorer.graph.scene_build import SceneBuild
from explorer.theme import LIGHT


class GraphView(Marks, SceneBuild, Navigation, QGraphicsView):
    box_clicked = Signal(str)        # a box or cluster was clicked: its key
    open_requested = Signal(int, bool)   # scope, to scalars
    close_requested = Signal(int)    # scope
    message = Signal(str)            # one sentence for the status bar (F could not fit the graph readably)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.colors = LIGHT
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.MinimalViewportUpdate)  # a step repaints only its boxes
        self.small_font = QFont(FONT_FAMILY)  # the font engine.graph.text measures, unhinted so Qt measures
        self.small_font.setHintingPreference(QFont.PreferNoHinting)  # the same widths: boxes fit their text
        self.small_font.setPixelSize(LABEL_PX)
        self.bold_font = QFont(self.small_font)
        self.bold_font.setPixelSize(TITLE_PX)
        self.bold_font.setBold(True)
        self.title_font = self.bold_font  # frame titles
        self.title_metrics = QFontMetricsF(self.title_font)
        self.tiny_font = QFont(self.small_font)
        self.tiny_font.setPixelSize(BADGE_PX)
        self.items_by_key = {}
        self.edges_by_key = {}
        self.selected_key = None
        self.focus_key = None   # the box of the node backprop applied last
        self._followed_key = None  # the last box follow brought into view (a box is followed once)
        self._gc_held = False      # the collector paused for the build under way
        self.flows = {}         # (child box, node box) -> (gradient sent along it, scalar edges): the last step
        self.box_flows = {}     # (child box, group box) -> {child: gradient}: what the closed group being stepped
                                # has sent back along the edge so far (engine.gradient.box_flows)
        self._flow_items = []   # the FlowItems drawing them
        self.follow = True      # centre the node being processed when it leaves the window
        self.show_minimap = True
        self.show_weight_edges = False  # edges out of the weights: off, the grids and badges say it
        self.weight_readers = {}        # matrix name -> keys of the boxes that read it (this view)
        self.highlighted_weights = frozenset()  # the matrix the mouse is on (a grid or a badge's name)
        self.highlighted_readers = frozenset()  # and the boxes that read it
        self._weight_cells = None
        self._cells_before = None       # the last recording's weight cells: a timeline step keeps their nodes
        self._weight_keys = set()       # boxes that show weights, whose edges are the weight edges
        self.badge_items = []
        self.context_actions = []  # the window's view actions, below a box's own entries in the context menu
        self.minimap = Minimap(self)
        self.minimap.hide()
        self._fitted_once = False
        self._first_view_next = False  # Collapse all: the next view placed is the first view
        self._building = iter(())  # what is left of making the items of the last layout
        self._built = None         # the layout the items are made from (a timeline step renumbers them)
        self._build_timer = QTimer(self)
        self._build_timer.setSingleShot(True)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self._continue_build)
        session.view_changed.connect(self._on_view_changed)
        session.selection_changed.connect(self._on_selection_changed)
        session.recorded.connect(self._on_recorded)
        session.backprop.moved.connect(self._on_moved)
        session.backprop.breakpoints_changed.connect(self._repaint_boxes)

    @contextlib.contextmanager
    def uncached(self):
        """Items painted directly while it lasts: an export draws vectors and text, not the boxes' cached pixmaps."""
        boxes = [item for item in self.items_by_key.values() if isinstance(item, BoxItem)]
        for item in boxes:
            item.setCacheMode(QGraphicsItem.NoCache)
        try:
            yield
        finally:
            for item in boxes:
                item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)

    # What items ask of the view

    def is_param_box(self, box):
        if box.node >= 0:
            return box.node in self.session.trace.params
        return is_weight_path(self.scope_path(box.scope))

    def scope_path(self, scope):
        return self.session.trace.scopes[scope].path

    def weight_cells(self):
        """Which node, value and colour scale each parameter has, for the current recording."""
        if self._weight_cells is None:
            current = self.session.current  # its own weights: another checkpoint may be in use before its recording
            model = current.model if current is not None and current.model is not None else self.session.model
            self._weight_cells = weight_grid.WeightCells(self.session.trace, model.state_dict, like=self._cells_before)
        return self._weight_cells

    def selected_node(self):
        """The selected scalar's node id (a parameter picked in a grid, say), or None."""
        key = self.selected_key
        return split_key(key)[1] if key and is_node_key(key) else None

    def tooltip(self, box):
        trace, bp = self.session.trace, self.session.backprop
        if box.node >= 0:
            got, needed = bp.arrived(box.node)
            reached = bp.reached(box.node)
            state = (f'grad {shown(bp.grads[box.node])} ({got} of {needed} contributions in)' if reached
                     else 'grad not reached yet')
            return (f'{trace.name(box.node)} = {trace.op[box.node]} — {trace.scope_path(box.node)}\n'
                    f'data {shown(trace.data[box.node])}\n{state}\nevery digit: the Inspector\'s copy exact')
        done, size = bp.group_progress(box.scope)
        return (f'{self.scope_path(box.scope)}\n{box.detail}\n{sizes_note(box.detail)}'
                f'backprop: {done:,} of {size:,} scalars done\ndouble-click to open')

    def activate(self, key):
        """Return or a double-click on a box: a group opens; a vector box (q, keys, values in an open head)
        takes the selection to the box that computes it; a weight grid is only selected."""
        kind, scope = split_key(key)
        if kind == 'g':
            self.open_requested.emit(scope, False)
        elif kind == 'v':
            self.session.model_state.go_to_source(key)

    def _on_selection_changed(self):
        old, self.selected_key = self.selected_key, self.session.selected
        for key in (old, self.selected_key):  # a box's cached picture is redrawn only when it is told to
            if key in self.items_by_key:
                self.items_by_key[key].update()
        self.viewport().update()
        self._place_minimap()  # not over what was just selected
        self.highlight_weight(self.selected_matrix())  # a grid selected (in the Scopes tab, say): its uses outlined
        item = self.items_by_key.get(self.selected_key)
        if item is not None and not self.session.numbers_only:  # a timeline step never moves the view
            self.ensureVisible(item, 40, 40)

    def selected_matrix(self):
        """The weight matrix whose grid is selected, or None."""
        item = self.items_by_key.get(self.selected_key)
        return item._grid_name() if isinstance(item, BoxItem) else None

    def set_colors(self, colors):
        self.colors = colors
        if self.session.layout is not None:
            self.session.focus = None
            self._on_view_changed()

    def set_follow(self, on):
        self.follow = on

    def set_minimap(self, on):
        self.show_minimap = on
        self.minimap.refresh()

    def _place_minimap(self):
        """The bottom right corner, or the bottom left when less would be under it there: the box backprop is
        in and the selection first, then the loss (a reviewer found the loss box covered in every workspace).
        Follow and Find keep what they show clear of the bottom right corner."""
        m, port = self.minimap, self.viewport()
        right = QRect(port.width() - m.width() - MINIMAP_MARGIN, port.height() - m.height() - MINIMAP_MARGIN,
                      m.width(), m.height())
        left = right.translated(MINIMAP_MARGIN - right.x(), 0)
        s = self.session
        loss = s.visible.key_of[s.trace.loss_id] if s.visible is not None and s.trace is not None else None
        rects = [(weight, self.mapFromScene(item.sceneBoundingRect()).boundingRect())
                 for weight, key in ((2, self.focus_key), (2, s.selected), (1, loss))
                 for item in [self.items_by_key.get(key) if key is not None else None] if item is not None]

        def covered(spot):
            return max((weight for weight, rect in rects if rect.intersects(spot)), default=0)
        m.move((left if covered(left) < covered(right) else right).topLeft())

    def scrollContentsBy(self, dx, dy):
        super().scrollContentsBy(dx, dy)  # scrolls the viewport's pixels, and its children with them:
        self._place_minimap()             # the minimap goes back to its corner

    def resizeEvent(self, event):
        whole = self._showed_whole(event.oldSize())
        super().resizeEvent(event)
        self.minimap.fit(self.viewport().size())
        self._place_minimap()
        self._update_scroll_area()
        if whole:  # the whole graph was in view: the first view at this size (a workspace, a dock dragged): the
            self.first_view()  # old centre at the old scale cut pos 0 off on the left of a narrower area
        self.minimap.refresh(now=False)

    def _showed_whole(self, size):
        """Whether a viewport of `size` (the one before a resize) showed the whole graph."""
        if self.session.layout is None or self.building() or not size.isValid() or size.isEmpty():
            return False
        return self.mapToScene(QRect(QPoint(0, 0), size)).boundingRect().contains(self._content())

    def wheelEvent(self, event):
        if event.modifiers() & Qt.ShiftModifier:  # shift+wheel scrolls sideways
            return super().wheelEvent(event)
        self.zoom(1.0015 ** event.angleDelta().y(), about_mouse=True)

    def contextMenuEvent(self, event):
        item = self.itemAt(event.pos())
        menu = QMenu(self)
        if isinstance(item, BoxItem) and item.box.node < 0:
            scope = item.box.scope
            menu.addAction('Open', lambda: self.open_requested.emit(scope, False))
            menu.addAction('Open to scalars', lambda: self.open_requested.emit(scope, True))
        if isinstance(item, (BoxItem, ClusterItem)):
            scope = item.scope if isinstance(item, ClusterItem) else item.box.scope
            parent = scope if isinstance(item, ClusterItem) else self.session.trace.scopes[scope].parent
            if parent > 0:
                menu.addAction(f'Close {self.session.trace.scopes[parent].name}', lambda: self.close_requested.emit(parent))
        menu.addSeparator()
        for action in self.context_actions:
            menu.addAction(action)
        menu.exec(event.globalPos())


def sizes_note(detail):
    """What a group's 'linear 16→48' says, one line (empty for a group without one): the scalars that come in
    from outside the box, and those of its own that are read outside it (the next stage's input, and for an
    attention box the keys and values later positions read from the KV cache)."""
    m = re.search(r'(\d+)→(\d+)', detail or '')
    if not m:
        return ''
    return (f'{m[1]}→{m[2]}: {m[1]} scalars come in from outside this box; {m[2]} of its own are read outside it '
            "(the next stage's input; an attention box's keys and values are read by later positions too)\n")
