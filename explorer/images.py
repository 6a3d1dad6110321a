"""png_bytes: a QImage as the bytes of a PNG file, made in memory."""

from PySide6.QtCore import QBuffer, QIODevice


def png_bytes(image):
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, 'PNG')
    return bytes(buffer.data())
