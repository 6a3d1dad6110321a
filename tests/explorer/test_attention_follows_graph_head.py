"""When the Attention panel has room for one head only, it shows the head the learner selected in the
graph (with that row framed), not always layer 0 · head 0."""

from PySide6.QtCore import QSettings

from engine.graph.keys import group_key
from explorer.main_window import MainWindow
from explorer.state.session import Session


def test_the_lone_head_is_the_one_selected_in_the_graph(qtbot, tmp_path):
    session = Session()
    win = MainWindow(session, QSettings(str(tmp_path / 'w.ini'), QSettings.IniFormat))
    win.resize(1280, 720)
    win.show()
    try:
        assert session.load_checkpoint()
        with qtbot.waitSignal(session.view_changed, timeout=20000):
            session.record('emma')
        panel = win.attention
        assert panel.focus_head() == (0, 0)
        trace = session.trace
        session.select(group_key(trace.scope_id('pos 2 / layer 0 / attention / head 1 / scores')))
        assert panel.focus_head() == (0, 1)
        assert panel.selected_place(trace).query == 2
        session.select(group_key(trace.scope_id('pos 3 / layer 0 / attention / head 3')))
        assert panel.focus_head() == (0, 3)
    finally:
        session.unsaved = False
        win.close()
        session.worker.wait()
