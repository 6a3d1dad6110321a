"""Moving along the timeline keeps the panel steady: the line about the step shown wraps to different
lengths (step 0 has one sentence, others two) but the chart below it does not move."""

import pytest
from test_timeline_ui import go, open_timeline

pytestmark = pytest.mark.slow  # records at four steps of the run


def test_the_chart_stays_put_from_step_to_step(window, qtbot):
    open_timeline(window, qtbot)
    panel = window.timeline_panel
    panel.resize(330, panel.height())
    tops = set()
    for step in (0, 637, 1000, 1):
        go(window, qtbot, step)
        qtbot.wait(10)
        tops.add(panel.step_info.height())
    assert len(tops) == 1, f'the step line changed height: {sorted(tops)}'
