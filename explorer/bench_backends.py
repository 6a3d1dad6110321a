"""The bench's training figures of the two backends side by side (`python3 main.py bench`, issue 24): a whole
training step (forward, backward, Adam) of microgpt's config on names.txt, one document a step, with the scalar
engine and with numpy, and numpy's tokens a second at a batch of 32 documents; and the mini GPT's 100 iterations
(preset mini-gpt: LayerNorm, exact GELU, biases, tied weights, ln_f; n_embd 128, 3 layers, 4 heads, block 64;
batch 32) on a 1 MB text, with numpy; a cold seek to the middle of a snapshot interval of such a run's history;
and, where the torch extra is installed, the large recipe's tokens a second with torch on the CPU (float64) on a
BPE learned from that text."""

import os
import time

from engine.data import find_names, load_docs
from engine.model import GPTConfig
from engine.optim import TrainConfig
from engine.presets import preset_config
from engine.train import Trainer

BATCH = 32
MINI_GPT = dict(n_embd=128, n_layer=3, n_head=4, block_size=64)  # the PyTorch mini GPT's shape, on preset mini-gpt
MINI_TEXT_BYTES = 1_000_000  # its text: names.txt, one name a line, repeated to 1 MB (this machine has no other)
MINI_ITERS = 100
LARGE_BATCH = 4  # the large recipe's step is 16 windows of 512 tokens (over a minute here): the bench times one part
# of 4, a step of its own (on a CPU, tokens a second hardly depend on the batch)


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


def mini_gpt_text(docs, size=MINI_TEXT_BYTES):
    """A continuous text of `size` characters: the documents, one a line, repeated until there are enough."""
    one = '\n'.join(docs) + '\n'
    return (one * (size // len(one) + 1))[:size]


def mini_gpt_figures(docs=None, iters=MINI_ITERS, size=MINI_TEXT_BYTES, shape=None):
    """{'mini_gpt_100_iters_s', 'mini_gpt_tokens_per_s', 'mini_gpt_params'}: `iters` numpy training steps of the
    mini GPT (batch 32 windows of block_size characters of a `size`-character text), timed whole after one
    step of warm-up (its first allocations)."""
    from engine.data import text_windows
    from engine.vectorized import VectorTrainer
    config = preset_config('mini-gpt', **(shape or MINI_GPT))  # LayerNorm, exact GELU, biases, tied weights, ln_f
    windows = text_windows(mini_gpt_text(docs if docs is not None else _documents(), size), config.block_size)
    trainer = VectorTrainer(windows, config, TrainConfig(num_steps=10**6), batch=BATCH)
    trainer.train_step()
    seconds, tokens_per_s = _per_step(trainer, iters, repeat=1)
    return {'mini_gpt_100_iters_s': round(seconds * iters, 2), 'mini_gpt_tokens_per_s': round(tokens_per_s),
            'mini_gpt_params': trainer.flat.size, **mini_gpt_explorer_figures(trainer.model, windows[0])}


def mini_gpt_explorer_figures(model, window):
    """What the explorer computes with numpy for a model too large to record whole (issue 24), on one window of
    block_size characters: {'mini_gpt_attention_ms': every head's weights at every position,
    'mini_gpt_sample_s': the sampler's 64 next-token distributions (a sample as long as block_size)}."""
    from engine.sampling import next_token_distributions
    from engine.vectorized import weights_of
    weights = weights_of(model)
    start = time.perf_counter()
    weights.attention(window)
    attention = time.perf_counter() - start
    start = time.perf_counter()
    list(next_token_distributions(model, window[:model.config.block_size - 1]))
    return {'mini_gpt_attention_ms': round(attention * 1000, 1),
            'mini_gpt_sample_s': round(time.perf_counter() - start, 2)}


def large_figures(docs=None, size=MINI_TEXT_BYTES, shape=None, vocab_size=None, batch=LARGE_BATCH):
    """{'large_tokens_per_s', 'large_vocab', 'large_params'}: one torch training step on the CPU (float64) of the
    large recipe (engine.presets.RECIPES) on a BPE of at most its 50,257 tokens learned from the `size`-character
    text, after a step of warm-up; {'large_tokens_per_s': None} where torch or tokenizers is not installed."""
    from engine import torch_backend
    from engine.bpe import BpeTokenizer, require
    from engine.errors import EngineError
    from engine.presets import RECIPES
    try:
        require(), torch_backend.require()
    except EngineError:
        return {'large_tokens_per_s': None}
    from engine.torch_train import TorchTrainer
    recipe = RECIPES['large']
    config = preset_config('large', **(shape or {}))
    text = mini_gpt_text(docs if docs is not None else _documents(), size)
    tokenizer = BpeTokenizer.train([text], vocab_size or recipe.vocab_size)
    trainer = TorchTrainer(tokenizer.windows(text, config.block_size), config,
                           TrainConfig(num_steps=10**6, learning_rate=recipe.learning_rate), batch=batch, device='cpu',
                           tokenizer=tokenizer)
    trainer.train_step()
    positions = sum(trainer.positions(doc)[1] for doc in trainer.step_docs(trainer.step))
    start = time.perf_counter()
    trainer.train_step()
    return {'large_tokens_per_s': round(positions / (time.perf_counter() - start), 1),
            'large_vocab': tokenizer.vocab_size, 'large_params': trainer.module.flat.numel()}


def numpy_history_figures(docs=None, size=MINI_TEXT_BYTES, shape=None, num_steps=1000):
    """{'numpy_history_seek_ms', 'numpy_history_every', 'numpy_history_snapshot_mb'}: a mini GPT trained with a
    history at the snapshot interval engine.history_numpy gives a `num_steps` run of it, to its first snapshot
    after step 0; then a cold seek to the middle of that interval (what the timeline does: the weights of that step,
    replayed with numpy from step 0, as a checkpoint)."""
    from engine import history as history_io
    from engine import history_numpy
    from engine.data import text_windows
    from engine.vectorized import VectorTrainer
    config = preset_config('mini-gpt', **(shape or MINI_GPT))
    windows = text_windows(mini_gpt_text(docs if docs is not None else _documents(), size), config.block_size)
    trainer = VectorTrainer(windows, config, TrainConfig(num_steps=num_steps), batch=BATCH)
    every = history_numpy.default_every(num_steps, trainer.flat.size)
    history = history_numpy.attach(trainer, every)
    for _ in range(every):
        trainer.train_step()
    history = trainer.finished_history()
    history.forget()
    start = time.perf_counter()
    ckpt = history_io.checkpoint_at(history, every // 2)
    seconds = time.perf_counter() - start
    assert ckpt.step == every // 2
    return {'numpy_history_seek_ms': round(seconds * 1000), 'numpy_history_every': every,
            'numpy_history_snapshot_mb': round(len(history.pack(history.snapshots[0][0])) * 3 / 2**20, 1)}


if __name__ == '__main__':
    print(backend_figures())
