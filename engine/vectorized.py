"""microgpt's GPT trained with numpy (float64): the same model, Adam, schedule, data order and random draws as
engine.train.Trainer, a hundred times faster, and checked against it number for number
(tests/engine/test_vectorized.py).

The scalar engine runs one position at a time and appends that position's key and value to the KV cache, so
position t attends to keys 0..t. Here all positions of a document are computed at once and a causal mask
hides the keys after t: the same numbers, summed in another order (so they agree to about 1e-15, not bit
for bit). A batch is B documents padded to the longest; a padded position has no loss weight, so it adds
exactly nothing to any gradient, and it comes after every real one, so the mask keeps it out of their
attention.

Shapes: B documents, T positions, E = n_embd, H = n_head, D = head_dim, F = 4E, V = vocab_size. A weight
matrix is [out][in] as microgpt keeps it, so `linear(x, w)` is x @ w.T. Each stage's backward is next to
its forward: it takes the gradient of the stage's output and what the forward kept (`cache`), and returns
the gradient of its input (adding into `grads` for the weights it used).

numpy is imported by this module and the commands that use it only: the scalar engine runs without it.
"""

import math
import random

import numpy as np

from engine.checks import check_temperature, is_whole, short
from engine.errors import ConfigError, EngineError, TrainingDiverged
from engine.model import Model, param_shapes, rope_angles
from engine.optim import decayed_lr
from engine.tokenizer import Tokenizer
from engine.value import GELU_C, GELU_K, INV_SQRT_2PI, SQRT_HALF
from engine.train import StepResult, check_trainable

EPS_RMS = 1e-5  # rmsnorm's epsilon, as engine.model writes it


# Embedding: x = wte[token] + wpe[position]

def embedding(w, tokens):
    """tokens [B, T] -> x [B, T, E]; with RoPE (no wpe) the token's row alone."""
    T = tokens.shape[1]
    return w['wte'][tokens] + w['wpe'][:T] if 'wpe' in w else w['wte'][tokens]


def embedding_backward(dx, tokens, grads):
    """Each row of wte and wpe receives the gradient of every position that read it."""
    np.add.at(grads['wte'], tokens, dx)        # [V, E] += [B, T, E] scattered by token
    if 'wpe' in grads:
        grads['wpe'][:dx.shape[1]] += dx.sum(axis=0)


# rmsnorm: x * (mean(x²) + 1e-5) ** -0.5

def rmsnorm(x):
    """x [..., E] -> (y [..., E], cache)."""
    ms = (x * x).sum(axis=-1, keepdims=True) / x.shape[-1]   # [..., 1]
    scale = (ms + EPS_RMS) ** -0.5                           # [..., 1]
    return x * scale, (x, scale)


def rmsnorm_backward(dy, cache):
    """d/dx of x·scale(x): dy·scale, plus through scale: -scale³ (x·dy) x / E."""
    x, scale = cache
    dot = (x * dy).sum(axis=-1, keepdims=True)              # [..., 1]
    return dy * scale - x * (scale ** 3 * dot / x.shape[-1])


# LayerNorm (the norm option): (x - mean) · (var + 1e-5) ** -0.5 · gain + bias

def layernorm(x, gain, bias):
    """x [..., E], gain and bias [E] -> (y [..., E], cache)."""
    xc = x - x.sum(axis=-1, keepdims=True) / x.shape[-1]
    scale = ((xc * xc).sum(axis=-1, keepdims=True) / x.shape[-1] + EPS_RMS) ** -0.5
    xhat = xc * scale
    return xhat * gain + bias, (xhat, scale, gain)


def layernorm_backward(dy, cache, dgain, dbias):
    """dgain += Σ dy·x̂, dbias += Σ dy; dx = scale·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·gain."""
    xhat, scale, gain = cache
    E = xhat.shape[-1]
    dgain += (dy * xhat).reshape(-1, E).sum(axis=0)
    dbias += dy.reshape(-1, E).sum(axis=0)
    dxhat = dy * gain
    return scale * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))


def norm(x, w, name, config):
    """The model's norm at `name` ('emb', 'layer0.attn', …): rmsnorm, or LayerNorm with its gain and bias."""
    if config.norm == 'layer':
        y, cache = layernorm(x, w[f'{name}_ln_gain'][0], w[f'{name}_ln_bias'][0])
        return y, (name, cache)
    y, cache = rmsnorm(x)
    return y, (None, cache)


def norm_backward(dy, cache, grads):
    name, cache = cache
    if name is None:
        return rmsnorm_backward(dy, cache)
    return layernorm_backward(dy, cache, grads[f'{name}_ln_gain'][0], grads[f'{name}_ln_bias'][0])


# A linear layer: y = W x (+ b, the bias option's) for each position

def linear(x, w, b=None):
    """x [..., in], w [out, in], b [out] or None -> [..., out]."""
    return x @ w.T if b is None else x @ w.T + b


def linear_backward(dy, x, w, dw, db=None):
    """dy [..., out] -> dx [..., in]; dw [out, in] += sum over positions of dy ⊗ x; db [out] += sum of dy."""
    dw += dy.reshape(-1, dy.shape[-1]).T @ x.reshape(-1, x.shape[-1])
    if db is not None:
        db += dy.reshape(-1, dy.shape[-1]).sum(axis=0)
    return dy @ w


def dense(x, w, name):
    """The model's linear `name` ('layer0.attn_wq'): w[name], and its bias w[name + '_b'] [1, out] if the model has one."""
    b = w.get(f'{name}_b')
    return linear(x, w[name], None if b is None else b[0])


def dense_backward(dy, x, w, name, grads):
    """linear_backward for dense(x, w, name): the gradients added into grads[name] (and its bias's)."""
    db = grads.get(f'{name}_b')
    return linear_backward(dy, x, w[name], grads[name], None if db is None else db[0])


# RoPE (the position option): each head's pairs (x[2i], x[2i+1]) at position t turned by t·base^(-2i/D)

_ROPE = {}


def rope_tables(T, E, D):
    """(cos, sin) [T, E/2]: pair p of a row is pair p % (D/2) of its head (engine.model.rope_angles, once per shape)."""
    if (T, E, D) not in _ROPE:
        rows = [rope_angles(t, D) for t in range(T)]
        _ROPE[T, E, D] = tuple(np.tile(np.array([r[k] for r in rows]), (1, E // D)) for k in (0, 1))
    return _ROPE[T, E, D]


def rope(x, D):
    """x [B, T, E] -> x rotated pair by pair: (a, b) -> (a·cos − b·sin, a·sin + b·cos)."""
    B, T, E = x.shape
    cos, sin = rope_tables(T, E, D)
    a, b = x[..., 0::2], x[..., 1::2]                    # [B, T, E/2]
    y = np.empty_like(x)
    y[..., 0::2], y[..., 1::2] = a * cos + b * -sin, a * sin + b * cos
    return y


def rope_backward(dy, D):
    """A rotation's transpose turns it back: (da, db) = (dy0·cos + dy1·sin, −dy0·sin + dy1·cos)."""
    B, T, E = dy.shape
    cos, sin = rope_tables(T, E, D)
    d0, d1 = dy[..., 0::2], dy[..., 1::2]
    dx = np.empty_like(dy)
    dx[..., 0::2], dx[..., 1::2] = d0 * cos + d1 * sin, d0 * -sin + d1 * cos
    return dx


# Softmax along the last axis (microgpt subtracts the max first)

def softmax(logits):
    exps = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def softmax_backward(dp, p):
    """dlogits = p * (dp - Σ p·dp)."""
    return p * (dp - (p * dp).sum(axis=-1, keepdims=True))


# Attention, one layer: each head's q·k / √D over keys 0..t, softmax, the weighted sum of values, then wo

def attention(x, w, li, mask, H, rotate=False):
    """x [B, T, E] (already rmsnormed) -> (out [B, T, E], cache); rotate: RoPE on q and k."""
    B, T, E = x.shape
    D = E // H
    q = dense(x, w, f'layer{li}.attn_wq')                 # [B, T, E]
    k = dense(x, w, f'layer{li}.attn_wk')
    v = dense(x, w, f'layer{li}.attn_wv')
    if rotate:
        q, k = rope(q, D), rope(k, D)
    qh, kh, vh = (a.reshape(B, T, H, D).transpose(0, 2, 1, 3) for a in (q, k, v))  # [B, H, T, D]
    scores = qh @ kh.transpose(0, 1, 3, 2) / D ** 0.5    # [B, H, T, T]: query t, key s
    scores = scores + mask                               # -inf: keys after t are not in t's cache yet
    weights = softmax(scores)                            # [B, H, T, T], 0 after t
    heads = weights @ vh                                 # [B, H, T, D]
    x_attn = heads.transpose(0, 2, 1, 3).reshape(B, T, E)  # heads side by side, as x_attn.extend
    out = dense(x_attn, w, f'layer{li}.attn_wo')
    return out, (x, qh, kh, vh, weights, x_attn, rotate)


def attention_backward(dout, cache, w, li, grads):
    x, qh, kh, vh, weights, x_attn, rotate = cache
    B, H, T, D = qh.shape
    dx_attn = dense_backward(dout, x_attn, w, f'layer{li}.attn_wo', grads)
    dheads = dx_attn.reshape(B, T, H, D).transpose(0, 2, 1, 3)      # [B, H, T, D]
    dweights = dheads @ vh.transpose(0, 1, 3, 2)                    # [B, H, T, T]
    dvh = weights.transpose(0, 1, 3, 2) @ dheads                    # [B, H, T, D]
    dscores = softmax_backward(dweights, weights) / D ** 0.5        # 0 at masked keys: their weight is 0
    dqh = dscores @ kh                                              # [B, H, T, D]
    dkh = dscores.transpose(0, 1, 3, 2) @ qh
    dx = np.zeros_like(x)
    for name, dh in (('attn_wq', dqh), ('attn_wk', dkh), ('attn_wv', dvh)):
        d = dh.transpose(0, 2, 1, 3).reshape(B, T, H * D)           # [B, T, E]
        if rotate and name != 'attn_wv':
            d = rope_backward(d, D)                                 # back through the rotation of q and k
        dx += dense_backward(d, x, w, f'layer{li}.{name}', grads)
    return dx


# The 'average' rung's attention: weights 1/(t+1) over keys 0..t, no q, no k (every head alike, so the
# heads side by side are one average of v)

_UNIFORM = {}


def uniform_weights(T):
    """[T, T]: 1/(t+1) where key s ≤ query t, 0 after (made once per length)."""
    if T not in _UNIFORM:
        _UNIFORM[T] = np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]
    return _UNIFORM[T]


def uniform_attention(x, w, li):
    """x [B, T, E] (already rmsnormed) -> (out [B, T, E], cache)."""
    u = uniform_weights(x.shape[1])
    v = dense(x, w, f'layer{li}.attn_wv')                 # [B, T, E]
    x_attn = u @ v                                        # the mean of the values of 0..t
    return dense(x_attn, w, f'layer{li}.attn_wo'), (x, x_attn, u)


def uniform_attention_backward(dout, cache, w, li, grads):
    x, x_attn, u = cache
    dx_attn = dense_backward(dout, x_attn, w, f'layer{li}.attn_wo', grads)
    dv = u.T @ dx_attn                                    # each value gets 1/(t+1) of every query t after it
    return dense_backward(dv, x, w, f'layer{li}.attn_wv', grads)


# MLP, one layer: fc1, the activation (ReLU, GELU, or SwiGLU with fc3), fc2

def gelu(h):
    """engine.value.gelu_and_grad on arrays: (y, dy/dh), GELU's tanh form."""
    t = np.tanh(GELU_C * (h + GELU_K * h * h * h))
    return 0.5 * h * (1 + t), 0.5 * (1 + t) + 0.5 * h * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * h * h)


_ERF = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf: math.erf element by element, the scalar engine's own


def gelu_erf(h):
    """engine.value.gelu_erf_and_grad on arrays: (h·Φ(h), its slope Φ(h) + h·φ(h)), with math.erf itself, so the
    same numbers as the scalar engine (about 0.3 µs an element: 30× the tanh form's cost)."""
    cdf = 0.5 * (1 + _ERF(h * SQRT_HALF).astype(np.float64))
    return h * cdf, cdf + h * np.exp(-0.5 * h * h) * INV_SQRT_2PI


def silu(h):
    """engine.value.silu_and_grad on arrays: (h·σ(h), its slope σ(h)·(1 + h·(1 − σ(h)))), σ from e^−|h|."""
    e = np.exp(-np.abs(h))
    sigma = np.where(h >= 0, 1 / (1 + e), e / (1 + e))
    return h * sigma, sigma * (1 + h * (1 - sigma))


def mlp(x, w, li, activation='relu'):
    """x [B, T, E] (already rmsnormed) -> (out [B, T, E], cache)."""
    h = dense(x, w, f'layer{li}.mlp_fc1')      # [B, T, F]
    up = None
    if activation == 'swiglu':                 # a = silu(h) ⊙ up: two paths back, one through each factor
        up = dense(x, w, f'layer{li}.mlp_fc3')  # [B, T, F]
        gate, slope = silu(h)
        a = gate * up
        up = (up, gate)
    elif activation == 'gelu':
        a, slope = gelu(h)
    elif activation == 'gelu-erf':
        a, slope = gelu_erf(h)
    else:
        a, slope = np.maximum(h, 0.0), h > 0   # relu passes the gradient where it was positive
    return dense(a, w, f'layer{li}.mlp_fc2'), (x, slope, a, up)


def mlp_backward(dout, cache, w, li, grads):
    x, slope, a, up = cache
    da = dense_backward(dout, a, w, f'layer{li}.mlp_fc2', grads)
    if up is None:
        return dense_backward(da * slope, x, w, f'layer{li}.mlp_fc1', grads)
    up, gate = up                              # ∂a/∂h = silu′(h)·up, ∂a/∂up = silu(h)
    dx = dense_backward(da * up * slope, x, w, f'layer{li}.mlp_fc1', grads)
    return dx + dense_backward(da * gate, x, w, f'layer{li}.mlp_fc3', grads)


# Cross-entropy: loss = Σ weight[b, t] · -log softmax(logits[b, t])[target]

def cross_entropy(logits, targets, loss_weights):
    """logits [B, T, V] -> (loss, dlogits [B, T, V])."""
    B, T = targets.shape
    b, t = np.arange(B)[:, None], np.arange(T)                 # [B, 1], [T]: every (document, position)
    probs = softmax(logits)
    p_target = probs[b, t, targets]                             # [B, T]
    loss = -(loss_weights * np.log(p_target)).sum()
    dlogits = probs                            # d(-log p_target)/dlogits = probs - onehot(target)
    dlogits[b, t, targets] -= 1.0
    dlogits *= loss_weights[..., None]
    return loss, dlogits


_MASKS = {}


def causal_mask(T):
    """[T, T]: 0 where key s ≤ query t, -inf after (made once per length)."""
    if T not in _MASKS:
        _MASKS[T] = np.triu(np.full((T, T), -np.inf), k=1)
    return _MASKS[T]


def forward(w, config, tokens):
    """microgpt's forward pass on a batch: the logits [B, T, V], and what the backward pass needs (None for the
    bigram, whose logits are rows of wte)."""
    if config.arch == 'bigram':  # the token's row of wte is its logits
        return w['wte'][tokens], None
    mask = causal_mask(tokens.shape[1])
    x0 = embedding(w, tokens)
    x, norm0 = norm(x0, w, 'emb', config) if config.embed_norm else (x0, None)  # the mini GPT: no norm here
    caches = []
    for li in range(config.n_layer):
        n1 = att = None
        if config.attention != 'none':
            xn, n1 = norm(x, w, f'layer{li}.attn', config)
            if config.attention == 'uniform':
                out, att = uniform_attention(xn, w, li)
            else:
                out, att = attention(xn, w, li, mask, config.n_head, config.position == 'rope')
            x = x + out
        xn, n2 = norm(x, w, f'layer{li}.mlp', config)
        out, ml = mlp(xn, w, li, config.activation)
        x = x + out
        caches.append((n1, att, n2, ml))
    xf, norm_f = norm(x, w, 'final', config) if config.final_norm else (x, None)  # the mini GPT's ln_f
    lm_head = 'wte' if config.tie else 'lm_head'                   # tied: the logits read wte
    logits = linear(xf, w[lm_head], w['lm_head_b'][0] if config.bias else None)  # [B, T, V]
    return logits, (xf, norm0, caches, norm_f)


def loss_and_grads(w, config, tokens, targets, loss_weights, grads=None):
    """microgpt's forward and backward: the loss and {name: gradient} for a batch.

    tokens, targets [B, T] ints; loss_weights [B, T]: 1/(n·B) at each of a document's n positions, 0 at padding.
    grads: {name: array} to write the gradients into (zeroed here), e.g. views of one flat array."""
    if grads is None:
        grads = {name: np.zeros_like(a) for name, a in w.items()}
    else:
        for g in grads.values():
            g.fill(0.0)
    logits, saved = forward(w, config, tokens)
    loss, dlogits = cross_entropy(logits, targets, loss_weights)
    if saved is None:  # the bigram: each row of wte read gets its position's dlogits
        np.add.at(grads['wte'], tokens, dlogits)
        return loss, grads
    xf, norm0, caches, norm_f = saved
    lm_head = 'wte' if config.tie else 'lm_head'
    dx = linear_backward(dlogits, xf, w[lm_head], grads[lm_head], grads['lm_head_b'][0] if config.bias else None)
    if norm_f is not None:
        dx = norm_backward(dx, norm_f, grads)
    attention_back = uniform_attention_backward if config.attention == 'uniform' else attention_backward
    for li in reversed(range(config.n_layer)):
        n1, att, n2, ml = caches[li]
        dx = dx + norm_backward(mlp_backward(dx, ml, w, li, grads), n2, grads)        # residual: both paths
        if att is not None:
            dx = dx + norm_backward(attention_back(dx, att, w, li, grads), n1, grads)
    embedding_backward(dx if norm0 is None else norm_backward(dx, norm0, grads), tokens, grads)
    return loss, grads


def batch_arrays(model, docs, batch=None):
    """(tokens, targets, loss_weights) [B, T] for documents, each cut at block_size as microgpt does. batch: the
    number of documents the loss is the mean over (default len(docs); more when docs are one part of a batch)."""
    rows = [model.positions(doc) for doc in docs]
    T = max(n for _, n in rows)
    tokens, targets = np.zeros((len(docs), T), dtype=np.intp), np.zeros((len(docs), T), dtype=np.intp)
    loss_weights = np.zeros((len(docs), T))
    for b, (ids, n) in enumerate(rows):
        tokens[b, :n], targets[b, :n] = ids[:n], ids[1:n + 1]
        loss_weights[b, :n] = 1.0 / n / (batch or len(docs))   # the mean over positions, then over documents
    return tokens, targets, loss_weights


class AdamState:
    """Adam's moments, flat in model.params order, as engine.optim.Adam keeps them (lists there)."""

    def __init__(self, size):
        self.m = np.zeros(size)
        self.v = np.zeros(size)


class WeightsModel:
    """What a vectorized trainer (numpy's, torch's) gives the rest of the engine: its weights (`weights`, {name:
    matrix}, at `step`) as an engine.model.Model, made once per step asked for (checkpoints, the scalar sampler),
    a document's positions as microgpt cuts them, and the validation loss and samples computed with its own
    forward pass: the subclass gives `_batch_loss(tokens, targets, loss_weights)` (a float) and
    `_next_probs(ids, temperature)` (the tempered next-token distribution after ids, a list)."""
    _model = None

    @property
    def model(self):
        if self._model is None or self._model[0] != self.step:
            floats = {name: a.tolist() for name, a in self.weights.items()}
            self._model = (self.step, Model.from_floats(self.model_config, self.tokenizer, floats))
        return self._model[1]

    def positions(self, doc):
        tokens = self.tokenizer.encode(doc)
        return tokens, min(self.model_config.block_size, len(tokens) - 1)

    def validation_loss(self, docs, batch=None):
        """engine.validation.validation_loss with the backend's forward pass (the scalar one takes minutes on a
        mini-GPT-sized model): the mean over docs of each one's mean -log p, `batch` documents at a time (the
        training batch, at least 32); TrainingDiverged if it is not a finite number."""
        batch = batch or max(self.batch, 32)
        total = 0.0
        for start in range(0, len(docs), batch):
            total += self._batch_loss(*batch_arrays(self, docs[start:start + batch], len(docs)))
        if not math.isfinite(total):
            raise TrainingDiverged(f'The validation loss is {total}: a probability fell to 0; try a lower learning rate.')
        return total

    def iter_samples(self, num_samples=20, temperature=0.5, rng=None):
        """engine.sampling.iter_samples with the backend's forward pass: microgpt's inference loop, the same draws of
        `rng` (the trainer's own by default) from the tempered softmax, so the same documents as the scalar
        sampler (their probabilities differ in the last bits; no draw falls that close to a boundary), in seconds
        where the scalar sampler takes minutes for a mini GPT."""
        check_temperature(temperature)
        rng = self.rng if rng is None else rng
        tok = self.tokenizer
        for _ in range(num_samples):
            ids = [tok.BOS]
            for _ in range(self.model_config.block_size):
                probs = self._next_probs(ids, temperature)
                if not all(math.isfinite(p) for p in probs):
                    raise EngineError(f'These weights cannot be sampled at temperature {temperature!r}: their '
                                      'next-token probabilities are not finite numbers.')
                token = rng.choices(range(len(probs)), weights=probs)[0]
                if token == tok.BOS:
                    break
                ids.append(token)
            yield tok.decode(ids[1:])


class NumpyWeights(WeightsModel):
    """WeightsModel's forward pass with numpy, on `weights` ({name: array}): what the trainer and Weights share."""

    def _batch_loss(self, tokens, targets, loss_weights):
        with np.errstate(all='ignore'):
            return cross_entropy(forward(self.weights, self.model_config, tokens)[0], targets, loss_weights)[0]

    def _next_probs(self, ids, temperature):
        with np.errstate(all='ignore'):
            return softmax(forward(self.weights, self.model_config, np.array([ids]))[0][0, -1] / temperature).tolist()


class Weights(NumpyWeights):
    """A model's weights as numpy arrays, for what the scalar engine is too slow for on a large model (the mini
    GPT's 600,000 parameters): the sampler's next-token distributions (engine.sampling uses it above
    SAMPLE_VECTORIZED_ABOVE parameters) and the attention weights of a whole document (the explorer's
    heatmaps, where only a part of it can be recorded)."""

    def __init__(self, model):
        self.model_config, self.tokenizer, self.step, self.batch = model.config, model.tokenizer, 0, 1
        self.weights = {name: np.array([[p.data for p in row] for row in mat])
                        for name, mat in model.state_dict.items()}
        self._model = (0, model)

    def attention(self, doc):
        """[layer][head][query][key] softmax weights of `doc`'s positions (as microgpt cuts it), as a Trace keeps
        them: query t has keys 0..t. Empty for a model without attention; uniform for the average rung."""
        tokens, n = self.positions(doc)
        config = self.model_config
        if config.arch == 'bigram' or config.attention == 'none':
            return ()
        caches = forward(self.weights, config, np.array([tokens[:n]]))[1][2]  # (x, norm0, caches, final norm)
        out = []
        for n1, att, n2, ml in caches:  # softmax: weights [B, H, T, T]; uniform: u [T, T], the same for every head
            heads = att[4][0] if config.attention == 'softmax' else [att[2]] * config.n_head
            out.append(tuple(tuple(tuple(float(w[q][k]) for k in range(q + 1)) for q in range(n)) for w in heads))
        return tuple(out)


def weights_of(model):
    """The Weights of an engine.model.Model, made once per model (a Model's weights never change in place)."""
    cached = getattr(model, '_numpy_weights', None)
    if cached is None:
        cached = model._numpy_weights = Weights(model)
    return cached


class VectorTrainer(NumpyWeights):
    """engine.train.Trainer with numpy: the same seed, shuffle, initial weights and Adam, B documents a step.

    With batch=1 each step trains the document the scalar Trainer trains. `model` gives an engine.model.Model
    of the current weights (for checkpoints and sampling), and `rng` goes on to sample as the scalar one does."""

    def __init__(self, docs, model_config, train_config, batch=1, tokenizer=None):
        if not (is_whole(batch) and batch > 0):
            raise ConfigError(f'The batch must be a positive whole number of documents, not {short(batch)}.')
        self.config = train_config
        self.batch = batch
        self.rng = random.Random(train_config.seed)
        self.docs = list(docs)
        tokenizer = tokenizer or Tokenizer.from_docs(self.docs)  # a BPE (engine.bpe) when one is given
        check_trainable(model_config, tokenizer.vocab_size, self.docs)
        self.rng.shuffle(self.docs)
        init = Model.init(model_config, tokenizer, self.rng)      # the same draws, in the same order
        self.model_config, self.tokenizer = model_config, tokenizer
        self.shapes = param_shapes(model_config, tokenizer.vocab_size)
        self.flat = np.array([p.data for p in init.params], dtype=np.float64)  # every weight, in params order
        self.weights = self._views(self.flat)     # {name: [rows, cols]}
        self.grad_flat = np.zeros_like(self.flat)
        self.grads = self._views(self.grad_flat)  # {name: array}: the gradient of the last step
        self.optimizer = AdamState(self.flat.size)
        self.step = 0
        self._model = None
        self.history = None  # engine.history_numpy.NumpyHistory when one is recorded (history_numpy.attach)

    def _views(self, flat):
        return flat_views(flat, self.shapes)

    def step_docs(self, step):
        """The documents of step `step` (0-based): the next B in the shuffled order, going round."""
        n = len(self.docs)
        return [self.docs[(step * self.batch + i) % n] for i in range(self.batch)]

    def train_step(self):
        step, num_steps = self.step, self.config.num_steps
        docs = self.step_docs(step)
        tokens, targets, loss_weights = batch_arrays(self, docs)
        with np.errstate(all='ignore'):
            loss, _ = loss_and_grads(self.weights, self.model_config, tokens, targets, loss_weights, self.grads)
            if not math.isfinite(loss):
                raise TrainingDiverged(f'Training diverged at step {step + 1}: the loss is {loss}; '
                                       'try a lower learning rate.')
            update = sgd_update if self.config.optimizer == 'sgd' else adam_update
            after, m, v = update(self.flat, self.grad_flat, self.optimizer.m, self.optimizer.v, step, self.config)
        if not np.isfinite(after).all():
            raise TrainingDiverged(f'Training diverged at step {step + 1}: a weight stopped being a finite number; '
                                   'try a lower learning rate.')
        if self.history is not None:
            self.history.record_batch(step + 1, docs, float(loss), self.flat, after)
        self.flat[:], self.optimizer.m, self.optimizer.v = after, m, v
        self.step += 1
        if self.history is not None and self.step % self.history.every == 0:
            self.history.snapshot(self.step, self.flat, m, v)
        return StepResult(step + 1, num_steps, float(loss), docs[0])  # a batch's first document

    def run(self):
        while self.step < self.config.num_steps:
            yield self.train_step()

    def finished_history(self):
        """The history up to the step reached (its last snapshot taken), or None if none is recorded."""
        if self.history is not None and self.step not in self.history.snapshots:
            self.history.snapshot(self.step, self.flat, self.optimizer.m, self.optimizer.v)
        return self.history


def flat_views(flat, shapes):
    """{name: matrix}, each a view into flat (in model.params order): a numpy array or a torch tensor, whose
    reshape of a contiguous slice is a view too, so that Adam (or autograd) updates them all in one go."""
    views, i = {}, 0
    for name, (rows, cols) in shapes.items():
        views[name] = flat[i:i + rows * cols].reshape(rows, cols)
        i += rows * cols
    return views


def adam_update(p, g, m, v, step, config):
    """engine.optim.Adam.update on whole arrays: (new weights, m, v); nothing is changed in place."""
    c = config
    lr_t = decayed_lr(c.learning_rate, step, c.num_steps)
    m = c.beta1 * m + (1 - c.beta1) * g
    v = c.beta2 * v + (1 - c.beta2) * g ** 2
    m_hat = m / (1 - c.beta1 ** (step + 1))
    v_hat = v / (1 - c.beta2 ** (step + 1))
    return p - lr_t * m_hat / (v_hat ** 0.5 + c.eps), m, v


def sgd_update(p, g, m, v, step, config):
    """engine.optim.SGD.update on whole arrays: (new weights, m, v unchanged)."""
    return p - decayed_lr(config.learning_rate, step, config.num_steps) * g, m, v
