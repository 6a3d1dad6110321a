"""What `train` trains on: one document per line (--data, names.txt by default) or a continuous text cut into
block_size windows (--text), a seeded validation part held out of either (--val-fraction), the tokenizer
(--tokenizer char, microgpt's, or bpe: a byte-level BPE of --vocab-size tokens learned from the text), and the
validation loss printed every K steps (--eval-every)."""

import math
import sys
from dataclasses import dataclass

from engine.bpe import MIN_VOCAB, BpeTokenizer, require
from engine.checks import short
from engine.data import default_names_path, load_docs, load_text, split_docs, text_windows
from engine.errors import EngineError
from engine.presets import RECIPES
from engine.validation import MAX_DOCS, evaluated, validation_loss

TEXT_VAL_FRACTION = 0.1  # --text holds out a tenth by default (the mini GPT's 90/10); --data holds out nothing
BPE_VOCAB = 512  # --tokenizer bpe's default (the large preset's is GPT-2's 50,257): 255 merges, BOS; names.txt
# (228k characters) has pairs for thousands of merges, but a vocabulary near the text's own size learns whole names
TOKENIZERS = ('char', 'bpe')


def add_options(train):
    train.add_argument('--data', help='UTF-8 text file, one document per line (default: names.txt, fetched once)')
    train.add_argument('--text', metavar='FILE', help='a continuous UTF-8 text (a play, a book), cut into windows '
                       'of --block-size characters, each trained as a document')
    train.add_argument('--val-fraction', type=float, metavar='F',
                       help=f'hold out this fraction of the documents or windows for validation, chosen with --seed '
                       f'(default {TEXT_VAL_FRACTION:g} with --text, 0 with --data)')
    train.add_argument('--tokenizer', metavar='char|bpe',
                       help="char: microgpt's, one token a character (default); bpe: a byte-level BPE learned from the "
                       "training text with the tokenizers library (the optional extra), saved beside --out; numpy and torch")
    train.add_argument('--vocab-size', type=int, metavar='N',
                       help=f'bpe: at most N tokens, the 256 bytes and BOS included (default {BPE_VOCAB}, the large preset '
                       '50,257); merges need a pair seen twice, so a small text stops short of N')
    train.add_argument('--eval-every', type=int, metavar='K',
                       help=f'print the validation loss every K steps (the mean over at most {MAX_DOCS} held-out '
                       'documents; default: after the last step)')


def check_options(args):
    """The data options make sense together, before anything is read or fetched."""
    _check_tokenizer(args)
    if args.text is not None and args.data is not None:
        raise EngineError('--data and --text are two ways to give what to train on: give one.')
    if args.val_fraction is not None and not (math.isfinite(args.val_fraction) and 0 <= args.val_fraction < 1):
        raise EngineError(f'--val-fraction must be at least 0 and below 1, not {short(args.val_fraction)}.')
    if args.eval_every is not None:
        if args.eval_every <= 0:
            raise EngineError(f'--eval-every must be a positive whole number of steps, not {args.eval_every}.')
        if not val_fraction(args):
            raise EngineError('--eval-every needs documents held out for validation: give --val-fraction above 0.')


def _check_tokenizer(args):
    if (args.tokenizer or 'char') not in TOKENIZERS:
        raise EngineError(f'--tokenizer must be char or bpe, not {short(args.tokenizer)}.')
    if args.tokenizer != 'bpe':
        if args.vocab_size is not None:
            raise EngineError('--vocab-size needs --tokenizer bpe: the character vocabulary is the text\'s characters.')
        return
    if args.backend == 'scalar':
        given = f'The {args.preset} preset trains on a BPE, so it' if args.preset in RECIPES else '--tokenizer bpe'
        raise EngineError(f'{given} needs --backend numpy or torch: the scalar engine and its history read '
                          'a character vocabulary.')
    if args.vocab_size is not None and args.vocab_size < MIN_VOCAB:
        raise EngineError(f'--vocab-size must be at least {MIN_VOCAB} (the 256 bytes and BOS), not {args.vocab_size}.')
    require()  # one sentence saying how to install the library, before the data is read


def val_fraction(args):
    if args.val_fraction is not None:
        return args.val_fraction
    return TEXT_VAL_FRACTION if args.text is not None else 0.0


def data_path(args):
    """The file trained on: --text, --data, or names.txt (fetched the first time)."""
    return args.text or args.data or default_names_path()


@dataclass(frozen=True)
class TrainingData:
    train: list        # the documents (or windows) trained on
    val: list          # those held out for validation
    header: str        # what `train` prints about them first ('num docs: 32033', as microgpt)
    tokenizer: object = None  # the BPE learned from them (engine.bpe), or None: the trainer's characters


def load(args, path, block_size):
    """The documents of `path` as the options say, split into training and validation; with --tokenizer bpe,
    the BPE learned from the training documents (from a --text's whole text, cut into windows of block_size
    tokens: the held-out windows' text shapes the merges, never the weights)."""
    bpe = args.tokenizer == 'bpe'
    size = args.vocab_size or BPE_VOCAB
    tokenizer = None
    if args.text is not None:
        text = load_text(path)
        if bpe:
            tokenizer = BpeTokenizer.train([text], size)
        docs = tokenizer.windows(text, block_size) if bpe else text_windows(text, block_size)
        about = f'text: {len(text)} characters in {len(docs)} windows of {block_size}{" tokens" if bpe else ""}\n'
    else:
        docs, about = load_docs(path), ''
    train, val = split_docs(docs, val_fraction(args), args.seed)
    if bpe and tokenizer is None:
        tokenizer = BpeTokenizer.train(train, size)
    if bpe:
        about += f'bpe: {tokenizer.vocab_size:,} tokens (asked for at most {size:,})\n'
    return TrainingData(train, val, about + f'num docs: {len(train)}' + (f' (val {len(val)})' if val else ''), tokenizer)


class Validation:
    """The validation loss of a run, every K steps and after the last: ' | val loss 2.4567' for the step line."""

    def __init__(self, data, tokenizer, every, num_steps):
        self.docs, left_out = evaluated(data.val, tokenizer)
        self.every, self.num_steps = every, num_steps
        self.losses = {}  # step -> validation loss
        if data.val and left_out:
            sys.stdout.flush()  # after what train printed so far
            print(f'note: {left_out} of the {len(data.val)} held-out documents have a character the training '
                  'documents do not; the validation loss leaves them out.', file=sys.stderr)
        if data.val and not self.docs:
            raise EngineError('No held-out document can be read with the training documents\' vocabulary: '
                              'use another --seed or --val-fraction.')

    def due(self, step):
        return bool(self.docs) and (step == self.num_steps or (self.every is not None and step % self.every == 0))

    def after(self, step, model, history=None):
        """' | val loss …' when step is one to evaluate at (the model's weights after that step), else ''; the
        run's History, if one is recorded, keeps it. `model`: an engine.model.Model, or a function of the
        documents giving their validation loss (another backend's, made only when due)."""
        if not self.due(step):
            return ''
        loss_of = model if callable(model) else lambda docs: validation_loss(model, docs)
        self.losses[step] = loss = loss_of(self.docs)
        if history is not None:  # the scalar engine's history keeps it, drawn on the Timeline's loss curve
            history.record_validation(self.docs, step, loss)
        return f' | val loss {loss:.4f}'
