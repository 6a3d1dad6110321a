"""`python3 main.py graph`: engine.cli.commands's graph command, with PNG drawn by Qt from the same SVG the engine
writes (the engine never imports Qt), so both show the layout the window draws."""

import math
import os

from engine.cli import commands as cli

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
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841  (fonts need one)
    w, h = png_size(width, height)
    image = QImage(w, h, QImage.Format_ARGB32)
    image.fill(0xffffffff)
    painter = QPainter(image)
    painter.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
    QSvgRenderer(QByteArray(svg.encode('utf-8'))).render(painter, QRectF(0, 0, w, h))
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, 'PNG')
    return bytes(buffer.data())


def main(argv):
    return cli.main(['graph', *argv], png=svg_to_png)
