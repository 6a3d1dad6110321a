"""microgpt's GPT in PyTorch (the optional `torch` extra): the forward pass of every model option, written as
engine.vectorized writes it, with autograd for the backward. float64 on the CPU, where it agrees with the
numpy backend to 1e-10 (tests/engine/test_torch_backend.py); float32 on a GPU.

The weights are one flat tensor in model.params order (the order of microgpt's draws and of Adam's moments in
a checkpoint); each matrix is a view into it, so one gradient tensor and one Adam update cover them all, and
DistributedDataParallel reduces them in one go.

Shapes: B documents, T positions, E = n_embd, H = n_head, D = head_dim, V = vocab_size. A weight matrix is
[out][in] as microgpt keeps it, so `linear(x, w)` is x @ w.T.

This module imports without PyTorch (the engine never needs it); `require()` says how to install it.
"""

from engine.errors import EngineError
from engine.vectorized import EPS_RMS, flat_views, rope_tables

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the extra is not installed: require() says so where the torch backend is asked for
    torch = F = None

INSTALL = ".venv/bin/pip install -e '.[torch]'"


class TorchMissing(EngineError):
    """--backend torch without PyTorch installed."""


def require():
    """torch, or TorchMissing (one sentence: how to install it)."""
    if torch is None:
        raise TorchMissing(f"The torch backend needs PyTorch: {INSTALL} (the optional extra).")
    return torch


def dtype_for(device):
    """float64 on the CPU (exact enough to check against numpy), float32 on a GPU (what GPUs are fast at)."""
    return torch.float64 if torch.device(device).type == 'cpu' else torch.float32


def linear(x, w):
    """x [..., in], w [out, in] -> [..., out]."""
    return x @ w.T


def rmsnorm(x):
    """x * (mean(x²) + 1e-5) ** -0.5 over the last axis."""
    return x * ((x * x).mean(dim=-1, keepdim=True) + EPS_RMS) ** -0.5


def norm(x, w, name, config):
    """The model's norm at `name` ('emb', 'layer0.attn', …): rmsnorm, or LayerNorm with its gain and bias."""
    if config.norm == 'layer':
        return F.layer_norm(x, x.shape[-1:], w[f'{name}_ln_gain'][0], w[f'{name}_ln_bias'][0], eps=EPS_RMS)
    return rmsnorm(x)


def dense(x, w, name):
    """The model's linear `name`, with its bias w[name + '_b'] if the model has biases (the bias option)."""
    b = w.get(f'{name}_b')
    return linear(x, w[name]) if b is None else linear(x, w[name]) + b[0]


def rope(x, D):
    """x [B, T, E] -> each head's pairs (a, b) at position t turned by engine.model.rope_angles' angle:
    (a·cos − b·sin, a·sin + b·cos), as engine.vectorized.rope."""
    B, T, E = x.shape
    cos, sin = (torch.as_tensor(t, dtype=x.dtype, device=x.device) for t in rope_tables(T, E, D))  # [T, E/2]
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos + b * -sin, a * sin + b * cos), dim=-1).reshape(B, T, E)


def attention(x, w, li, n_head, rotate=False):
    """x [B, T, E] (normed) -> [B, T, E]: each head's softmax(q·k / √D) over keys 0..t, the weighted sum of
    values, the heads side by side, then wo; rotate: RoPE on q and k. A padded position comes after every real
    one: the causal mask keeps it out of their attention."""
    B, T, E = x.shape
    D = E // n_head
    q, k, v = (dense(x, w, f'layer{li}.attn_{m}') for m in ('wq', 'wk', 'wv'))  # [B, T, E]
    if rotate:
        q, k = rope(q, D), rope(k, D)
    q, k, v = (a.view(B, T, n_head, D).transpose(1, 2) for a in (q, k, v))      # [B, H, T, D]
    heads = F.scaled_dot_product_attention(q, k, v, is_causal=True)      # [B, H, T, D]
    return dense(heads.transpose(1, 2).reshape(B, T, E), w, f'layer{li}.attn_wo')


def uniform_attention(x, w, li):
    """The 'average' rung: weights 1/(t+1) over keys 0..t, no q, no k: the mean of the values so far."""
    T = x.shape[1]
    u = torch.tril(torch.ones(T, T, dtype=x.dtype, device=x.device))
    u = u / u.sum(dim=1, keepdim=True)                                    # [T, T]
    return dense(u @ dense(x, w, f'layer{li}.attn_wv'), w, f'layer{li}.attn_wo')


def mlp(x, w, li, activation):
    """fc1, ReLU (or GELU's tanh form, its exact erf form, or SwiGLU: silu(fc1·x) ⊙ fc3·x), fc2."""
    h = dense(x, w, f'layer{li}.mlp_fc1')                                 # [B, T, 4E]
    if activation == 'swiglu':
        h = F.silu(h) * dense(x, w, f'layer{li}.mlp_fc3')
    elif activation in ('gelu', 'gelu-erf'):
        h = F.gelu(h, approximate='tanh' if activation == 'gelu' else 'none')
    else:
        h = torch.relu(h)
    return dense(h, w, f'layer{li}.mlp_fc2')


def logits(w, config, tokens):
    """tokens [B, T] -> logits [B, T, V]: microgpt's gpt() at every position at once."""
    if config.arch == 'bigram':  # the token's row of wte is its logits
        return w['wte'][tokens]
    T = tokens.shape[1]
    x0 = w['wte'][tokens] + w['wpe'][:T] if 'wpe' in w else w['wte'][tokens]  # RoPE: no wpe
    x = norm(x0, w, 'emb', config) if config.embed_norm else x0          # [B, T, E]; the mini GPT: no norm here
    for li in range(config.n_layer):
        if config.attention != 'none':
            xn = norm(x, w, f'layer{li}.attn', config)
            x = x + (uniform_attention(xn, w, li) if config.attention == 'uniform'
                     else attention(xn, w, li, config.n_head, config.position == 'rope'))
        x = x + mlp(norm(x, w, f'layer{li}.mlp', config), w, li, config.activation)
    if config.final_norm:                                                # the mini GPT's ln_f
        x = norm(x, w, 'final', config)
    logits = linear(x, w['wte' if config.tie else 'lm_head'])            # tied: the logits read wte
    return logits + w['lm_head_b'][0] if config.bias else logits


def batch_loss(w, config, tokens, targets, loss_weights):
    """Σ weight[b, t] · -log softmax(logits[b, t])[target]: with engine.vectorized.batch_arrays' weights, the
    mean over each document's positions, then over the documents of the (global) batch."""
    logp = torch.log_softmax(logits(w, config, tokens), dim=-1)          # [B, T, V]
    return -(logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * loss_weights).sum()


class GPT(torch.nn.Module if torch is not None else object):
    """The weights as one nn.Parameter (flat, model.params order) and the loss of a batch as forward()."""

    def __init__(self, config, shapes, flat):
        super().__init__()
        self.config, self.shapes = config, shapes
        self.flat = torch.nn.Parameter(flat)

    def weights(self):
        return flat_views(self.flat, self.shapes)  # reshape of a contiguous slice: a view, as numpy's

    def forward(self, tokens, targets, loss_weights):
        return batch_loss(self.weights(), self.config, tokens, targets, loss_weights)
