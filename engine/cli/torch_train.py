"""`train --backend torch`'s own options: --accumulate, --device, --save-every, --resume; under torchrun only
rank 0 prints, samples and writes the checkpoint. PyTorch is imported only when the torch backend is asked for."""

import contextlib
import os

from engine import checkpoint as ckpt_io
from engine.errors import EngineError
from engine.sampling import iter_samples
from engine.validation import validation_loss

TORCH_ONLY = ('accumulate', 'device', 'save_every', 'resume')


def add_options(train):
    train.add_argument('--accumulate', type=int, metavar='A',
                       help='torch: cut each process\'s part of a batch in A, a forward and backward each, one update '
                       '(gradient accumulation; default 1)')
    train.add_argument('--device', metavar='auto|cpu|cuda',
                       help='torch: auto (default) takes a GPU if PyTorch sees one (float32), else the CPU (float64)')
    train.add_argument('--save-every', type=int, metavar='K',
                       help='torch: also write --out every K steps (rank 0 only), to --resume from')
    train.add_argument('--resume', metavar='CHECKPOINT',
                       help='torch: go on from a checkpoint of this same run (the same command), from its step')


def check_options(args):
    """The torch options are given only with --backend torch, and make sense, before anything is read."""
    given = [name for name in TORCH_ONLY if getattr(args, name) is not None]
    if given and args.backend != 'torch':
        raise EngineError(f'--{given[0].replace("_", "-")} needs --backend torch.')
    if args.accumulate is not None and args.accumulate <= 0:
        raise EngineError(f'--accumulate must be a positive whole number of parts, not {args.accumulate}.')
    if args.save_every is not None:
        if not args.out:
            raise EngineError('--save-every needs --out: the checkpoint is written there.')
        if args.save_every <= 0:
            raise EngineError(f'--save-every must be a positive whole number of steps, not {args.save_every}.')
    if args.backend != 'torch' and os.environ.get('WORLD_SIZE', '1') != '1':
        raise EngineError(f'Under torchrun, train needs --backend torch: the {args.backend} backend trains in one '
                          'process.')
    if args.backend == 'torch':
        from engine import torch_backend
        torch_backend.require()  # one sentence saying how to install it, before the data is read


def make_trainer(args, docs, model_config, train_config, tokenizer=None):
    """The TorchTrainer the options ask for (on `tokenizer`'s ids: a BPE, or None for the documents' characters),
    gone on from --resume's checkpoint if one is given."""
    from engine.torch_train import TorchTrainer
    resumed = ckpt_io.load(args.resume) if args.resume else None  # a bad file: one sentence before the work
    trainer = TorchTrainer(docs, model_config, train_config, batch=args.batch or 1, accumulate=args.accumulate or 1,
                           device=args.device or 'auto', tokenizer=tokenizer)
    if resumed is not None:
        trainer.resume(resumed, os.path.basename(args.resume))
    return trainer


def saves(trainer):
    """Whether this process prints, samples and writes files: every trainer but a torchrun process other than rank 0."""
    return getattr(trainer, 'is_main', True)


def samples(trainer, num_samples, temperature):
    """The documents `train` prints at the end: none from a torchrun process other than rank 0; the torch
    trainer's own sampler (the same draws, its forward in torch); else engine.sampling's."""
    if not saves(trainer):
        return iter(())
    if hasattr(trainer, 'iter_samples'):
        return trainer.iter_samples(num_samples, temperature)
    return iter_samples(trainer.model, trainer.rng, num_samples, temperature)


def loss_of(trainer):
    """What the validation loss is computed with: the torch trainer's own forward (a scalar pass over 256 held-out
    windows of a mini GPT is an hour), else the trainer's Model (made only when the loss is due)."""
    if hasattr(trainer, 'validation_loss'):
        return trainer.validation_loss
    return lambda docs: validation_loss(trainer.model, docs)


def save_due(args, trainer, step):
    return getattr(args, 'save_every', None) is not None and saves(trainer) and step % args.save_every == 0


@contextlib.contextmanager
def session(trainer, out):
    """`out` for rank 0 (and every trainer not under torchrun), a sink for the other ranks; the process group
    left at the end."""
    try:
        if saves(trainer):
            yield out
        else:
            with open(os.devnull, 'w') as sink:
                yield sink
    finally:
        close = getattr(trainer, 'close', None)
        if close is not None:
            close()
