"""`main.py attention`: the attention of one document as CSV (scores, weights, gradients), PNG or SVG, headless."""

import os
import sys


def main(argv):
    """`main.py attention --doc emma [--checkpoint F] -o OUT.csv|.png|.svg`."""
    from engine import checkpoint as ckpt_io
    from engine.attention import to_csv
    from engine.cli.parsing import Parser, UsageError
    from engine.errors import EngineError
    from engine.files import check_not_input, check_output, write_atomic
    from engine.paths import DEFAULT_CHECKPOINT
    from engine.presets import no_attention
    from engine.trace import record

    parser = Parser(prog='main.py attention',
                    description='attention of one document: scores, weights and gradients as CSV, heatmaps as PNG or SVG')
    parser.add_argument('--doc', default='emma')
    parser.add_argument('--checkpoint', default=str(DEFAULT_CHECKPOINT))
    parser.add_argument('-o', '--output', required=True, metavar='OUT.csv|.png|.svg')
    try:
        args = parser.parse_args(argv)
        fmt = os.path.splitext(args.output)[1].lower()
        if fmt not in ('.png', '.csv', '.svg'):
            raise EngineError(f'The output must end in .csv, .png or .svg, not {args.output!r}.')
        check_output(args.output)  # before the work, not after it
        check_not_input(args.output, (args.checkpoint, 'the checkpoint'))
        model = ckpt_io.load(args.checkpoint).model
        try:
            trace = record(model, args.doc)
        except ValueError as e:
            raise EngineError(str(e)) from None
        if not trace.attention:
            raise EngineError(no_attention(model.config))
        if fmt == '.csv':
            write_atomic(args.output, to_csv(trace))
        else:
            os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
            from PySide6.QtGui import QGuiApplication
            app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  fonts need it
            from explorer.attention.heatmap import png_bytes, svg_bytes, weights_of
            panels = [(trace, weights_of(trace), f'{args.doc!r} · {os.path.basename(args.checkpoint)}', 'weight')]
            write_atomic(args.output, png_bytes(panels) if fmt == '.png' else svg_bytes(panels, title=args.doc))
    except (UsageError, EngineError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(f'written to {args.output}', file=sys.stderr)
    return 0
