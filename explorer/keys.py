"""Where a key acts, decided in one place: `bind(window)`.

The rule. A text input being typed in (a line edit, a spin box, an editable combo box or text) keeps the keys
it types with, letters first; Escape there leaves it and gives the graph the keys (and still stops long work,
its meaning window-wide). Anywhere else in the window (the graph, a list, a tree, a button, read-only text)
the graph's keys of one letter or F-key act on the graph: F, Z, M, W, F1, Shift+F1, F9; a list's or a
tree's type-ahead never takes them. The keys lists and trees move with (arrows, Space, Home, End, Return,
Backspace) act on the graph only while the graph or the Scopes tree has the focus (the tree keeps its own
moves, ScopeTree.OWN_KEYS)."""

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit


def typing_in(widget):
    """Whether `widget` is a text input: it keeps the letters typed into it."""
    if isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit)):
        return not widget.isReadOnly()
    return isinstance(widget, QAbstractSpinBox)


def window_keys(window):
    """The graph's keys that act from anywhere in the window but a text input."""
    return [window.fit_act, window.zoom_sel_act, window.minimap_act, window.weight_edges_act,
            window.how_to_read_act, window.legend_act, window.breakpoint_act]


def graph_keys(window):
    """The graph's keys that lists and trees also use: only while the graph or the Scopes tree has the focus."""
    return [window.open_sel_act, window.open_scalars_act, window.close_sel_act, *window.backprop_actions()]


def bind(window):
    """Apply the rule to the window's actions and its text inputs (those made later too)."""
    for action in window_keys(window):
        action.setShortcutContext(Qt.WindowShortcut)
        window.addAction(action)
    for action in graph_keys(window):
        action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        window.graph.addAction(action)
        window.scope_tree.addAction(action)
    leave = LeaveTextInput(window.graph, window)
    QApplication.instance().focusChanged.connect(leave.watch)
    return leave


class LeaveTextInput(QObject):
    """Escape in a text input of the window gives the graph the keys."""

    def __init__(self, graph, window):
        super().__init__(window)
        self.graph, self.window = graph, window

    def watch(self, _old, now):
        if now is not None and typing_in(now) and now.window() is self.window:
            now.installEventFilter(self)  # once: installing it again only moves it to the front

    def eventFilter(self, obj, event):
        if event.type() == QEvent.ShortcutOverride and event.key() == Qt.Key_Escape \
                and event.modifiers() == Qt.NoModifier and obj.hasFocus():
            self.graph.setFocus(Qt.ShortcutFocusReason)  # not accepted: Esc still stops a layout or recording
        return False
