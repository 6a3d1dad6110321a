"""explorer/images.py: pictures as file bytes made in memory: a PNG that reads back as the same image, and
an SVG of what a paint function draws."""

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QImage

from explorer.images import png_of, svg_of


def test_png_of_gives_a_png_that_reads_back_as_the_image(qapp):
    image = QImage(7, 5, QImage.Format_ARGB32)
    image.fill(QColor('#d9261c'))
    image.setPixelColor(2, 3, QColor('#1c64d9'))
    data = png_of(image)
    assert data.startswith(b'\x89PNG\r\n\x1a\n')
    back = QImage.fromData(data, 'PNG')
    assert back.size() == image.size()
    assert back.pixelColor(2, 3) == QColor('#1c64d9') and back.pixelColor(0, 0) == QColor('#d9261c')


def test_svg_of_holds_what_paint_drew_with_its_size_and_title(qapp):
    def paint(painter):
        painter.fillRect(QRectF(10, 20, 30, 40), QColor('#7048e8'))
    data = svg_of(QSize(200, 100), QRectF(0, 0, 200, 100), 'a title', paint).decode()
    assert '<svg' in data and '<title>a title</title>' in data
    assert 'viewBox="0 0 200 100"' in data
    assert '#7048e8' in data.lower() and '<rect x="10" y="20" width="30" height="40"/>' in data
    at_254_dpi = svg_of(QSize(200, 100), QRectF(0, 0, 200, 100), 'a title', paint, resolution=254).decode()
    assert 'width="20mm" height="10mm"' in at_254_dpi  # 200 dots at 254 a inch are 20 mm
    empty = svg_of(QSize(200, 100), QRectF(0, 0, 200, 100), 'a title', lambda p: None).decode()
    assert '#7048e8' not in empty.lower()
