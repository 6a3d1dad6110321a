"""The headless commands about one gradient: nudge, gradcheck, provenance (engine.cli.commands runs them)."""

import math
import sys

from engine import checkpoint as ckpt_io
from engine.errors import EngineError
from engine.files import check_not_input, check_output, dumps, write_atomic
from engine.gradient.gradcheck import H, analytic_grads, iter_gradcheck
from engine.gradient.nudge import Tape
from engine.model import finish
from engine.cli.parsing import add_recording
from engine.gradient.provenance import Predictions, full_name, resolve, sum_in_order, terms_by_use
from engine.doc_notes import truncation_note
from engine.trace import record

NODE_HELP = "a node: a parameter (wte[4][3]), a name with its place ('pos 1 / softmax / exps[2]') or an id"


def add_parsers(commands):
    nudge = commands.add_parser('nudge', help='nudge one scalar by ±h: the new losses and the central difference')
    add_recording(nudge)
    nudge.add_argument('--node', required=True, metavar='NAME', help=NODE_HELP)
    nudge.add_argument('--by', type=float, default=H, metavar='H', help=f'the nudge h (default {H:g})')
    nudge.add_argument('--json', required=True, metavar='OUT')

    gradcheck = commands.add_parser('gradcheck', help='central differences for every parameter against backprop')
    add_recording(gradcheck)
    gradcheck.add_argument('--json', required=True, metavar='OUT')

    provenance = commands.add_parser('provenance', help="split a node's gradient into its terms, by use and by "
                                     'prediction')
    add_recording(provenance)
    provenance.add_argument('--node', required=True, metavar='NAME', help=NODE_HELP)
    provenance.add_argument('--json', required=True, metavar='OUT')


def _record(args):
    check_output(args.json)
    check_not_input(args.json, (args.checkpoint, 'the checkpoint'))
    model = ckpt_io.load(args.checkpoint).model
    trace = record(model, args.doc)
    if trace.truncated:
        print(f'note: {truncation_note(trace)}', file=sys.stderr)
    return model, trace


def display_name(trace, node):
    """A parameter's name (`wte[4][3]`), else the node's scope path and name."""
    return trace.param_name(node) or full_name(trace, node)


def cmd_nudge(args, out):
    h = args.by
    if not math.isfinite(h) or h == 0:
        raise EngineError(f'--by must be a finite number other than 0, not {h!r}.')
    check_output(args.json)
    _, trace = _record(args)
    node = resolve(trace, args.node)
    grads = analytic_grads(trace)
    n = Tape(trace).nudge(node, h)
    result = {'node': display_name(trace, node), 'id': node, 'h': h, 'loss': n.loss, 'loss_plus': n.loss_plus,
              'loss_minus': n.loss_minus, 'numeric': n.numeric, 'grad': float(grads[node])}
    write_atomic(args.json, dumps(result))
    print(f"{result['node']}: loss {n.loss:.10f} -> {n.loss_plus:.10f} (+h), {n.loss_minus:.10f} (-h); numeric "
          f'{n.numeric:.6e}, grad {float(grads[node]):.6e}; {len(n.changed)} nodes changed; written to {args.json}',
          file=out)


def cmd_gradcheck(args, out):
    model, trace = _record(args)
    tty = sys.stderr.isatty()

    def report(progress):
        done, total = progress
        if done % 500 == 0 or done == total:
            print(f'checked {done} / {total}', end='\r' if tty else '\n', file=sys.stderr, flush=True)
    result = finish(iter_gradcheck(model, trace), report)
    if tty:
        print(file=sys.stderr)
    write_atomic(args.json, dumps(result.to_json()))
    worst = result.worst(1)[0]
    print(f'{len(result.params)} parameters, h {result.h:g}, max relative error {result.max_rel_error:.2e} '
          f'({worst.name}), written to {args.json}', file=out)


def cmd_provenance(args, out):
    _, trace = _record(args)
    node = resolve(trace, args.node)
    grads = analytic_grads(trace)
    terms = terms_by_use(trace, grads, node)
    parts = Predictions(trace, grads).parts(node)
    result = {'node': display_name(trace, node), 'id': node, 'grad': float(grads[node]),
              'terms': [{'parent': display_name(trace, t.parent), 'scope': trace.scope_path(t.parent),
                         'local_grad': float(t.local_grad), 'parent_grad': float(t.parent_grad), 'term': float(t.term)}
                        for t in terms],
              'by_prediction': [{'position': p, 'target': target, 'grad': float(g)} for p, target, g in parts]}
    write_atomic(args.json, dumps(result))
    exact = 'exactly' if sum_in_order(terms) == grads[node] or not terms else 'NOT exactly'
    print(f"{result['node']}: grad {float(grads[node]):.6e} = {len(terms)} term(s) by use ({exact}), "
          f'{len(parts)} part(s) by prediction; written to {args.json}', file=out)
