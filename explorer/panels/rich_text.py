"""Rich text shared by the inspector and the chain-rule panel: a browser whose links select boxes,
a node's link, and the Adam update of a parameter as an HTML table."""

from html import escape

from PySide6.QtWidgets import QTextBrowser

from engine.numbers import shown


class LinkBrowser(QTextBrowser):
    """Rich text whose links ('n123', 'g45') reveal and select that box in the graph."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setOpenLinks(False)
        self.anchorClicked.connect(lambda url: self._on_link(url.toString()))

    def _on_link(self, href):
        """A link: reveal and select the box it names (a panel with links of its own handles those first)."""
        self.session.reveal(href)


def node_link(trace, node, context=None):
    """A link to a scalar, by its name in the code; with its position unless `context` (a node) shares it."""
    return f'<a href="n{node}">{escape(trace.qualified_name(node, context))}</a>'


def adam_html(session, node):
    """The update Adam would give a parameter next, from the checkpoint's m, v and step."""
    trace, ckpt = session.trace, session.checkpoint
    name, row, col = trace.params[node]
    grad = session.backprop.grads[node]
    a = ckpt.adam_preview(name, row, col, grad)
    cfg = ckpt.train_config
    saved = ckpt.adam_m is not None
    planned = cfg.num_steps if cfg else None
    if planned and a.step < planned:
        update = f'{a.step + 1:,} of {planned:,} (lr decays linearly to 0)'
    else:
        update = f'{a.step + 1:,}' + (f', past the {planned:,} the schedule planned' if planned else '')
    rows = [('update', update),
            ('lr_t', shown(a.lr_t)), ('m', f'{shown(a.m)} (β1 m + (1-β1) grad)'), ('v', f'{shown(a.v)} (β2 v + (1-β2) grad²)'),
            ('m_hat, v_hat', f'{shown(a.m_hat)}, {shown(a.v_hat)} (bias-corrected)'),
            ('Δ data', f'−lr_t · m_hat / (√v_hat + ε) = <b>{shown(a.delta)}</b>'),
            ('data', f'{shown(trace.data[node])} → {shown(a.data_next)}')]
    note = '' if saved else ' (the checkpoint has no Adam state: m = v = 0)'
    if a.lr_t == 0:
        note += ' The learning rate has decayed to 0 at the end of the schedule, so the step is 0.'
    return ('<p><b>Adam, next update</b>' + escape(note) + '</p><table cellspacing="2">'
            + ''.join(f'<tr><td>{k}</td><td>{v}</td></tr>' for k, v in rows) + '</table>')
