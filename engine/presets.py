"""The ladder: named configurations of the one model, from a bigram table to microgpt, as data.

Each rung adds one idea to the rung below (microgpt.jtauber.com's ladder, in this engine's one model):
- `bigram`: a token's row of one [vocab][vocab] matrix is its logits: no position, no layers;
- `mlp`: embedding (token + position) → MLP → lm_head, no attention: each position sees only itself;
- `average`: attention whose weights are uniform over the past (no q, k): a position sees the mean of
  what came before, but cannot choose what to look at;
- `one-head`: attention as microgpt's, with a single head;
- `microgpt`: the default, four heads: microgpt exactly.
Beyond the ladder, the seeds' two kinds of model at microgpt's explorable size (n_embd 16, 1 layer, 4 heads,
block 16), each a set of block options:
- `mini-gpt`: the PyTorch mini GPT's (nanoGPT's) blocks: LayerNorm, GELU's exact (erf) form, biases on every
  linear, learned positions, lm_head tied to wte, no norm after the embedding and a final LayerNorm (ln_f) before
  lm_head: what `python3 main.py import` reads a state_dict into;
- `llama-style`: RMSNorm (microgpt's), RoPE in place of wpe, SwiGLU in place of the MLP's ReLU, no biases.
A preset fills the fields it names; any shape the user gives (n_embd, n_layer, …) is laid over it.
Each rung ships trained on names.txt (`shipped_checkpoint`), made as README's "The ladder, shipped" says.

Beyond the explorable sizes, a recipe names a whole run, not only a model (`RECIPES`, for `train --preset`; not in
the Training panel, whose scalar engine could not train it): `large`, issue 24's "~10M configuration", the
llama-style blocks at n_embd 256, 4 layers, 4 heads, block 512, on a byte-level BPE of GPT-2's 50,257 tokens,
"batch 16 × 4 accumulation steps": 64 windows a step (`--batch` is a step's whole batch here), in 4 parts of 16,
one forward and backward each, learning rate 0.001 (at microgpt's 0.01 its loss rose from the first step).
Its embedding and lm_head are 50,257 × 256 each (25.7M), so it has 29,925,888 parameters, 4,194,304 of them in
the blocks (`param_count`; tests/engine/test_presets.py checks the formula).
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from engine.checks import short
from engine.errors import ConfigError
from engine.model import GPTConfig
from engine.paths import ASSETS, DEFAULT_CHECKPOINT


# name: (what it is, in a few words; the GPTConfig fields it sets)
PRESETS = {
    'bigram': ('a token\'s row of one vocab×vocab matrix is its logits', {'arch': 'bigram', 'n_layer': 0}),
    'mlp': ('embedding → MLP → lm_head, no attention', {'attention': 'none'}),
    'average': ('attention with uniform weights over the past (no q, k)', {'attention': 'uniform'}),
    'one-head': ('attention with one head', {'n_head': 1}),
    'microgpt': ('microgpt: four heads of attention and an MLP', {}),
    'mini-gpt': ('the mini GPT\'s blocks: LayerNorm, exact GELU, biases, learned positions, lm_head tied to wte, '
                 'no norm after the embedding, a final LayerNorm',
                 {'norm': 'layer', 'activation': 'gelu-erf', 'bias': True, 'tie': True, 'embed_norm': False,
                  'final_norm': True}),
    'llama-style': ('RMSNorm, RoPE on q and k in place of wpe, SwiGLU, no biases',
                    {'position': 'rope', 'activation': 'swiglu'}),
}
DEFAULT = 'microgpt'


@dataclass(frozen=True)
class Recipe:
    """A run beyond the explorable sizes: a preset at a shape, its tokenizer and its batch (`train`'s defaults)."""
    what: str
    preset: str          # the blocks: a name of PRESETS
    shape: dict          # n_embd, n_layer, n_head, block_size laid over it
    tokenizer: str       # 'bpe' (engine.bpe) or 'char'
    vocab_size: int      # a BPE's tokens, BOS included (at most: a small text stops early)
    batch: int           # documents (windows) a step, over every process and part
    accumulate: int      # torch: the parts of a step's batch, one forward and backward each
    learning_rate: float  # Adam's, decaying to 0: microgpt's 0.01 moves each of 256 dims too far at once


RECIPES = {
    'large': Recipe('issue 24\'s "~10M" run: llama-style blocks at n_embd 256, 4 layers, 4 heads, block 512, a '
                    'byte-level BPE of 50,257 tokens, batch 16 × 4 accumulation steps (29.9M parameters)',
                    'llama-style', {'n_embd': 256, 'n_layer': 4, 'n_head': 4, 'block_size': 512}, 'bpe', 50257, 64, 4,
                    1e-3),
}
RUNGS = ('bigram', 'mlp', 'average', 'one-head', 'microgpt')  # the ladder; mini-gpt and llama-style stand on microgpt
BLOCK_OPTIONS = ('norm', 'activation', 'bias', 'tie', 'position', 'attention', 'embed_norm', 'final_norm')  # what mini-gpt and llama-style set
LADDER = ASSETS / 'ladder'  # the shipped rungs below microgpt: NAME-names.json and its history
SHIPPED_EVERY = 100         # their histories' snapshot interval: ~0.3–1.7 MB each, any step ≤ 100 replayed steps away


def check_preset(name, recipes=False):
    """The preset's name, or ConfigError (one sentence) for one that does not exist (a recipe's name is one
    where `recipes` is true: `train --preset`)."""
    if name not in PRESETS and not (recipes and name in RECIPES):
        names = [*PRESETS, *(RECIPES if recipes else ())]
        raise ConfigError(f'There is no preset {short(name)}: choose one of {", ".join(names)}.')
    return name


def preset_config(name, **shape):
    """The GPTConfig of preset (or recipe) `name`, with the fields in `shape` that are not None laid over it;
    ConfigError (one sentence) for an unknown preset or a shape it cannot take."""
    recipe = RECIPES.get(name)
    settings = dict(PRESETS[recipe.preset if recipe else check_preset(name)][1])
    settings.update(recipe.shape if recipe else {})
    settings.update({k: v for k, v in shape.items() if v is not None})
    return GPTConfig(**settings)


def describe(name):
    return RECIPES[name].what if name in RECIPES else PRESETS[check_preset(name)][0]


def shipped_checkpoint(name):
    """Where rung `name` trained on names.txt ships: microgpt's own checkpoint, the others in assets/ladder."""
    if check_preset(name) not in RUNGS:
        raise ConfigError(f'The preset {name} is not a rung of the ladder: only {", ".join(RUNGS)} ship trained.')
    return DEFAULT_CHECKPOINT if name == DEFAULT else LADDER / f'{name}-names.json'


def shipped_rung(path):
    """The rung whose shipped checkpoint is at `path`, or None for any other file."""
    try:
        where = Path(path).resolve()
    except (OSError, RuntimeError, TypeError):
        return None
    return next((name for name in RUNGS if shipped_checkpoint(name).resolve() == where), None)


def below(name):
    """The rung under rung `name` on the ladder, or None for the first (bigram); mini-gpt and llama-style stand on
    microgpt (what they change is microgpt's blocks)."""
    if check_preset(name) not in RUNGS:
        return DEFAULT
    i = RUNGS.index(name)
    return RUNGS[i - 1] if i else None


def below_config(config):
    """(the rung under `config`'s, that rung's GPTConfig with everything else `config` has), or None on the
    first rung: the fields either rung sets are the lower rung's, every other field (shape, block options)
    stays, so the two differ only by the idea the upper rung adds."""
    lower = below(preset_of(config))
    if lower is None:
        return None
    defaults = GPTConfig()
    own = set(PRESETS[preset_of(config)][1]) | set(PRESETS[lower][1])
    settings = {f.name: (getattr(defaults, f.name) if f.name in own else getattr(config, f.name))
                for f in dataclasses.fields(GPTConfig)}
    settings.update(PRESETS[lower][1])
    try:
        return lower, GPTConfig(**settings)
    except ConfigError:  # one-head's width with average's four heads: uniform weights are the same with one
        return lower, GPTConfig(**{**settings, 'n_head': 1})


def preset_of(config):
    """The rung a configuration stands on, whatever its shape: a checkpoint names its rung by what it is."""
    if config.arch == 'bigram':
        return 'bigram'
    for name in ('mini-gpt', 'llama-style'):  # every block option of the preset, and no other
        options = PRESETS[name][1]
        if all(getattr(config, k) == getattr(GPTConfig(**options), k) for k in BLOCK_OPTIONS):
            return name
    if config.attention == 'none':
        return 'mlp'
    if config.attention == 'uniform':
        return 'average'
    return 'one-head' if config.n_head == 1 else DEFAULT


def block_words(config):
    """The block options of a config that are not microgpt's, in a word each: ['layernorm', 'gelu', 'bias', 'tied']."""
    words = [config.activation if config.activation != 'relu' else None, 'layernorm' if config.norm == 'layer' else None,
             'bias' if config.bias else None, 'tied' if config.tie else None, 'rope' if config.position == 'rope' else None,
             None if config.embed_norm else 'no embedding norm', 'final norm' if config.final_norm else None]
    return [w for w in words if w]


def no_attention(config):
    """What the Attention panel says of a model without attention (the bigram and mlp rungs), or None."""
    if config.attention_layers:
        return None
    if config.arch == 'bigram':
        return ("This model has no attention: it is the bigram rung, where a token's row of wte is its logits, "
                "so each position sees only its own token.")
    return ('This model has no attention: it is the mlp rung (embedding → MLP → lm_head), so each position sees '
            'only its own token and position, nothing before it.')
