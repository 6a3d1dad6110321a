"""A PyTorch state_dict of the mini GPT (nanoGPT's names) and its character vocabulary, read into this engine's
model: `python3 main.py import STATE_DICT.pt --vocab VOCAB.txt --out CKPT.json`.

The mini GPT is preset `mini-gpt`'s model: token and position embeddings (no norm after them), blocks of
LayerNorm → causal self-attention → residual, LayerNorm → fc, exact GELU, proj → residual, a final LayerNorm
(`ln_f`), lm_head (tied to wte or not). Its names, nanoGPT's (an nn.Linear's weight is [out, in], as this
engine keeps a matrix, so no matrix is transposed):

    transformer.wte.weight [V, E] -> wte            transformer.h.N.ln_1.weight/.bias -> layerN.attn_ln_gain/_bias
    transformer.wpe.weight [T, E] -> wpe            transformer.h.N.attn.c_attn.weight [3E, E] -> attn_wq, wk, wv
    transformer.ln_f.weight/.bias -> final_ln_*       (or separate attn.query/key/value or attn.q_proj/k_proj/v_proj)
    lm_head.weight [V, E] -> lm_head (equal to      transformer.h.N.attn.c_proj.weight -> attn_wo
      wte, or absent: tied)                         transformer.h.N.ln_2.* -> mlp_ln_*; mlp.c_fc -> mlp_fc1 [4E, E];
                                                    mlp.c_proj -> mlp_fc2 [E, 4E]; each .bias -> its `_b` row

n_layer, n_embd, block_size and the vocabulary's size come from the shapes; n_head cannot (a head is a slice of
q's columns) and is given. The linears have biases (and the LayerNorms theirs) or none do (nanoGPT's bias=False:
the engine's LayerNorm biases are then 0). nanoGPT's own checkpoint ({'model': state_dict, ...}), torch.compile's
`_orig_mod.` prefix and the causal-mask buffer `attn.bias` some versions save are read too.

The vocabulary file is a UTF-8 text whose characters are the vocabulary, ids in sorted order: `sorted(set(text))`,
as the mini GPT makes its own from its training text (so that text itself serves, or a file of the characters).
This engine's tokenizer adds BOS as one more id after them, which the mini GPT does not have: its row of wte (and of
a separate lm_head) is 0 and its bias 0, so the first V logits are the mini GPT's own and BOS's logit is 0.
A document the explorer records starts at BOS (a zero token embedding at position 0); the mini GPT's own numbers
are those of a sequence without it (`logits`), and sampling it needs a prompt.

torch.load runs with weights_only=True: nothing but tensors and plain containers is unpickled. A state_dict that
does not fit is one sentence naming the first key (in the architecture's order, then the file's own keys in its
order) or shape that does not.
"""

import re

from engine.errors import EngineError
from engine.files import read_user_file
from engine.model import FAST, GPTConfig, Model, gpt, param_shapes
from engine.presets import PRESETS
from engine.tokenizer import Tokenizer

COMPILED = '_orig_mod.'  # torch.compile's wrapper's prefix, which nanoGPT's train.py strips too
SEPARATE_QKV = (('query', 'key', 'value'), ('q_proj', 'k_proj', 'v_proj'))
LAYER = re.compile(r'transformer\.h\.(\d+)\.')
MINI_GPT = PRESETS['mini-gpt'][1]  # norm layer, exact GELU, embed_norm off, final_norm on (bias, tie: from the file)


class StateDictError(EngineError):
    """A state_dict or vocabulary that does not fit the mini GPT's architecture."""


def read_state_dict(path):
    """{name: tensor} from a .pt file, read with torch.load(weights_only=True); StateDictError (one sentence) for a
    file torch cannot read so, or one that holds something other than named tensors. Needs torch (TorchMissing)."""
    from engine.torch_backend import INSTALL, TorchMissing, require
    try:
        torch = require()
    except TorchMissing:
        raise TorchMissing(f'Reading a PyTorch state_dict needs PyTorch: {INSTALL} (the optional extra).') from None
    read_user_file(path, 'The state_dict', StateDictError)  # a missing file or a folder: the sentence every command says
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001 -- torch raises many kinds (UnpicklingError, RuntimeError, EOFError, …)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise StateDictError(f'{path} is not a state_dict torch.load reads with weights_only=True ({first}).') from None
    if isinstance(obj, dict) and isinstance(obj.get('model'), dict):
        obj = obj['model']  # nanoGPT's checkpoint: the weights under 'model', beside its optimizer and config
    if not (isinstance(obj, dict) and obj and all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items())):
        raise StateDictError(f'{path} does not hold a state_dict: a dict of named tensors (model.state_dict()).')
    return {k[len(COMPILED):] if k.startswith(COMPILED) else k: v.detach().cpu() for k, v in obj.items()}


def read_vocabulary(path):
    """The characters of a UTF-8 text file, sorted and each once: the mini GPT's `sorted(set(text))`."""
    raw = read_user_file(path, 'The vocabulary', StateDictError)
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise StateDictError(f'The vocabulary {path} is not UTF-8 text.') from None
    if not text:
        raise StateDictError(f'The vocabulary {path} is empty: its characters are the vocabulary.')
    return sorted(set(text))


def _shape(tensor):
    return tuple(int(n) for n in tensor.shape)


def _dims(shape):
    return '×'.join(str(n) for n in shape) or 'a single number'


def _attention_names(state, prefix):
    """('c_attn',) for a fused q,k,v, or the three names of a separate one, by what layer 0 holds."""
    if f'{prefix}attn.c_attn.weight' in state:
        return ('c_attn',)
    for names in SEPARATE_QKV:
        if f'{prefix}attn.{names[0]}.weight' in state:
            return names
    return ('c_attn',)  # neither: the fused name is the one said missing


def expected_keys(n_layer, E, V, T, qkv, bias, lm_head):
    """[(key, shape)] the architecture has, in its order (embeddings, each block, ln_f, lm_head)."""
    keys = [('transformer.wte.weight', (V, E)), ('transformer.wpe.weight', (T, E))]

    def linear(name, out, inp):
        keys.append((f'{name}.weight', (out, inp)))
        if bias:
            keys.append((f'{name}.bias', (out,)))

    def norm(name):
        keys.append((f'{name}.weight', (E,)))
        if bias:
            keys.append((f'{name}.bias', (E,)))

    for i in range(n_layer):
        h = f'transformer.h.{i}.'
        norm(f'{h}ln_1')
        if qkv == ('c_attn',):  # q, k, v in one [3E, E] linear
            linear(f'{h}attn.c_attn', 3 * E, E)
        else:
            for name in qkv:
                linear(f'{h}attn.{name}', E, E)
        linear(f'{h}attn.c_proj', E, E)
        norm(f'{h}ln_2')
        linear(f'{h}mlp.c_fc', 4 * E, E)
        linear(f'{h}mlp.c_proj', E, 4 * E)
    norm('transformer.ln_f')
    if lm_head:
        keys.append(('lm_head.weight', (V, E)))
    return keys


def _is_causal_mask(key, tensor):
    """nanoGPT's `attn.bias` buffer (saved by versions without flash attention): ones on and below the diagonal."""
    shape = _shape(tensor)
    if not (LAYER.match(key) and key.endswith('.attn.bias') and len(shape) == 4 and shape[:2] == (1, 1)
            and shape[2] == shape[3]):
        return False
    return tensor.equal(tensor.new_ones(shape).tril())


def _check_keys(state, expected, optional):
    """StateDictError for the first expected key missing or of another shape, then the first key of the file's
    the architecture has no place for (`optional`: {key: shape} it may hold or not)."""
    for key, shape in expected:
        if key not in state:
            raise StateDictError(f'The state_dict has no {key} ({_dims(shape)}), which the mini GPT\'s architecture '
                                 'needs.')
        if _shape(state[key]) != shape:
            raise StateDictError(f'{key} is {_dims(_shape(state[key]))}, not the {_dims(shape)} the other shapes '
                                 'imply for the mini GPT.')
    names = {key for key, _ in expected}
    for key, tensor in state.items():
        if key not in names and not _is_causal_mask(key, tensor) and optional.get(key) != _shape(tensor):
            raise StateDictError(f'The state_dict has {key} ({_dims(_shape(tensor))}), which the mini GPT\'s '
                                 'architecture has no place for.')


def fit(state, uchars, n_head=4):
    """(GPTConfig, {engine name: [[float]]}, what was read in words) for a state_dict ({name: tensor}) of the mini
    GPT and its vocabulary; StateDictError (one sentence) for the first key or shape that does not fit."""
    for key in ('transformer.wte.weight', 'transformer.wpe.weight'):
        if key not in state or len(_shape(state[key])) != 2:
            raise StateDictError(f'The state_dict has no {key} matrix: is it the mini GPT\'s (nanoGPT\'s names)?')
    V, E = _shape(state['transformer.wte.weight'])
    T = _shape(state['transformer.wpe.weight'])[0]
    n_layer = 1 + max((int(m[1]) for m in map(LAYER.match, state) if m), default=0)
    qkv = _attention_names(state, 'transformer.h.0.')
    bias = f'transformer.h.0.attn.{qkv[0]}.bias' in state
    tied = 'lm_head.weight' not in state or state['lm_head.weight'].equal(state['transformer.wte.weight'])
    optional = {'lm_head.bias': (V,)} if bias else {}  # nanoGPT's lm_head has none; another mini GPT's may
    _check_keys(state, expected_keys(n_layer, E, V, T, qkv, bias, 'lm_head.weight' in state), optional)
    if len(uchars) != V:
        raise StateDictError(f'The vocabulary has {len(uchars)} characters but transformer.wte.weight has {V} rows '
                             '(one per character; does the file end with a newline the mini GPT\'s text did not have?).')
    config = GPTConfig(n_layer=n_layer, n_embd=E, n_head=n_head, block_size=T, **{**MINI_GPT, 'bias': bias, 'tie': tied})
    floats = _engine_weights(state, config, V, qkv)
    words = (f'n_layer {n_layer}, n_embd {E}, n_head {n_head}, block_size {T}, {V} characters + BOS, '
             f'{"fused" if qkv == ("c_attn",) else "separate"} q,k,v, {"biases" if bias else "no biases"}, '
             f'lm_head {"tied to wte" if tied else "its own"}')
    return config, floats, words


def _engine_weights(state, config, V, qkv):
    """{engine name: [[float]]} in param_shapes' order; BOS's rows 0 (see the module's docstring)."""
    E = config.n_embd

    def rows(key):
        return state[key].double().tolist()

    def row(key, n):  # a vector as one row; absent (no biases): zeros
        return [state[key].double().tolist()] if key in state else [[0.0] * n]

    def with_bos(matrix, width):
        return matrix + [[0.0] * width]

    out = {'wte': with_bos(rows('transformer.wte.weight'), E), 'wpe': rows('transformer.wpe.weight')}
    if not config.tie:
        out['lm_head'] = with_bos(rows('lm_head.weight'), E)
    if config.bias:
        out['lm_head_b'] = [row('lm_head.bias', V)[0] + [0.0]]
    for i in range(config.n_layer):
        h, L = f'transformer.h.{i}.', f'layer{i}.'
        for part, src in (('attn', 'ln_1'), ('mlp', 'ln_2')):
            out[f'{L}{part}_ln_gain'], out[f'{L}{part}_ln_bias'] = row(f'{h}{src}.weight', E), row(f'{h}{src}.bias', E)
        if qkv == ('c_attn',):  # fused: q, k, v are its rows 0..E, E..2E, 2E..3E (nanoGPT's split(n_embd, dim=2))
            w, b = rows(f'{h}attn.c_attn.weight'), row(f'{h}attn.c_attn.bias', 3 * E)[0]
            parts = {m: (w[j * E:(j + 1) * E], [b[j * E:(j + 1) * E]]) for j, m in enumerate(('wq', 'wk', 'wv'))}
        else:
            parts = {m: (rows(f'{h}attn.{name}.weight'), row(f'{h}attn.{name}.bias', E))
                     for m, name in zip(('wq', 'wk', 'wv'), qkv)}
        parts['wo'] = (rows(f'{h}attn.c_proj.weight'), row(f'{h}attn.c_proj.bias', E))
        parts['fc1'] = (rows(f'{h}mlp.c_fc.weight'), row(f'{h}mlp.c_fc.bias', 4 * E))
        parts['fc2'] = (rows(f'{h}mlp.c_proj.weight'), row(f'{h}mlp.c_proj.bias', E))
        for m, (w, b) in parts.items():
            name = f'{L}{"mlp" if m.startswith("fc") else "attn"}_{m}'
            out[name] = w
            if config.bias:
                out[f'{name}_b'] = b
    out['final_ln_gain'], out['final_ln_bias'] = row('transformer.ln_f.weight', E), row('transformer.ln_f.bias', E)
    return {name: out[name] for name in param_shapes(config, V + 1)}


def import_model(state, uchars, n_head=4):
    """(Model, what was read in words): fit's weights as the engine's model."""
    config, floats, words = fit(state, uchars, n_head)
    return Model.from_floats(config, Tokenizer(uchars), floats), words


def logits(model, ids):
    """The engine's logits at each position of a sequence of the mini GPT's ids (no BOS), [len(ids)][V]: what the
    mini GPT gives for the same sequence (BOS's logit, the last, left out)."""
    keys, values = [[] for _ in range(model.config.n_layer)], [[] for _ in range(model.config.n_layer)]
    return [[v.data for v in gpt(t, pos, keys, values, model.state_dict, model.config, FAST)[:-1]]
            for pos, t in enumerate(ids)]
