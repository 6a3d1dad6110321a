"""explorer/bench_backends.py: the scalar and numpy training figures, on a tiny dataset (not the whole bench)."""

import sys

import pytest

from engine.model import GPTConfig, param_count
from engine.presets import preset_config
from engine.optim import TrainConfig
from engine.vectorized import VectorTrainer
from explorer import bench_backends

DOCS = ['abc', 'bca', 'cab', 'acb'] * 8  # every document 3 characters: 4 positions a document


@pytest.mark.parametrize('batch', [1, 5])
def test_tokens_a_second_count_the_positions_trained(batch):
    trainer = VectorTrainer(DOCS, GPTConfig(n_layer=1, n_embd=8, n_head=2, block_size=8),
                            TrainConfig(num_steps=100), batch=batch)
    seconds, tokens_per_s = bench_backends._per_step(trainer, 4, repeat=2)
    assert trainer.step == 8
    assert tokens_per_s * seconds == pytest.approx(4 * batch)


def test_the_figures_name_both_backends_side_by_side():
    figures = bench_backends.backend_figures(DOCS)
    assert {'scalar_step_ms', 'numpy_step_ms', 'numpy_batched_tokens_per_s'} <= set(figures)
    assert figures['numpy_batch'] == 32
    assert all(figures[k] > 0 for k in ('scalar_step_ms', 'numpy_step_ms', 'numpy_batched_tokens_per_s'))


def test_without_names_txt_it_trains_on_the_names_the_shipped_run_trained_on(monkeypatch):
    """The bench needs no network: with no names.txt on the machine it takes the shipped history's documents."""
    monkeypatch.setattr(bench_backends, 'find_names', lambda: None)
    docs = bench_backends._documents()
    assert len(docs) == 1000 and all(doc.isalpha() and doc.islower() for doc in docs)


def test_the_mini_gpt_figures_time_its_iterations_on_a_text_of_the_size_asked():
    short = bench_backends.mini_gpt_text(['emma', 'olivia'], 100)
    assert len(short) == 100 and short.startswith('emma\nolivia\nemma\n')
    text = bench_backends.mini_gpt_text(DOCS, 2000)
    figures = bench_backends.mini_gpt_figures(DOCS, iters=3, size=2000,
                                              shape=dict(n_embd=8, n_layer=1, n_head=2, block_size=16))
    assert figures['mini_gpt_100_iters_s'] >= 0 and figures['mini_gpt_tokens_per_s'] > 0
    config = preset_config('mini-gpt', n_embd=8, n_layer=1, n_head=2, block_size=16)
    assert config.tie and config.bias and figures['mini_gpt_params'] == param_count(config, len(set(text)) + 1)
    assert figures['mini_gpt_attention_ms'] >= 0 and figures['mini_gpt_sample_s'] >= 0


def test_the_explorers_numpy_figures_compute_what_the_panels_show(monkeypatch):
    """The timed calls are the attention of the whole window and its block_size - 1 next-token distributions."""
    import engine.sampling as sampling
    from engine import checkpoint as ckpt_io
    from engine.paths import DEFAULT_CHECKPOINT
    from engine.vectorized import Weights
    model = ckpt_io.load(DEFAULT_CHECKPOINT).model
    asked, steps = [], []
    monkeypatch.setattr(Weights, 'attention', lambda self, doc: asked.append(doc))
    real = sampling.next_token_distributions
    monkeypatch.setattr(sampling, 'next_token_distributions', lambda m, doc: steps.extend(real(m, doc)) or steps)
    figures = bench_backends.mini_gpt_explorer_figures(model, 'emmaolivia' * 2)
    assert asked == ['emmaolivia' * 2] and len(steps) == 16  # block_size 16: 15 characters, 16 positions
    assert set(figures) == {'mini_gpt_attention_ms', 'mini_gpt_sample_s'}


def test_the_large_figures_time_a_torch_step_on_a_bpe_of_the_text(monkeypatch):
    pytest.importorskip('torch')
    pytest.importorskip('tokenizers')
    figures = bench_backends.large_figures(DOCS * 4, size=3000, shape=dict(n_embd=8, n_layer=1, n_head=2, block_size=16),
                                           vocab_size=300)
    assert figures['large_tokens_per_s'] > 0 and 257 < figures['large_vocab'] <= 300
    config = preset_config('large', n_embd=8, n_layer=1, n_head=2, block_size=16)
    assert figures['large_params'] == param_count(config, figures['large_vocab'])
    monkeypatch.setitem(sys.modules, 'tokenizers', None)
    assert bench_backends.large_figures(DOCS) == {'large_tokens_per_s': None}


def test_the_numpy_history_seek_reaches_the_middle_of_the_first_interval():
    figures = bench_backends.numpy_history_figures(DOCS, size=2000, num_steps=400,
                                                   shape=dict(n_embd=8, n_layer=1, n_head=2, block_size=16))
    assert figures['numpy_history_every'] == 4 and figures['numpy_history_seek_ms'] >= 0  # 400 steps: 100 snapshots
    assert 0 <= figures['numpy_history_snapshot_mb'] < 1  # 32 bytes a weight: a few KB here
