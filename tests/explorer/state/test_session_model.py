"""The session's decisions without Qt: what is open, which layouts are asked for, kept and shown,
selection, cancelling and failures. A fake layouter answers when the test says so (no Graphviz)."""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine import checkpoint as ckpt_io
from engine.paths import DEFAULT_CHECKPOINT
from engine.graph.grouping import Hierarchy
from engine.graph.layout import Layout
from engine.trace import record
from explorer.state.session_model import CACHED_LAYOUTS, LARGE_VIEW, SessionModel

ROOT_DIR = Path(__file__).resolve().parents[3]


class FakeLayouter:
    """Keeps what is asked; `finish()` answers the oldest request with a layout of its boxes in a row."""

    def __init__(self):
        self.trace = self.hierarchy = None
        self.asked, self.answers, self.cancels = [], [], 0

    def set_trace(self, trace):
        self.trace, self.hierarchy, self.asked = trace, Hierarchy(trace), []

    def submit(self, opened, show_constants=False):
        key = (frozenset(opened), show_constants)
        self.asked.append(key)
        return key

    def pending(self):
        return bool(self.asked)

    def cancel(self):
        self.cancels += 1
        had, self.asked = bool(self.asked), []
        return had

    def finish(self, fail=None):
        key = self.asked.pop(0)
        if fail:
            self.answers.append(('failed', key, fail))
        else:
            visible = self.hierarchy.visible(*key)
            boxes = {b.key: (i * 100.0, 0.0, 90.0, 30.0) for i, b in enumerate(visible.boxes)}
            clusters = {c.scope: (0.0, 0.0, 10.0, 10.0, c.title) for c in visible.clusters}
            self.answers.append(('done', key, visible, Layout(100.0 * len(boxes), 30.0, boxes, (), clusters, '')))
        return key

    def poll(self, timeout=0):
        out, self.answers = self.answers, []
        return out


@pytest.fixture(scope='module')
def recorded():
    trace = record(ckpt_io.load(DEFAULT_CHECKPOINT).model, 'emma')
    return SimpleNamespace(trace=trace, hierarchy=Hierarchy(trace))


@pytest.fixture
def model(recorded):
    """A model showing the overview of 'emma', with a log of the events it sent."""
    m = SessionModel(FakeLayouter())
    m.events = []
    for name in ('recorded', 'view_changed', 'layout_started', 'layout_cancelled', 'selection_changed', 'error'):
        m.connect(name, lambda *args, name=name: m.events.append((name, *args)))
    m.use_recording('emma', recorded)
    m.layouter.finish()
    m.take_results()
    m.events.clear()
    return m


def settle(m):
    """Let the layouter answer what it was asked, if anything."""
    if m.layouter.asked:
        m.layouter.finish()
    m.take_results()


def scope(m, path):
    return m.trace.scope_id(path)


def test_a_recording_asks_for_the_overview_and_shows_it(recorded):
    m = SessionModel(FakeLayouter())
    seen = []
    m.connect('view_changed', lambda: seen.append(m.visible))
    m.use_recording('emma', recorded)
    assert m.layouter.asked == [(recorded.hierarchy.overview(), False)] and m.layout_pending
    assert m.visible is None and not seen
    settle(m)
    assert seen == [m.visible] and m.visible.open == recorded.hierarchy.overview() and not m.layout_pending


def test_opening_a_group_opens_it_where_it_stands(model):
    m = model
    head = scope(m, 'pos 2 / layer 0 / attention / head 1')
    m.open_group(head)
    assert head in m.opened and scope(m, 'pos 2 / layer 0 / attention') in m.opened
    assert m.selected == f'g{head}' and m.focus == f'g{head}'
    assert ('layout_started',) in m.events and m.layouter.asked == [(m.opened, False)]
    settle(m)
    assert m.visible.open == m.opened and head in m.layout.clusters
    m.open_group(head, to_scalars=True)
    assert set(m.current.hierarchy.descendants(head)) <= m.opened


def test_closing_a_group_closes_everything_inside(model):
    m = model
    attention = scope(m, 'pos 2 / layer 0 / attention')
    m.open_group(scope(m, 'pos 2 / layer 0 / attention / head 1 / scores'))
    settle(m)
    m.close_group(attention)
    assert not set(m.current.hierarchy.descendants(attention)) & m.opened
    settle(m)
    assert m.visible.open == m.opened
    assert f'g{attention}' in m.layout.boxes and m.selected == f'g{attention}'


def test_a_view_seen_before_comes_from_the_cache_without_a_layout(model):
    m = model
    overview = m.opened
    m.open_group(scope(m, 'pos 1 / layer 0 / mlp'))
    settle(m)
    m.events.clear()
    m.set_open(overview)
    assert m.layouter.asked == [] and m.visible.open == overview and m.events[-1] == ('view_changed',)
    m.set_show_constants(True)  # the same open set with constants is another view
    assert m.layouter.asked == [(overview, True)]


@pytest.mark.slow
def test_the_cache_keeps_the_latest_views(model):
    m = model
    overview = m.opened
    groups = [s for s, sc in enumerate(m.trace.scopes) if sc.parent in overview and s not in overview]
    for s in groups[:CACHED_LAYOUTS + 1]:
        m.set_open(overview | {s})
        settle(m)
    m.set_open(overview)  # the oldest: pushed out
    assert m.layouter.asked == [(overview, False)]
    settle(m)
    m.set_open(overview | {groups[CACHED_LAYOUTS]})  # the newest: still kept
    assert m.layouter.asked == []


def test_a_layout_that_is_no_longer_wanted_is_kept_but_not_shown(model):
    m = model
    shown = m.visible
    m.open_group(scope(m, 'pos 1 / layer 0 / mlp'))
    m.open_group(scope(m, 'pos 3 / layer 0 / mlp'))
    first = m.layouter.finish()
    m.take_results()
    assert m.visible is shown and m.layout_pending
    settle(m)
    assert scope(m, 'pos 3 / layer 0 / mlp') in m.visible.open
    m.set_open(first[0])
    assert m.layouter.asked == [] and m.visible.open == first[0]


def test_cancel_keeps_the_view_as_it_was(model):
    m = model
    shown, opened = m.visible, m.opened
    assert not m.cancel_layout()  # nothing running
    m.open_group(scope(m, 'pos 2'), to_scalars=True)
    assert m.boxes_if_opened(m.opened) > LARGE_VIEW
    assert m.cancel_layout()
    assert m.layouter.cancels == 1 and not m.layouter.asked
    assert m.opened == opened and m.visible is shown and m.focus is None
    assert ('layout_cancelled',) in m.events and not m.layout_pending


def test_a_new_view_does_not_wait_behind_a_huge_one(model):
    m = model
    m.open_group(scope(m, 'pos 2'), to_scalars=True)
    m.set_open(m.visible.open | {scope(m, 'pos 1 / layer 0 / mlp')})
    assert m.layouter.cancels == 1 and m.layouter.asked == [(m.opened, False)]


def test_a_failed_layout_says_why_once_and_keeps_the_view(model):
    m = model
    shown, opened = m.visible, m.opened
    m.open_group(scope(m, 'pos 2'), to_scalars=True)
    m.layouter.finish(fail='Graphviz could not lay out these 7,923 boxes (trouble in init_rank); open fewer groups.')
    m.take_results()
    assert [e for e in m.events if e[0] == 'error'] == [
        ('error', 'Graphviz could not lay out these 7,923 boxes (trouble in init_rank); open fewer groups.')]
    assert m.visible is shown and m.opened == opened and not m.layout_pending


def test_reveal_opens_what_hides_a_scalar_and_selects_it(model):
    m = model
    node = next(i for i in m.trace.params if m.trace.param_name(i) == 'layer0.attn_wq[3][5]')
    m.reveal(f'n{node}')
    assert m.selected == f'n{node}' and m.focus == f'n{node}'
    assert set(m.current.hierarchy.ancestors(m.trace.scope_of[node])) <= m.opened
    settle(m)
    assert m.visible.key_of[node] in m.layout.boxes  # a parameter is shown in its matrix's grid
    assert m.selected == f'n{node}'  # and stays selected there
    m.events.clear()
    m.reveal(f'n{node}')  # already on screen: no layout, the view just goes there
    assert m.layouter.asked == [] and ('view_changed',) in m.events


def test_a_selection_that_leaves_the_view_goes_to_the_box_now_holding_it(model):
    m = model
    head = scope(m, 'pos 2 / layer 0 / attention / head 1')
    m.open_group(head)
    settle(m)
    inner = f"g{scope(m, 'pos 2 / layer 0 / attention / head 1 / scores')}"
    m.select(inner)
    m.close_group(scope(m, 'pos 2 / layer 0 / attention'))
    settle(m)
    assert m.selected == f"g{scope(m, 'pos 2 / layer 0 / attention')}"
    m.select(inner)
    m.set_open(m.opened)  # cached: shown again at once
    assert m.selected == f"g{scope(m, 'pos 2 / layer 0 / attention')}"
    node = next(i for i, sc in enumerate(m.trace.scope_of)  # a scalar inside the head
                if m.trace.scopes[sc].path.startswith('pos 2 / layer 0 / attention / head 1 /'))
    m.reveal(f'n{node}')  # then Collapse all: the closed group that holds it is selected
    settle(m)
    assert m.selected == f'n{node}' and f'n{node}' in m.layout.boxes
    m.collapse_all()
    settle(m)
    holder = m.visible.key_of[node]
    assert m.selected == holder == f"g{scope(m, 'pos 2 / layer 0 / attention')}" and holder in m.layout.boxes


def test_search_finds_parameters_scopes_ops_and_values(model):
    m = model
    [hit] = m.search('attn_wk[2][7]')
    assert m.trace.param_name(int(hit[1:])) == 'layer0.attn_wk[2][7]'
    assert f"g{scope(m, 'pos 2 / layer 0 / attention / head 1')}" in m.search('pos 2 / layer 0 / attention / head 1')
    assert all(m.trace.op[int(k[1:])] == 'exp' for k in m.search('exp'))
    assert 'exps[2]' in {m.trace.name(int(k[1:])) for k in m.search('exps')}
    q3 = [m.trace.qualified_name(int(k[1:])) for k in m.search('q[3]') if k.startswith('n')]
    assert q3 == [f'pos {p} · q[3]' for p in range(5)]  # q[3] itself: not its partial sums, q[3] (Σ 0..k), too
    assert [m.trace.qualified_name(int(k[1:])) for k in m.search('pos 2 · q[3] (Σ 0..5)')] == ['pos 2 · q[3] (Σ 0..5)']
    assert 'pos 0 · wq[3][5]·x[5]' in [m.trace.qualified_name(int(k[1:])) for k in m.search('wq[3][5]') if k[0] == 'n']
    assert [m.trace.qualified_name(int(k[1:])) for k in m.search('pos 2 · q[3]') if k[0] == 'n'] == ['pos 2 · q[3]']
    totals = [m.trace.name(int(k[1:])) for k in m.search('total') if k[0] == 'n']
    assert totals == ['total'] * 25  # 5 positions × (4 heads + the output); 1/total by its own name:
    assert {m.trace.name(int(k[1:])) for k in m.search('1/total') if k[0] == 'n'} == {'1/total'}
    assert 'exps[2]' in {m.trace.name(int(k[1:])) for k in m.search('xps[')}  # no exact name: those holding it
    closest = m.search(str(m.trace.loss))[0]
    assert m.trace.data[int(closest[1:])] == m.trace.loss
    assert m.search('  ') == []


def test_a_scope_is_found_once_not_again_for_each_scope_inside_it_in_reading_order(model):
    """`head 1` finds each position's head 1, position by position (then layer, then head, as the forward
    pass ran), not its scores, softmax and sums, which hold the text in their paths too."""
    m = model
    paths = [m.trace.scopes[int(k[1:])].path for k in m.search('head 1')]
    assert paths == [f'pos {p} / layer 0 / attention / head 1' for p in range(5)]
    assert [m.trace.scopes[int(k[1:])].path for k in m.search('pos 3 · head 1')] == [
        'pos 3 / layer 0 / attention / head 1']
    assert [m.trace.scopes[int(k[1:])].path for k in m.search('attention')] == [
        f'pos {p} / layer 0 / attention' for p in range(5)]
    heads = [m.trace.scopes[int(k[1:])].path for k in m.search('head') if k.startswith('g')]  # after the names
    assert heads[:6] == ['params / lm_head', *(f'pos 0 / layer 0 / attention / head {h}' for h in range(4)),
                         'pos 0 / lm_head']


def test_a_timeline_step_changes_the_numbers_of_every_view_kept_and_asks_again_for_one_on_its_way(model, recorded):
    from engine import history as history_io
    from engine.retrace import Retracer
    m = model
    overview, shown = m.opened, m.visible
    head = scope(m, 'pos 2 / layer 0 / attention / head 1')
    m.open_group(head)
    settle(m)
    opened_head, head_layout = m.opened, m.layout
    m.collapse_all()                     # the overview again, from the cache; the head's view stays cached
    m.set_show_constants(True)           # a view on its way when the step comes
    assert m.layout_pending
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    history = history_io.load_for(DEFAULT_CHECKPOINT, ckpt)
    history.mark_checked()
    trace = Retracer(recorded.trace)(history.model_at(5))
    m.events.clear()
    m.use_weights_recording('emma', SimpleNamespace(trace=trace, hierarchy=recorded.hierarchy.renumbered(trace)))
    fresh = Hierarchy(record(history.model_at(5), 'emma'))
    assert m.visible == fresh.visible(overview) != shown and m.layout is not None
    assert [e[0] for e in m.events][:3] == ['recorded', 'selection_changed', 'view_changed']
    assert m.layouter.asked == [(overview, True)] and m.show_constants  # asked again, of the new numbers
    m.layouter.cancel()
    m.set_show_constants(False)          # back to a view laid out before the step: its numbers are the step's
    m.open_group(head)
    assert not m.layout_pending and m.layout is head_layout and m.opened == opened_head
    assert m.visible == fresh.visible(opened_head)


def test_the_model_never_loads_qt():
    code = ('import sys, explorer.state.session_model;'
            'bad = [m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6")];'
            'print(",".join(bad)); sys.exit(bool(bad))')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT_DIR)
    assert proc.returncode == 0, f'explorer.state.session_model imported {proc.stdout.strip()} {proc.stderr}'
