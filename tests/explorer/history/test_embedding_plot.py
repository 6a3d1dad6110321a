"""explorer/history/embedding_plot.py: embedding labels never overlap: each goes beside its point where
there is room, further out with a line where there is not, and a point in a crowd with no room left keeps
its label for hover."""

from PySide6.QtCore import QPointF, QRectF

from explorer.history.embedding_plot import DOT_R, place_labels


def overlaps(rects):
    rects = [r for r in rects if r is not None]
    return [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:] if a.intersects(b)]


def test_labels_in_a_dense_cluster_do_not_overlap_and_lone_points_keep_theirs_beside_them():
    cluster = [QPointF(200 + (i % 5) * 6, 150 + (i // 5) * 5) for i in range(20)]
    lone = [QPointF(40, 40), QPointF(360, 260)]
    points = cluster + lone
    rects = place_labels(points, [(14, 12)] * len(points), QRectF(0, 0, 400, 300))
    assert not overlaps(rects)
    for r in rects:
        assert r is None or not any(r.intersects(QRectF(p.x() - DOT_R, p.y() - DOT_R, 2 * DOT_R, 2 * DOT_R))
                                    for p in points)
    assert sum(r is not None for r in rects[:20]) >= 12   # most of the crowd still labelled, further out
    for p, r in zip(lone, rects[20:]):
        assert r is not None and r.adjusted(-6, -6, 6, 6).contains(p)  # right beside its point


def test_the_real_embedding_plot_draws_no_overlapping_labels(window, qtbot):
    with qtbot.waitSignal(window.timeline.loaded, timeout=30000):
        window.docks['embedding_dock'].raise_()
        window.timeline.ensure_loaded()
    canvas = window.embedding_plot.canvas
    qtbot.waitUntil(lambda: len(canvas.paths) == 27, timeout=10000)
    canvas.repaint()
    assert len(canvas.label_rects) == 27 and not overlaps(canvas.label_rects)
    assert sum(r is not None for r in canvas.label_rects) >= 20


def test_a_model_without_wpe_says_why_there_is_nothing_to_plot():
    from engine.model import GPTConfig
    from explorer.history.embedding_plot import no_matrix
    assert 'rotation of q and k' in no_matrix(GPTConfig(position='rope'), 'wpe')
    assert no_matrix(GPTConfig(arch='bigram', n_layer=0), 'wpe') == 'This model has no wpe: the bigram reads only the token.'
