"""engine.optim: Adam as microgpt does it: its settings refused in one sentence when they cannot train,
the linear learning-rate decay, the update against numbers worked out by hand, and the preview of one
parameter's next update."""

import pytest

from engine.errors import ConfigError
from engine.optim import Adam, TrainConfig, adam_preview, decayed_lr
from engine.value import Value


def test_adam_update_is_microgpts_formula():
    """p -= lr_t * m_hat / (v_hat ** 0.5 + eps): Adam.update against numbers worked out by hand."""
    p, q = Value(0.5), Value(-0.25)
    p.grad, q.grad = 1e-6, -3.0
    adam = Adam([p, q], TrainConfig(num_steps=4))  # lr 0.01, beta1 0.85, beta2 0.99, eps 1e-8
    adam.update(0, 4)
    # Step 0 from m = v = 0: m_hat = g and v_hat = g**2, so the change is -0.01 * g / (|g| + 1e-8).
    # For g = 1e-6, eps is a hundredth of sqrt(v_hat): -0.01 / 1.01 (eps under the root would give -0.0001).
    assert p.data - 0.5 == pytest.approx(-0.01 / 1.01, rel=1e-9)
    assert q.data - -0.25 == pytest.approx(0.01, rel=1e-7)
    assert adam.m == pytest.approx([0.15e-6, -0.45], rel=1e-12) and adam.v == pytest.approx([1e-14, 0.09], rel=1e-12)
    assert p.grad == q.grad == 0
    # Step 1 with g = 0: lr_t = 0.01 * (1 - 1/4); m = 0.85 * 0.15e-6, v = 0.99 * 1e-14, corrected by
    # 1 - 0.85**2 = 0.2775 and 1 - 0.99**2 = 0.0199.
    before = p.data
    adam.update(1, 4)
    change = 0.0075 * (0.1275e-6 / 0.2775) / ((0.99e-14 / 0.0199) ** 0.5 + 1e-8)
    assert p.data - before == pytest.approx(-change, rel=1e-9)


def test_the_learning_rate_decays_linearly_to_zero():
    assert decayed_lr(0.01, 0, 1000) == 0.01
    assert decayed_lr(0.01, 500, 1000) == 0.005
    assert decayed_lr(0.01, 1000, 1000) == 0


def test_the_preview_is_the_update_adam_applies():
    config = TrainConfig(num_steps=10)
    p = Value(0.3)
    p.grad = -0.7
    adam = Adam([p], config, [0.01], [0.002])
    preview = adam_preview(0.3, -0.7, 0.01, 0.002, 3, config)
    adam.update(3, 10)
    assert (preview.data_next, preview.m, preview.v) == (p.data, adam.m[0], adam.v[0])
    assert preview.delta == p.data - 0.3 and preview.lr_t == decayed_lr(0.01, 3, 10)


@pytest.mark.parametrize('field, value, says', [('num_steps', 0, 'steps must be a positive whole number'),
                                                ('num_steps', 2.5, 'steps must be a positive whole number'),
                                                ('learning_rate', float('inf'), 'The learning rate must be a positive'),
                                                ('learning_rate', -1, 'The learning rate must be a positive'),
                                                ('beta1', 1.0, 'beta1 must be a number in [0, 1)'),
                                                ('beta2', 'x', 'beta2 must be a number in [0, 1)'),
                                                ('eps', 0, 'eps must be a positive number'),
                                                ('seed', 1.5, 'The seed must be a whole number')])
def test_settings_that_cannot_train_are_one_sentence(field, value, says):
    with pytest.raises(ConfigError) as e:
        TrainConfig(**{field: value})
    assert str(e.value).startswith(says) and str(e.value).endswith('.')


def test_the_defaults_are_microgpts_and_round_trip_as_a_dict():
    config = TrainConfig()
    assert config.to_dict() == {'num_steps': 1000, 'learning_rate': 0.01, 'beta1': 0.85, 'beta2': 0.99,
                                'eps': 1e-8, 'seed': 42}
    assert TrainConfig(**config.to_dict()) == config
