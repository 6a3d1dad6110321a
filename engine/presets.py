"""The ladder: named configurations of the one model, from a bigram table to microgpt, as data.

Each rung adds one idea to the rung below (microgpt.jtauber.com's ladder, in this engine's one model):
- `bigram`: a token's row of one [vocab][vocab] matrix is its logits: no position, no layers;
- `mlp`: embedding (token + position) → MLP → lm_head, no attention: each position sees only itself;
- `average`: attention whose weights are uniform over the past (no q, k): a position sees the mean of
  what came before, but cannot choose what to look at;
- `one-head`: attention as microgpt's, with a single head;
- `microgpt`: the default, four heads: microgpt exactly.
A preset fills the fields it names; any shape the user gives (n_embd, n_layer, …) is laid over it.
Each rung ships trained on names.txt (`shipped_checkpoint`), made as README's "The ladder, shipped" says.
"""

import dataclasses
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
}
DEFAULT = 'microgpt'
LADDER = ASSETS / 'ladder'  # the shipped rungs below microgpt: NAME-names.json and its history
SHIPPED_EVERY = 100         # their histories' snapshot interval: ~0.3–1.7 MB each, any step ≤ 100 replayed steps away


def check_preset(name):
    """The preset's name, or ConfigError (one sentence) for one that does not exist."""
    if name not in PRESETS:
        raise ConfigError(f'There is no preset {short(name)}: choose one of {", ".join(PRESETS)}.')
    return name


def preset_config(name, **shape):
    """The GPTConfig of preset `name`, with the fields in `shape` that are not None laid over it; ConfigError
    (one sentence) for an unknown preset or a shape it cannot take."""
    settings = dict(PRESETS[check_preset(name)][1])
    settings.update({k: v for k, v in shape.items() if v is not None})
    return GPTConfig(**settings)


def describe(name):
    return PRESETS[check_preset(name)][0]


def shipped_checkpoint(name):
    """Where rung `name` trained on names.txt ships: microgpt's own checkpoint, the others in assets/ladder."""
    return DEFAULT_CHECKPOINT if check_preset(name) == DEFAULT else LADDER / f'{name}-names.json'


def shipped_rung(path):
    """The rung whose shipped checkpoint is at `path`, or None for any other file."""
    try:
        where = Path(path).resolve()
    except (OSError, RuntimeError, TypeError):
        return None
    return next((name for name in PRESETS if shipped_checkpoint(name).resolve() == where), None)


def below(name):
    """The rung under rung `name` on the ladder, or None for the first (bigram)."""
    names = list(PRESETS)
    i = names.index(check_preset(name))
    return names[i - 1] if i else None


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
    if config.attention == 'none':
        return 'mlp'
    if config.attention == 'uniform':
        return 'average'
    return 'one-head' if config.n_head == 1 else DEFAULT


def no_attention(config):
    """What the Attention panel says of a model without attention (the bigram and mlp rungs), or None."""
    if config.attention_layers:
        return None
    if config.arch == 'bigram':
        return ("This model has no attention: it is the bigram rung, where a token's row of wte is its logits, "
                "so each position sees only its own token.")
    return ('This model has no attention: it is the mlp rung (embedding → MLP → lm_head), so each position sees '
            'only its own token and position, nothing before it.')
