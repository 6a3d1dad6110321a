"""What the explorer shows and decides, without Qt: the recording in use, what is open, the layouts
of the views seen lately, what is selected, and search.

`SessionModel` takes a layouter (engine.graph.layout_process.LayoutClient, or anything with `set_trace`,
`submit`, `cancel`, `pending` and `poll`) and tells its listeners what changed through plain events
(`model.connect('view_changed', fn)`); explorer.state.session is the thin Qt adapter that turns them into
signals. A test drives it with a fake layouter and no event loop.
"""

import re
from collections import OrderedDict

from engine.graph.grouping import ROOT
from engine.graph.keys import group_key, is_matrix_path, node_key, split_key

LARGE_VIEW = 1500    # boxes; opening more than this asks first (7,900 take ~1 s to lay out, ~0.6 s to draw)
CACHED_LAYOUTS = 24  # views whose layout is kept, most recent last

SEARCH_POSITION = re.compile(r'pos\s*(\d+)\s*[·:]\s*(.+)')  # 'pos 2 · q[3]': a name at one position
EVENTS = ('recorded', 'view_changed', 'layout_started', 'layout_cancelled', 'selection_changed', 'error')


class SessionModel:
    def __init__(self, layouter):
        self.layouter = layouter
        self._listeners = {name: [] for name in EVENTS}
        self.doc = None
        self.current = None              # explorer.state.session.Recorded: trace, hierarchy, schedule
        self.opened = frozenset({ROOT})
        self.show_constants = False
        self.layout = None               # engine.graph.layout.Layout of the current view
        self.visible = None              # engine.graph.grouping.VisibleGraph of the current view
        self.selected = None             # box key ('g12' / 'n345') or None
        self.focus = None                # box key the view should keep in place across a relayout
        self.numbers_only = False        # True while the events of a timeline step (same layout, new numbers) go out
        self._layouts = OrderedDict()    # (opened, show_constants) -> (visible, layout), most recent last
        self._asked = {}                 # key -> boxes, for layouts asked of the layouter and not back yet
        self._stale = set()              # keys of _layouts whose numbers are an earlier step's (same boxes)

    # Events

    def connect(self, event, fn):
        self._listeners[event].append(fn)

    def _emit(self, event, *args):
        for fn in list(self._listeners[event]):
            fn(*args)

    # The recording

    @property
    def trace(self):
        return self.current.trace if self.current else None

    def use_recording(self, doc, rec):
        """A new recording is in place: forget the old views, show the overview."""
        self.doc, self.current = doc, rec
        self.visible = self.layout = None  # they describe the previous trace until the new layout is in
        self._layouts.clear()
        self._stale.clear()
        self._asked.clear()
        self.layouter.set_trace(rec.trace)
        self.selected = self.focus = None
        self._emit('recorded')
        self._emit('selection_changed')
        self.set_open(rec.hierarchy.overview())

    def use_weights_recording(self, doc, rec):
        """The same document recorded with other weights of the same model (another training step):
        the nodes and groups are the same, so the open groups, the layout and the selection stay and
        only the numbers and colours change. Anything else is a new recording (use_recording)."""
        old = self.current
        if old is None or doc != self.doc or self.layout is None or len(old.trace) != len(rec.trace) or \
                old.trace.scope_of != rec.trace.scope_of:
            self.use_recording(doc, rec)
            return
        self.current = rec
        self.layouter.set_trace(rec.trace)  # later layouts are of these numbers (a pending one is dropped ...
        wanted = (self.opened, self.show_constants, self.focus)  # ... and asked again below)
        self.opened = self.visible.open     # what is shown
        self.focus = None                   # nothing to bring back into place: the view stays exactly still
        key = (self.visible.open, self.visible.show_constants)
        visible = rec.hierarchy.renumber(self.visible)  # the same boxes and edges, the new numbers
        self._stale.update(self._layouts)   # views seen lately keep their layout; their numbers when shown again
        self._asked.clear()
        self._layouts[key] = (visible, self.layout)
        self._layouts.move_to_end(key)
        self._stale.discard(key)
        self.numbers_only = True            # the views keep where they look (the graph its scale and scroll)
        try:
            self._emit('recorded')
            self._emit('selection_changed')
            self._apply(visible, self.layout)
        finally:
            self.numbers_only = False
        if wanted[:2] != key:               # a view was on its way: it is laid out with the new numbers
            self.show_constants = wanted[1]
            self.set_open(wanted[0], wanted[2])

    # What is open

    @property
    def layout_pending(self):
        """True while the view asked for last is being laid out."""
        return (self.opened, self.show_constants) in self._asked

    def set_open(self, opened, focus=None):
        opened = frozenset(opened) | {ROOT}
        key = (opened, self.show_constants)
        self.opened, self.focus = opened, focus
        if key in self._layouts:
            self._layouts.move_to_end(key)
            if key in self._stale:          # laid out before a timeline step: the same boxes, new numbers
                self._stale.discard(key)
                visible, lay = self._layouts[key]
                self._layouts[key] = (self.current.hierarchy.renumber(visible), lay)
            self._apply(*self._layouts[key])
            return
        if key in self._asked:
            return
        if any(boxes > LARGE_VIEW for boxes in self._asked.values()):
            self.layouter.cancel()  # a big layout nobody waits for any more would hold up this one
            self._asked.clear()
        self._asked[key] = self.boxes_if_opened(opened)
        self.layouter.submit(opened, self.show_constants)
        self._emit('layout_started')

    def take_results(self, timeout=0):
        """Bring in what the layouter has finished (the Qt adapter calls this from a timer); returns the
        recordings it made, (kind, doc, trace or sentence), for the adapter, which asked for them."""
        recordings = []
        for kind, key, *rest in self.layouter.poll(timeout):
            if kind in ('recorded', 'record_failed'):
                recordings.append((kind, key, *rest))
                continue
            self._asked.pop(key, None)
            if kind == 'done':
                self.layout_done(key, *rest)
            else:
                self.layout_failed(key, *rest)
        return recordings

    def layout_done(self, key, visible, lay):
        self._layouts[key] = (visible, lay)
        self._stale.discard(key)
        while len(self._layouts) > CACHED_LAYOUTS:
            self._layouts.popitem(last=False)
        if key == (self.opened, self.show_constants):
            self._apply(visible, lay)

    def layout_failed(self, key, sentence):
        """The view asked for could not be laid out: the one shown stays, and `error` says why."""
        if key != (self.opened, self.show_constants):
            return
        if self.visible is not None:
            self.opened, self.focus = self.visible.open, None
        self._emit('error', sentence)

    def cancel_layout(self):
        """Stop the layout being waited for: the view stays as it is shown; False if none was running."""
        if not self._asked or self.visible is None:
            return False
        self.layouter.cancel()
        self._asked.clear()
        self.opened, self.focus = self.visible.open, None
        self._emit('layout_cancelled')
        return True

    def _apply(self, visible, lay):
        self.visible, self.layout = visible, lay
        kind, index = split_key(self.selected) if self.selected else ('', -1)
        if self.selected and self.selected not in lay.boxes and not (kind == 'g' and index in lay.clusters) and \
                not (kind == 'n' and index in self.trace.params and visible.key_of[index] in lay.boxes):  # in its grid
            self.selected = self._holder(kind, index, visible, lay)  # closed away: the box now holding it
            self._emit('selection_changed')
        self._emit('view_changed')

    def _holder(self, kind, index, visible, lay):
        """The box of this view that holds a scalar ('n') or a group ('g') no longer drawn (Collapse all
        closed it away), or None."""
        if kind == 'n' and visible.key_of[index] in lay.boxes:
            return visible.key_of[index]
        scopes = self.trace.scopes
        scope = self.trace.scope_of[index] if kind == 'n' else index if kind == 'g' else -1
        while scope > 0:
            if group_key(scope) in lay.boxes:
                return group_key(scope)
            scope = scopes[scope].parent
        return None

    def boxes_if_opened(self, opened):
        return self.current.hierarchy.count_boxes(frozenset(opened) | {ROOT})

    def open_group(self, scope, to_scalars=False):
        """Open a group (and every group inside it if to_scalars) where it stands. A weight matrix is
        drawn as a grid and never opens: asking to open one (Return, a double-click in the Scopes tab)
        selects its grid instead, opening what hides it."""
        if self.is_matrix(scope):
            self.reveal(group_key(scope))
            return
        h = self.current.hierarchy
        extra = h.descendants(scope) if to_scalars else h.opening(scope)
        self.selected = group_key(scope)
        self._emit('selection_changed')
        self.set_open(self.opened | set(extra) | set(h.ancestors(scope)), focus=group_key(scope))

    def is_matrix(self, scope):
        """True for a weight matrix's scope (`params / wq`): its box is a grid, read, not opened."""
        return is_matrix_path(self.trace.scopes[scope].path)

    def vector_source(self, key):
        """The box that computes vector box `key` (an open head's q, keys or values): the box showing its
        first scalar in this view (`pos 2 / layer 0 / attention / q`, or an earlier position's k), or None."""
        box = next((b for b in (self.visible.boxes if self.visible else ()) if b.key == key), None)
        node = next((n for n, _, _ in box.cells if n >= 0), None) if box is not None else None
        return self.current.hierarchy.box_of(node, self.opened) if node is not None else None

    def go_to_source(self, key):
        """Return (or a double-click) on a vector box: select the box that computes it and show it, so a
        second Return opens that group. False when there is none."""
        source = self.vector_source(key)
        if source is None:
            return False
        self.reveal(source)
        return True

    def close_group(self, scope):
        """Close a group and everything inside it, so it is one box again."""
        inside = set(self.current.hierarchy.descendants(scope))
        self.selected = group_key(scope)
        self.set_open(self.opened - inside, focus=group_key(scope))
        self._emit('selection_changed')

    def collapse_all(self):
        self.set_open(self.current.hierarchy.overview())

    def reveal(self, key, within=None):
        """Open whatever hides box `key` (a scope 'g..' or scalar 'n..') and select it; `within`: the groups
        to open it from instead of those open now (Find's next match, without what it opened for the last)."""
        h, trace = self.current.hierarchy, self.trace
        start = self.opened if within is None else frozenset(within) | {ROOT}
        kind, index = split_key(key)
        if kind == 'n':
            opened = start | set(h.ancestors(trace.scope_of[index]))
        elif kind == 'v':  # a vector box: its group open
            opened = h.open_path(index, start) | {index}
        else:
            opened = h.open_path(index, start) - {index}
        self.selected = key
        self._emit('selection_changed')
        if opened != self.opened:
            self.set_open(opened, focus=key)
        else:
            self._emit('view_changed')

    def set_show_constants(self, show):
        if show != self.show_constants:
            self.show_constants = show
            self.set_open(self.opened, focus=self.selected)

    def select(self, key):
        if key != self.selected:
            self.selected = key
            self._emit('selection_changed')

    # Search

    def search(self, text):
        """Box keys matching text: an op (`exp`), a scalar's name in the code (`q[3]`, `total`; `pos 2 · q[3]`
        for one position's; the scalars of that exact name if there are any, else those whose names start with it or
        hold it: `q[3] (Σ 0..5)` is found by its own name), a parameter, a scope path, or a value
        (closest first). Matches of one kind come in reading order: position, then layer, then head."""
        trace, text = self.trace, text.strip()
        if not text:
            return []
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is not None:
            return [node_key(i) for i in sorted(range(len(trace)), key=lambda i: abs(trace.data[i] - value))[:50]]
        hits = [node_key(i) for i, op in enumerate(trace.op) if op == text][:500]
        low, pos = text.lower(), None
        qualified = SEARCH_POSITION.match(low)
        if qualified:
            pos, low = int(qualified[1]), qualified[2]
        exact, starts, inside = [], [], []  # q[3]; q[3] (Σ 0..5); wq[3][5]·x[5]
        for i, name in enumerate(trace.all_names):
            name = name.lower()
            if low in name and (pos is None or trace.position(i) == pos):
                (exact if name == low else starts if name.startswith(low) else inside).append(node_key(i))
        hits += exact or (starts + inside)[:500]  # q[3] is q[3], not also its partial sums and every wq[3][j]·x[j]
        hits += [group_key(s) for s in self._scopes_matching(low, pos)]
        return list(dict.fromkeys(hits))  # an exp found by its op and by its name `exps[2]` is one hit

    def _scopes_matching(self, low, pos=None):
        """The scopes whose path holds `low` (at position `pos`, if given), in reading order: position,
        then layer, then head, as the forward pass made them. A scope inside a match is not another match:
        `head 1` is pos 0's head 1, then pos 1's, ..., not its scores, softmax and sums on the way."""
        scopes = self.trace.scopes

        def matches(s):
            path = scopes[s].path.lower()
            return s > 0 and low in path and (pos is None or path.split(' / ', 1)[0] == f'pos {pos}')
        return [s for s in range(1, len(scopes)) if matches(s) and not matches(scopes[s].parent)]
