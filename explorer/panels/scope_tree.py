"""The scope tree: every scope of the recording as a Qt item model, and the tree view of it."""

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTreeView

from engine.graph.keys import group_key, key_scope


class ScopeModel(QAbstractItemModel):
    """The recording's scope tree as a Qt item model; an index's internal id is its scope id."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.trace, self.hierarchy = None, None

    def set_recording(self, recorded):
        if self.trace is not None and recorded.trace.scopes is self.trace.scopes:  # a timeline step: the same
            self.trace, self.hierarchy = recorded.trace, recorded.hierarchy       # scopes, kept open as they were
            return
        self.beginResetModel()
        self.trace, self.hierarchy = recorded.trace, recorded.hierarchy
        self.endResetModel()

    def scope_index(self, scope, column=0):
        parent = self.trace.scopes[scope].parent
        return self.createIndex(self.hierarchy.children[parent].index(scope), column, scope)

    def index(self, row, column, parent=QModelIndex()):
        if self.trace is None:
            return QModelIndex()
        children = self.hierarchy.children[parent.internalId() if parent.isValid() else 0]
        if not (0 <= row < len(children) and 0 <= column < 2):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index):
        if not index.isValid():
            return QModelIndex()
        parent = self.trace.scopes[index.internalId()].parent
        return QModelIndex() if parent <= 0 else self.scope_index(parent)

    def rowCount(self, parent=QModelIndex()):
        if self.trace is None or (parent.isValid() and parent.column() != 0):
            return 0
        return len(self.hierarchy.children[parent.internalId() if parent.isValid() else 0])

    def columnCount(self, parent=QModelIndex()):
        return 2

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        scope = index.internalId()
        if role == Qt.DisplayRole:
            return self.trace.scopes[scope].name if index.column() == 0 else f'{self.hierarchy.size[scope]:,}'
        if role == Qt.ToolTipRole:
            return f'{self.trace.scopes[scope].path} — {self.hierarchy.size[scope]:,} scalars'
        if role == Qt.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return ('scope', 'scalars')[section]
        return None


class ScopeTree(QTreeView):
    """Every scope of the recording, and a keyboard route through the graph.

    Up/Down move and select (the graph's selection follows, and the tree follows the graph's);
    Right opens the scope in the graph (Left closes it), Return opens or closes it, a double-click
    opens it; a single click only selects. The window connects `open_requested`/`close_requested`
    as it does the graph's.
    """

    open_requested = Signal(int, bool)   # scope, down to its scalars
    close_requested = Signal(int)        # scope
    found = Signal(str)                  # a scope clicked, revealed: the window shows it

    OWN_KEYS = (Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down, Qt.Key_Home, Qt.Key_End, Qt.Key_PageUp,
                Qt.Key_PageDown, Qt.Key_Return, Qt.Key_Enter)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self._following = False  # the tree is being moved to the graph's selection: do not echo it back
        self.setUniformRowHeights(True)
        self.setExpandsOnDoubleClick(False)
        self.scopes = ScopeModel(self)
        self.setModel(self.scopes)
        self.doubleClicked.connect(lambda index: self._open(index, toggle=False))
        self.clicked.connect(self._on_clicked)
        session.recorded.connect(self._on_recorded)
        session.selection_changed.connect(self._on_selection_changed)

    def event(self, event):
        """Keep these keys for the tree (window-wide they step backprop or open the selected box)."""
        if event.type() == QEvent.ShortcutOverride and event.key() in self.OWN_KEYS \
                and not event.modifiers() & (Qt.ShiftModifier | Qt.ControlModifier | Qt.AltModifier):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        index, key = self.currentIndex(), event.key()
        plain = not event.modifiers() & (Qt.ShiftModifier | Qt.ControlModifier | Qt.AltModifier)
        if plain and index.isValid() and self.session.current is not None:
            scope, opened = index.internalId(), index.internalId() in self.session.opened
            if key in (Qt.Key_Return, Qt.Key_Enter):
                self._open(index, toggle=True)
                return
            if key == Qt.Key_Right and not opened:
                self._open(index, toggle=False)
                return
            if key == Qt.Key_Left and opened:
                self.close_requested.emit(scope)
                self.collapse(index)
                return
        super().keyPressEvent(event)

    def _open(self, index, toggle):
        if not index.isValid():
            return
        scope = index.internalId()
        if toggle and scope in self.session.opened:
            self.close_requested.emit(scope)
            self.collapse(index)
        else:
            self.open_requested.emit(scope, False)
            self.expand(index)

    def currentChanged(self, current, previous):
        super().currentChanged(current, previous)
        if current.isValid() and not self._following and self.session.current is not None:
            self.session.select(group_key(current.internalId()))

    def _on_clicked(self, index):
        """A click on a scope shows it in the graph (opening what hides it), as Find does."""
        if index.isValid() and self.session.current is not None and index.internalId() > 0:
            scope, lay = index.internalId(), self.session.layout
            key = group_key(scope)
            if lay is not None and (key in lay.boxes or scope in lay.clusters):
                self.session.select(key)  # drawn already (a box, or an open frame, which stays open)
            else:
                self.session.reveal(key)  # open what hides it
            self.found.emit(key)

    def _on_recorded(self):
        self.scopes.set_recording(self.session.current)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)

    def _on_selection_changed(self):
        key, trace = self.session.selected, self.session.trace
        if not key or trace is None:
            return
        scope = key_scope(trace, key)
        if scope > 0:
            index = self.scopes.scope_index(scope)
            self._following = True
            try:
                self.setCurrentIndex(index)
            finally:
                self._following = False
            self.scrollTo(index)
