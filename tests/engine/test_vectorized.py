"""engine.vectorized: the numpy trainer agrees with the scalar engine, number for number, at every step.

The scalar engine is the truth. Both backends are run side by side for 100 steps; at each step the loss, every
gradient, every weight and Adam's moments of the numpy backend must equal the scalar engine's to 1e-12
relative. numpy sums in another order than microgpt's chain of `+` (a matrix product, all positions at once),
so its numbers differ in the last bits. The rounding error of a sum is relative to the size of the terms
summed, not to the result: a gradient that cancels to nearly 0 (or a weight crossing 0) keeps an absolute error
of the size of its neighbours' rounding. So the tolerance of each value is 1e-12 × (|its value| + the largest
|value| in its matrix): relative for every value of a matrix's own scale, an absolute floor of 1e-12 of the
matrix's scale near 0. The key's bias (the bias option) moves every score of a query by the same q·b, which
softmax undoes: its gradient is 0 in exact arithmetic, rounding (1e-20) in both backends, which Adam turns into
weights of 1e-13 that change nothing; a bias that both backends keep below NOISE is compared only in that (with
RoPE its gradient is real, and compared as any other). Measured here the worst ratio is about 4e-15 (microgpt's config, 100 steps); a single
operation changed in the backward gives 1e-3 or more.
"""

import math
import subprocess
import sys

import numpy as np
import pytest

from engine import checkpoint as ckpt_io
from engine import vectorized
from engine.cli.commands import main
from engine.data import load_docs
from engine.model import GPTConfig
from engine.optim import TrainConfig
from engine.presets import PRESETS, preset_config
from engine.train import Trainer
from engine.validation import validation_loss
from engine.vectorized import VectorTrainer, batch_arrays, loss_and_grads

TOLERANCE = 1e-12
NOISE = 1e-9  # a bias whose values stay below this in both backends is rounding only (the key's, see above)
STEPS = 100
CONFIGS = {'microgpt': GPTConfig(),
           'two layers': GPTConfig(n_layer=2, n_embd=8, n_head=2, block_size=8)}


@pytest.fixture(scope='module')
def docs(names_path):
    return load_docs(names_path)


@pytest.fixture(scope='module')
def names_path(names_file):
    return str(names_file)


def worst_ratio(numpy_matrices, scalar_matrices):
    """max over values of |numpy - scalar| / (|scalar| + max |scalar| of its matrix) (see the docstring)."""
    worst = 0.0
    for name, scalar in scalar_matrices.items():
        scalar = np.array(scalar, dtype=np.float64)
        floor = np.abs(scalar).max()
        if name.endswith('_b') and max(floor, np.abs(numpy_matrices[name]).max()) < NOISE:
            continue  # the key's bias (see the docstring): rounding in both backends, nothing to compare
        diff = np.abs(numpy_matrices[name] - scalar)
        if floor == 0:
            worst = max(worst, float(diff.max()))  # an all-zero matrix must be all zero in numpy too, to 1e-12
        else:
            worst = max(worst, float((diff / (np.abs(scalar) + floor)).max()))
    return worst


def matrices(model, attr):
    return {name: [[getattr(p, attr) for p in row] for row in mat] for name, mat in model.state_dict.items()}


def side_by_side(docs, config, steps=STEPS, optimizer='adam'):
    """Yield (step, scalar loss, numpy loss, worst gradient, weight, m and v ratios) for each step of both runs."""
    train_config = TrainConfig(num_steps=steps, optimizer=optimizer)
    scalar, vector = Trainer(docs, config, train_config), VectorTrainer(docs, config, train_config)
    assert vector.docs == scalar.docs  # the same shuffle
    assert worst_ratio(vector.weights, matrices(scalar.model, 'data')) == 0  # the same draws, exactly
    for step in range(steps):
        assert vector.step_docs(step) == [scalar.docs[step % len(scalar.docs)]]
        model = scalar.model
        loss = model.loss(*model.positions(scalar.docs[step]))
        loss.backward()
        grads = matrices(model, 'grad')
        scalar.optimizer.update(step, steps)
        scalar.step += 1
        result = vector.train_step()
        adam = {'m': ckpt_io._nested(model, scalar.optimizer.m), 'v': ckpt_io._nested(model, scalar.optimizer.v)}
        numpy_adam = {k: {name: a.reshape(np.shape(adam[k][name]))
                          for name, a in zip(vector.shapes, np.split(getattr(vector.optimizer, k),
                                                                     np.cumsum([r * c for r, c in vector.shapes.values()])[:-1]))}
                      for k in adam}
        yield (step, loss.data, result.loss, worst_ratio(vector.grads, grads),
               worst_ratio(vector.weights, matrices(model, 'data')),
               max(worst_ratio(numpy_adam[k], adam[k]) for k in adam))


@pytest.mark.slow
@pytest.mark.parametrize('config', CONFIGS.values(), ids=CONFIGS.keys())
def test_loss_gradients_weights_and_adam_agree_with_the_scalar_engine_at_every_step(docs, config):
    for step, scalar_loss, numpy_loss, grads, weights, adam in side_by_side(docs, config):
        where = f'step {step + 1}'
        assert abs(numpy_loss - scalar_loss) <= TOLERANCE * abs(scalar_loss), where
        assert grads <= TOLERANCE, f'{where}: gradients differ by {grads:.3g}'
        assert weights <= TOLERANCE, f'{where}: weights differ by {weights:.3g}'
        assert adam <= TOLERANCE, f"{where}: Adam's moments differ by {adam:.3g}"


# Each rung of the ladder (engine.presets), a few steps at a small shape, and SGD: the same agreement; and each
# block option (biases, tied weights, RoPE, SwiGLU) by itself, on the rung it fits.
RUNGS = {name: (name, 'adam', {}) for name in PRESETS} | {
    'average, sgd': ('average', 'sgd', {}), 'bigram, sgd': ('bigram', 'sgd', {}),
    'mlp, gelu': ('mlp', 'adam', {'activation': 'gelu'}), 'microgpt, layernorm': ('microgpt', 'adam', {'norm': 'layer'}),
    'mlp, layernorm, sgd': ('mlp', 'sgd', {'norm': 'layer'}), 'microgpt, bias': ('microgpt', 'adam', {'bias': True}),
    'average, bias, tie': ('average', 'adam', {'bias': True, 'tie': True}), 'microgpt, tie': ('microgpt', 'adam', {'tie': True}),
    'microgpt, rope': ('microgpt', 'adam', {'position': 'rope'}), 'mlp, swiglu': ('mlp', 'adam', {'activation': 'swiglu'}),
    'microgpt, swiglu, bias, sgd': ('microgpt', 'sgd', {'activation': 'swiglu', 'bias': True}),
    'mlp, gelu-erf': ('mlp', 'adam', {'activation': 'gelu-erf'}),
    'microgpt, no embedding norm, final rmsnorm': ('microgpt', 'adam', {'embed_norm': False, 'final_norm': True}),
    'average, final layernorm, sgd': ('average', 'sgd', {'norm': 'layer', 'final_norm': True})}


@pytest.mark.parametrize('rung', RUNGS, ids=RUNGS.keys())
def test_every_rung_and_sgd_agree_with_the_scalar_engine(docs, rung):
    preset, optimizer, options = RUNGS[rung]
    config = preset_config(preset, n_layer=None if preset == 'bigram' else 2, n_embd=8,
                           n_head=None if preset == 'one-head' else 2, block_size=8, **options)
    for step, scalar_loss, numpy_loss, grads, weights, adam in side_by_side(docs, config, 5, optimizer):
        where = f'{rung}, step {step + 1}'
        assert abs(numpy_loss - scalar_loss) <= TOLERANCE * abs(scalar_loss), where
        assert grads <= TOLERANCE and weights <= TOLERANCE and adam <= TOLERANCE, (where, grads, weights, adam)


def test_a_rungs_own_backward_changed_is_caught(docs, monkeypatch):
    """The uniform attention's backward is checked as sharply: its values' gradient taken as the forward's."""
    real_backward = vectorized.uniform_attention_backward

    def broken(dout, cache, w, li, grads):
        x, x_attn, u = cache
        return real_backward(dout, (x, x_attn, u.T), w, li, grads)  # u where u.T belongs
    monkeypatch.setattr(vectorized, 'uniform_attention_backward', broken)
    config = preset_config('average', n_embd=8, n_head=2, block_size=8)
    _, _, _, grads, _, _ = next(side_by_side(docs, config, steps=1))
    assert grads > 1e-6


BROKEN_BACKWARDS = {
    'softmax without Σ p·dp': ('softmax_backward', lambda dp, p: p * dp),
    'rmsnorm only through x': ('rmsnorm_backward', lambda dy, cache: dy * cache[1]),
}


@pytest.mark.parametrize('name', BROKEN_BACKWARDS)
def test_one_operation_changed_in_the_backward_is_caught_at_the_first_step(docs, monkeypatch, name):
    """The comparison above is sharp: a single operation changed in the vectorized backward shows at step 1."""
    function, broken = BROKEN_BACKWARDS[name]
    monkeypatch.setattr(vectorized, function, broken)
    step, _, _, grads, _, _ = next(side_by_side(docs, CONFIGS['two layers'], steps=1))
    assert grads > 1e-6


def test_the_final_norms_backward_changed_is_caught(docs, monkeypatch):
    """The mini GPT's blocks are checked as sharply: GELU's exact form given the tanh form's slope, or the final
    norm's gradient not passed back through it, shows at step 1."""
    config = preset_config('mini-gpt', n_layer=1, n_embd=8, n_head=2, block_size=8)
    assert next(side_by_side(docs, config, steps=1))[3] <= TOLERANCE
    exact = vectorized.gelu_erf
    monkeypatch.setattr(vectorized, 'gelu_erf', lambda h: (exact(h)[0], vectorized.gelu(h)[1]))
    assert next(side_by_side(docs, config, steps=1))[3] > 1e-6
    monkeypatch.undo()
    real = vectorized.norm_backward
    monkeypatch.setattr(vectorized, 'norm_backward', lambda dy, cache, grads: dy if cache[0] == 'final' else real(dy, cache, grads))
    assert next(side_by_side(docs, config, steps=1))[3] > 1e-6


def test_a_batch_averages_the_loss_and_gradients_of_its_documents(docs):
    """B documents of different lengths in one padded batch: the mean of each document's loss and gradients
    (padding adds nothing)."""
    trainer = VectorTrainer(docs[:50], GPTConfig(n_layer=2, n_embd=8, n_head=2, block_size=8),
                            TrainConfig(num_steps=3), batch=4)
    batch = trainer.step_docs(1)
    assert batch == trainer.docs[4:8] and len({len(d) for d in batch}) > 1
    config = trainer.model_config
    loss, grads = loss_and_grads(trainer.weights, config, *batch_arrays(trainer, batch))
    singles = [loss_and_grads(trainer.weights, config, *batch_arrays(trainer, [d])) for d in batch]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-13)
    for name in grads:
        mean = np.mean([s[1][name] for s in singles], axis=0)
        np.testing.assert_allclose(grads[name], mean, rtol=1e-12, atol=1e-15 * np.abs(mean).max())


@pytest.mark.parametrize('name', CONFIGS)
def test_the_validation_loss_agrees_with_the_scalar_engines(docs, name):
    """numpy's mean loss over held-out documents (in batches, padded) is the scalar engine's, to 1e-12."""
    trainer = VectorTrainer(docs[:200], CONFIGS[name], TrainConfig(num_steps=5))
    for _ in trainer.run():
        pass
    held_out = docs[-45:]
    scalar = validation_loss(trainer.model, held_out)
    assert trainer.validation_loss(held_out, batch=8) == pytest.approx(scalar, rel=TOLERANCE)
    assert trainer.validation_loss(held_out) == pytest.approx(scalar, rel=TOLERANCE)


def test_a_validation_loss_that_is_not_a_number_is_one_sentence(docs):
    from engine.errors import TrainingDiverged
    trainer = VectorTrainer(docs[:50], GPTConfig(n_embd=8, n_head=2, block_size=8), TrainConfig(num_steps=1))
    trainer.flat[:] = np.nan
    with pytest.raises(TrainingDiverged, match='The validation loss is nan'):
        trainer.validation_loss(docs[:5])


def test_train_backend_numpy_prints_the_validation_loss_scalar_does(tmp_path, capsys):
    text = tmp_path / 'text.txt'
    text.write_text('the quick brown fox jumps over the lazy dog. ' * 40)
    args = ['train', '--text', str(text), '--block-size', '8', '--steps', '6', '--eval-every', '3', '--num-samples', '1']
    assert main(args) == 0
    scalar_out = capsys.readouterr().out
    assert main([*args, '--backend', 'numpy']) == 0
    numpy_out = capsys.readouterr().out
    assert 'val loss' in scalar_out and numpy_out == scalar_out


@pytest.mark.parametrize('preset', ['microgpt', 'mini-gpt', 'llama-style', 'bigram'])
def test_numpy_samples_what_the_scalar_engine_samples(docs, preset):
    """The same draws from the same rng, over probabilities equal to rounding: the same documents."""
    import random
    from engine.sampling import iter_samples
    trainer = VectorTrainer(docs[:300], preset_config(preset), TrainConfig(num_steps=30))
    for _ in trainer.run():
        pass
    state = trainer.rng.getstate()
    scalar = list(iter_samples(trainer.model, trainer.rng, 12, 0.7))
    rng = random.Random()
    rng.setstate(state)
    assert list(trainer.iter_samples(12, 0.7, rng)) == scalar and len(set(scalar)) > 3
    assert rng.getstate() == trainer.rng.getstate()  # the stream goes on where the scalar one does


def test_the_scalar_engine_does_not_import_numpy():
    code = ('import sys, engine.model, engine.train, engine.trace, engine.cli.commands; '
            'print("numpy" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == 'False'


def test_train_backend_numpy_prints_and_saves_what_scalar_does(tmp_path, names_path, capsys):
    """The same command with --backend numpy: the same losses to the printed digit, the same samples, a
    checkpoint of the same format whose weights agree."""
    args = ['train', '--data', names_path, '--steps', '20', '--num-samples', '3']
    assert main([*args, '--out', str(tmp_path / 'scalar.json')]) == 0
    scalar_out = capsys.readouterr().out
    assert main([*args, '--backend', 'numpy', '--out', str(tmp_path / 'numpy.json')]) == 0
    assert capsys.readouterr().out == scalar_out
    a, b = (ckpt_io.load(tmp_path / f'{name}.json') for name in ('scalar', 'numpy'))
    assert (a.step, a.seed, a.train_config, a.rng_state) == (b.step, b.seed, b.train_config, b.rng_state)
    assert worst_ratio({n: np.array(m) for n, m in b.model.floats().items()}, a.model.floats()) <= TOLERANCE
    assert worst_ratio({n: np.array(m) for n, m in ckpt_io._nested(b.model, b.adam_m).items()},
                       ckpt_io._nested(a.model, a.adam_m)) <= TOLERANCE


def test_train_backend_numpy_batched_runs(tmp_path, names_path, capsys):
    assert main(['train', '--data', names_path, '--steps', '5', '--num-samples', '1', '--backend', 'numpy',
                 '--batch', '8', '--out', str(tmp_path / 'b.json')]) == 0
    assert 'step    5 /    5 | loss' in capsys.readouterr().out
    assert ckpt_io.load(tmp_path / 'b.json').step == 5


@pytest.mark.parametrize('args, says', [
    (['--backend', 'numpy', '--batch', '0'], '--batch must be a positive whole number of documents, not 0.'),
    (['--backend', 'nope'], "--backend must be scalar, numpy or torch, not 'nope'."),
    (['--batch', '4'], '--batch needs --backend numpy'),
])
def test_bad_backend_input_is_one_sentence_exit_2_nothing_written(tmp_path, names_path, capsys, args, says):
    out = tmp_path / 'run.json'
    assert main(['train', '--data', names_path, '--steps', '2', *args, '--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count('\n') == 1
    assert list(tmp_path.iterdir()) == []


def test_train_backend_numpy_goes_to_the_venv_and_plain_train_does_not(bootstrapped):
    import main as main_py
    for argv in (['train', '--backend', 'numpy'], ['train', '--steps', '3', '--backend=numpy']):
        assert main_py.main(argv) == 0
    assert bootstrapped == [['train', '--backend', 'numpy'], ['train', '--steps', '3', '--backend=numpy']]
    assert not main_py._needs_numpy('train', ['train', '--backend', 'scalar'])
    assert not main_py._needs_numpy('sample', ['sample', '--backend', 'numpy'])


def test_vectorized_is_plain_numpy_stage_by_stage():
    """One function per stage, each backward beside its forward (the module reads like microgpt)."""
    for stage in ('embedding', 'rmsnorm', 'linear', 'softmax', 'attention', 'mlp'):
        assert callable(getattr(vectorized, stage)) and callable(getattr(vectorized, f'{stage}_backward'))


# --- a model's weights in numpy, for what the scalar engine is too slow for (issue 24) ---

@pytest.mark.parametrize('rung', ['microgpt', 'average', 'mlp', 'one-head'])
def test_the_whole_documents_attention_is_the_recordings(rung):
    from engine import checkpoint as ckpt_io
    from engine.presets import shipped_checkpoint
    from engine.trace import record
    from engine.vectorized import weights_of
    model = ckpt_io.load(shipped_checkpoint(rung)).model
    weights = weights_of(model)
    assert weights_of(model) is weights  # made once per model
    for doc in ('emma', 'christopher'):
        trace, got = record(model, doc), weights.attention(doc)
        assert len(got) == len(trace.attention)
        for mine, theirs in zip(got, trace.attention):
            assert len(mine) == len(theirs)
            for a, b in zip(mine, theirs):
                assert [len(r) for r in a] == [len(r) for r in b]
                assert all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15) for ra, rb in zip(a, b) for x, y in zip(ra, rb))
