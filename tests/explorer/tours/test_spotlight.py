"""The spotlight over a plain window: the target left clear and outlined, the rest dimmed, clicks let through."""

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QWidget

from explorer import theme
from explorer.tours.spotlight import Spotlight, mapped


def window(qtbot, rects):
    win = QWidget()
    win.resize(400, 300)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win, Spotlight(win, lambda: rects)


def test_the_target_is_clear_and_the_rest_dimmed(qtbot):
    rects = [QRect(50, 60, 80, 40), QRect(300, 0, 100, 300)]
    win, spot = window(qtbot, rects)
    spot.start()
    assert spot.isVisible() and spot.target() == rects[0] and spot.geometry() == win.rect()
    assert spot.testAttribute(Qt.WA_TransparentForMouseEvents)
    image = win.grab().toImage()
    back = image.pixelColor(QPoint(90, 80))      # inside the target
    dimmed = image.pixelColor(QPoint(200, 200))  # outside everything
    beside = image.pixelColor(QPoint(350, 150))  # the panel's rectangle, also clear
    assert dimmed.lightness() < back.lightness() - 20 and abs(beside.lightness() - back.lightness()) < 3
    outline = image.pixelColor(QPoint(50 - 5, 80))  # the outline, PAD outside the target
    assert outline.name() == theme.current()['tour_outline']


def test_it_follows_and_goes(qtbot):
    rects = [QRect(10, 10, 20, 20)]
    win, spot = window(qtbot, rects)
    spot.start()
    rects[0] = QRect(100, 100, 20, 20)
    spot.refresh()
    assert spot.target() == QRect(100, 100, 20, 20)
    rects.clear()
    spot.refresh()
    assert not spot.isVisible() and spot.target() is None
    rects.append(QRect(1, 1, 5, 5))
    spot.stop()
    spot.refresh()
    assert not spot.isVisible()


def test_mapped_cuts_to_the_visible_widget(qtbot):
    win = QWidget()
    win.resize(200, 200)
    child = QWidget(win)
    child.setGeometry(20, 30, 50, 50)
    qtbot.addWidget(win)
    win.show()
    assert mapped(child, win) == QRect(20, 30, 50, 50)
    assert mapped(child, win, QRect(40, 40, 100, 100)) == QRect(60, 70, 10, 10)
    child.hide()
    assert mapped(child, win) is None
