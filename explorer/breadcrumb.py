"""The breadcrumb above the graph: model › the groups around the selection › the selected scalar; a click on
one closes back to it."""

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from engine.graph.keys import group_key, key_scope, split_key


class Breadcrumb(QLabel):
    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setTextFormat(Qt.RichText)
        self.setContentsMargins(8, 3, 8, 3)
        self.linkActivated.connect(self._on_link)
        session.view_changed.connect(self.update_path)
        session.selection_changed.connect(self.update_path)

    def update_path(self):
        key, trace = self.session.selected, self.session.trace
        if trace is None:
            return
        parts = ['<a href="collapse">model</a>']
        if key:
            chain = list(reversed(self.session.current.hierarchy.ancestors(key_scope(trace, key))))
            parts += [f'<a href="{group_key(s)}">{trace.scopes[s].name}</a>' for s in chain]
            kind, node = split_key(key)
            if kind == 'n':
                parts.append(f'<b>{escape(trace.name(node))}</b>')
        self.setText(' › '.join(parts))

    def _on_link(self, link):
        if link == 'collapse':
            self.session.collapse_all()
        else:
            self.session.close_group(split_key(link)[1])
