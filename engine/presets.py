"""The ladder: named configurations of the one model, from a bigram table to microgpt, as data.

Each rung adds one idea to the rung below (microgpt.jtauber.com's ladder, in this engine's one model):
- `bigram`: a token's row of one [vocab][vocab] matrix is its logits: no position, no layers;
- `mlp`: embedding (token + position) → MLP → lm_head, no attention: each position sees only itself;
- `average`: attention whose weights are uniform over the past (no q, k): a position sees the mean of
  what came before, but cannot choose what to look at;
- `one-head`: attention as microgpt's, with a single head;
- `microgpt`: the default, four heads: microgpt exactly.
A preset fills the fields it names; any shape the user gives (n_embd, n_layer, …) is laid over it.
"""

from engine.checks import short
from engine.errors import ConfigError
from engine.model import GPTConfig


# name: (what it is, in a few words; the GPTConfig fields it sets)
PRESETS = {
    'bigram': ('a token\'s row of one vocab×vocab matrix is its logits', {'arch': 'bigram', 'n_layer': 0}),
    'mlp': ('embedding → MLP → lm_head, no attention', {'attention': 'none'}),
    'average': ('attention with uniform weights over the past (no q, k)', {'attention': 'uniform'}),
    'one-head': ('attention with one head', {'n_head': 1}),
    'microgpt': ('microgpt: four heads of attention and an MLP', {}),
}
DEFAULT = 'microgpt'


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
