"""Level of detail: far out a box is a flat rectangle, at every readable scale it has its labels; a long
scalar name keeps both ends at 10 px or more."""

from types import SimpleNamespace

from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from engine.graph.geometry import box_size
from explorer.graph.items import LABEL_PX, BoxItem, paints_text
from explorer.graph.navigation import MIN_LABEL_PX


def text_pixels(item, scale):
    """Paint `item` alone at `scale` onto white; the number of pixels dark enough to be text (every fill and
    border of a box is lighter)."""
    rect = item.boundingRect()
    image = QImage(int(rect.width() * scale) + 4, int(rect.height() * scale) + 4, QImage.Format_ARGB32)
    image.fill(0xffffffff)
    painter = QPainter(image)
    painter.setTransform(QTransform.fromScale(scale, scale).translate(2, 2))
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if QColor(image.pixel(x, y)).lightness() < 125)


def test_labels_are_painted_at_every_readable_scale_and_not_when_far_out(window, qtbot):
    view = window.graph
    readable = view.readable_scale()
    assert paints_text(readable) and paints_text(readable * 1.5)
    assert not paints_text(0.1)
    box = next(item for item in view.items_by_key.values()
               if isinstance(item, BoxItem) and item.box.node < 0 and not view.is_param_box(item.box))
    assert text_pixels(box, readable) > 20     # the title and detail lines
    assert text_pixels(box, 0.1) == 0          # a flat rectangle
    view._set_scale(readable)
    view.centerOn(box)
    assert view.smallest_label_px() >= MIN_LABEL_PX
    view._set_scale(0.1)
    assert view.smallest_label_px() == 0.0


def test_a_label_is_dropped_only_below_4_px():
    assert paints_text(4 / LABEL_PX)
    assert not paints_text(3.9 / LABEL_PX)


def test_a_long_scalar_name_keeps_both_ends_at_10_px(window):
    view = window.graph
    box = SimpleNamespace(key='n1', node=1, scope=0, title='attn_weights[2]·values[2][5]', detail='0.1234', op='*')
    item = BoxItem(view, box, (0, 0, *box_size(box)))
    (_, font, name), (_, _, op), (_, _, data) = item.scalar_labels()
    assert font.pixelSize() >= 10
    assert name.startswith('attn') and name.endswith('[5]') and '…' in name
    assert data == '0.1234' and op == '*'
    short_box = SimpleNamespace(key='n2', node=2, scope=0, title='q[3]', detail='1.0', op='+')
    short = BoxItem(view, short_box, (0, 0, *box_size(short_box)))
    assert short.scalar_labels()[0][2] == 'q[3]' and short.scalar_labels()[0][1] == view.bold_font
