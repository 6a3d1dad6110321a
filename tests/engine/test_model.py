"""engine.model reproduces microgpt exactly: the published figures, the committed checkpoint, and the fused
training path against the literal scalar graph, bit for bit."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from engine import checkpoint as ckpt_io
from engine.backprop import Stepper
from engine.history import history_path
from engine.paths import DEFAULT_CHECKPOINT
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.trace import literal_loss, record
from engine.optim import Adam, TrainConfig
from tests.conftest import FULL_RUN, start_full_run

ROOT = Path(__file__).resolve().parents[2]  # the project folder

# Published by microgpt (the engine issue): the first losses, then the 20 samples after 1000 steps.
PUBLISHED_LOSSES = ['3.3660', '3.4243', '3.1778', '3.0664', '3.2209', '2.9452', '3.2894', '3.3245',
                    '2.8990', '3.2229', '2.7964', '2.9345', '3.0544']
PUBLISHED_SAMPLES = ['kamon', 'ann', 'karai', 'jaire', 'vialan', 'karia', 'yeran', 'anna', 'areli', 'kaina',
                     'konna', 'keylen', 'liole', 'alerin', 'earan', 'lenne', 'kana', 'lara', 'alela', 'anton']


@pytest.fixture(scope='session')
def full_run(names_file):
    """`python main.py train` with the defaults, as a user runs it: its stdout and its checkpoint. The run
    was started on the other core when the session began (tests/conftest.py); this waits for it."""
    run = FULL_RUN.get('run')
    if run is None:
        start_full_run(names_file)
        run = FULL_RUN['run']
    proc, out = run
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr
    return stdout.splitlines(), out


@pytest.mark.slow
def test_train_prints_what_microgpt_prints(full_run):
    lines, _ = full_run
    assert lines[:3] == ['num docs: 32033', 'vocab size: 27', 'num params: 4192']
    steps = lines[3:1003]
    assert [line.split('loss ')[1] for line in steps[:len(PUBLISHED_LOSSES)]] == PUBLISHED_LOSSES
    assert steps[0] == 'step    1 / 1000 | loss 3.3660'
    assert steps[-1].startswith('step 1000 / 1000 | loss ')
    assert lines[1003:1005] == ['', '--- inference (new, hallucinated names) ---']
    assert lines[1005:] == [f'sample {i+1:2d}: {s}' for i, s in enumerate(PUBLISHED_SAMPLES)]


@pytest.mark.slow
def test_retraining_reproduces_the_committed_checkpoint_and_its_history(full_run):
    """The shipped pair is the run's, the history byte for byte: every loss, learning rate, update size,
    document and snapshot in it (so tests/explorer's windows take it as checked without replaying it)."""
    _, out = full_run
    trained = json.loads(out.read_text())
    named = trained.pop('history')  # a checkpoint saved now names its history by content
    assert trained == json.loads(DEFAULT_CHECKPOINT.read_text())
    assert out.with_name(named['file']).read_bytes() == history_path(DEFAULT_CHECKPOINT).read_bytes()


def test_committed_checkpoint_samples_the_published_names():
    proc = subprocess.run([sys.executable, str(ROOT / 'main.py'), 'sample', '--checkpoint', str(DEFAULT_CHECKPOINT)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f'sample {i+1:2d}: {s}' for i, s in enumerate(PUBLISHED_SAMPLES)]


# The fused training path against the literal scalar graph.

configs = st.builds(lambda layers, heads, per_head, block: GPTConfig(layers, heads * per_head, heads, block),
                    st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 6))
docs = st.text(alphabet='abcde', max_size=8)


@settings(max_examples=25, deadline=None)
@given(configs, st.lists(docs, min_size=1, max_size=3), st.integers(0, 2**32))
@pytest.mark.slow
def test_fused_training_equals_literal_graph_bit_for_bit(config, doc_list, seed):
    """Losses, every gradient and every Adam update agree exactly over a few steps."""
    tok = Tokenizer('abcde')
    fast = Model.init(config, tok, random.Random(seed))
    slow = Model.from_floats(config, tok, fast.floats())
    fast_adam = Adam(fast.params, TrainConfig())
    for step, doc in enumerate(doc_list):
        tokens, n = fast.positions(doc)
        loss = fast.loss(tokens, n)
        loss.backward()
        lit_loss, literal = literal_loss(slow, doc)
        lit_loss.backward()
        assert loss.data == lit_loss.data
        assert [p.grad for p in fast.params] == [p.grad for p in literal.params]
        fast_adam.update(step, len(doc_list))
        slow = Model.from_floats(config, tok, fast.floats())


def test_stepper_gives_the_gradients_of_the_fused_path(default_model):
    trace = record(default_model, 'emma')
    stepper = Stepper(trace)
    stepper.run_to_end()
    tokens, n = default_model.positions('emma')
    loss = default_model.loss(tokens, n)
    loss.backward()
    assert loss.data == trace.loss
    by_index = {where: stepper.grads[node] for node, where in trace.params.items()}
    for name, mat in default_model.state_dict.items():
        for r, row in enumerate(mat):
            for c, p in enumerate(row):
                assert by_index.get((name, r, c), 0) == p.grad


@pytest.fixture(scope='module')
def default_model():
    return ckpt_io.load(DEFAULT_CHECKPOINT).model


def test_the_mini_gpts_norm_options_change_only_where_the_norms_are_and_are_saved_only_when_set():
    """embed_norm off: no norm (and with LayerNorm no emb_ln weights) after tok + pos; final_norm on: one before
    lm_head ('final norm', final_ln_gain/bias). Left at microgpt's they are not in the config's dict at all."""
    from engine.errors import ConfigError
    from engine.model import param_count, param_shapes
    assert 'embed_norm' not in GPTConfig().to_dict() and 'final_norm' not in GPTConfig().to_dict()
    mini = GPTConfig(norm='layer', embed_norm=False, final_norm=True)
    assert mini.to_dict()['embed_norm'] is False and mini.to_dict()['final_norm'] is True
    shapes = param_shapes(mini, 27)
    assert 'emb_ln_gain' not in shapes and list(shapes)[-2:] == ['final_ln_gain', 'final_ln_bias']
    assert param_count(mini, 27) == sum(r * c for r, c in shapes.values())
    for config in (GPTConfig(embed_norm=False, final_norm=True), mini):
        model = Model.init(config, Tokenizer('abcdefghijklmnopqrstuvwxyz'), random.Random(1))
        trace = record(model, 'emma')
        paths = {s.path for s in trace.scopes}
        norm = 'layernorm' if config.norm == 'layer' else 'rmsnorm'
        assert f'pos 2 / final norm / {norm}' in paths and f'pos 2 / embedding / {norm}' not in paths
        assert trace.loss == model.loss(*model.positions('emma')).data
    with pytest.raises(ConfigError, match='the embedding stage computes nothing'):
        GPTConfig(position='rope', embed_norm=False)
    with pytest.raises(ConfigError, match='final_norm must be true or false'):
        GPTConfig(final_norm=1)
