"""explorer/history/history_panel.py: the history panels pop out as windows of their own, as large as their
charts want within the screen, and dock back."""


def test_the_history_panels_pop_out_as_windows_of_their_own_and_dock_back(window, qtbot):
    for panel, name in ((window.timeline_panel, 'timeline_dock'), (window.adam_plot, 'adam_plot_dock'),
                        (window.embedding_plot, 'embedding_dock')):
        dock = window.docks[name]
        dock.raise_()
        assert not dock.isFloating()
        panel.pop_button.click()
        screen = dock.screen().availableGeometry()
        assert dock.isFloating() and panel.pop_button.text() == 'Dock'
        assert dock.width() == min(1100, screen.width() - 40)  # as large as its charts want, within the screen
        panel.pop_button.click()
        assert not dock.isFloating() and panel.pop_button.text() == 'Pop out'
