"""`train --backend torch`: engine.vectorized.VectorTrainer's run in PyTorch (engine.torch_backend), in one
process or in many launched by torchrun (DistributedDataParallel: gloo on the CPU, NCCL on GPUs), with
gradient accumulation, checkpoints written by rank 0 only, and resumption from a checkpoint.

The same seed, shuffle, initial draws (engine.model.initial_floats, Model.init's), data order (the next B documents of the
shuffled list each step, going round), loss weights and Adam as VectorTrainer. A step's B documents (the global
batch) are cut into world_size × accumulate parts, as even as they go: process r takes parts r·A … r·A + A − 1,
one forward and backward each. Every document's loss weight is 1/(n·B), so the parts' gradients add up to the
batch's; DistributedDataParallel averages over the processes, so each backward is of world_size × the loss.
The weights after each step are those of one process training the whole batch, up to rounding
(tests/engine/test_torch_train.py runs two gloo processes and checks it).
"""

import contextlib
import math
import os
import random
from dataclasses import dataclass

from engine import torch_backend
from engine.checks import is_whole, short
from engine.errors import CheckpointError, ConfigError, EngineError, TrainingDiverged
from engine.model import initial_floats, param_count, param_shapes
from engine.tokenizer import Tokenizer
from engine.train import StepResult, memory_size
from engine.vectorized import WeightsModel, adam_update, batch_arrays, sgd_update

DEVICES = ('auto', 'cpu', 'cuda')


@dataclass(frozen=True)
class Launch:
    """Where this process stands in a torchrun job (rank 0 of 1 when started without torchrun)."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls, environ=None):
        """What torchrun tells each process it starts (RANK, WORLD_SIZE, LOCAL_RANK)."""
        env = os.environ if environ is None else environ
        try:
            return cls(*(int(env.get(name, default)) for name, default in
                         (('RANK', 0), ('WORLD_SIZE', 1), ('LOCAL_RANK', 0))))
        except ValueError:
            raise EngineError('RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers (torchrun sets them).') from None

    @property
    def is_main(self):
        """Rank 0 prints, samples and writes the checkpoint."""
        return self.rank == 0


def pick_device(name, launch):
    """'auto': a GPU if there is one (this process's own under torchrun), else the CPU."""
    torch = torch_backend.require()
    if name not in DEVICES:
        raise ConfigError(f'--device must be auto, cpu or cuda, not {short(name)}.')
    if name == 'cuda' and not torch.cuda.is_available():
        raise ConfigError('--device cuda needs a GPU PyTorch can use, and there is none here.')
    if name == 'cpu' or not torch.cuda.is_available():
        return torch.device('cpu')
    return torch.device('cuda', launch.local_rank)


def part_bounds(batch, parts):
    """[(start, end)] of `parts` consecutive slices of a batch of `batch`, as even as they go."""
    return [(i * batch // parts, (i + 1) * batch // parts) for i in range(parts)]


def my_parts(docs, launch, accumulate):
    """Process launch.rank's `accumulate` parts of a step's documents (each process takes consecutive ones)."""
    bounds = part_bounds(len(docs), launch.world_size * accumulate)
    first = launch.rank * accumulate
    return [docs[a:b] for a, b in bounds[first:first + accumulate]]


class TorchTrainer(WeightsModel):
    """VectorTrainer's run in PyTorch: B documents a step (over every process), in `accumulate` parts each."""

    def __init__(self, docs, model_config, train_config, batch=1, accumulate=1, device='auto', launch=None,
                 tokenizer=None):
        torch = torch_backend.require()
        for name, value in (('batch', batch), ('accumulate', accumulate)):
            if not (is_whole(value) and value > 0):
                raise ConfigError(f'The {name} must be a positive whole number, not {short(value)}.')
        self.launch = launch or Launch.from_env()
        parts = self.launch.world_size * accumulate
        if batch < parts:
            raise ConfigError(f'A batch of {batch} documents cannot be cut into {parts} parts '
                              f'({self.launch.world_size} processes × {accumulate} accumulation steps): '
                              f'give --batch {parts} or more.')
        self.config, self.batch, self.accumulate = train_config, batch, accumulate
        self.device = pick_device(device, self.launch)
        self.rng = random.Random(train_config.seed)
        self.docs = list(docs)
        self.tokenizer = tokenizer or Tokenizer.from_docs(self.docs)  # a BPE (engine.bpe) when one is given
        _check_drawable(model_config, self.tokenizer.vocab_size)
        self.rng.shuffle(self.docs)
        init = initial_floats(model_config, self.tokenizer.vocab_size, self.rng)  # Model.init's draws, in its order
        self.model_config = model_config
        self.shapes = param_shapes(model_config, self.tokenizer.vocab_size)
        flat = torch.tensor([x for mat in init.values() for row in mat for x in row],
                            dtype=torch_backend.dtype_for(self.device), device=self.device)
        del init
        self.module = torch_backend.GPT(model_config, self.shapes, flat)
        self.net = self._distributed(torch) if self.launch.world_size > 1 else self.module
        self.m, self.v = torch.zeros_like(flat), torch.zeros_like(flat)   # Adam's moments, flat
        self.step = 0
        self._model = None

    def _distributed(self, torch):
        """The module in DistributedDataParallel, the process group made first (gloo on the CPU, NCCL on GPUs)."""
        import torch.distributed as dist
        if not dist.is_initialized():
            dist.init_process_group('nccl' if self.device.type == 'cuda' else 'gloo')
        if dist.get_world_size() != self.launch.world_size:
            raise EngineError(f'WORLD_SIZE says {self.launch.world_size} processes, the process group has '
                              f'{dist.get_world_size()}.')
        ids = [self.device.index] if self.device.type == 'cuda' else None
        return torch.nn.parallel.DistributedDataParallel(self.module, device_ids=ids)

    @property
    def is_main(self):
        return self.launch.is_main

    @property
    def weights(self):
        """{name: numpy [rows, cols]} of the current weights (float64 copies off a GPU)."""
        return {name: w.detach().cpu().double().numpy() for name, w in self.module.weights().items()}

    @property
    def optimizer(self):
        """Adam's moments as numpy arrays, flat in model.params order (what a checkpoint keeps)."""
        return _Moments(*(t.detach().cpu().double().numpy() for t in (self.m, self.v)))

    def step_docs(self, step):
        """The B documents of step `step` (0-based) over every process: VectorTrainer's order."""
        n = len(self.docs)
        return [self.docs[(step * self.batch + i) % n] for i in range(self.batch)]

    def _tensors(self, docs):
        return self._as_tensors(*batch_arrays(self, docs, self.batch))

    def _as_tensors(self, tokens, targets, loss_weights):
        torch = torch_backend.torch
        return (torch.from_numpy(tokens).to(self.device), torch.from_numpy(targets).to(self.device),
                torch.from_numpy(loss_weights).to(self.device, self.module.flat.dtype))

    def gradient(self, docs):
        """Forward and backward of this process's parts of `docs`: the batch's loss (summed over every process)
        and the gradient in module.flat.grad (reduced over every process by DDP)."""
        torch = torch_backend.torch
        self.module.flat.grad = None
        parts = my_parts(docs, self.launch, self.accumulate)
        loss = torch.zeros((), dtype=self.module.flat.dtype, device=self.device)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            sync = contextlib.nullcontext() if last or self.net is self.module else self.net.no_sync()
            with sync:  # DDP reduces the gradient once, after the last part
                part_loss = self.net(*self._tensors(part))
                (part_loss * self.launch.world_size).backward()  # DDP divides by world_size: the sum is wanted
            loss += part_loss.detach()
        if self.net is not self.module:
            torch.distributed.all_reduce(loss)
        return loss

    def train_step(self):
        torch = torch_backend.torch
        step, num_steps = self.step, self.config.num_steps
        docs = self.step_docs(step)
        try:
            loss = float(self.gradient(docs))
        except RuntimeError as e:  # torch.OutOfMemoryError on a GPU, "can't allocate memory" on the CPU
            if 'memory' not in str(e):
                raise
            raise ConfigError(f'Step {step + 1} does not fit in the memory of the {self.device.type}: give a smaller '
                              '--batch or a larger --accumulate.') from None
        if not math.isfinite(loss):
            raise TrainingDiverged(f'Training diverged at step {step + 1}: the loss is {loss}; '
                                   'try a lower learning rate.')
        flat = self.module.flat
        with torch.no_grad():
            update = sgd_update if self.config.optimizer == 'sgd' else adam_update
            after, m, v = update(flat.detach(), flat.grad, self.m, self.v, step, self.config)
            if not bool(torch.isfinite(after).all()):
                raise TrainingDiverged(f'Training diverged at step {step + 1}: a weight stopped being a finite '
                                       'number; try a lower learning rate.')
            flat.copy_(after)
        self.m, self.v = m, v
        self.step += 1
        return StepResult(step + 1, num_steps, loss, docs[0])  # a batch's first document

    def run(self):
        while self.step < self.config.num_steps:
            yield self.train_step()

    def _batch_loss(self, tokens, targets, loss_weights):
        torch = torch_backend.torch
        with torch.no_grad():
            return float(torch_backend.batch_loss(self.module.weights(), self.model_config,
                                                  *self._as_tensors(tokens, targets, loss_weights)))

    def _next_probs(self, ids, temperature):
        """In float64 whatever the device: logit * temperature**-1, as the scalar sampler computes logit / temperature."""
        torch = torch_backend.torch
        with torch.no_grad():
            last = torch_backend.logits(self.module.weights(), self.model_config,
                                        torch.tensor([ids], device=self.device))[0, -1]
            return torch.softmax(last.double() * temperature ** -1, dim=-1).tolist()

    def resume(self, ckpt, name='the checkpoint'):
        """Go on from a checkpoint of this same run (same model, settings and data): its weights, Adam's
        moments, step and sampling state. CheckpointError (one sentence) for one of another run."""
        torch = torch_backend.torch
        why = _other_run(ckpt, self)
        if why:
            raise CheckpointError(f'{name} is not a checkpoint of this run: {why}; give the command it was trained with.')
        if ckpt.adam_m is None:
            raise CheckpointError(f"{name} has no Adam moments to go on with.")
        if ckpt.step >= self.config.num_steps:
            raise CheckpointError(f'{name} has already trained all {self.config.num_steps} steps of its run.')
        flat = self.module.flat
        with torch.no_grad():
            flat.copy_(torch.tensor([p.data for p in ckpt.model.params], dtype=flat.dtype))
        self.m = torch.tensor(ckpt.adam_m, dtype=flat.dtype, device=self.device)
        self.v = torch.tensor(ckpt.adam_v, dtype=flat.dtype, device=self.device)
        self.step = ckpt.step
        if ckpt.rng_state is not None:
            self.rng.setstate(ckpt.rng_state)

    def finished_history(self):
        return None  # a history replays with the scalar engine bit for bit: only the scalar Trainer writes one

    def close(self):
        """Leave the process group (torchrun's processes end together)."""
        if self.net is not self.module:
            import torch.distributed as dist
            if dist.is_initialized():
                dist.destroy_process_group()


BYTES_PER_DRAWN = 64  # a drawn weight as a Python float in its row's list, its place in the flat list, the tensor's 8


def _check_drawable(config, vocab_size):
    """The initial weights are drawn as engine.model.Model.init draws them, Python floats (the draws are then exactly
    the other backends'): refuse a model whose draws would not fit in memory, before making any."""
    params = param_count(config, vocab_size)
    memory = memory_size()
    if memory is not None and params * BYTES_PER_DRAWN > memory:
        raise ConfigError(f'This model cannot be made here: drawing its {params:,} initial weights as microgpt draws '
                          f'them takes about {params * BYTES_PER_DRAWN / 2**30:,.1f} GB of memory and this machine has '
                          f'{memory / 2**30:,.1f} GB.')


@dataclass(frozen=True)
class _Moments:
    m: object
    v: object


def _other_run(ckpt, trainer):
    """Why a checkpoint is not one of this trainer's run (a few words), or ''."""
    if ckpt.model.config != trainer.model_config:
        return 'its model is another (preset, shape or options)'
    if ckpt.model.tokenizer != trainer.tokenizer:
        return 'its vocabulary is another (other data)'
    if ckpt.train_config != trainer.config or ckpt.seed != trainer.config.seed:
        return 'its training settings (steps, learning rate, seed, optimizer) are others'
    return ''
