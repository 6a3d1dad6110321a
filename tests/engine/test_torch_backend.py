"""engine.torch_backend: PyTorch's forward (and autograd's backward) agrees with the numpy backend, step by step.

The numpy backend is checked against the scalar engine (tests/engine/test_vectorized.py); here the torch backend is
checked against numpy, float64 on the CPU, on every rung of the ladder and the block options, a batch of several
documents a step: the loss, every gradient, every weight and Adam's moments after each of a few steps must agree
to 1e-10 of each value's size (the floor of a value near 0 is 1e-10 of its matrix's largest, as in
test_vectorized.py: a sum's rounding error is relative to its terms, not to its result). Measured here the worst
ratio is 3e-13 (Adam's update divides by √v of a small gradient); one operation changed in the torch forward
gives 1e-4 or more.
"""

import numpy as np
import pytest

torch = pytest.importorskip('torch', reason="the torch backend's tests need PyTorch: .venv/bin/pip install -e '.[torch]'")

from engine import torch_backend  # noqa: E402
from engine.data import load_docs  # noqa: E402
from engine.optim import TrainConfig  # noqa: E402
from engine.presets import PRESETS, preset_config  # noqa: E402
from engine.vectorized import flat_views as views  # noqa: E402
from engine.torch_train import TorchTrainer  # noqa: E402
from engine.vectorized import VectorTrainer  # noqa: E402

TOLERANCE = 1e-10
STEPS = 4
BATCH = 3


@pytest.fixture(scope='module')
def docs(names_file):
    return load_docs(str(names_file))[:400]


NOISE = 1e-9  # a bias whose values stay below this in both backends is rounding only: the key's (test_vectorized)


def worst_ratio(torch_matrices, numpy_matrices):
    """max over values of |torch - numpy| / (|numpy| + max |numpy| of its matrix)."""
    worst = 0.0
    for name, expected in numpy_matrices.items():
        got = torch_matrices[name].detach().cpu().numpy() if torch.is_tensor(torch_matrices[name]) else torch_matrices[name]
        floor = np.abs(expected).max()
        if name.endswith('_b') and max(floor, np.abs(got).max()) < NOISE:
            continue  # the key's bias: softmax cancels it, its gradient is rounding in both backends (test_vectorized)
        diff = np.abs(got - expected)
        worst = max(worst, float(diff.max() if floor == 0 else (diff / (np.abs(expected) + floor)).max()))
    return worst


def side_by_side(docs, config, steps=STEPS, optimizer='adam'):
    """Yield (step, numpy loss, torch loss, worst gradient, weight, m and v ratios) for each step of both runs."""
    train_config = TrainConfig(num_steps=steps, optimizer=optimizer)
    vector = VectorTrainer(docs, config, train_config, batch=BATCH)
    torched = TorchTrainer(docs, config, train_config, batch=BATCH, device='cpu')
    assert torched.docs == vector.docs and torched.module.flat.dtype == torch.float64
    assert worst_ratio(torched.weights, vector.weights) == 0  # the same draws, exactly
    for step in range(steps):
        assert torched.step_docs(step) == vector.step_docs(step)
        numpy_result, torch_result = vector.train_step(), torched.train_step()
        grads = views(torched.module.flat.grad, torched.shapes)
        moments = max(worst_ratio({'x': getattr(torched, k)}, {'x': getattr(vector.optimizer, k)}) for k in 'mv')
        yield (step, numpy_result.loss, torch_result.loss, worst_ratio(grads, vector.grads),
               worst_ratio(torched.weights, vector.weights), moments)


# Each preset at a small shape (mini-gpt: LayerNorm, exact GELU, biases, tying, ln_f; llama-style: RoPE, SwiGLU), the block
# options and SGD
RUNGS = {name: (name, 'adam') for name in PRESETS} | {'mlp, gelu': ('mlp', 'adam'), 'microgpt, layernorm': ('microgpt', 'adam'),
                                                      'average, layernorm, gelu, sgd': ('average', 'sgd'),
                                                      'bigram, sgd': ('bigram', 'sgd'),
                                                      'microgpt, gelu-erf, no embedding norm, final norm': ('microgpt', 'adam')}


def rung_config(rung):
    preset = RUNGS[rung][0]
    return preset_config(preset, n_layer=None if preset == 'bigram' else 2, n_embd=8,
                         n_head=None if preset == 'one-head' else 2, block_size=8,
                         activation='gelu-erf' if 'gelu-erf' in rung else 'gelu' if 'gelu' in rung else None,
                         norm='layer' if 'layernorm' in rung else None, embed_norm=False if 'no embedding norm' in rung else None,
                         final_norm=True if 'final norm' in rung else None)


@pytest.mark.parametrize('rung', RUNGS, ids=RUNGS.keys())
def test_every_rung_agrees_with_numpy_at_every_step(docs, rung):
    for step, numpy_loss, torch_loss, grads, weights, adam in side_by_side(docs, rung_config(rung), optimizer=RUNGS[rung][1]):
        where = f'{rung}, step {step + 1}'
        assert abs(torch_loss - numpy_loss) <= TOLERANCE * abs(numpy_loss), where
        assert grads <= TOLERANCE and weights <= TOLERANCE and adam <= TOLERANCE, (where, grads, weights, adam)


def test_microgpt_itself_agrees_with_numpy(docs):
    for step, numpy_loss, torch_loss, grads, weights, adam in side_by_side(docs, preset_config('microgpt'), steps=10):
        assert abs(torch_loss - numpy_loss) <= TOLERANCE * abs(numpy_loss), step
        assert max(grads, weights, adam) <= TOLERANCE, (step, grads, weights, adam)


BROKEN = {
    'rmsnorm without its epsilon': ('rmsnorm', 'microgpt', lambda x: x * ((x * x).mean(dim=-1, keepdim=True)) ** -0.5),
    "GELU's exact form, not its tanh form": ('mlp', 'mlp, gelu', lambda x, w, li, activation: torch_backend.linear(
        torch.nn.functional.gelu(torch_backend.linear(x, w[f'layer{li}.mlp_fc1'])), w[f'layer{li}.mlp_fc2'])),
    'attention without its causal mask': ('attention', 'one-head', lambda x, w, li, n_head, rotate=False:
                                          unmasked_attention(x, w, li, n_head)),
}


def unmasked_attention(x, w, li, n_head):
    """torch_backend.attention with every key in sight (is_causal=False), and nothing else changed."""
    B, T, E = x.shape
    q, k, v = (torch_backend.linear(x, w[f'layer{li}.attn_{m}']).view(B, T, n_head, E // n_head).transpose(1, 2)
               for m in ('wq', 'wk', 'wv'))
    heads = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=False)
    return torch_backend.linear(heads.transpose(1, 2).reshape(B, T, E), w[f'layer{li}.attn_wo'])


@pytest.mark.parametrize('name', BROKEN)
def test_one_operation_changed_in_the_forward_is_caught_at_the_first_step(docs, monkeypatch, name):
    """The comparison above is sharp: one operation changed in the torch model shows in the first step's gradients."""
    function, rung, broken = BROKEN[name]
    monkeypatch.setattr(torch_backend, function, broken)
    _, _, _, grads, _, _ = next(side_by_side(docs, rung_config(rung), steps=1))
    assert grads > 1e-6


def test_the_weights_are_one_flat_parameter_viewed_as_matrices(docs):
    trainer = TorchTrainer(docs, preset_config('microgpt'), TrainConfig(num_steps=1), device='cpu')
    assert [name for name, _ in trainer.module.named_parameters()] == ['flat']
    w = trainer.module.weights()
    assert list(w) == list(trainer.shapes) and w['wte'].data_ptr() == trainer.module.flat.data_ptr()
    assert trainer.module.flat.numel() == 4192
