"""The window fits the screen it opens on, and can be made small without losing a control."""

from PySide6.QtCore import QRect, QSize

from explorer.dock_column import first_geometry


def test_first_window_fits_the_available_screen(window):
    screen = window.screen().availableGeometry()
    assert screen.contains(window.geometry())
    assert window.height() <= screen.height() - 32  # and room for a title bar


def test_minimum_is_at_most_1024_by_640(window):
    hint = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert hint.width() <= 1024 and hint.height() <= 640


def test_first_geometry_on_common_screens():
    for w, h in ((1280, 720), (1600, 1000), (1366, 768), (2560, 1440)):
        screen = QRect(0, 0, w, h)
        rect = first_geometry(screen)
        assert screen.contains(rect) and rect.height() + 32 <= h
    assert first_geometry(QRect(0, 0, 2560, 1440)).size() == QSize(1400, 900)


def test_at_1280_by_720_every_control_is_on_screen(window, qtbot):
    window.resize(1280, 720 - 32)
    qtbot.wait(10)
    assert window.size() == QSize(1280, 720 - 32)
    for field in (window.document.field, window.search_field):
        assert field.isVisible()
