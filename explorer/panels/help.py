"""Help: "how to read this picture" (shown once on first start, and from Help), the keyboard shortcuts
(built from the window's own actions, so the list cannot go stale), the key text in tooltips, and the non-modal
windows they are shown in (HelpDialog; HelpDialogs keeps one per title)."""

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from explorer import theme

MIN_HELP_WIDTH = 280  # the first start's help, over the panels: narrower, its lines get too short to read
ARROWS = {'Right': '→', 'Left': '←', 'Up': '↑', 'Down': '↓'}

HOW_TO_READ = '''
<h3>How to read this picture</h3>
<p>The graph is one forward pass of microgpt on one document, recorded scalar by scalar from its own
<code>Value</code> engine, then folded into boxes by where each scalar was made in the code.</p>
<ul>
<li><b>A frame is one position of the document</b> (<code>pos 0</code> reads BOS and predicts the first
letter, <code>pos 1</code> reads that letter and predicts the next, …). The positions stand side by side,
<code>pos 0</code> on the left; inside each the stages run top to bottom in code order: embedding,
attention, mlp, lm_head, softmax, −log p, so the same stage of every position is on one row.</li>
<li><b>Edges into a later position's attention carry keys and values from earlier ones</b>: the KV cache.
Position t attends to positions 0…t, so its heads read the k and v every earlier position computed.</li>
<li><b>A closed box shows its output as a strip of cells</b> (the 16 numbers of x after attention, the
27 probs of a softmax, …), purple for negative and orange for positive values, blue and red for gradients
once backprop reaches them; hover a cell for its name, data and grad, click it to select that scalar.
<b>Opening a head shows its vectors first</b>: q, the keys and the values of every position so far (a row
per position; the dashed teal edges into them come from earlier positions: the KV cache), the scores, the
softmax and the output; open one of those to see its scalars.</li>
<li><b>The loss is the mean of −log p over positions</b>: each position's −log p(target) is summed and
divided by n; that is where backprop starts (∂L/∂L = 1, then 1/n to every position).</li>
<li><b>The grids are the weights, shared by every position</b>: wte, wpe, the attention and mlp matrices and
lm_head are drawn once, in the band at the top; every position reads the same numbers, and their gradients
add up over positions. Each cell is one parameter, coloured by its value (purple negative, orange positive);
once backprop reaches it, it takes the colour of its gradient (blue/red, as the boxes). A matrix with more
rows than columns lies on its side (wte: one column per token). Hover a cell for its name
(<code>wq[3][5]</code>), data and grad; click it to inspect that parameter (its grad and Adam's next
update).</li>
<li><b>Badges</b> on a box (<code>wq wk wv wo</code> on attention, <code>fc1 fc2</code> on mlp) name the
matrices it reads. Hover a grid or a name in a badge: every box that reads that matrix is outlined. The
edges out of the weights are not drawn; View › Weight edges (W) draws them.</li>
<li>Double-click a box to open it in place (Return; Shift+Return down to scalars); double-click a frame's
title to close it (Backspace). A scalar reads <code>name | op | data | grad</code>.</li>
<li>Backprop: → applies one node's chain rule, Shift+→ one unit of the model (a softmax, a linear, a head, …)
and sums up what it did; the box being stepped is framed in violet, each edge out of it labelled with the
gradient it has sent back so far (‖∂‖: that vector's size); the Legend panel (Help › Legend, Shift+F1) explains every colour and mark.</li>
</ul>
<p class="hint">Shown once on first start; Help › How to read this picture brings it back.</p>
'''

MOUSE = (('Double-click a box', 'open it where it stands'), ('Double-click a frame title', 'close that group'),
         ('Click a link in a panel', 'select that box in the graph'), ('Wheel', 'zoom'),
         ('Drag', 'pan'))


def key_text(sequence):
    """A shortcut as the learner reads it: 'Shift+→', 'Ctrl+F', 'Space'."""
    text = QKeySequence(sequence).toString(QKeySequence.NativeText)
    parts = text.split('+')
    return '+'.join(ARROWS.get(p, p) for p in parts) if text != '+' else text


def with_key(tip, action):
    """A tooltip that ends with the action's key: 'Undo the last backprop step exactly (←)'."""
    keys = action.shortcuts()
    if not keys or keys[0].isEmpty():
        return tip
    return f'{tip} ({key_text(keys[0])})'


def shortcut_rows(menus, within=''):
    """[(menu title, [(action text, key)])] for every action with a shortcut, menu by menu; a submenu
    after its menu, titled by its path ('View › Panels')."""
    out = []
    for menu in menus:
        title = within + menu.title().replace('&', '')
        rows, submenus = [], []
        for action in menu.actions():
            if action.menu() is not None:
                submenus.append(action.menu())
                continue
            keys = [k for k in action.shortcuts() if not k.isEmpty()]
            if keys:
                rows.append((action.text().replace('&', ''), ', '.join(key_text(k) for k in keys)))
        if rows:
            out.append((title, rows))
        out.extend(shortcut_rows(submenus, title + ' › '))
    return out


PANELS = {  # dock title: what it shows a learner (Help › Panels)
    'Backprop': 'Step the chain rule node by node or a group at a time; Play, breakpoints, and End, as loss.backward() runs.',
    'Legend': 'What every colour, hatch and mark on the graph means.',
    'Scopes': "The model's structure as a tree: click a scope to see it in the graph; arrows open and close it.",
    'Training': "Train here and watch the loss fall; the weights and the run's history come to the window.",
    'Sampling': 'Generate names from the model (a prompt to continue, greedy, top-k, top-p), with the next-character '
                'probabilities each letter was drawn from and what top-k/top-p cut away.',
    'Inspector': 'The selected scalar or box: its value, gradient, exact digits, parents, children, and the update '
                 'Adam would give a weight next.',
    'Chain rule': 'The backprop step just taken, written out: child.grad += local_grad × grad(node), with its numbers.',
    'Attention': "Each head's attention: scores, weights and their gradients for every query and key, linked to the graph.",
    'Timeline': "The training run behind the checkpoint: any step's weights in the graph, and the loss curve "
                '(with the validation loss, when the run held documents out).',
    'Parameter over time': "One weight over the run: its value, gradient, Adam's m and √v, and each update.",
    'Embeddings': 'The token and position embeddings (wte, wpe) moving on a fixed plane as training goes.',
    'Gradient': 'Check a gradient yourself: the Code that made a node, Nudge (±h against backprop), Gradcheck, '
                'and Provenance (the terms it adds up).',
}


def panels_html(actions, workspaces=()):
    """Help › Panels: each panel, the key that brings it forward (View › Panels) and what it teaches; then
    each workspace (View › Workspaces), its key and what it is for (the action's status tip)."""
    html = ['<h3>Panels</h3><p class="hint">View › Panels (or the key beside each) brings a panel to the front '
            'of its tabs; again, hides it. Stepping backprop brings Chain rule forward, but never over a tab you '
            'picked. View › Workspaces (below) arranges them for one task.</p><table cellspacing="0" cellpadding="3">']
    for action in actions:
        title = action.text().replace('&', '')
        if title in PANELS:
            key = action.shortcut().toString(QKeySequence.NativeText)
            html.append(f'<tr><td style="white-space:nowrap"><b>{escape(title)}</b></td><td><code>{escape(key)}</code>'
                        f'</td><td>{escape(PANELS[title])}</td></tr>')
    html.append('</table>')
    rows = [a for a in workspaces if a.isCheckable()]
    if rows:
        html.append('<h3>Workspaces</h3><p class="hint">View › Workspaces arranges the panels for one task; what '
                    'you change in a workspace is kept for it, until View › Workspaces › Reset workspace.</p>'
                    '<table cellspacing="0" cellpadding="3">')
        html.extend(f'<tr><td style="white-space:nowrap"><b>{escape(a.text())}</b></td><td><code>'
                    f'{escape(a.shortcut().toString(QKeySequence.NativeText))}</code></td><td>{escape(a.statusTip())}'
                    '</td></tr>' for a in rows)
        html.append('</table>')
    return ''.join(html)


def shortcuts_html(menus):
    html = ['<h3>Keyboard shortcuts</h3>',
            '<p class="hint">Arrows, Return, Backspace, Space, Home and End act while the graph or the scope tree has '
            'the focus; F, Z, M, W, F1, Shift+F1 and F9 anywhere but a field being typed in (a list or a tree '
            'too). Esc in a field gives the graph the keys; so does Return in Find.</p>']
    for title, rows in shortcut_rows(menus):
        html.append(f'<p><b>{escape(title)}</b></p><table cellspacing="0" cellpadding="2">')
        html.extend(f'<tr><td width="130" style="white-space:nowrap"><code>{escape(k)}</code></td>'
                    f'<td>{escape(t)}</td></tr>' for t, k in rows)
        html.append('</table>')
    html.append('<p><b>Mouse</b></p><table cellspacing="0" cellpadding="2">')
    html.extend(f'<tr><td>{escape(a)}</td><td>{escape(b)}</td></tr>' for a, b in MOUSE)
    html.append('</table>')
    return ''.join(html)


class HelpDialog(QDialog):
    """A small non-modal window of rich text: it never blocks the window behind it."""

    def __init__(self, title, html, parent=None, size=(520, 520)):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self.setAttribute(Qt.WA_DeleteOnClose, False)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        self.text.document().setDefaultStyleSheet(f".hint {{ color: {theme.current()['hint_text']}; }}")
        self.text.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(*size)

    def set_html(self, html):
        self.text.document().setDefaultStyleSheet(f".hint {{ color: {theme.current()['hint_text']}; }}")
        self.text.setHtml(html)


def over_the_panels(dialog, window):
    """Place the first start's help over the column of panels on the right (beside the central widget, the
    graph), as wide as that column, never over the graph: a fixed 520 px covered the last position at 1600×1000."""
    frame, central = window.frameGeometry(), window.centralWidget()
    left = central.mapToGlobal(central.rect().topRight()).x() + 6 if central is not None else frame.right() - dialog.width()
    width = max(MIN_HELP_WIDTH, frame.right() - left - 8)
    dialog.resize(width, max(300, min(dialog.height(), frame.height() - 120)))
    dialog.move(frame.right() - (dialog.frameGeometry().width() - dialog.width()) - width - 4, frame.top() + 90)


class HelpDialogs:
    """The help windows of a parent window, one per title, made when first asked for and shown again after."""

    def __init__(self, parent):
        self.parent, self.dialogs = parent, {}

    def close_one(self):
        """Esc with nothing to stop: close the help window shown last that is open (the first start's does not
        take the keys, so Esc pressed on the graph reaches the window, not it); False if none was open."""
        shown = [d for d in self.dialogs.values() if d.isVisible()]
        if shown:
            shown[-1].close()
        return bool(shown)

    def show(self, title, html, activate=True):
        """The dialog of that title with this html, in front (without taking the keys unless activate)."""
        dialog = self.dialogs.get(title)
        if dialog is None:
            dialog = self.dialogs[title] = HelpDialog(title, html, self.parent)
        else:
            dialog.set_html(html)
        dialog.setAttribute(Qt.WA_ShowWithoutActivating, not activate)
        dialog.show()
        dialog.raise_()
        return dialog
