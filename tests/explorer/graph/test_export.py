"""explorer.graph.export: `main.py graph -o OUT.png` draws the window's layout: the picture has the layout's
size (one pixel a point), boxes and frames are painted where the layout JSON puts them; a huge view is
scaled down to fit; the window's Export view writes boxes as vectors and text."""

import json

import pytest

from PySide6.QtGui import QColor, QImage

from engine.graph.geometry import GRID_LABEL
from engine.graph.svg import COLORS
from explorer.graph.export import MAX_PIXELS, MAX_SIDE, main, png_size


@pytest.mark.slow
def test_png_export_of_the_overview_has_the_layout_size_and_its_boxes(tmp_path, qapp):
    assert main(['--doc', 'emma', '-o', str(tmp_path / 'v.json')]) == 0
    assert main(['--doc', 'emma', '-o', str(tmp_path / 'v.png')]) == 0
    data = json.loads((tmp_path / 'v.json').read_text())
    image = QImage(str(tmp_path / 'v.png'))
    assert (image.width(), image.height()) == (round(data['width'] + 0.499), round(data['height'] + 0.499))
    group, param = QColor(COLORS['group']), QColor(COLORS['param'])
    for b in data['boxes']:
        if b['scope'].startswith('params / '):  # a weight matrix: its grid under its name, as the window draws it
            assert QColor(image.pixel(int(b['x'] + 4), int(b['y'] + GRID_LABEL + 6))) == param, b
        elif b['key'].startswith('g'):  # a group box: its fill a few points in from its top-left corner
            assert QColor(image.pixel(int(b['x'] + 4), int(b['y'] + 6))) == group, b
    frame = QColor(COLORS['cluster'])
    for c in data['clusters']:  # a frame: its fill just inside its bottom-right corner, in its margin
        assert QColor(image.pixel(int(c['x'] + c['width'] - 3), int(c['y'] + c['height'] - 5))) == frame, c


def test_a_huge_view_is_scaled_to_fit():
    assert png_size(1682, 868) == (1682, 868)
    w, h = png_size(65279.3, 39206.0)  # pos 2 opened to scalars
    assert w <= MAX_SIDE and h <= MAX_SIDE and w * h <= MAX_PIXELS
    assert abs(w / h - 65279.3 / 39206.0) < 0.01


def test_the_app_exports_boxes_as_vectors_and_text_not_cached_pixmaps(window, tmp_path):
    from explorer.graph.export import export_view
    export_view(window.graph, window.session.layout, tmp_path / 'view.svg', 'svg')
    svg = (tmp_path / 'view.svg').read_text()
    assert '<image' not in svg and 'embedding' in svg


def test_an_svg_export_shows_backprop_as_far_as_the_screen_does(window, qtbot, tmp_path):
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgRenderer
    from explorer.graph.export import export_view
    s, view = window.session, window.graph
    qtbot.waitUntil(lambda: not view.building(), timeout=20000)
    s.backprop.seek(4)  # the loss's sum: 1 of its 6 scalars done, its box green up to a sixth of its width
    box = next(i for i in view.items_by_key.values() if getattr(i, 'box', None) is not None and i.box.title == 'sum')
    done, size = s.backprop.group_progress(box.box.scope)
    assert 0 < done < size
    export_view(view, s.layout, tmp_path / 'v.png', 'png')
    export_view(view, s.layout, tmp_path / 'v.svg', 'svg')
    png = QImage(str(tmp_path / 'v.png'))
    svg = QImage(png.size(), QImage.Format_ARGB32)
    svg.fill(QColor('#ffffff'))
    painter = QPainter(svg)
    QSvgRenderer(QByteArray((tmp_path / 'v.svg').read_bytes())).render(painter, QRectF(svg.rect()))
    painter.end()
    scene, rect = view.scene().sceneRect(), box.sceneBoundingRect().adjusted(2, 2, -2, -2)
    scale = png.width() / scene.width()
    y = (rect.bottom() - 1.5 - scene.top()) * scale  # under its strip, inside its border

    def colour_at(image, fraction):
        return QColor(image.pixel(int((rect.left() + fraction * rect.width() - scene.left()) * scale), int(y)))
    progress = QColor(view.colors['progress'])
    for image in (png, svg):  # green up to done/size of the width, not beyond: the same in both files
        assert colour_at(image, 0.5 * done / size) == progress
        assert colour_at(image, 0.5 + 0.5 * done / size) != progress
