"""The graph as a file: `python3 main.py graph` (engine.cli.commands's graph command, with PNG drawn by Qt from
the same SVG the engine writes, since the engine never imports Qt), and the window's File › Export view as
SVG, PNG or DOT (export_view, export_view_as), so both show the layout the window draws."""

import math
import os

from engine.cli import commands as cli
from engine.files import write_atomic

MAX_SIDE, MAX_PIXELS = 16384, 64_000_000  # a PNG of a view larger than this is scaled down to fit


def png_size(width, height):
    """The PNG's size in pixels: the layout's size in points (one pixel a point), scaled down to fit
    MAX_SIDE and MAX_PIXELS."""
    scale = min(1.0, MAX_SIDE / max(width, height, 1), math.sqrt(MAX_PIXELS / max(width * height, 1)))
    whole = math.ceil if scale == 1.0 else math.floor  # all of the picture, or within the limits
    return max(1, whole(width * scale)), max(1, whole(height * scale))


def svg_to_png(svg, width, height):
    """PNG bytes of SVG text whose picture is width × height points."""
    os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')  # headless: no window is shown
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtGui import QColor
    from explorer.images import png_of
    from explorer.theme import LIGHT
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841  (fonts need one)
    w, h = png_size(width, height)
    image = QImage(w, h, QImage.Format_ARGB32)
    image.fill(QColor(LIGHT['export_background']))
    painter = QPainter(image)
    try:
        painter.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        QSvgRenderer(QByteArray(svg.encode('utf-8'))).render(painter, QRectF(0, 0, w, h))
    finally:
        painter.end()  # also when Ctrl-C stops the paint: an image dropped while painted crashes Qt
    return png_of(image)


def main(argv):
    return cli.main(['graph', *argv], png=svg_to_png)


def export_view(view, lay, path, fmt):
    """Write the current view: DOT text as laid out, or the scene as drawn (SVG or PNG)."""
    if fmt == 'dot':
        write_atomic(path, lay.dot)
        return
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QImage, QPainter
    from explorer.images import png_of, svg_of
    from explorer.theme import LIGHT
    scene = view.scene()
    rect = scene.sceneRect()
    if fmt == 'svg':
        def paint(painter):
            with view.uncached():
                scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        write_atomic(path, svg_of(rect.size().toSize(), QRectF(0, 0, rect.width(), rect.height()),
                                  'microgpt explorer', paint))
        return
    scale = min(2.0, 12000 / max(rect.width(), rect.height()))
    image = QImage((rect.size() * scale).toSize(), QImage.Format_ARGB32)
    image.fill(QColor(LIGHT['export_background']))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    with view.uncached():
        scene.render(painter, QRectF(image.rect()), rect)
    painter.end()
    write_atomic(path, png_of(image))


def export_view_as(parent, view, lay, fmt, start, show_message):
    """File › Export view as …: ask where (starting at the path `start`), write, and say so (or why not)."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox
    path, _ = QFileDialog.getSaveFileName(parent, f'Export view as {fmt.upper()}', str(start), f'*.{fmt}')
    if path:
        try:
            export_view(view, lay, path, fmt)
        except OSError as e:
            QMessageBox.warning(parent, 'Export', f'Could not write {path}: {e.strerror or e}')
        else:
            show_message(f'Saved {path}')
