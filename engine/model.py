"""microgpt's GPT: configuration, parameters and the forward pass, written once for two backends.

The forward pass is microgpt's `gpt()` line for line. What differs between training and recording is
only *how* a sum of Values is built and whether scopes and values are named, so those go through an
`ops` object:
- `FAST` (training) builds each dot product or sum as one fused node. It performs the same float
  operations in the same order as microgpt's chain of `*` and `+` nodes and its backward pass sends
  the same contributions to every child in the same order (tests/engine/test_model.py proves it
  bit for bit), with a fifth of the Python objects. Naming scopes and values costs it nothing.
- `engine.trace.TraceOps` (recording) builds the literal scalar graph, node for node, with scopes, and
  names every scalar by what the code calls it: `ops.vector('exps', exps)` names `exps[0]`, `exps[1]`, …
  and the nodes inside each expression (`logits[2] - max_val`); a dot product names its products and
  running sums.
"""

import contextlib
import math
from dataclasses import asdict, dataclass, fields

from engine.checks import is_whole
from engine.errors import ConfigError
from engine.value import Value


ARCHS = ('gpt', 'bigram')                      # a transformer, or one table of next-token logits
ATTENTIONS = ('softmax', 'uniform', 'none')     # q·k softmax (microgpt), the mean of the past's values, no attention
ACTIVATIONS = ('relu', 'gelu', 'gelu-erf', 'swiglu')
NORMS = ('rms', 'layer')
POSITIONS = ('learned', 'rope')               # wpe added to the embedding (microgpt), or q and k rotated
ROPE_BASE = 10000.0                            # RoPE's angle of pair i at position t: t · base^(-2i/head_dim)


@dataclass(frozen=True)
class GPTConfig:
    n_layer: int = 1       # depth of the transformer (number of layers)
    n_embd: int = 16       # width of the network (embedding dimension)
    n_head: int = 4        # number of attention heads
    block_size: int = 16   # maximum context length (the longest name is 15 characters)
    init_std: float = 0.08 # standard deviation of the Gaussian initial weights
    # The ladder's options (engine.presets names them). Saved only where they differ from microgpt's, so a
    # microgpt checkpoint is byte for byte what it was before these existed.
    arch: str = 'gpt'          # 'bigram': logits = wte[token], a [vocab][vocab] table; nothing else
    attention: str = 'softmax' # 'uniform': each position averages the values of 0..t (no q, k); 'none': no attention
    activation: str = 'relu'   # the MLP's: 'gelu' (tanh form, see engine.value.gelu_and_grad), 'gelu-erf' (x·Φ(x), PyTorch's)
    norm: str = 'rms'          # 'layer': LayerNorm with a learned gain and bias in place of each rmsnorm
    bias: bool = False         # every linear gets a learned bias vector ('layer0.attn_wq_b', 'lm_head_b'), made 0
    tie: bool = False          # lm_head is wte (logits = wte·x): no lm_head matrix, wte learns from both uses
    position: str = 'learned'  # 'rope': no wpe; q and k rotated pair by pair per head by their position
    embed_norm: bool = True    # microgpt norms tok + pos before the first layer; the mini GPT (nanoGPT) does not
    final_norm: bool = False   # the mini GPT norms x once more before lm_head (its ln_f); microgpt does not

    def __post_init__(self):
        for name in ('n_layer', 'n_embd', 'n_head', 'block_size'):
            value = getattr(self, name)
            least = 0 if name == 'n_layer' and self.arch == 'bigram' else 1
            if not (is_whole(value) and value >= least):
                what = 'a whole number ≥ 0' if least == 0 else 'a positive whole number'
                raise ConfigError(f'{name} must be {what}, not {value!r}.')
        if self.n_embd % self.n_head:
            raise ConfigError(f'n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head}).')
        if not (isinstance(self.init_std, (int, float)) and math.isfinite(self.init_std) and self.init_std >= 0):
            raise ConfigError(f'init_std must be a finite number ≥ 0, not {self.init_std!r}.')
        if self.arch not in ARCHS:
            raise ConfigError(f'arch must be one of {", ".join(ARCHS)}, not {self.arch!r}.')
        if self.attention not in ATTENTIONS:
            raise ConfigError(f'attention must be one of {", ".join(ATTENTIONS)}, not {self.attention!r}.')
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f'activation must be one of {", ".join(ACTIVATIONS)}, not {self.activation!r}.')
        if self.norm not in NORMS:
            raise ConfigError(f'norm must be one of {", ".join(NORMS)}, not {self.norm!r}.')
        for name in ('bias', 'tie', 'embed_norm', 'final_norm'):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f'{name} must be true or false, not {getattr(self, name)!r}.')
        if self.position not in POSITIONS:
            raise ConfigError(f'position must be one of {", ".join(POSITIONS)}, not {self.position!r}.')
        if self.position == 'rope' and self.head_dim % 2:
            raise ConfigError(f'RoPE rotates pairs of a head\'s numbers, so the head size (n_embd / n_head = '
                              f'{self.head_dim}) must be even.')
        if self.position == 'rope' and not self.embed_norm:
            raise ConfigError('With RoPE and no norm after the embedding, the embedding stage computes nothing: '
                              'keep embed_norm or learned positions.')
        if self.arch == 'bigram' and self.n_layer:
            raise ConfigError(f'The bigram model has no layers: n_layer must be 0, not {self.n_layer}.')
        if self.arch == 'bigram' and (self.bias, self.tie, self.position, self.embed_norm, self.final_norm) != (
                False, False, 'learned', True, False):
            raise ConfigError('The bigram model is one table: biases, tied weights, RoPE and norms do not apply to it.')

    @property
    def head_dim(self):
        return self.n_embd // self.n_head

    @property
    def attention_layers(self):
        """How many layers have attention heads to show (0 for a bigram, an MLP-only model)."""
        return self.n_layer if self.arch == 'gpt' and self.attention != 'none' else 0

    def to_dict(self):
        """The fields, leaving out the ladder's options where they are microgpt's (see above)."""
        out = asdict(self)
        for name in OPTIONAL_FIELDS:
            if out[name] == _DEFAULTS[name]:
                del out[name]
        return out


OPTIONAL_FIELDS = ('arch', 'attention', 'activation', 'norm', 'bias', 'tie', 'position', 'embed_norm', 'final_norm')   # a config dict may leave these out: they then are microgpt's
_DEFAULTS = {f.name: f.default for f in fields(GPTConfig)}


def param_shapes(config, vocab_size):
    """Parameter names and shapes (rows, columns) in microgpt's order: the order of its random draws. A linear's
    bias (the bias option) follows its matrix, one row named `<matrix>_b` ('layer0.attn_wq_b', 'lm_head_b')."""
    if config.arch == 'bigram':
        return {'wte': (vocab_size, vocab_size)}  # row t: the logits of the token after t
    e, shapes = config.n_embd, {'wte': (vocab_size, config.n_embd)}
    if config.position == 'learned':
        shapes['wpe'] = (config.block_size, config.n_embd)
    if not config.tie:  # tied: lm_head is wte itself
        shapes['lm_head'] = (vocab_size, config.n_embd)
    if config.bias:
        shapes['lm_head_b'] = (1, vocab_size)
    layer_norm = config.norm == 'layer'
    if layer_norm and config.embed_norm:  # LayerNorm's gain and bias, one row each, for every norm the model has (made 1 and 0)
        shapes.update({'emb_ln_gain': (1, e), 'emb_ln_bias': (1, e)})
    for i in range(config.n_layer):
        if layer_norm:
            shapes.update({f'layer{i}.{block}_ln_{part}': (1, e) for block in ('attn', 'mlp')[config.attention == 'none':]
                           for part in ('gain', 'bias')})
        linears = {'attn_wq': (e, e), 'attn_wk': (e, e)} if config.attention == 'softmax' else {}
        if config.attention != 'none':
            linears.update({'attn_wv': (e, e), 'attn_wo': (e, e)})
        linears['mlp_fc1'] = (4 * e, e)
        if config.activation == 'swiglu':  # silu(fc1·x) ⊙ (fc3·x), then fc2
            linears['mlp_fc3'] = (4 * e, e)
        linears['mlp_fc2'] = (e, 4 * e)
        for name, (rows, cols) in linears.items():
            shapes[f'layer{i}.{name}'] = (rows, cols)
            if config.bias:
                shapes[f'layer{i}.{name}_b'] = (1, rows)
    if layer_norm and config.final_norm:  # the norm before lm_head (the mini GPT's ln_f)
        shapes.update({'final_ln_gain': (1, e), 'final_ln_bias': (1, e)})
    return shapes


def param_count(config, vocab_size):
    """How many parameters param_shapes gives, by arithmetic: instant for any size a file may claim."""
    if config.arch == 'bigram':
        return vocab_size * vocab_size
    e = config.n_embd
    mlp = 12 if config.activation == 'swiglu' else 8  # fc1 fc2 (and fc3): 4e² each
    per_layer = ({'softmax': 4, 'uniform': 2, 'none': 0}[config.attention] + mlp) * e * e  # wq wk wv wo: e² each
    if config.norm == 'layer':  # a gain and a bias per norm: the embedding's, and each layer's one or two
        per_layer += (2 if config.attention == 'none' else 4) * e
    if config.bias:  # one number per output of every linear
        per_layer += {'softmax': 4, 'uniform': 2, 'none': 0}[config.attention] * e + (mlp // 4 - 1) * 4 * e + e
    rest = vocab_size * e * (1 if config.tie else 2) + (config.block_size * e if config.position == 'learned' else 0)
    norms = 2 * e * (config.embed_norm + config.final_norm) if config.norm == 'layer' else 0  # the embedding's, the final
    return rest + config.n_layer * per_layer + norms + (vocab_size if config.bias else 0)


class FastOps:
    """Training backend: fused sums, scopes and names ignored."""

    _no_scope = contextlib.nullcontext()

    def scope(self, name):
        return self._no_scope

    def vector(self, name, values, *consts):
        """Name values `name[i]` (and the constants inside them, in order): nothing to do here."""

    def name(self, name, value, *consts):
        """Name one value (and the constants inside it): nothing to do here."""

    def alias(self, name, values):
        """How later code refers to values (`keys[t][j]`, `x_attn[i]`): nothing to do here."""

    def dot(self, a, b, name=None, index=None, out=None):
        """sum(ai * bi): one node whose children are a0, b0, a1, b1, ..., as microgpt's chain visits them."""
        data = 0
        children = []
        local_grads = []
        for ai, bi in zip(a, b):
            data += ai.data * bi.data
            children += (ai, bi)
            local_grads += (bi.data, ai.data)
        return Value(data, tuple(children), tuple(local_grads), 'dot')

    def total(self, xs, name=None, out=None):
        """sum(xs) as one node."""
        data = 0
        for x in xs:
            data += x.data
        return Value(data, tuple(xs), (1,) * len(xs), 'sum')

    def attention(self, layer, head, weights):
        pass


FAST = FastOps()


# The model, as microgpt writes it. [n] marks a list of n Values.

def linear(x, w, ops, name, out, b=None):
    """y = W·x, plus b (a bias row, the bias option's) when there is one. `out` is what the caller calls the
    result (`q`, `x`, `logits`): its scalars are `out[i]`; with a bias, W·x's are `W·x[i]`."""
    with ops.scope(name):
        if b is None:
            return [ops.dot(wo, x, name, i, out) for i, wo in enumerate(w)]  # [len(w)]
        y = []
        for i, wo in enumerate(w):
            wx = ops.dot(wo, x, name, i, 'W·x')
            with ops.scope(f'{name}[{i}]'):  # the row's own group: W[i]·x + b[i]
                y.append(wx + b[i])
        ops.vector(out, y)
        return y  # [len(w)]


def bias(state_dict, name):
    """The bias row `name` of a linear ('layer0.attn_wq_b'), or None: a model without the bias option has none."""
    b = state_dict.get(name)
    return None if b is None else b[0]


def rope_angles(pos, head_dim):
    """RoPE's (cos, sin) at position `pos`: [head_dim // 2] each, pair i turned by pos·ROPE_BASE^(-2i/head_dim)."""
    angles = [pos * ROPE_BASE ** (-2 * i / head_dim) for i in range(head_dim // 2)]
    return [math.cos(a) for a in angles], [math.sin(a) for a in angles]


def rope(v, pos, head_dim, ops, out):
    """v [n_embd] with each head's pairs (v[2i], v[2i+1]) rotated by position pos's angle for pair i: a
    rotation keeps each pair's length, and q·k then depends on how far apart the two positions are."""
    cos, sin = rope_angles(pos, head_dim)
    y = []
    for j in range(0, len(v), 2):
        i = (j % head_dim) // 2
        a, b = v[j], v[j + 1]
        y0 = a * cos[i] + b * -sin[i]
        ops.name(f'{out}[{j}]', y0, f'cos[{i}]', f'-sin[{i}]')
        y1 = a * sin[i] + b * cos[i]
        ops.name(f'{out}[{j + 1}]', y1, f'sin[{i}]', f'cos[{i}]')
        y += [y0, y1]
    return y


def softmax(logits, ops):
    with ops.scope('softmax'):
        max_val = max(val.data for val in logits)
        exps = [(val - max_val).exp() for val in logits]
        ops.vector('exps', exps, '-max_val')
        total = ops.total(exps, 'sum', 'total')
        return [e / total for e in exps]  # the caller names them (probs, attn_weights)


def rmsnorm(x, ops):
    with ops.scope('rmsnorm'):
        ms = ops.dot(x, x, 'sum of squares', None, 'x·x') / len(x)
        ops.name('ms', ms, '1/len(x)')
        scale = (ms + 1e-5) ** -0.5
        ops.name('scale', scale, '1e-5')
        x = [xi * scale for xi in x]
        ops.vector('x', x)
        return x


def layernorm(x, state_dict, name, ops):
    """LayerNorm with a learned gain and bias (the mini GPT's), where microgpt has rmsnorm: the mean taken out
    too, then (x - mean) · (var + 1e-5)^-½ · gain + bias."""
    gain, bias = state_dict[f'{name}_gain'][0], state_dict[f'{name}_bias'][0]
    with ops.scope('layernorm'):
        mean = ops.total(x, 'sum', 'Σx') / len(x)
        ops.name('mean', mean, '1/len(x)')
        neg_mean = -mean
        ops.name('-mean', neg_mean)
        xc = [xi + neg_mean for xi in x]
        ops.vector('xc', xc)
        var = ops.dot(xc, xc, 'sum of squares', None, 'xc·xc') / len(x)
        ops.name('var', var, '1/len(x)')
        scale = (var + 1e-5) ** -0.5
        ops.name('scale', scale, '1e-5')
        x = [xi * scale * g + b for xi, g, b in zip(xc, gain, bias)]
        ops.vector('x', x)
        return x


def gpt(token_id, pos_id, keys, values, state_dict, config, ops=FAST):
    """Logits [vocab_size] for the next token; appends this position's keys and values to the KV cache."""
    if config.arch == 'bigram':
        return state_dict['wte'][token_id]  # [vocab_size]: the token's row is its logits, nothing computed
    with ops.scope('embedding'):
        tok_emb = state_dict['wte'][token_id]  # [n_embd]
        if config.position == 'rope':          # the position enters attention instead, as q and k's rotation
            x = tok_emb
        else:
            pos_emb = state_dict['wpe'][pos_id]    # [n_embd]
            with ops.scope('tok + pos'):
                x = [t + p for t, p in zip(tok_emb, pos_emb)]
                ops.vector('x', x)
        if config.embed_norm:  # the residual stream starts here (the mini GPT's starts at tok + pos)
            x = layernorm(x, state_dict, 'emb_ln', ops) if config.norm == 'layer' else rmsnorm(x, ops)

    for li in range(config.n_layer):
        with ops.scope(f'layer {li}'):
            if config.attention == 'softmax':
                x = attention(x, li, keys, values, state_dict, config, ops)
            elif config.attention == 'uniform':
                x = uniform_attention(x, li, values, state_dict, config, ops)
            x = mlp(x, li, state_dict, config, ops)

    if config.final_norm:  # the mini GPT's ln_f
        with ops.scope('final norm'):
            x = layernorm(x, state_dict, 'final_ln', ops) if config.norm == 'layer' else rmsnorm(x, ops)
    w = state_dict['wte'] if config.tie else state_dict['lm_head']  # tied: logits are x's dot products with wte's rows
    b = state_dict['lm_head_b'][0] if config.bias else None
    return linear(x, w, ops, 'lm_head', 'logits', b)  # [vocab_size]


def mlp(x, li, state_dict, config, ops):
    """The MLP with its residual: fc1, the activation (relu, gelu, or swiglu's silu(fc1·x) ⊙ fc3·x), fc2."""
    with ops.scope('mlp'):
        x_residual = x
        x = layernorm(x, state_dict, f'layer{li}.mlp_ln', ops) if config.norm == 'layer' else rmsnorm(x, ops)
        x_norm = x
        x = linear(x, state_dict[f'layer{li}.mlp_fc1'], ops, 'fc1', 'x', bias(state_dict, f'layer{li}.mlp_fc1_b'))  # [4 * n_embd]
        if config.activation == 'swiglu':
            up = linear(x_norm, state_dict[f'layer{li}.mlp_fc3'], ops, 'fc3', 'up', bias(state_dict, f'layer{li}.mlp_fc3_b'))  # [4 * n_embd]
            with ops.scope('swiglu'):
                gate = [xi.silu() for xi in x]
                ops.vector('gate', gate)
                x = [g * u for g, u in zip(gate, up)]
                ops.vector('x', x)
        elif config.activation == 'gelu':
            with ops.scope('gelu'):
                x = [xi.gelu() for xi in x]
                ops.vector('x', x)
        elif config.activation == 'gelu-erf':  # the same group, GELU's exact form
            with ops.scope('gelu'):
                x = [xi.gelu_erf() for xi in x]
                ops.vector('x', x)
        else:
            with ops.scope('relu'):
                x = [xi.relu() for xi in x]
                ops.vector('x', x)
        x = linear(x, state_dict[f'layer{li}.mlp_fc2'], ops, 'fc2', 'x', bias(state_dict, f'layer{li}.mlp_fc2_b'))  # [n_embd]
        with ops.scope('residual'):
            x = [a + b for a, b in zip(x, x_residual)]
            ops.vector('x', x)
    return x


def attention(x, li, keys, values, state_dict, config, ops):
    """microgpt's multi-head attention over the KV cache, with its residual."""
    n_head, head_dim = config.n_head, config.head_dim
    with ops.scope('attention'):
        x_residual = x
        x = layernorm(x, state_dict, f'layer{li}.attn_ln', ops) if config.norm == 'layer' else rmsnorm(x, ops)
        q = linear(x, state_dict[f'layer{li}.attn_wq'], ops, 'q', 'q', bias(state_dict, f'layer{li}.attn_wq_b'))  # [n_embd]
        k = linear(x, state_dict[f'layer{li}.attn_wk'], ops, 'k', 'k', bias(state_dict, f'layer{li}.attn_wk_b'))
        v = linear(x, state_dict[f'layer{li}.attn_wv'], ops, 'v', 'v', bias(state_dict, f'layer{li}.attn_wv_b'))
        if config.position == 'rope':  # this position's q and k turned, pair by pair, by its angle
            with ops.scope('rope'):
                q = rope(q, len(keys[li]), head_dim, ops, 'q_rot')
                k = rope(k, len(keys[li]), head_dim, ops, 'k_rot')
        keys[li].append(k)    # [T][n_embd]
        values[li].append(v)
        ops.alias('keys', keys[li])
        ops.alias('values', values[li])
        x_attn = []
        for h in range(n_head):
            with ops.scope(f'head {h}'):
                hs = h * head_dim
                q_h = q[hs:hs+head_dim]                         # [head_dim]
                k_h = [ki[hs:hs+head_dim] for ki in keys[li]]   # [T][head_dim]
                v_h = [vi[hs:hs+head_dim] for vi in values[li]] # [T][head_dim]
                with ops.scope('scores'):
                    attn_logits = [ops.dot(q_h, k_h[t], 'q·k', t, 'q·k') / head_dim**0.5 for t in range(len(k_h))]
                    ops.vector('attn_logits', attn_logits, '1/√head_dim')
                attn_weights = softmax(attn_logits, ops)        # [T]
                ops.vector('attn_weights', attn_weights)
                ops.attention(li, h, attn_weights)
                with ops.scope('weighted sum'):
                    head_out = [ops.dot(attn_weights, [vt[j] for vt in v_h], 'out', j, 'head_out') for j in range(head_dim)]
                x_attn.extend(head_out)
        ops.alias('x_attn', x_attn)
        x = linear(x_attn, state_dict[f'layer{li}.attn_wo'], ops, 'wo', 'x', bias(state_dict, f'layer{li}.attn_wo_b'))
        with ops.scope('residual'):
            x = [a + b for a, b in zip(x, x_residual)]
            ops.vector('x', x)
    return x


def uniform_attention(x, li, values, state_dict, config, ops):
    """The 'average' rung: attention whose weights are 1/T over positions 0..t (no q, no k, nothing
    learned about where to look): each head's output is the mean of the past's values."""
    n_head, head_dim = config.n_head, config.head_dim
    with ops.scope('attention'):
        x_residual = x
        x = layernorm(x, state_dict, f'layer{li}.attn_ln', ops) if config.norm == 'layer' else rmsnorm(x, ops)
        v = linear(x, state_dict[f'layer{li}.attn_wv'], ops, 'v', 'v', bias(state_dict, f'layer{li}.attn_wv_b'))
        values[li].append(v)
        ops.alias('values', values[li])
        constant = type(v[0])  # a Value of the kind this pass builds (recorded when recording)
        x_attn = []
        for h in range(n_head):
            with ops.scope(f'head {h}'):
                hs = h * head_dim
                v_h = [vi[hs:hs+head_dim] for vi in values[li]] # [T][head_dim]
                with ops.scope('uniform'):
                    attn_weights = [constant(1 / len(v_h)) for _ in v_h]  # [T]: every past position alike
                    ops.vector('attn_weights', attn_weights)
                ops.attention(li, h, attn_weights)
                with ops.scope('weighted sum'):
                    head_out = [ops.dot(attn_weights, [vt[j] for vt in v_h], 'out', j, 'head_out') for j in range(head_dim)]
                x_attn.extend(head_out)
        ops.alias('x_attn', x_attn)
        x = linear(x_attn, state_dict[f'layer{li}.attn_wo'], ops, 'wo', 'x', bias(state_dict, f'layer{li}.attn_wo_b'))
        with ops.scope('residual'):
            x = [a + b for a, b in zip(x, x_residual)]
            ops.vector('x', x)
    return x


def initial_floats(config, vocab_size, rng):
    """{name: [[float]]}: fresh weights drawn from rng.gauss(0, init_std), in microgpt's order; LayerNorm's gains 1,
    its biases and the linears' biases 0 (drawn from nothing). Plain numbers: a large model's vectorized trainer
    takes them without making a Value for each."""
    std = config.init_std
    floats = {}
    for name, (nout, nin) in param_shapes(config, vocab_size).items():
        fixed = 1.0 if name.endswith('_ln_gain') else 0.0 if name.endswith(('_ln_bias', '_b')) else None
        floats[name] = [[rng.gauss(0, std) if fixed is None else fixed for _ in range(nin)] for _ in range(nout)]
    return floats


class Model:
    """A configuration, a tokenizer and the parameters, as Values ready for a forward pass."""

    def __init__(self, config, tokenizer, state_dict):
        self.config = config
        self.tokenizer = tokenizer
        self.state_dict = state_dict  # {name: [rows][cols] Value}
        self.params = [p for mat in state_dict.values() for row in mat for p in row]

    @classmethod
    def init(cls, config, tokenizer, rng):
        """Fresh weights drawn from rng.gauss(0, init_std), in microgpt's order; LayerNorm's gains 1, its biases and
        the linears' biases 0 (drawn from nothing)."""
        return cls.from_floats(config, tokenizer, initial_floats(config, tokenizer.vocab_size, rng))

    @classmethod
    def from_floats(cls, config, tokenizer, floats, value_type=Value):
        """A model from {name: [[float]]} (shapes already checked)."""
        state_dict = {name: [[value_type(x) for x in row] for row in floats[name]]
                      for name in param_shapes(config, tokenizer.vocab_size)}
        return cls(config, tokenizer, state_dict)

    def floats(self):
        """{name: [[float]]}: the weights as plain numbers."""
        return {name: [[p.data for p in row] for row in mat] for name, mat in self.state_dict.items()}

    def positions(self, doc):
        """Tokens of a document and how many positions are trained: microgpt cuts at block_size."""
        tokens = self.tokenizer.encode(doc)
        return tokens, min(self.config.block_size, len(tokens) - 1)

    def loss(self, tokens, n, ops=FAST):
        """Mean of -log p(target) over the first n positions: microgpt's training forward pass."""
        return finish(self.iter_loss(tokens, n, ops))

    def iter_loss(self, tokens, n, ops=FAST):
        """`loss` as a generator: yields each position as it is done, returns the loss Value."""
        keys, values = [[] for _ in range(self.config.n_layer)], [[] for _ in range(self.config.n_layer)]
        losses = []
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            with ops.scope(f'pos {pos_id}'):
                logits = gpt(token_id, pos_id, keys, values, self.state_dict, self.config, ops)
                probs = softmax(logits, ops)
                ops.name('probs[target]', probs[target_id])
                ops.vector('probs', probs)
                with ops.scope('-log p'):
                    loss_t = -probs[target_id].log()
                    ops.name('loss_t', loss_t)
            losses.append(loss_t)
            yield pos_id
        with ops.scope('loss'):
            loss = (1 / n) * ops.total(losses, 'sum', 'sum(losses)')
            ops.name('loss', loss, '1/n')
            return loss  # May yours be low.


def finish(generator, on_item=None):
    """Run a progress generator to its end and return what it returns; on_item(item) sees each item it yields."""
    while True:
        try:
            item = next(generator)
        except StopIteration as stop:
            return stop.value
        if on_item is not None:
            on_item(item)
