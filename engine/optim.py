"""Adam as microgpt does it: its settings (TrainConfig), the linear learning-rate decay, the update, and a
preview of one parameter's next update."""

import math
from dataclasses import asdict, dataclass

from engine.checks import is_number, is_whole, short
from engine.errors import ConfigError
from engine.value import Value


MAX_STEPS = 10**9  # far beyond any run here (about four months at 10 ms a step); keeps step counts floats can hold


@dataclass(frozen=True)
class TrainConfig:
    num_steps: int = 1000       # one document per step
    learning_rate: float = 0.01 # decays linearly to 0 over num_steps
    beta1: float = 0.85         # Adam first-moment decay
    beta2: float = 0.99         # Adam second-moment decay
    eps: float = 1e-8           # Adam epsilon
    seed: int = 42              # seeds the shuffle, the initial weights and then the samples
    optimizer: str = 'adam'     # or 'sgd': p -= lr_t * grad (saved only when not adam: old files stay as they were)

    def __post_init__(self):
        if not (is_whole(self.num_steps) and 0 < self.num_steps <= MAX_STEPS):
            raise ConfigError(f'steps must be a positive whole number up to {MAX_STEPS:,}, not {short(self.num_steps)}.')
        if not (is_number(self.learning_rate) and math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigError(f'The learning rate must be a positive number, not {short(self.learning_rate)}.')
        for name in ('beta1', 'beta2'):
            value = getattr(self, name)
            if not (is_number(value) and 0 <= value < 1):
                raise ConfigError(f'{name} must be a number in [0, 1), not {short(value)}.')
        if not (is_number(self.eps) and math.isfinite(self.eps) and self.eps > 0):
            raise ConfigError(f'eps must be a positive number, not {short(self.eps)}.')
        if not is_whole(self.seed):
            raise ConfigError(f'The seed must be a whole number, not {short(self.seed)}.')
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f'The optimizer must be {" or ".join(OPTIMIZERS)}, not {short(self.optimizer)}.')

    def to_dict(self):
        out = asdict(self)
        if out['optimizer'] == 'adam':
            del out['optimizer']  # microgpt's: its files keep exactly the fields they had
        return out


OPTIMIZERS = ('adam', 'sgd')
OPTIONAL_FIELDS = ('optimizer',)  # a TrainConfig dict may leave these out: they then are microgpt's


def decayed_lr(learning_rate, step, num_steps):
    """The learning rate of update `step` (0-based): it decays linearly to 0 over num_steps."""
    return learning_rate * (1 - step / num_steps)


class Adam:
    """Adam with bias correction, buffers m and v per parameter, microgpt's float operations."""

    def __init__(self, params, config, m=None, v=None):
        self.params = params
        self.config = config
        self.m = list(m) if m is not None else [0.0] * len(params)  # first moment
        self.v = list(v) if v is not None else [0.0] * len(params)  # second moment

    def update(self, step, num_steps):
        """One update of every parameter from its grad (step is 0-based); resets grads to 0."""
        c = self.config
        learning_rate, beta1, beta2, eps_adam = c.learning_rate, c.beta1, c.beta2, c.eps
        m, v = self.m, self.v
        lr_t = decayed_lr(learning_rate, step, num_steps)
        for i, p in enumerate(self.params):
            m[i] = beta1 * m[i] + (1 - beta1) * p.grad
            v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
            m_hat = m[i] / (1 - beta1 ** (step + 1))
            v_hat = v[i] / (1 - beta2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps_adam)
            p.grad = 0


class SGD(Adam):
    """Plain gradient descent with the same decaying learning rate: p -= lr_t * grad. It keeps Adam's m and v
    (all 0, never used) so that checkpoints and histories have one shape whichever optimizer ran."""

    def update(self, step, num_steps):
        lr_t = decayed_lr(self.config.learning_rate, step, num_steps)
        for p in self.params:
            p.data -= lr_t * p.grad
            p.grad = 0


def make_optimizer(params, config, m=None, v=None):
    """The optimizer `config.optimizer` names, over params (Adam's moments m, v where a run continues)."""
    return (SGD if config.optimizer == 'sgd' else Adam)(params, config, m, v)


@dataclass(frozen=True)
class AdamPreview:
    """The next Adam update of one parameter, as `Adam.update` would compute it."""
    step: int         # 0-based index of that update
    lr_t: float       # the learning rate after linear decay
    m: float          # first moment after the update
    v: float          # second moment after the update
    m_hat: float      # bias-corrected moments
    v_hat: float
    delta: float      # the change to the parameter (data_next - data)
    data_next: float


def adam_preview(data, grad, m, v, step, config):
    """Run `Adam.update` on one parameter copy: the exact numbers its next update would give."""
    p = Value(data)
    p.grad = grad
    adam = make_optimizer([p], config, [m], [v])
    adam.update(step, config.num_steps)
    c = config
    return AdamPreview(step, decayed_lr(c.learning_rate, step, c.num_steps), adam.m[0], adam.v[0],
                       adam.m[0] / (1 - c.beta1 ** (step + 1)), adam.v[0] / (1 - c.beta2 ** (step + 1)),
                       p.data - data, p.data)


def update_sizes(shapes, before, after):
    """{matrix: L2 norm of its update} from the flat weights before and after a step (engine.history's
    record_step writes these and replay checks them with the same float operations, so they agree bit for bit)."""
    sizes, i = {}, 0
    for name, (rows, cols) in shapes.items():
        total = 0.0
        for j in range(i, i + rows * cols):
            d = before[j] - after[j]
            total += d * d
        sizes[name] = math.sqrt(total)
        i += rows * cols
    return sizes
