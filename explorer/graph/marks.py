"""What the graph view marks over its boxes: the box backprop applied last and the gradient its step sent
(FlowItems), a weight matrix's readers, and a panel's tint (a mixin of GraphView)."""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPen

from explorer.graph import weight_grid
from engine.graph.geometry import FLOW_PAD, LINE, WIDEST_NUMBER, flow_text
from engine.gradient.box_flows import BoxFlows, sent_text
from engine.graph.keys import is_node_key, split_key
from explorer.graph.items import BoxItem, ClusterItem, EdgeItem, FlowItem, FlowLabel

ALONG = (0.5, 0.38, 0.62, 0.26, 0.74, 0.14, 0.86)  # where on its edge a gradient's label is tried, in this order
ALONG_KV = (0.1, 0.16, 0.22, 0.3, 0.38, 0.5, 0.62, 0.74)  # on a KV edge: near the position it flows back into,
                                                       # where the edges sharing the bus part
ARROWHEAD = 6.0    # an arrowhead's length: a label keeps this far from an edge's tip


class Marks:
    """Repaints what a backprop step, a hovered weight or a tint changes; never moves the view."""

    def highlight_weight(self, name):
        """Outline matrix `name` and every box that reads it (None: nothing)."""
        weights = frozenset([name]) if name else frozenset()
        if weights == self.highlighted_weights:
            return
        keys = set(self.highlighted_readers)
        self.highlighted_weights = weights
        self.highlighted_readers = frozenset(self.weight_readers.get(name, ())) if name else frozenset()
        for key in keys | self.highlighted_readers | {k for k, i in self.items_by_key.items()
                                                       if isinstance(i, BoxItem) and weight_grid.matrix_of(i.box)}:
            item = self.items_by_key.get(key)
            if item is not None:
                item.update()
        for badge in self.badge_items:
            badge.update()

    def set_weight_edges(self, on):
        """Show or hide the edges out of the weights (View › Weight edges)."""
        self.show_weight_edges = on
        for key, edge in self.edges_by_key.items():
            if key[0] in self._weight_keys:
                edge.setVisible(on)

    def _on_moved(self, changed):
        """Backprop moved: repaint the boxes and edges it touched (all of them after a jump)."""
        visible = self.session.visible
        if visible is None or not self.items_by_key:
            return
        old_focus = self.focus_key  # (a new layout sets it without a step: the first step's box is followed)
        self._update_backprop_marks()
        if changed is None:  # boxes only: edges do not change, and repainting them all costs most
            for key, item in self.items_by_key.items():
                if is_node_key(key) or isinstance(item, BoxItem):
                    item.update()
        else:
            key_of, vectors_of = visible.key_of, visible.vectors_of
            keys = {key_of[n] for n in changed} | {k for n in changed for k in vectors_of.get(n, ())}
            for key in keys | {old_focus, self.focus_key}:
                item = self.items_by_key.get(key)
                if item is not None:
                    item.update()
        self.minimap.redraw_soon()
        stepped_in = changed is not None and self.focus_key != self._followed_key  # a step into a box not yet shown
        if self.follow and (self.focus_key != old_focus or stepped_in):
            self._followed_key = self.focus_key
            item = self.items_by_key.get(self.focus_key)  # kept clear of the edges and the minimap
            if item is not None and not self._in_clear_view(item.sceneBoundingRect(), self._topleft(),
                                                            self.transform().m11()):
                self.centerOn(item)

    def _repaint_boxes(self):
        """Every box redrawn (its cached picture too): a mark on it changed, e.g. a breakpoint."""
        for item in self.items_by_key.values():
            item.update()

    def _update_backprop_marks(self):
        """Which box is current, and FlowItems over the edges that carry the last step's gradient (and what the
        closed group being stepped has sent so far); made again only when a label changes, which most steps
        inside a group do not."""
        bp, key_of = self.session.backprop, self.session.visible.key_of
        focus, self.focus_key = self.focus_key, key_of[bp.focus_node()]
        if focus != self.focus_key:
            self._place_minimap()  # not over the box backprop is in
        if self.focus_key in self.items_by_key:  # a build in slices may have painted (and cached) it unmarked
            self.items_by_key[self.focus_key].update()
        self.flows, self.box_flows = {}, {}
        record = bp.stepper.last_record()
        if record is not None:
            self.flows = self._sent_by_step(record)
            self.box_flows = self._sent_by_focus(bp)
        texts = {key: flow_text(total, count) for key, (total, count) in self.flows.items()}
        texts.update({key: sent_text(per_child) for key, per_child in self.box_flows.items()})
        texts = {key: text for key, text in texts.items()  # not over a hidden weight edge
                 if key in self.edges_by_key and self.edges_by_key[key].isVisible()}
        drawn = (self._built, self.show_weight_edges, len(self.edges_by_key), frozenset(texts))
        if getattr(self, '_flows_drawn', None) == drawn and (self._flow_items or not texts) \
                and self._relabel(texts):
            return
        self._flows_drawn = drawn
        for item in self._flow_items:
            self.scene().removeItem(item)
        self._flow_items = []
        kv = self.session.visible.kv_edges  # after the others: on their shared bus, each near its own position
        order = sorted(texts.items(), key=lambda kt: kt[0] in kv)
        rects = self._label_rooms(order, wide=True)
        if rects is None:  # no room for the widest numbers: each label as wide as its text
            rects = self._label_rooms(order, wide=False)
        for (key, text), rect in zip(order, rects):
            label = FlowLabel(self, text, rect)
            label.key = key
            for item in (FlowItem(self, self.edges_by_key[key]), label):
                self.scene().addItem(item)
                self._flow_items.append(item)

    def _label_rooms(self, order, wide):
        """Where each (edge key, text) label goes, in order. With `wide`, what a group sends (its number changes
        as it steps) gets room for the widest number, so that the next steps write into the same place; None
        when some label then finds no free place."""
        metrics, taken = QFontMetricsF(self.small_font), []
        for key, text in order:
            width = metrics.horizontalAdvance(text)
            if wide and key in self.box_flows:
                width = max(width, metrics.horizontalAdvance(text.split(' ')[0] + ' ' + WIDEST_NUMBER.lstrip('-')))
            rect = self.flow_label_rect(self.edges_by_key[key], width + 2 * FLOW_PAD, taken)
            if wide and self._covered(rect, taken):
                return None
            taken.append(rect)
        return taken

    def _relabel(self, texts):
        """The same edges carry the gradient as before: write the new amounts into their labels, where each fits
        the room it has (False where one does not: the labels are placed again)."""
        labels = {item.key: item for item in self._flow_items if isinstance(item, FlowLabel)}
        metrics = QFontMetricsF(self.small_font)
        if any(metrics.horizontalAdvance(texts[key]) + 2 * FLOW_PAD > label.rect.width() + 0.01
               for key, label in labels.items()):
            return False
        for key, label in labels.items():
            if label.text != texts[key]:
                label.text = texts[key]
                label.update()
        return True

    def _sent_by_step(self, record):
        """{(child box, node box): (gradient, scalar edges)}: what the last step sent across boxes' sides."""
        key_of, vectors_of = self.session.visible.key_of, self.session.visible.vectors_of
        node_key, flows = key_of[record.node], {}
        for c in record.contributions:
            child_key = key_of[c.child]
            if child_key is not None and child_key != node_key:
                hops = [(child_key, node_key)]
                via = next((v for v in vectors_of.get(c.child, ()) if (v, node_key) in self.edges_by_key), None)
                if via is not None:  # read through a vector box (q, keys, values in an open head)
                    hops = [(child_key, via), (via, node_key)]
                for hop in hops:
                    total, count = flows.get(hop, (0.0, 0))
                    flows[hop] = (total + c.contribution, count + 1)
        return flows

    def _sent_by_focus(self, bp):
        """{edge: {child: gradient}}: what the closed group backprop is stepping through has sent back along
        each of its edges so far (engine.gradient.box_flows); {} when the last step was a scalar's own box."""
        key = self.focus_key
        if key is None or key[0] != 'g' or bp.stepper.position < 2:
            return {}
        cached = getattr(self, '_box_flows', None)
        visible = self.session.visible
        shape = (key, len(self.edges_by_key), self.show_weight_edges)
        if cached is None or cached[0] is not visible or cached[1] != shape:
            nodes = self.session.current.hierarchy.nodes_in(split_key(key)[1])
            drawn = {k for k, edge in self.edges_by_key.items() if edge.isVisible()}  # not the hidden weight edges
            cached = (visible, shape, BoxFlows(self.session.trace, visible, nodes, key, drawn))
            self._box_flows = cached
        return cached[2].sent(bp.grads, bp.schedule.applied_at, bp.stepper.position)

    def flow_label_rect(self, edge, width, taken):
        """Where the label of the gradient along `edge` goes (scene coordinates): the room its group's layout
        kept free beside it (`Layout.labels`), else on or beside a point of its line, the first place that covers
        no box, badge, frame title, arrowhead or label placed already (`taken`); where there is none, the place
        that covers least."""
        reserved = self.session.layout.labels.get(edge.key)
        candidates = []
        if reserved is not None:
            x, y, w, h = reserved
            candidates.append(QRectF(x + (w - width) / 2, y + (h - LINE) / 2, width, LINE))
        for t in ALONG_KV if edge.kv else ALONG:
            p = edge.curve.pointAtPercent(t)
            for dx, dy in ((-width / 2, -LINE / 2), (4, -LINE / 2), (-4 - width, -LINE / 2), (-width / 2, -3 - LINE),
                           (-width / 2, 3)):
                candidates.append(QRectF(p + QPointF(dx, dy), QRectF(0, 0, width, LINE).size()))
        best, least = None, None
        for rect in candidates:
            covered = self._covered(rect, taken)
            if covered == 0:
                return rect
            if least is None or covered < least:
                best, least = rect, covered
        return best

    def _covered(self, rect, taken):
        """How much of `rect` (area) lies over what a label must leave visible."""
        area = 0.0
        for r in self.text_obstacles(rect) + [t for t in taken if t.intersects(rect)]:
            common = r.intersected(rect)
            area += common.width() * common.height()
        return area

    def text_obstacles(self, rect):
        """What in `rect` a label placed there would cover: the boxes (their badges and rings too), frame titles
        and arrowheads, as scene rectangles."""
        out = []
        for item in self.scene().items(rect):
            if not item.isVisible():
                continue
            if isinstance(item, ClusterItem):
                r = item.title_rect().translated(item.pos())
            elif isinstance(item, EdgeItem):
                if item.tip is None:
                    continue
                r = QRectF(item.tip.x() - ARROWHEAD, item.tip.y() - ARROWHEAD, 2 * ARROWHEAD, 2 * ARROWHEAD)
            elif isinstance(item, (BoxItem, weight_grid.BadgeItem)):
                r = item.sceneBoundingRect()
            else:
                continue
            if r.intersects(rect):
                out.append(r)
        return out

    # Tints (issue 13): a panel lights a set of nodes (what a line made, what a nudge changed, a cone, a
    # path) over whatever the boxes show, in drawForeground, so the boxes' own painting is untouched.

    def set_tint(self, strengths, label=''):
        """Light the boxes holding these nodes: {node id: strength 0..1} (a group: its strongest node), drawn
        from a faint thin ring (0) to a deep thick one (1); a negative strength lights in the second colour
        (teal: what the selection depends on, where amber is what depends on it). None or {} clears. `label` says what is lit (`tint_label()`): the window shows it in the status
        bar, not over the graph, where it would cover boxes. The colour, amber, is no other mark's: not the
        green of a group's done part, nor the teal of the KV cache."""
        self._tint = (dict(strengths or {}), label)
        self._tint_keys = None
        self.viewport().update()

    def tinted_keys(self):
        """{box key: strength} of the visible boxes the tint lights: a box's strongest node, spread over the
        boxes shown (the faintest lit box thin, the strongest thick), so that a scale of nodes reads on boxes."""
        tint = getattr(self, '_tint', None)
        visible = self.session.visible
        if not tint or not tint[0] or visible is None:
            return {}
        if self._tint_keys is None or self._tint_keys[0] is not visible:
            key_of, keys, other = visible.key_of, {}, {}
            for node, s in tint[0].items():
                key = key_of[node]
                if key is not None and (key not in keys or abs(s) > abs(keys[key])):
                    keys[key] = s  # a group: its strongest node, with that node's colour
            for node, s in tint[0].items():  # and the strongest of the other colour, if it holds both
                key = key_of[node]
                if key is not None and (s < 0) != (keys[key] < 0) and abs(s) > abs(other.get(key, 0.0)):
                    other[key] = s
            self._tint_keys = (visible, spread(keys), spread(other))
        return self._tint_keys[1]

    def tinted_both(self):
        """{box key: strength of the other colour} for the boxes holding nodes lit in both colours (a Cone's
        attention box holds what the node depends on and what depends on it): drawn as a thin second ring around it."""
        self.tinted_keys()
        return self._tint_keys[2] if getattr(self, '_tint_keys', None) else {}

    def drawForeground(self, painter, rect):
        super().drawForeground(painter, rect)
        keys = self.tinted_keys()
        if not keys:
            return
        both = self.tinted_both()
        for key, s in keys.items():
            item = self.items_by_key.get(key)
            if item is None:
                continue
            box = item.sceneBoundingRect()
            if not box.intersects(rect):
                continue
            self._ring(painter, box, s, fill=True)  # on the box's border: outside it, it covered frame titles
            if key in both:  # a thin ring of the other colour just outside: inside, it crossed the box's title
                self._ring(painter, box.adjusted(-4.5, -4.5, 4.5, 4.5), both[key], fill=False, width=2.0)

    def _ring(self, painter, box, s, fill, width=None):
        color = QColor(self.colors['tint' if s >= 0 else 'tint_source'])
        strength = max(0.0, min(1.0, abs(s)))
        color.setAlphaF(0.25 + 0.75 * strength)
        painter.setPen(QPen(color, width or 1.0 + 4.0 * strength))  # 1 px faint ... 5 px deep: the scale is visible
        painter.setBrush(QColor(color.red(), color.green(), color.blue(), int(15 + 70 * strength)) if fill else Qt.NoBrush)
        painter.drawRoundedRect(box, 6, 6)

    def tint_label(self):
        """What is lit ('line 118 made 585 nodes in this pass'), or '' when nothing is."""
        tint = getattr(self, '_tint', None)
        return tint[1] if tint and tint[0] else ''


def spread(strengths):
    """{key: strength} with the strengths of each colour spread from 0.1 to 1 (their order kept); all alike
    are left as they are. A nudge lights nodes on a log scale of 8 decades, but the boxes of the overview
    each take their strongest node, which were all within two decades of the largest: every ring looked the same."""
    out = dict(strengths)
    for sign in (1, -1):
        mine = {k: abs(s) for k, s in strengths.items() if (s < 0) == (sign < 0)}
        if len(mine) < 2:
            continue
        lo, hi = min(mine.values()), max(mine.values())
        if hi - lo > 1e-12:
            for k, s in mine.items():
                out[k] = sign * (0.1 + 0.9 * (s - lo) / (hi - lo))
    return out
