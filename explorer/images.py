"""Pictures as file bytes, made in memory: png_of (a QImage as PNG) and svg_of (what a paint function draws,
as vector SVG)."""

from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QPainter


def png_of(image):
    """The bytes of a PNG file of the image."""
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, 'PNG')
    return bytes(buffer.data())


def svg_of(size, view_box, title, paint, resolution=None):
    """The bytes of an SVG file of size (QSize) and view_box (QRectF), drawn by paint(painter)."""
    from PySide6.QtSvg import QSvgGenerator
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buffer)
    gen.setSize(size)
    gen.setViewBox(view_box)
    gen.setTitle(title)
    if resolution is not None:
        gen.setResolution(resolution)
    painter = QPainter(gen)
    try:
        paint(painter)
    finally:
        painter.end()  # also when Ctrl-C stops the paint: a device dropped while painted crashes Qt
    return bytes(buffer.data())
