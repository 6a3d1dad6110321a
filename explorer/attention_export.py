"""`main.py attention`: the attention heatmaps of one document as PNG, or its weights as CSV, headless."""

import os
import sys

from .heatmap import render, weights_of


def main(argv):
    """`main.py attention --doc emma [--checkpoint F] -o OUT.png|.csv`: the heatmaps or the weights, headless."""
    from engine import checkpoint as ckpt_io
    from engine.attention import to_csv
    from engine.cli_parsing import Parser, UsageError
    from engine.errors import EngineError
    from engine.files import write_atomic
    from engine.paths import DEFAULT_CHECKPOINT
    from engine.trace import record

    parser = Parser(prog='main.py attention', description='attention weights of one document, as PNG or CSV')
    parser.add_argument('--doc', default='emma')
    parser.add_argument('--checkpoint', default=str(DEFAULT_CHECKPOINT))
    parser.add_argument('-o', '--output', required=True, metavar='OUT.png|.csv')
    try:
        args = parser.parse_args(argv)
        fmt = os.path.splitext(args.output)[1].lower()
        if fmt not in ('.png', '.csv'):
            raise EngineError(f'The output must end in .png or .csv, not {args.output!r}.')
        model = ckpt_io.load(args.checkpoint).model
        try:
            trace = record(model, args.doc)
        except ValueError as e:
            raise EngineError(str(e)) from None
        if fmt == '.csv':
            write_atomic(args.output, to_csv(trace))
        else:
            os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
            from PySide6.QtCore import QBuffer, QIODevice
            from PySide6.QtGui import QGuiApplication
            app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  fonts need it
            image = render([(trace, weights_of(trace), f'{args.doc!r} · {os.path.basename(args.checkpoint)}', False)])
            buffer = QBuffer()
            buffer.open(QIODevice.WriteOnly)
            image.save(buffer, 'PNG')
            write_atomic(args.output, bytes(buffer.data()))
    except (UsageError, EngineError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(f'written to {args.output}', file=sys.stderr)
    return 0
