"""The explorer application: a minimal window until the graph view lands (issue 3)."""

import sys


def main(argv):
    from PySide6.QtWidgets import QApplication, QLabel
    app = QApplication.instance() or QApplication(sys.argv[:1])
    label = QLabel('microgpt explorer')
    label.resize(640, 400)
    label.show()
    return app.exec()
