"""A scalar box reads name | op | data | grad: a dot product's terms ('q[4]·keys[1][4]') and every op
('**-0.5') whole, at 10 px or more, in cells of their own."""

from types import SimpleNamespace

from engine.graph.geometry import SCALAR_DATA, SCALAR_GRAD, SCALAR_WIDTH, box_size, scalar_cells
from engine.graph.keys import node_key
from explorer.graph.items import BoxItem


def test_dot_product_terms_and_every_op_are_whole_at_10_px(window, qtbot):
    s = window.session
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    head = 'pos 4 / layer 0 / attention / head 3 / scores / q·k[4]'
    with qtbot.waitSignal(s.view_changed, timeout=30000):
        s.open_group(s.trace.scope_id(head), to_scalars=True)
    qtbot.waitUntil(lambda: not window.graph.building(), timeout=20000)
    items = [window.graph.items_by_key[node_key(b.node)] for b in s.visible.boxes
             if b.node >= 0 and s.trace.scopes[b.scope].path.startswith(head)]
    products = [i for i in items if '·keys[' in i.box.title]
    assert len(products) == 4 and products[-1].box.title == 'q[15]·keys[4][15]'
    for item in products:
        (_, font, name), (_, op_font, op), (_, _, data) = item.scalar_labels()
        assert name == item.box.title and font.pixelSize() >= 10
        assert op == '*' and op_font.pixelSize() >= 10 and data == item.box.detail
    for op in sorted(set(s.trace.op)):
        node = s.trace.op.index(op)
        box = SimpleNamespace(key=node_key(node), node=node, scope=0, title='x', detail='-12.3456', op=op)
        item = BoxItem(window.graph, box, (0, 0, *box_size(box)))
        assert [label for *_, label in item.scalar_labels()] == ['x', op, '-12.3456'], op


def test_a_scalar_box_is_as_wide_as_its_cells_need():
    short = SimpleNamespace(title='loss', op='*', node=1, key='n1')
    long = SimpleNamespace(title='q[15]·keys[4][15]', op='**-0.5', node=2, key='n2')
    assert box_size(short)[0] == SCALAR_WIDTH  # the loss box keeps the overview narrow
    assert box_size(long)[0] > SCALAR_WIDTH
    op_x, data_x, grad_x = scalar_cells(long)
    assert box_size(long)[0] - grad_x == SCALAR_GRAD and grad_x - data_x == SCALAR_DATA
