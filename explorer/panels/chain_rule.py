"""The Chain rule panel: the last backprop step written out as `child.grad += local_grad * node.grad`
(chain_rule_html), and what a group step just completed did (summary_html)."""

from html import escape

from engine.backprop import local_symbol, rule
from engine.gradient.group_steps import cell_text, summary
from engine.graph.keys import group_key, is_node_key
from engine.numbers import shown

from explorer import theme
from explorer.panels.rich_text import LinkBrowser, adam_html, node_link


class ChainRulePanel(LinkBrowser):
    """The last step written out: the node, its rule, and per child `grad += local × grad(node)`."""

    def __init__(self, session, parent=None):
        super().__init__(session, parent)
        session.backprop.moved.connect(self.refresh)
        session.view_changed.connect(self.refresh)  # a summary's words follow what the view draws

    def refresh(self, _changed=None):
        bp, trace = self.session.backprop, self.session.trace
        if bp.stepper is None or trace is None:
            self.clear()
            return
        self.setHtml(chain_rule_html(self.session))


def summary_html(session, unit_list):
    """What the units a group step just completed did in backward: identities, numbers, the check."""
    bp, trace = session.backprop, session.trace
    html = []
    for unit in unit_list:
        s = summary(trace, bp.grads, unit, session.current.hierarchy)
        html.append(f'<p><b>{escape(s.title)}</b><br><a href="{group_key(unit.scope)}">{escape(unit.path)}</a>: '
                    'its backward pass is done.</p>')
        html.append('<p>' + '<br>'.join(f'<code>{escape(f)}</code>' for f in s.formulas) + '</p>')
        html.extend(f'<p>{escape(note)}</p>' for note in s.notes)
        html.extend(f'<p>{escape(m.what[0].upper() + m.what[1:])}: {where_drawn(session, m)}.</p>' for m in s.marked)
        for table in s.tables:
            html.append(f'<p style="margin-bottom:0"><i>{escape(table.title)}</i></p>'
                        '<table cellspacing="0" cellpadding="2" border="0"><tr>'
                        + ''.join(f'<th align="right" style="white-space:nowrap; padding-left:8px"><small>{escape(h)}</small></th>' for h in table.header) + '</tr>')
            order = list(range(len(table.rows)))
            if table.highlight >= 0:  # the target first, where it is seen without scrolling
                order.insert(0, order.pop(table.highlight))
            for i in order:
                row = table.rows[i]
                style = f' style="background-color:{theme.current()["target_row"]}"' if i == table.highlight else ''
                html.append(f'<tr{style}>' + ''.join(f'<td align="right" style="white-space:nowrap; padding-left:8px">{escape(cell_text(v))}</td>'
                                                for v in row)
                            + '</tr>')
            html.append('</table>')
        for check in s.checks:
            verdict = 'agrees' if check.agrees else f'<b style="color:{theme.current()["alarm_text"]}">disagrees</b>'
            html.append(f'<p style="color:{theme.current()["hint_text"]}">check <code>{escape(check.what)}</code> against the stepper: '
                        f'{verdict}, max difference {check.max_diff:.1e} over {len(check.stepper)} numbers.</p>')
    return ''.join(html)


def where_drawn(session, marked):
    """Where the view shows the scalars a summary points at (engine Marked), in words that name only what is on
    screen: hatched scalar boxes, grey cells of a strip, or, where the view draws none of them, a link that
    shows the group whose strip holds them."""
    visible, trace = session.visible, session.trace
    keys = [visible.key_of[n] for n in marked.nodes]
    if any(k is not None and is_node_key(k) for k in keys):
        return 'hatched on the graph'
    for n, k in zip(marked.nodes, keys):
        if visible.vectors_of.get(n):
            return f'grey cells of {escape(visible.box(visible.vectors_of[n][0]).title)} on the graph'
        if k is not None and any(cell[0] == n for cell in visible.box(k).cells):
            return f'grey cells in the strip of {escape(visible.box(k).title)} on the graph'
    hidden_in = next((visible.box(k).title for k in keys if k is not None), 'its group')
    return (f'not drawn while {escape(hidden_in)} is closed — <a href="{group_key(marked.scope)}">show '
            f'{escape(trace.scopes[marked.scope].name)}</a>, whose strip holds them as grey cells')


def chain_rule_html(session):
    bp, trace = session.backprop, session.trace
    stepper = bp.stepper
    html = [f'<p><b>Step {stepper.position:,} of {stepper.total:,}</b></p>']
    if bp.landed:  # after a group step: what the group did, rather than its last node
        html.append(summary_html(session, bp.landed))
        html.append(f'<p style="color:{theme.current()["hint_text"]}">last node applied: {node_link(trace, stepper.last_node())}; '
                    '→ steps on node by node from here.</p>')
        return ''.join(html)
    record = stepper.last_record()
    if record is None:
        html.append('<p>Nothing applied yet: every grad is 0. Step (→) seeds <code>grad(loss) = 1</code>, '
                    'as <code>loss.backward()</code> begins.</p>')
    elif record.seed:
        html.append(f'<p>Seed: <code>grad(loss) = 1</code> for {node_link(trace, record.node)} '
                    f'(loss {shown(trace.loss)}).</p>')
    else:
        node, op = record.node, trace.op[record.node]
        got, needed = bp.arrived(node)
        html.append(f'<p>{node_link(trace, node)} in <i>{escape(trace.scope_path(node))}</i><br>'
                    f'data {shown(trace.data[node])} · <b>grad(node) = {shown(record.node_grad)}</b>'
                    + (f' (the sum of all {needed} contributions)' if needed > 1 else '') + '</p>')
        if record.contributions:
            html.append(f'<p><code>{escape(rule(op))}</code></p>')
            html.append('<p>per child: <code>child.grad += local_grad × grad(node)</code></p>')
            for i, c in enumerate(record.contributions):
                html.append(
                    f'<p style="margin-left:6px">{node_link(trace, c.child, node)} · local {escape(local_symbol(op, i))} = '
                    f'{shown(c.local_grad)}<br><code>&nbsp;&nbsp;{shown(c.grad_before)} + {shown(c.local_grad)} × '
                    f'{shown(record.node_grad)}</code><br><code>&nbsp;&nbsp;= {shown(c.grad_before)} + '
                    f'{shown(c.contribution)} → <b>{shown(c.grad_after)}</b></code></p>')
        elif node in trace.params:
            html.append(f'<p>A parameter: its grad is complete ({got}/{needed} contributions) and is what '
                        'Adam uses.</p>')
            html.append(adam_html(session, node))
        else:
            html.append('<p>A literal constant: its grad is computed and never used.</p>')
    upcoming = stepper.current_node()
    if upcoming is not None and stepper.position > 0:
        html.append(f'<p style="color:{theme.current()["hint_text"]}">next: {node_link(trace, upcoming)} in '
                    f'{escape(trace.scope_path(upcoming))}</p>')
    elif upcoming is None:
        html.append('<p>Backprop is done: every grad equals what <code>loss.backward()</code> gives.</p>')
    return ''.join(html)
