"""make_action: a menu and tool bar action with its key, status tip and tooltip (the tip with its key)."""

from PySide6.QtGui import QAction, QKeySequence

from explorer.panels.help import with_key


def make_action(parent, text, slot, shortcut=None, tip='', checkable=False):
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setStatusTip(tip)
    action.setToolTip(with_key(tip, action))  # 'Undo the last backprop step exactly (←)'
    action.setCheckable(checkable)
    action.triggered.connect(slot)
    return action
