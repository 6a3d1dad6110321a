"""Where the graph view looks: the readable scale, the first view, zoom and fit, and bringing a box into
sight clear of the window's edges and the minimap (a mixin of GraphView)."""

from PySide6.QtCore import QPointF, QRectF, QSizeF
from PySide6.QtGui import QPainter, QTransform
from PySide6.QtWidgets import QGraphicsView

from engine.graph.keys import split_key

from explorer.graph import weight_grid
from explorer.graph.items import LABEL_PX, BoxItem, ClusterItem, paints_text
from explorer.graph.minimap import MINIMAP_MARGIN

MIN_LABEL_PX = 10  # device pixels: no navigation zooms out so far that a label is smaller than this
EDGE_AA_SCALE = 0.5  # below this scale edges are drawn without antialiasing: many, thin, and far away
MAX_FIT = 1.5      # the first view and Z magnify no more than this (times the readable scale): context stays
EDGE_MARGIN = 24   # screen pixels kept clear around what the view brings into sight
LANDED_CELL_PX = 18  # a parameter found (Find, Scopes) is shown as a grid cell this wide on screen ...
LANDED_MAX = 3       # ... if that is no more than this times the readable scale (the grid stays in its context)


class Navigation:
    """Scale and scroll position of a GraphView; never changes what is drawn."""

    def readable_scale(self):
        """The smallest scale at which every label is MIN_LABEL_PX device pixels high or more."""
        return MIN_LABEL_PX / (LABEL_PX * self.devicePixelRatioF())

    def _update_scroll_area(self):
        """Let the view scroll half a window (at the readable scale) past the graph's edges, so that a box at
        an edge can be centred, or moved out from under the minimap."""
        scale = self.readable_scale()
        pad_x, pad_y = self.viewport().width() / 2 / scale, self.viewport().height() / 2 / scale
        self.setSceneRect(self.scene().sceneRect().adjusted(-pad_x, -pad_y, pad_x, pad_y))

    def _set_scale(self, scale):
        self.setTransform(QTransform.fromScale(scale, scale))
        self._update_render_hints()

    def _update_render_hints(self):
        """Edges (drawn natively with the view's hints) are antialiased only at scales where one can follow them."""
        self.setRenderHint(QPainter.Antialiasing, self.transform().m11() >= EDGE_AA_SCALE)

    def smallest_label_px(self):
        """The height in device pixels of the smallest label on screen now (0 if the scale is so small that
        boxes are drawn without text), or None if no labelled item is in view. An item class tells the size
        of its smallest text, in scene units, as `label_px`."""
        shown = self.mapToScene(self.viewport().rect()).boundingRect()
        sizes = [item.label_px for item in self.scene().items(shown) if getattr(item, 'label_px', None)]
        if not sizes:
            return None
        scale = self.transform().m11()
        return min(sizes) * scale * self.devicePixelRatioF() if paints_text(scale) else 0.0

    def _minimap_corner(self, scale):
        """The viewport's bottom-right corner the minimap covers (with a margin), in screen pixels from the
        viewport's bottom-right, or None when the minimap will not show at this scale."""
        if not self.show_minimap:
            return None
        scene = self.scene().sceneRect().adjusted(40, 40, -40, -40)
        if scene.width() * scale <= self.viewport().width() and scene.height() * scale <= self.viewport().height():
            return None
        return QSizeF(self.minimap.width() + 2 * MINIMAP_MARGIN, self.minimap.height() + 2 * MINIMAP_MARGIN)

    def _clear_rects(self, topleft, scale):
        """At this scale with the viewport's top-left at scene point `topleft`: the scene rectangle on screen
        minus EDGE_MARGIN, and the minimap's corner (or None)."""
        vw, vh = self.viewport().width() / scale, self.viewport().height() / scale
        m = EDGE_MARGIN / scale
        shown = QRectF(topleft.x() + m, topleft.y() + m, vw - 2 * m, vh - 2 * m)
        corner = self._minimap_corner(scale)
        if corner is None:
            return shown, None
        cw, ch = corner.width() / scale, corner.height() / scale
        return shown, QRectF(topleft.x() + vw - cw, topleft.y() + vh - ch, cw, ch)

    def _in_clear_view(self, rect, topleft, scale):
        shown, minimap = self._clear_rects(topleft, scale)
        return shown.contains(rect) and (minimap is None or not minimap.intersects(rect))

    def _show_at(self, topleft, scale):
        """Scale, and put scene point `topleft` at the viewport's top-left corner."""
        self._set_scale(scale)
        size = QSizeF(self.viewport().width() / scale, self.viewport().height() / scale)
        self.centerOn(QRectF(topleft, size).center())

    def _topleft(self):
        return self.mapToScene(self.viewport().rect()).boundingRect().topLeft()

    def first_view(self):
        """The whole graph if it fits at a readable scale (fonts MIN_LABEL_PX high or more); otherwise the
        readable scale: a document with more positions than fit across shows its start (pos 0 and the
        weights; the minimap has the rest, and the first backprop step follows to the loss), else the view
        that shows the loss, then as many frame titles, then as many boxes as it can."""
        readable = self.readable_scale()
        content = self._content()
        if self._fit_whole(content):
            return
        if content.width() * readable > self.viewport().width() - 2 * EDGE_MARGIN:  # too many positions: the
            m = EDGE_MARGIN / readable                 # start, pos 0 first, and the weights over them, as one reads
            self._show_at(QPointF(content.left() - m, content.top() - m), readable)
        else:
            self._show_at(self._best_topleft(content, readable), readable)
        self.minimap.refresh()

    def first_view_when_drawn(self):
        """Collapse all: the next view placed is the first view (the whole overview, readable), wherever the
        view was and however far it was zoomed."""
        self._first_view_next = True

    def _content(self):
        lay = self.session.layout
        return QRectF(0, 0, lay.width, lay.height)

    def _fit_whole(self, content):
        """Show the whole of `content`, centred, as large as fits up to MAX_FIT times the readable scale, if it
        fits at the readable scale or more; else change nothing and say False."""
        readable = self.readable_scale()
        fit = min((self.viewport().width() - 2 * EDGE_MARGIN) / max(content.width(), 1),
                  (self.viewport().height() - 2 * EDGE_MARGIN) / max(content.height(), 1))
        if fit < readable:
            return False
        self._set_scale(min(fit, MAX_FIT * readable))
        self.centerOn(content.center())
        self.minimap.refresh()
        return True

    def _landmarks(self):
        """What the first view tries to show, most important first: the loss box, frame titles, boxes."""
        trace, key_of = self.session.trace, self.session.visible.key_of
        loss = self.items_by_key.get(key_of[trace.loss_id])
        titles = [item.title_rect().translated(item.pos()) for item in self.items_by_key.values()
                  if isinstance(item, ClusterItem)]
        boxes = [item.sceneBoundingRect() for item in self.items_by_key.values() if isinstance(item, BoxItem)]
        return ([loss.sceneBoundingRect()] if loss is not None else []), titles, boxes

    def _best_topleft(self, content, scale):
        """Of the viewport positions that put a landmark against an edge, the one that shows the loss, then
        the most titles, then the most boxes, clear of the edges and the minimap; ties go to the start of
        the graph (top, then left)."""
        must, titles, boxes = ([r.getCoords() for r in rects] for rects in self._landmarks())
        vw, vh = self.viewport().width() / scale, self.viewport().height() / scale
        m = EDGE_MARGIN / scale
        corner = self._minimap_corner(scale) or QSizeF(0, 0)
        cw, ch = corner.width() / scale, corner.height() / scale
        lo_x, hi_x = content.left() - m, max(content.left() - m, content.right() + m - vw)
        lo_y, hi_y = content.top() - m, max(content.top() - m, content.bottom() + m - vh)
        xs, ys = {lo_x, hi_x}, {lo_y, hi_y}
        for x1, y1, x2, y2 in must + titles + boxes:  # a landmark against an edge (or beside the minimap)
            xs |= {x1 - m, x2 + m - vw, x2 + cw + m - vw}
            ys |= {y1 - m, y2 + m - vh, y2 + ch + m - vh}
        for x1, y1, x2, y2 in must:  # only positions that can show the loss
            xs = {x for x in xs if x2 + m - vw <= x <= x1 - m} or xs
            ys = {y for y in ys if y2 + m - vh <= y <= y1 - m} or ys
        xs = sorted({min(hi_x, max(lo_x, x)) for x in xs})
        ys = sorted({min(hi_y, max(lo_y, y)) for y in ys})

        def seen(rects, x, y):
            left, top, right, bottom = x + m, y + m, x + vw - m, y + vh - m
            mx, my = x + vw - cw, y + vh - ch  # the minimap's corner, when there is one
            return sum(1 for x1, y1, x2, y2 in rects if left <= x1 and top <= y1 and x2 <= right and y2 <= bottom
                       and not (cw and x2 > mx and y2 > my))
        best, best_score = (lo_x, lo_y), None
        for y in ys:
            for x in xs:
                score = (seen(must, x, y), seen(titles, x, y))
                if best_score is not None and score < best_score[:2]:
                    continue
                score += (seen(boxes, x, y), -y, -x)
                if best_score is None or score > best_score:
                    best, best_score = (x, y), score
        return QPointF(*best)

    def fit(self):
        """F: the whole graph, as the first view shows it, when its text can be read so. Otherwise the
        readable scale (the smallest at which every label is MIN_LABEL_PX high), as much of the graph as that
        shows around the middle of the view and the selection in it, the minimap for the rest, and a
        sentence saying so: F never leaves boxes drawn without text, or text too small to read."""
        if self.session.layout is None:
            return
        content = self._content()
        if self._fit_whole(content):
            return
        scale = self.readable_scale()
        vw, vh = self.viewport().width() / scale, self.viewport().height() / scale
        m = EDGE_MARGIN / scale
        centre = self.mapToScene(self.viewport().rect().center())
        item = self.items_by_key.get(self.selected_key)
        selected = item.sceneBoundingRect() if item is not None else self.param_cell_rect(self.selected_key)
        if selected is not None and (selected.width() > vw - 2 * m or selected.height() > vh - 2 * m):
            selected = None  # larger than the window: the middle of the view stays
        if selected is not None and not self._in_clear_view(selected, centre - QPointF(vw / 2, vh / 2), scale):
            centre = selected.center()  # out of sight: the selection is what the learner is looking for
        x = min(max(centre.x(), content.left() - m + vw / 2), content.right() + m - vw / 2)  # the view full of
        y = min(max(centre.y(), content.top() - m + vh / 2), content.bottom() + m - vh / 2)  # graph, no blank
        self._set_scale(scale)
        self.centerOn(QPointF(x, y))
        if selected is not None:
            self._keep_clear(selected)  # clear of the edges and the minimap
        self.minimap.refresh()
        self.message.emit('The whole graph is too large to read in this window: the minimap in the corner '
                          'shows all of it, and Ctrl+- zooms out further.')

    def zoom_to_selection(self):
        """The selection as large as fits (up to MAX_FIT times the readable scale), never below the readable
        scale; centred, or if it is larger than the window at that scale, its top-left corner (its title)
        in view. A parameter selected in its grid: its cell, as Find shows it."""
        item = self.items_by_key.get(self.selected_key)
        if item is not None:
            self.bring_into_view(item.sceneBoundingRect(), zoom_in=True)
        elif self.selected_key:
            self.land(self.selected_key)  # a parameter, drawn as a cell of its grid: the cell, large enough to see

    def bring_into_view(self, rect, zoom_in=False):
        """Make scene rectangle `rect` visible at a readable scale, clear of the edges and the minimap.
        Without zoom_in: zoom out only if it needs room (never below the readable scale) and move as little
        as needed; with zoom_in: as large as fits, up to MAX_FIT times the readable scale, centred. When it
        is larger than the window even at the readable scale, its top-left corner (its title) is shown."""
        readable, now = self.readable_scale(), self.transform().m11()
        room_w = self.viewport().width() - 2 * EDGE_MARGIN
        room_h = self.viewport().height() - 2 * EDGE_MARGIN
        fit = min(room_w / max(rect.width(), 1), room_h / max(rect.height(), 1))
        scale = max(readable, min(fit, MAX_FIT * readable) if zoom_in else min(now, fit))
        if rect.width() * scale > room_w or rect.height() * scale > room_h:
            m = EDGE_MARGIN / scale
            self._show_at(QPointF(rect.left() - m, rect.top() - m), scale)
        elif zoom_in:
            self._set_scale(scale)
            self.centerOn(rect.center())
            while not self._in_clear_view(rect, self._topleft(), scale) and scale > readable:
                scale = max(readable, scale * 0.85)  # smaller, until it is clear of the minimap
                self._set_scale(scale)
                self.centerOn(rect.center())
            self._keep_clear(rect)
        else:
            if abs(scale - now) > 1e-9:
                centre = self.mapToScene(self.viewport().rect().center())
                self._set_scale(scale)
                self.centerOn(centre)
            self._keep_clear(rect)
        self.minimap.refresh()

    def _keep_clear(self, rect):
        """Move as little as needed to show scene rectangle `rect` clear of the edges and the minimap (the
        view scrolls half a window past the graph's edges, so a box in the corner, the loss, can be)."""
        scale, topleft = self.transform().m11(), self._topleft()
        if not self._in_clear_view(rect, topleft, scale):
            self._show_at(self._nearest_topleft(rect, topleft, scale), scale)

    def _nearest_topleft(self, rect, topleft, scale):
        """The smallest move of the viewport's top-left that puts rect in clear view (beside the minimap)."""
        vw, vh = self.viewport().width() / scale, self.viewport().height() / scale
        m = EDGE_MARGIN / scale
        x = min(max(topleft.x(), rect.right() + m - vw), rect.left() - m)
        y = min(max(topleft.y(), rect.bottom() + m - vh), rect.top() - m)
        at = QPointF(x, y)
        if self._in_clear_view(rect, at, scale):
            return at
        return QPointF(rect.center().x() - vw / 2, rect.center().y() - vh / 2)  # the centre is clear of the minimap

    def land_when_drawn(self, key, centre=False):
        """land(key, centre) now, or when the layout and boxes on their way are in."""
        if self.session.layout_pending or self.building():
            self._landing = (key, centre)
        else:
            self.land(key, centre)

    def land(self, key, centre=False):
        """Find and Scopes: show box `key` at a readable scale, moving as little as needed (with `centre`, as a
        tour shows what it talks about: in the middle, with what is around it); a parameter drawn as a cell of
        its matrix's grid, that cell large enough to see (LANDED_CELL_PX), centred. False if `key` is not drawn."""
        item = self.items_by_key.get(key)
        if item is not None:
            rect = item.sceneBoundingRect()
            self.bring_into_view(rect)
            scale = self.transform().m11()
            if centre and rect.width() * scale <= self.viewport().width() - 2 * EDGE_MARGIN and \
                    rect.height() * scale <= self.viewport().height() - 2 * EDGE_MARGIN:
                self.centerOn(rect.center())
                self._keep_clear(rect)  # the middle may be under the minimap
                self.minimap.refresh()
            return True
        cell = self.param_cell_rect(key)
        if cell is None:
            return False
        readable = self.readable_scale()
        self._set_scale(max(readable, min(LANDED_CELL_PX / max(cell.width(), 1e-6), LANDED_MAX * readable)))
        self.centerOn(cell.center())
        self._keep_clear(cell)
        self.minimap.refresh()
        return True

    def param_cell_rect(self, key):
        """The scene rectangle of parameter scalar `key`'s cell in its matrix's grid, or None."""
        if not key:
            return None
        kind, node = split_key(key)
        where = self.session.trace.params.get(node) if kind == 'n' else None
        if where is None:
            return None
        name, row, col = where
        for item in self.items_by_key.values():
            if isinstance(item, BoxItem) and item._grid_name() == name:
                grid, transposed, across, down, cw, ch = weight_grid.cell_rects(item, name, self.weight_cells())
                i, j = (row, col) if transposed else (col, row)
                return item.mapRectToScene(QRectF(grid.left() + i * cw, grid.top() + j * ch, cw, ch))
        return None

    def zoom(self, factor, about_mouse=False):
        """Zoom by `factor`: about the mouse for the wheel (`about_mouse`); from the keyboard or a menu (Ctrl+-,
        Ctrl++) about the selection if it is on screen, else the middle of the view. The keys zoomed about
        wherever the mouse happened to rest, and the view jumped away from what the learner was looking at."""
        scale = self.transform().m11()
        factor = max(0.02 / scale, min(8.0 / scale, factor))
        if about_mouse:
            self.scale(factor, factor)
        else:
            shown = self.mapToScene(self.viewport().rect()).boundingRect()
            item = self.items_by_key.get(self.selected_key)
            anchor = item.sceneBoundingRect().center() if item is not None and \
                shown.intersects(item.sceneBoundingRect()) else shown.center()
            at = self.mapFromScene(anchor)
            self.setTransformationAnchor(QGraphicsView.NoAnchor)
            self.scale(factor, factor)
            self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
            moved = self.mapFromScene(anchor) - at  # the anchor back where it was on screen
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        self._update_render_hints()
        self.minimap.refresh()

    def _with_inputs(self, key):
        """The scene rectangle of box or frame `key` united with the boxes beside it (in its parent's frame)
        that feed it, e.g. an opened head with the q, k and v linears its vectors come from, when that still
        fits the window at the readable scale; otherwise its own rectangle (what was opened comes first)."""
        rect = self.items_by_key[key].sceneBoundingRect()
        kind, scope = split_key(key)
        visible = self.session.visible
        if kind != 'g' or ' / ' not in self.scope_path(scope):
            return rect
        path = self.scope_path(scope)
        parent = path.rsplit(' / ', 1)[0] + ' / '
        inside = {b.key for b in visible.boxes if (p := self.scope_path(b.scope)) == path or p.startswith(path + ' / ')}
        united = QRectF(rect)
        for src, dst, _count in visible.edges:
            if dst in inside and src not in inside and src in self.items_by_key:
                if self.scope_path(visible.box(src).scope).startswith(parent):
                    united = united.united(self.items_by_key[src].sceneBoundingRect())
        scale = self.readable_scale()
        room_w = self.viewport().width() - 2 * EDGE_MARGIN
        room_h = self.viewport().height() - 2 * EDGE_MARGIN
        return united if united.width() * scale <= room_w and united.height() * scale <= room_h else rect
