"""Making the graph view's items from a layout: in slices of at most BUILD_SLICE_S per turn of the event
loop, with the garbage collector paused while they are made, then placing the view (a mixin of GraphView)."""

import time

from PySide6.QtCore import QEvent, QRectF
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QApplication

from engine import gc_pause
from engine.graph.keys import group_key

from explorer.graph import weight_grid
from explorer.graph.items import OPEN_HEAD_Z, BoxItem, ClusterItem, EdgeItem

BUILD_SLICE_S = 0.025  # making items for a big layout: at most this long per turn of the event loop


class SceneBuild:
    """Session -> items: a new recording drops them, a new layout makes them."""

    def _on_recorded(self):
        """The old items describe the old trace: drop them until the new layout arrives. A timeline step
        (the same boxes, other numbers) keeps them: the layout that follows renumbers them in place."""
        self._cells_before, self._weight_cells = self._weight_cells or self._cells_before, None
        if self.session.numbers_only and self._renumberable(self.session.layout):
            return
        fitted = self._fitted_once
        self._build_timer.stop()
        self._building = iter(())
        self._release_gc()
        self.scene().clear()
        self._built = None
        self.items_by_key, self.edges_by_key, self.flows, self.focus_key = {}, {}, {}, None
        self.box_flows = {}
        self._followed_key = None
        self._flow_items = []
        self._fitted_once = False
        self._weight_cells = None
        self.badge_items, self.weight_readers = [], {}
        self.highlighted_weights = self.highlighted_readers = frozenset()
        if self.session.numbers_only:  # a timeline step: same layout, new numbers; the view stays where it is
            self._fitted_once = fitted

    def _on_view_changed(self):
        """A new layout: items are made in slices of at most BUILD_SLICE_S per turn of the event loop,
        frames and boxes first, then the view is placed, then edges, so thousands of boxes never hold
        the window (a later layout abandons an unfinished build)."""
        lay, visible = self.session.layout, self.session.visible
        if self.session.numbers_only and self._renumberable(lay):
            self._renumber(visible)
            return
        focus = self.session.focus
        self._built = lay
        self._kept_view = ((self.transform(), self.horizontalScrollBar().value(), self.verticalScrollBar().value())
                           if self.session.numbers_only and self._fitted_once else None)  # restored by _place
        anchor = None  # where the focused group is on screen now: it stays there after the relayout
        if focus in self.items_by_key:
            anchor = self.mapFromScene(self.items_by_key[focus].sceneBoundingRect().center())
        self._build_timer.stop()
        scene = self.scene()
        scene.clear()
        self.items_by_key, self.edges_by_key, self._flow_items = {}, {}, []
        self.badge_items = []
        self.highlighted_weights = self.highlighted_readers = frozenset()
        scopes = self.session.trace.scopes
        self._weight_keys = {b.key for b in visible.boxes if weight_grid.is_weight_box(b, scopes)}
        self.weight_readers = weight_grid.readers(visible, scopes)
        scene.setBackgroundBrush(QBrush(QColor(self.colors['background'])))
        scene.setSceneRect(QRectF(-40, -40, lay.width + 80, lay.height + 80))
        self._update_scroll_area()
        self.selected_key = self.session.selected
        self._building = self._build(lay, visible, focus, anchor)
        self._hold_gc()
        self._continue_build()

    def _renumberable(self, lay):
        """The items are those of `lay`, all made: a timeline step can change their numbers in place."""
        return lay is not None and lay is self._built and not self.building() and bool(self.items_by_key)

    def _renumber(self, visible):
        """A timeline step: the boxes whose numbers changed take them, every weight grid its new values; nothing
        is made again and the view does not move. Marks and colours follow backprop, which started again."""
        for box in visible.boxes:
            item = self.items_by_key.get(box.key)
            if isinstance(item, BoxItem) and (item.box != box or weight_grid.matrix_of(box)):
                item.renumber(box)
        self.selected_key = self.session.selected
        self.minimap.redraw_soon()

    def _continue_build(self):
        deadline = time.perf_counter() + BUILD_SLICE_S
        for _ in self._building:
            if time.perf_counter() > deadline:
                self._build_timer.start()  # the rest after the window has had its turn
                return
        self._building = iter(())
        self._release_gc()

    def _hold_gc(self):
        """The garbage collector paused while a build makes its items: tens of thousands of new objects
        set off full collections (40-100 ms each, a visible stall) that find nothing to free."""
        if not self._gc_held:
            self._gc_held = True
            gc_pause.pause()

    def _release_gc(self):
        if self._gc_held:
            self._gc_held = False
            gc_pause.resume()

    def hideEvent(self, event):
        self._release_gc()  # a window closed mid-build never leaves the collector off
        super().hideEvent(event)

    def building(self):
        """True while the items of the last layout are still being made."""
        return self._build_timer.isActive()

    def _build(self, lay, visible, focus, anchor):
        scene = self.scene()
        heads = [self.scope_path(scope) for scope in lay.clusters
                 if self.scope_path(scope).rsplit(' / ', 1)[-1].startswith('head ')]
        for scope, rect in lay.clusters.items():
            item = ClusterItem(self, scope, rect)
            scene.addItem(item)
            self.items_by_key[group_key(scope)] = item
            path = self.scope_path(scope)
            if any(path == h or path.startswith(h + ' / ') for h in heads):  # an open head and its inside
                item.setZValue(OPEN_HEAD_Z + 0.01 * path.count(' / '))
            yield
        for box in visible.boxes:
            item = BoxItem(self, box, lay.boxes[box.key])
            scene.addItem(item)
            self.items_by_key[box.key] = item
            yield
        yield
        for key, names in weight_grid.badges(visible, self.session.trace.scopes).items():  # thousands at scalars
            badge = weight_grid.BadgeItem(self, key, names, lay.boxes[key])
            scene.addItem(badge)
            self.badge_items.append(badge)
            yield
        self.highlight_weight(self.selected_matrix())  # a selected grid keeps its uses outlined
        self._place(focus, anchor)
        yield
        in_head = {}  # scope -> inside an open head? (a few hundred scopes for thousands of boxes)
        for box in visible.boxes:
            if box.scope not in in_head:
                path = self.scope_path(box.scope)
                in_head[box.scope] = any(path == h or path.startswith(h + ' / ') for h in heads)
        inside = {box.key for box in visible.boxes if in_head[box.scope]}
        yield
        for edge in lay.edges:
            item = EdgeItem(self, edge)
            if edge[0] in inside or edge[1] in inside:  # drawn over the head's frame; the others pass under it
                item.setZValue(OPEN_HEAD_Z + 0.5)
            elif inside and len(heads) == 1:  # one head open: what does not touch it is context, paler (a
                item.fade(self.colors['background'])  # position opened whole opens every head: nothing fades)
            scene.addItem(item)
            self.edges_by_key[item.key] = item
            if edge[0] in self._weight_keys:
                item.setVisible(self.show_weight_edges)
            yield
        self._update_backprop_marks()
        self.minimap.refresh()

    def _place(self, focus, anchor):
        """Where the view goes once the boxes are in: the first view, or the focused group kept in place."""
        kept, self._kept_view = getattr(self, '_kept_view', None), None
        if kept is not None:  # a timeline step: exactly where it was
            self.setTransform(kept[0])
            self.horizontalScrollBar().setValue(kept[1])
            self.verticalScrollBar().setValue(kept[2])
            self.minimap.refresh()
            return
        first, self._first_view_next = not self._fitted_once or self._first_view_next, False
        if first:
            self._fitted_once = True
            QApplication.sendEvent(self, QEvent(QEvent.LayoutRequest))  # its scroll bars first: the room it has
            self.first_view()
        elif not (focus and focus in self.items_by_key) and self.transform().m11() < self.readable_scale() - 1e-9:
            self.first_view()  # nothing to keep in place, and zoomed out past reading: never a view without text
        elif focus and focus in self.items_by_key:
            target = self.items_by_key[focus].sceneBoundingRect().center()
            if anchor is not None:  # put it back under the same viewport point
                delta = self.mapToScene(anchor) - self.mapToScene(self.viewport().rect().center())
                self.centerOn(target - delta)
            else:
                self.centerOn(target)
            self.bring_into_view(self._with_inputs(focus))  # what was opened, readable, and what feeds it
        if self.selected_key in self.items_by_key and self.selected_key != focus:
            self.ensureVisible(self.items_by_key[self.selected_key], 40, 40)
        landing, self._landing = getattr(self, '_landing', None), None
        if landing is not None:  # Find, Scopes or a tour asked for it before these boxes were in
            self.land(*landing)
        self.minimap.refresh()
