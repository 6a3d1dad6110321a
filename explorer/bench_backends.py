"""The bench's training figures of the two backends side by side (`python3 main.py bench`, issue 24): a whole
training step (forward, backward, Adam) of microgpt's config on names.txt, one document a step, with the scalar
engine and with numpy, and numpy's tokens a second at a batch of 32 documents."""

import os
import time

from engine.data import find_names, load_docs
from engine.model import GPTConfig
from engine.optim import TrainConfig
from engine.train import Trainer

BATCH = 32


def _per_step(trainer, steps, repeat=3):
    """(seconds a step, positions trained a second): the best of `repeat` runs of `steps` steps each."""
    block = trainer.model_config.block_size if hasattr(trainer, 'model_config') else trainer.model.config.block_size
    batch = getattr(trainer, 'batch', 1)  # the scalar Trainer: one document a step
    best = (float('inf'), 0.0)
    for _ in range(repeat):
        docs = [trainer.docs[(trainer.step * batch + i) % len(trainer.docs)] for i in range(steps * batch)]
        positions = sum(min(block, len(doc) + 1) for doc in docs)  # what engine.model.Model.positions trains
        start = time.perf_counter()
        for _ in range(steps):
            trainer.train_step()
        seconds = time.perf_counter() - start
        best = min(best, (seconds / steps, positions / seconds))
    return best


def _documents():
    """names.txt if this machine has it; else the 1,000 names the shipped run trained on, from its history (the
    bench never needs the network: without it, it stopped with a traceback)."""
    names = find_names()
    if names is not None:
        return load_docs(names)
    from engine import checkpoint as ckpt_io
    from engine import history as history_io
    from engine.paths import DEFAULT_CHECKPOINT
    return list(history_io.load_for(DEFAULT_CHECKPOINT, ckpt_io.load(DEFAULT_CHECKPOINT)).docs)


def backend_figures(docs=None):
    """{'scalar_step_ms', 'numpy_step_ms', 'numpy_batched_tokens_per_s', 'numpy_batch', 'load_average'}."""
    from engine.vectorized import VectorTrainer  # numpy only here: the rest of the bench runs without it
    docs = docs if docs is not None else _documents()
    config, train = GPTConfig(), TrainConfig(num_steps=10**6)
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    scalar, _ = _per_step(Trainer(docs, config, train), 30)
    numpy_trainer = VectorTrainer(docs, config, train)
    _per_step(numpy_trainer, 50, 1)  # warm up
    vector, _ = _per_step(numpy_trainer, 500)
    batched = VectorTrainer(docs, config, train, batch=BATCH)
    _per_step(batched, 5, 1)
    _, tokens_per_s = _per_step(batched, 50)
    return {'scalar_step_ms': round(scalar * 1000, 2), 'numpy_step_ms': round(vector * 1000, 3),
            'numpy_vs_scalar': round(scalar / vector), 'numpy_batched_tokens_per_s': round(tokens_per_s),
            'numpy_batch': BATCH, 'load_average_1m': None if load is None else round(load, 2)}


if __name__ == '__main__':
    print(backend_figures())
