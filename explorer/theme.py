"""Light and dark palettes for the window, and the colours the graph draws with."""

from PySide6.QtGui import QColor, QPalette

LIGHT = {
    'background': '#fbfbfd', 'text': '#1f2430', 'muted': '#6b7280', 'edge': '#8b95a5',
    'group': '#e8eef8', 'group_border': '#7b8fb3', 'param': '#f3ead7', 'param_border': '#b89650',
    'scalar': '#ffffff', 'scalar_border': '#9aa5b1', 'cluster': '#f1f3f7', 'cluster_border': '#c5ccd6',
    'selection': '#e8590c',
}
DARK = {
    'background': '#1d2027', 'text': '#e6e8ee', 'muted': '#9aa3b2', 'edge': '#6f7a8c',
    'group': '#2b3445', 'group_border': '#6f86b3', 'param': '#3d3526', 'param_border': '#b89650',
    'scalar': '#262a33', 'scalar_border': '#6f7a8c', 'cluster': '#23262e', 'cluster_border': '#3c4350',
    'selection': '#ff922b',
}


def palette(colors):
    p = QPalette()
    window = QColor(colors['background']).darker(104 if colors is LIGHT else 90)
    for role, color in [(QPalette.Window, window), (QPalette.Base, QColor(colors['background'])),
                        (QPalette.AlternateBase, QColor(colors['cluster'])), (QPalette.Text, QColor(colors['text'])),
                        (QPalette.WindowText, QColor(colors['text'])), (QPalette.ButtonText, QColor(colors['text'])),
                        (QPalette.Button, window), (QPalette.ToolTipBase, QColor(colors['scalar'])),
                        (QPalette.ToolTipText, QColor(colors['text'])), (QPalette.PlaceholderText, QColor(colors['muted'])),
                        (QPalette.Highlight, QColor(colors['selection'])), (QPalette.HighlightedText, QColor('#ffffff')),
                        (QPalette.Link, QColor(colors['group_border']))]:
        p.setColor(role, color)
    return p
