"""explorer/actions.py: make_action gives a menu and tool bar action with its key, its status tip, and a
tooltip that ends with the key; triggering it calls its slot."""

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

from explorer.actions import make_action


def test_an_action_carries_its_key_tips_and_slot(qapp):
    parent, calls = QWidget(), []
    action = make_action(parent, '&Step', lambda: calls.append('step'), 'Right', 'Apply the next backprop step')
    assert action.parent() is parent and action.text() == '&Step'
    assert action.shortcut() == QKeySequence('Right')
    assert action.statusTip() == 'Apply the next backprop step'
    assert action.toolTip() == 'Apply the next backprop step (→)'
    assert not action.isCheckable()
    action.trigger()
    assert calls == ['step']


def test_an_action_without_a_key_keeps_its_tip_and_can_be_checkable(qapp):
    parent, toggled = QWidget(), []  # the parent owns the action: kept alive for the test
    action = make_action(parent, 'Minimap', lambda checked: toggled.append(checked), tip='Show the minimap',
                         checkable=True)
    assert action.shortcut().isEmpty() and action.toolTip() == 'Show the minimap'
    assert action.isCheckable() and not action.isChecked()
    action.trigger()
    assert action.isChecked() and toggled == [True]
