"""Checkpoints: exact round trip, atomic writes, and one clear sentence for every kind of bad file."""

import json
import os
import random
import tracemalloc

import pytest

from engine import checkpoint as ckpt_io
from engine.paths import DEFAULT_CHECKPOINT
from engine.errors import CheckpointError, ConfigError
from engine.model import GPTConfig, Model
from engine.tokenizer import Tokenizer
from engine.optim import TrainConfig
from engine.train import Trainer


@pytest.fixture
def trainer():
    t = Trainer(['emma', 'ava', 'olivia'], GPTConfig(n_embd=8, n_head=2, block_size=8), TrainConfig(num_steps=3, seed=3))
    for _ in t.run():
        pass
    return t


def test_round_trip_is_exact(tmp_path, trainer):
    path = tmp_path / 'c.json'
    ckpt_io.save(path, ckpt_io.from_trainer(trainer))
    loaded = ckpt_io.load(path)
    assert loaded.model.floats() == trainer.model.floats()
    assert loaded.model.tokenizer == trainer.model.tokenizer and loaded.model.config == trainer.model.config
    assert (loaded.step, loaded.seed, loaded.train_config) == (3, 3, trainer.config)
    assert loaded.adam_m == trainer.optimizer.m and loaded.adam_v == trainer.optimizer.v
    assert loaded.rng_state == trainer.rng.getstate()  # version, all 625 words and gauss_next
    r1, r2 = random.Random(), random.Random()
    r1.setstate(loaded.rng_state)
    r2.setstate(trainer.rng.getstate())
    assert [r1.random() for _ in range(3)] + [r1.gauss(0, 1)] == [r2.random() for _ in range(3)] + [r2.gauss(0, 1)]
    assert ckpt_io.to_json(loaded) == path.read_text()
    assert path.stat().st_mode & 0o777 == 0o644  # readable as any saved file, not the temp file's 0600


def test_committed_checkpoint_loads():
    ckpt = ckpt_io.load(DEFAULT_CHECKPOINT)
    # 4192 and 27: what the original microgpt.py prints for names.txt ('num params: 4192', 'vocab size: 27')
    assert ckpt.step == 1000 and len(ckpt.model.params) == 4192 and ckpt.model.tokenizer.vocab_size == 27


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, trainer, monkeypatch):
    path = tmp_path / 'c.json'
    path.write_text('old')

    def boom(*args):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'replace', boom)
    with pytest.raises(OSError):
        ckpt_io.save(path, ckpt_io.from_trainer(trainer))
    assert path.read_text() == 'old' and os.listdir(tmp_path) == ['c.json']


def valid():
    return json.loads(DEFAULT_CHECKPOINT.read_text())


def corrupt(mutate):
    obj = valid()
    mutate(obj)
    return json.dumps(obj)


BAD = {
    'not json': ('{"format": ', 'not valid JSON'),
    'a list': ('[1, 2]', 'not a microgpt-explorer checkpoint'),
    'other format': (corrupt(lambda o: o.update(format='pickle')), 'not a microgpt-explorer checkpoint'),
    'future version': (corrupt(lambda o: o.update(version=99)), 'version 99'),
    'config key missing': (corrupt(lambda o: o['config'].pop('n_head')), 'config'),
    'impossible config': (corrupt(lambda o: o['config'].update(n_head=5)), 'divisible'),
    'negative size': (corrupt(lambda o: o['config'].update(n_layer=-1)), 'n_layer'),
    'huge config': (corrupt(lambda o: o['config'].update(n_embd=2**40, n_head=1)), 'matrix'),
    'wrong shape': (corrupt(lambda o: o['state_dict']['wte'].pop()), 'wte is not a 27×16 matrix'),
    'ragged row': (corrupt(lambda o: o['state_dict']['lm_head'][3].append(0.0)), 'lm_head'),
    'missing matrix': (corrupt(lambda o: o['state_dict'].pop('layer0.mlp_fc2')), 'exactly the matrices'),
    'NaN weight': (corrupt(lambda o: o['state_dict']['wpe'][0].__setitem__(0, float('nan'))), 'nan'),
    'string weight': (corrupt(lambda o: o['state_dict']['wpe'][0].__setitem__(0, '1.0')), "'1.0'"),
    'bool weight': (corrupt(lambda o: o['state_dict']['wpe'][0].__setitem__(0, True)), 'True'),
    'unsorted vocabulary': (corrupt(lambda o: o['uchars'].reverse()), 'unsorted'),
    'repeated character': (corrupt(lambda o: o['uchars'].__setitem__(1, 'a')), 'repeats a character'),  # a a c d …
    'multi-char token': (corrupt(lambda o: o['uchars'].__setitem__(0, 'ab')), 'single characters'),
    'bad rng state': (corrupt(lambda o: o.update(rng_state=[3, [1, 2], None])), 'rng_state'),
    'bad adam': (corrupt(lambda o: o['adam'].pop('v')), 'adam'),
    'infinite adam': (corrupt(lambda o: o['adam']['m']['wte'][0].__setitem__(0, 1e999)), 'finite'),
    'deep nesting': ('[' * 100000 + ']' * 100000, 'not'),
    'bad step': (corrupt(lambda o: o.update(step='many')), 'step'),
}


@pytest.mark.parametrize('case', BAD)
def test_bad_checkpoints_fail_with_one_sentence(tmp_path, case):
    text, expected = BAD[case]
    path = tmp_path / 'bad.json'
    path.write_text(text)
    with pytest.raises(CheckpointError) as e:
        ckpt_io.load(path)
    message = str(e.value)
    assert expected in message and '\n' not in message and message.startswith('bad.json')


@pytest.mark.parametrize('step, sentence', [
    (-1, 'bad.json is not a valid checkpoint: its step is negative.'),
    (1001, 'bad.json is not a valid checkpoint: its step is more than its num_steps (1,000), where training stops.'),
], ids=['-1', 'num_steps+1'])
def test_a_step_outside_0_to_num_steps_is_refused_in_one_sentence(tmp_path, step, sentence):
    """The ends of the range: 0 (untrained) and num_steps (the shipped checkpoint's 1000) load; one step past
    either end is the sentence, not a checkpoint whose step counts from below zero or past where training stops."""
    path = tmp_path / 'bad.json'
    path.write_text(corrupt(lambda o: o.update(step=step)))
    with pytest.raises(CheckpointError) as e:
        ckpt_io.load(path)
    assert str(e.value) == sentence
    assert ckpt_io.from_json(corrupt(lambda o: o.update(step=0))).step == 0
    assert valid()['step'] == valid()['train']['num_steps'] == 1000  # and it loads: test_committed_checkpoint_loads


def test_a_vocabulary_that_repeats_a_character_is_refused():
    with pytest.raises(ConfigError) as e:
        Tokenizer('abca')
    assert str(e.value) == "A vocabulary lists each character once; 'a' is there more than once."
    assert Tokenizer.from_docs(['abca', 'cab']).uchars == ['a', 'b', 'c']


def test_binary_and_missing_files(tmp_path):
    binary = tmp_path / 'weights.bin'
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(CheckpointError, match='not JSON text'):
        ckpt_io.load(binary)
    with pytest.raises(CheckpointError, match='does not exist'):
        ckpt_io.load(tmp_path / 'nope.json')
    with pytest.raises(CheckpointError, match='folder'):
        ckpt_io.load(tmp_path)


def test_a_file_over_256_mb_is_refused_by_its_size_without_being_read(tmp_path, monkeypatch):
    """The cap is checked on the file's size before a byte is read. Sparse files (truncate) have the sizes
    without taking the disk; reading is replaced by a sentence that tells the two ends of the cap apart, and
    the refusal allocates next to nothing."""
    def read_user_file(path, *args):
        raise CheckpointError(f'{path.name} was read.')
    monkeypatch.setattr(ckpt_io, 'read_user_file', read_user_file)
    assert ckpt_io.MAX_BYTES == 256 * 2**20
    huge, most = tmp_path / 'huge.json', tmp_path / 'most.json'
    for path, size in ((huge, ckpt_io.MAX_BYTES + 1), (most, ckpt_io.MAX_BYTES)):
        with open(path, 'wb') as f:
            f.truncate(size)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as e:
            ckpt_io.load(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(e.value) == 'huge.json is 256 MB, too large to be a microgpt checkpoint.'
    assert peak < 2**20  # not read by any other way either
    with pytest.raises(CheckpointError) as e:
        ckpt_io.load(most)
    assert str(e.value) == 'most.json was read.'  # exactly the cap is allowed


def test_model_from_checkpoint_matches_a_fresh_model_shape():
    model = ckpt_io.load(DEFAULT_CHECKPOINT).model
    fresh = Model.init(GPTConfig(), Tokenizer(model.tokenizer.uchars), random.Random(42))
    assert {k: (len(v), len(v[0])) for k, v in model.state_dict.items()} == \
           {k: (len(v), len(v[0])) for k, v in fresh.state_dict.items()}


def microgpt_adam(data, grad, m, v, step, c):
    """One parameter's Adam update written out from microgpt's source: m, v, m_hat, v_hat, lr_t, new data."""
    lr_t = c.learning_rate * (1 - step / c.num_steps)
    m = c.beta1 * m + (1 - c.beta1) * grad
    v = c.beta2 * v + (1 - c.beta2) * grad ** 2
    m_hat = m / (1 - c.beta1 ** (step + 1))
    v_hat = v / (1 - c.beta2 ** (step + 1))
    return m, v, m_hat, v_hat, lr_t, data - lr_t * m_hat / (v_hat ** 0.5 + c.eps)


def test_adam_preview_is_the_update_training_would_apply():
    """The inspector's next-update numbers are microgpt's formula, and what the next training step does, bit for bit."""
    trainer = Trainer(['emma', 'ava', 'olivia'], GPTConfig(n_embd=8, n_head=2, block_size=8),
                      TrainConfig(num_steps=10, seed=3))
    for _ in range(3):  # m and v no longer 0, learning rate part decayed
        trainer.train_step()
    ckpt = ckpt_io.from_trainer(trainer)
    # The next step's gradients, on a copy so that the trainer's own step starts from grads of 0.
    model = trainer.model
    copy = Model.from_floats(model.config, model.tokenizer, model.floats())
    copy.loss(*copy.positions(trainer.docs[trainer.step % len(trainer.docs)])).backward()
    names = [(name, r, c) for name, mat in model.state_dict.items() for r, row in enumerate(mat) for c in range(len(row))]
    grads = [p.grad for p in copy.params]
    before = [p.data for p in model.params]
    previews = [ckpt.adam_preview(name, r, c, g) for (name, r, c), g in zip(names, grads)]
    expected = [microgpt_adam(x, g, m, v, 3, trainer.config)
                for x, g, m, v in zip(before, grads, trainer.optimizer.m, trainer.optimizer.v)]
    assert [(a.m, a.v, a.m_hat, a.v_hat, a.lr_t, a.data_next) for a in previews] == expected
    assert [a.delta for a in previews] == [e[-1] - x for e, x in zip(expected, before)]
    assert any(a.delta for a in previews) and all(a.step == 3 for a in previews)
    trainer.train_step()
    assert [p.data for p in model.params] == [a.data_next for a in previews]
    assert trainer.optimizer.m == [a.m for a in previews] and trainer.optimizer.v == [a.v for a in previews]


def test_a_model_whose_checkpoint_would_be_over_the_limit_is_refused_before_the_run():
    ckpt_io.check_fits(4192)
    most = ckpt_io.MAX_BYTES // (3 * ckpt_io.BYTES_PER_NUMBER)
    ckpt_io.check_fits(most)
    with pytest.raises(CheckpointError) as e:
        ckpt_io.check_fits(29_925_888)  # the large recipe
    assert str(e.value) == ("A checkpoint of 29,925,888 parameters would be about 1.5 GB of JSON with Adam's moments, "
                            "over the 256 MB a checkpoint may be: train it without --out.")
    with pytest.raises(CheckpointError):
        ckpt_io.check_fits(most + 1)
