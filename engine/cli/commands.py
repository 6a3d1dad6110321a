"""The headless commands: train, sample, trace, graph; nudge, gradcheck, provenance (engine.cli.gradient); import
(engine.cli.import_command). Bad input: one line on stderr, exit code 2, nothing written."""

import argparse
import json
import os
import re
import signal
import sys
from pathlib import Path

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine import history_files
from engine import pair
from engine import presets
from engine.cli import gradient as gradient_cli
from engine.cli import import_command
from engine.cli import torch_train
from engine.cli import training_data
from engine.backprop import Stepper
from engine.checks import short
from engine.cli.parsing import Parser, UsageError, add_recording
from engine.errors import EngineError, TrainingDiverged
from engine.files import check_not_input, check_output, dumps, write_atomic
from engine.model import GPTConfig, finish, param_count
from engine.doc_notes import truncation_note
from engine.trace import record
from engine.optim import TrainConfig
from engine.sampling import Settings, check_temperature, iter_samples, sampling_rng
from engine.train import Trainer, check_trainable

SMALLEST_VOCAB = 2     # one character and BOS: the least any dataset gives
WARN_SECONDS = 300     # `train` says what a run will cost (stderr) when it takes longer than this
WARN_BYTES = 2**30     # or needs more memory than this


def build_parser():
    parser = Parser(prog='main.py', description='microgpt explorer: train, sample and record microgpt.')
    commands = parser.add_subparsers(dest='command', required=True, parser_class=Parser)

    train = commands.add_parser('train', help="train microgpt and print what microgpt prints")
    training_data.add_options(train)
    d, t = GPTConfig(), TrainConfig()
    train.add_argument('--steps', type=int, default=t.num_steps)
    train.add_argument('--seed', type=int, default=t.seed)
    train.add_argument('--preset', default=presets.DEFAULT, metavar='NAME',
                       help='a rung of the ladder: ' + '; '.join(f'{name}: {what}' for name, (what, _) in presets.PRESETS.items())
                       + f' (default {presets.DEFAULT}); --n-layer and the others below change its shape; beyond the '
                       'ladder, a whole run (its tokenizer and batch too, --backend numpy or torch): '
                       + '; '.join(f'{name}: {r.what}' for name, r in presets.RECIPES.items()))
    train.add_argument('--n-layer', type=int, help=f'default {d.n_layer} (0 for bigram)')
    train.add_argument('--n-embd', type=int, help=f'default {d.n_embd}')
    train.add_argument('--n-head', type=int, help=f'default {d.n_head} (1 for one-head)')
    train.add_argument('--block-size', type=int, help=f'default {d.block_size}')
    train.add_argument('--activation', metavar='relu|gelu|gelu-erf|swiglu',
                       help="the MLP's: relu (microgpt's), gelu (its tanh form), gelu-erf (its exact form x·Φ(x), "
                       "PyTorch's nn.GELU()) or swiglu (silu(fc1·x) ⊙ fc3·x)")
    train.add_argument('--norm', metavar='rms|layer', help="rms: microgpt's rmsnorm; layer: LayerNorm with a learned gain and bias")
    train.add_argument('--bias', action=argparse.BooleanOptionalAction, help='a learned bias on every linear (--no-bias: none)')
    train.add_argument('--tie', action=argparse.BooleanOptionalAction, help='lm_head is wte: no lm_head matrix (--no-tie: its own)')
    train.add_argument('--embed-norm', action=argparse.BooleanOptionalAction,
                       help="norm tok + pos before the first layer, as microgpt does (--no-embed-norm: the mini GPT's)")
    train.add_argument('--final-norm', action=argparse.BooleanOptionalAction,
                       help="norm x once more before lm_head, the mini GPT's ln_f (--no-final-norm: microgpt's)")
    train.add_argument('--position', metavar='learned|rope', help="learned: microgpt's wpe; rope: q and k rotated by position, no wpe")
    train.add_argument('--lr', type=float, help=f'default {t.learning_rate:g} (a recipe\'s own: large 0.001)')
    train.add_argument('--optimizer', default=t.optimizer, metavar='adam|sgd',
                       help="adam: microgpt's (default); sgd: p -= lr * grad, with the same decaying learning rate")
    train.add_argument('--temperature', type=float, default=0.5)
    train.add_argument('--num-samples', type=int, default=20)
    train.add_argument('--out', metavar='CHECKPOINT', help='write the trained weights here (JSON)')
    train.add_argument('--history-every', type=int, metavar='K',
                       help='also write the training history with --out (NAME.history.<16 hex>.json, named by its content): a snapshot every K steps (scalar or numpy: replayed by the backend that wrote it)')
    train.add_argument('--backend', default='scalar', metavar='scalar|numpy|torch',
                       help="scalar: microgpt's own Value engine (default); numpy: the same model vectorized "
                       "(engine.vectorized, agrees with scalar to about 1e-15), about a hundred times faster; torch: "
                       "the same in PyTorch (the optional extra), on a GPU if there is one, under torchrun on many")
    train.add_argument('--batch', type=int, metavar='B',
                       help='numpy and torch: B documents a step, the loss averaged over them (default 1, as microgpt); '
                       'under torchrun B is the batch of all the processes together')
    torch_train.add_options(train)

    sample = commands.add_parser('sample', help='generate documents from a checkpoint')
    sample.add_argument('--checkpoint', required=True)
    sample.add_argument('--num-samples', type=int, default=20)
    sample.add_argument('--temperature', type=float, default=0.5)
    sample.add_argument('--seed', type=int, help='seed the sampler (default: continue from the saved state)')
    sample.add_argument('--prompt', default='', metavar='TEXT', help='every document starts with TEXT; the model continues it')
    sample.add_argument('--top-k', type=int, metavar='K', help='draw only from the K most likely next tokens')
    sample.add_argument('--top-p', type=float, metavar='P',
                        help='draw only from the fewest most likely next tokens whose probability sums to P or more')
    sample.add_argument('--greedy', action='store_true', help='always the most likely next token (no random draw)')

    trace = commands.add_parser('trace', help='record one forward pass and its full backward pass as JSON')
    add_recording(trace)
    trace.add_argument('--json', required=True, metavar='OUT')

    graph = commands.add_parser('graph', help='export the graph view of a document as JSON (the layout the window '
                                'draws), SVG, PNG or DOT')
    add_recording(graph)
    graph.add_argument('--open', action='append', default=[], metavar='SCOPE',
                       help="also open this scope path, e.g. 'pos 2 / layer 0 / attention / head 1'")
    graph.add_argument('-o', '--output', required=True, metavar='OUT.json|.svg|.png|.dot')
    graph.add_argument('--weight-edges', action='store_true',
                       help='JSON: include the edges out of the weights (View › Weight edges); left out by default')
    gradient_cli.add_parsers(commands)
    import_command.add_parser(commands)

    history = commands.add_parser('history', help="one parameter's value, gradient and Adam state at every step "
                                  "of a checkpoint's training history, as JSON")
    history.add_argument('checkpoint', metavar='CHECKPOINT')
    history.add_argument('--param', required=True, metavar='NAME', help='e.g. wte[4][3] or layer0.attn_wq[3][5]')
    history.add_argument('--steps', metavar='A:B', help='only steps A to B, both included (default: every step)')
    history.add_argument('--json', required=True, metavar='OUT')
    return parser


def cmd_graph(args, out):
    from engine.graph.grouping import Hierarchy
    from engine.graph.svg import to_svg
    from engine.graph.layout import as_json, layout, to_dot  # Graphviz only for this command (main.py runs it in .venv)
    fmt = Path(args.output).suffix.lower().lstrip('.')
    if fmt not in ('json', 'svg', 'png', 'dot'):
        raise EngineError(f'The output must end in .json, .svg, .png or .dot, not {short(args.output)}.')
    check_output(args.output)
    check_not_input(args.output, (args.checkpoint, 'the checkpoint'))
    trace = record(ckpt_io.load(args.checkpoint).model, args.doc)
    hierarchy = Hierarchy(trace)
    opened = hierarchy.overview()
    for path in args.open:
        scope = trace.scope_id(path)
        if scope is None:
            raise EngineError(f'There is no scope {short(path)} in the recording of {short(args.doc)}.')
        opened = hierarchy.open_path(scope, opened) | set(hierarchy.opening(scope))
    visible = hierarchy.visible(opened)
    if fmt == 'json':  # exactly what the window draws: the same function, the same view
        write_atomic(args.output, json.dumps(as_json(layout(visible), visible, trace.scopes, args.weight_edges), indent=1))
    elif fmt == 'dot':  # Graphviz's own text of the view
        write_atomic(args.output, to_dot(visible))
    else:  # drawn from the window's layout, not Graphviz's drawing of the DOT
        lay = layout(visible)
        svg = to_svg(lay, visible, trace.scopes, args.weight_edges)
        if fmt == 'png' and args.png is None:
            raise EngineError('A PNG is drawn with Qt: run `python3 main.py graph …`, which sets it up.')
        write_atomic(args.output, svg if fmt == 'svg' else args.png(svg, lay.width, lay.height))
    print(f'written to {args.output}', file=out)


def check_count(name, value):
    if value < 0:
        raise EngineError(f'{name} must be 0 or more, not {value}.')


def cmd_train(args, out):
    _apply_recipe(args)
    model_config = presets.preset_config(args.preset, n_layer=args.n_layer, n_embd=args.n_embd, n_head=args.n_head,
                                         block_size=args.block_size, activation=args.activation, norm=args.norm,
                                         bias=args.bias, tie=args.tie, position=args.position,
                                         embed_norm=args.embed_norm, final_norm=args.final_norm)
    lr = args.lr if args.lr is not None else TrainConfig.learning_rate
    train_config = TrainConfig(num_steps=args.steps, learning_rate=lr, seed=args.seed, optimizer=args.optimizer)
    check_temperature(args.temperature)
    check_count('--num-samples', args.num_samples)
    _check_backend(args)
    if args.out:
        check_output(args.out)  # before the run, not after it
    if args.history_every is not None:
        if not args.out:
            raise EngineError('--history-every needs --out: the history is written beside the checkpoint.')
        if args.history_every <= 0:
            raise EngineError(f'--history-every must be a positive whole number of steps, not {args.history_every}.')
        pair.check_outputs(args.out)
    training_data.check_options(args)
    torch_train.check_options(args)
    scalar_cost = args.backend != 'torch'  # the estimate is of the scalar engine's (numpy's steps are a part of it)
    if scalar_cost:
        check_trainable(model_config, SMALLEST_VOCAB)  # a size no dataset could make trainable: say so before fetching one
    data = training_data.data_path(args)
    if args.out:
        check_not_input(args.out, (data, 'the dataset'))  # the history's name holds its hash: never the data's
    parts = training_data.load(args, data, model_config.block_size)
    docs = parts.train
    vocab_size = parts.tokenizer.vocab_size if parts.tokenizer else len(set(''.join(docs))) + 1
    cost = check_trainable(model_config, vocab_size, docs) if scalar_cost else None
    if args.out:
        ckpt_io.check_fits(param_count(model_config, vocab_size))
    if cost and (cost.run_seconds(train_config.num_steps, args.num_samples) > WARN_SECONDS or cost.bytes > WARN_BYTES):
        what = cost.describe(train_config.num_steps, args.num_samples)
        if args.backend == 'numpy':  # the estimate is the scalar engine's: numpy's step is 100-600× faster
            what = f'with the scalar engine, {what}; numpy takes a hundred times less time or better'
        print(f'note: {what}.', file=sys.stderr, flush=True)
    trainer = _make_trainer(args, docs, model_config, train_config, parts.tokenizer)
    with torch_train.session(trainer, out) as out:  # under torchrun: only rank 0 prints, saves and samples
        _run_training(args, trainer, parts, out)


def _apply_recipe(args):
    """A recipe's (presets.RECIPES) tokenizer, vocabulary, batch and learning rate, where the command line gives none."""
    recipe = presets.RECIPES.get(presets.check_preset(args.preset, recipes=True))
    if recipe is None:
        return
    args.tokenizer = args.tokenizer or recipe.tokenizer
    args.lr = recipe.learning_rate if args.lr is None else args.lr
    if args.tokenizer == 'bpe' and args.vocab_size is None:
        args.vocab_size = recipe.vocab_size
    if args.backend in ('numpy', 'torch') and args.batch is None:
        args.batch = recipe.batch
    if args.backend == 'torch' and args.accumulate is None:
        args.accumulate = recipe.accumulate


def _make_trainer(args, docs, model_config, train_config, tokenizer=None):
    """The backend's trainer; `tokenizer`: a BPE learned from the data, or None for the documents' characters."""
    if args.backend == 'numpy':
        from engine.vectorized import VectorTrainer  # numpy only for this backend: the scalar engine runs without it
        trainer = VectorTrainer(docs, model_config, train_config, batch=args.batch or 1, tokenizer=tokenizer)
        if args.history_every is not None:  # replayed with numpy (engine.history_numpy); refused if it would be too large
            from engine import history_numpy
            history_numpy.check_every(args.history_every, train_config.num_steps, trainer.flat.size, trainer.batch)
            history_numpy.attach(trainer, args.history_every)
        return trainer
    if args.backend == 'torch':
        return torch_train.make_trainer(args, docs, model_config, train_config, tokenizer)
    return Trainer(docs, model_config, train_config, history_every=args.history_every)


def _run_training(args, trainer, parts, out):
    """What train prints from the vocabulary to the samples, the checkpoint saved after the run."""
    model_config, train_config = trainer.model.config, trainer.config
    print(parts.header, file=out)
    print(f'vocab size: {trainer.model.tokenizer.vocab_size}', file=out)
    blocks = presets.block_words(model_config)
    if (args.preset, blocks, args.optimizer) != (presets.DEFAULT, [], 'adam'):  # else microgpt's output, as it was
        blocks = ''.join(f', {b}' for b in blocks)
        print(f'preset: {args.preset} ({presets.describe(args.preset)}){blocks}, optimizer {args.optimizer}', file=out)
    print(f'num params: {len(trainer.model.params)}', file=out)
    end = '\r' if out.isatty() else '\n'  # one line rewriting itself on a terminal, as microgpt does
    validation = training_data.Validation(parts, trainer.model.tokenizer, args.eval_every, train_config.num_steps)
    try:
        for r in trainer.run():
            val = validation.after(r.step, torch_train.loss_of(trainer), getattr(trainer, 'history', None))  # a validation loss stays on the terminal: '\n'
            print(f'step {r.step:4d} / {r.num_steps:4d} | loss {r.loss:.4f}{val}', end='\n' if val else end, file=out,
                  flush=end == '\r')
            if torch_train.save_due(args, trainer, r.step):
                _save(args.out, trainer)
    except TrainingDiverged as e:
        if args.out and torch_train.saves(trainer):
            _save(args.out, trainer)
            raise TrainingDiverged(f'{e} The weights of step {trainer.step} were kept in {args.out}.') from None
        raise
    if args.out and torch_train.saves(trainer):
        _save(args.out, trainer)
    print(f'\n--- inference (new, hallucinated {"text" if args.text else "names"}) ---', file=out)
    for i, s in enumerate(torch_train.samples(trainer, args.num_samples, args.temperature)):
        print(f'sample {i+1:2d}: {s}', file=out)
    if args.out and torch_train.saves(trainer):
        print(f'saved {args.out}', file=sys.stderr)


BACKENDS = ('scalar', 'numpy', 'torch')


def _check_backend(args):
    """--backend is one we have; --batch is numpy's, a positive number; a history is the scalar engine's or numpy's."""
    if args.backend not in BACKENDS:
        raise EngineError(f'--backend must be scalar, numpy or torch, not {short(args.backend)}.')
    if args.batch is not None and args.backend == 'scalar':
        raise EngineError('--batch needs --backend numpy or torch: the scalar engine trains one document a step, '
                          'as microgpt.')
    if args.batch is not None and args.batch <= 0:
        raise EngineError(f'--batch must be a positive whole number of documents, not {args.batch}.')
    if args.backend == 'torch' and args.history_every is not None:
        raise EngineError('--history-every needs --backend scalar or numpy: a history is replayed bit for bit with '
                          'the backend that wrote it, and torch does not promise the same bits twice.')
    if getattr(args, 'tokenizer', None) == 'bpe' and args.history_every is not None:
        raise EngineError('--history-every needs the character tokenizer: a history names its vocabulary by its '
                          'characters, and a BPE\'s is not kept in one yet.')


def _save(path, trainer):
    """The checkpoint, and its history with it when one was recorded, as one pair (engine.pair)."""
    history = trainer.finished_history()
    pair.save(path, ckpt_io.from_trainer(trainer), None if history is None else history.to_json().encode('utf-8'))


def cmd_history(args, out):
    check_output(args.json)
    check_not_input(args.json, (args.checkpoint, 'the checkpoint'))
    ckpt = ckpt_io.load(args.checkpoint)
    history_file = history_io.history_path(args.checkpoint, ckpt)  # the file load_for reads
    check_not_input(args.json, (history_file, 'the training history'))
    history = history_files.load_for(args.checkpoint, ckpt)  # either backend's
    first, last = 1, history.step
    if args.steps is not None:
        first, last = _step_range(args.steps, history.step)  # out of the run: param_series says so
    try:
        index = history.param_index(args.param)
        rows = finish(history.param_series(index, first, last))
    except ValueError as e:
        raise EngineError(str(e)) from None
    write_atomic(args.json, json.dumps({'param': args.param, 'steps': rows}, indent=1))
    print(f'{len(rows)} steps of {args.param}, written to {args.json}', file=out)


STEP = re.compile(r'-?[0-9]+', re.ASCII)  # a step number in plain digits (with a sign: -3 is a step out of range)


def _step_range(text, steps):
    """'A:B' -> (first, last), either defaulting to the run's ends; EngineError unless both are step numbers in
    plain digits (int() would take '1_0', ' 3' and '٣')."""
    a, sep, b = text.partition(':')
    if not sep or not all(STEP.fullmatch(x) for x in (a, b) if x):
        raise EngineError(f'--steps must be A:B, two step numbers in plain digits (e.g. 1:{steps}), not {short(text)}.')
    if max(len(a), len(b)) > 18:  # more digits than int() reads (4,300) are out of range too, and long
        raise EngineError(f'--steps {short(text)} is outside the run: its steps are 1 to {steps}.')
    return int(a) if a else 1, int(b) if b else steps


def cmd_sample(args, out):
    settings = Settings(args.temperature, args.top_k, args.top_p, args.greedy, args.prompt).check()
    check_count('--num-samples', args.num_samples)
    ckpt = ckpt_io.load(args.checkpoint)
    settings.check(ckpt.model.tokenizer, ckpt.model.config.block_size)
    rng = sampling_rng(ckpt.rng_state, args.seed)
    for i, s in enumerate(iter_samples(ckpt.model, rng, args.num_samples, settings=settings)):
        print(f'sample {i+1:2d}: {s}', file=out)


def cmd_trace(args, out):
    check_output(args.json)
    check_not_input(args.json, (args.checkpoint, 'the checkpoint'))
    model = ckpt_io.load(args.checkpoint).model
    trace = record(model, args.doc)
    if trace.truncated:
        print(f'note: {truncation_note(trace)}', file=sys.stderr)
    stepper = Stepper(trace)
    stepper.run_to_end()
    write_atomic(args.json, dumps(trace.to_json(stepper.grads)))
    print(f'{len(trace)} nodes, loss {trace.loss:.4f}, written to {args.json}', file=out)


COMMANDS = {'train': cmd_train, 'sample': cmd_sample, 'trace': cmd_trace, 'graph': cmd_graph,
            'history': cmd_history}
COMMANDS['import'] = import_command.cmd_import
COMMANDS.update(nudge=gradient_cli.cmd_nudge, gradcheck=gradient_cli.cmd_gradcheck,
                provenance=gradient_cli.cmd_provenance)


def main(argv=None, out=None, png=None):
    """Run `main.py COMMAND ARGS` (argv starts with the command); the exit code. `png(svg, width, height)`
    draws a PNG for `graph` (explorer.graph.export passes one made with Qt)."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        args.png = png
        COMMANDS[args.command](args, out)
        out.flush()  # here, where a closed pipe can still be answered quietly
    except (UsageError, EngineError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    except BrokenPipeError:  # `main.py train | head`: stop quietly, as Unix tools do
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 128 + signal.SIGPIPE if hasattr(signal, 'SIGPIPE') else 1
    except OSError as e:  # reading or writing failed in a way the checks before could not see
        print(f'error: {e.strerror or e}: {e.filename or ""}'.rstrip(': ') + '.', file=sys.stderr)
        return 2
    return 0  # Ctrl-C and SIGTERM: main.py answers them, for every command (exit 130, 143)


def _entry(name):
    """What main.py's COMMANDS table calls for `name`, with the arguments after the command name."""
    def run(argv):
        return main([name, *argv])
    run.__name__ = run.__qualname__ = f'{name}_main'
    return run


train_main, sample_main, trace_main, nudge_main, gradcheck_main, provenance_main, history_main, import_main = (
    _entry(name) for name in ('train', 'sample', 'trace', 'nudge', 'gradcheck', 'provenance', 'history', 'import'))
