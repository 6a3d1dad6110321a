"""engine.torch_train: the torch trainer's parts of a batch, gradient accumulation, resumption, and a two-process
DistributedDataParallel job (gloo, launched with torchrun) that trains exactly the weights of one process.

The torch tests skip, saying why, where PyTorch is not installed (it is an optional extra)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import checkpoint as ckpt_io
from engine.data import load_docs
from engine.errors import CheckpointError, ConfigError, EngineError
from engine.optim import TrainConfig
from engine.presets import preset_config
from engine.torch_train import Launch, my_parts, part_bounds

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-12


@pytest.fixture(scope='module')
def torch():
    return pytest.importorskip('torch', reason="the torch backend's tests need PyTorch: .venv/bin/pip install -e '.[torch]'")


@pytest.fixture(scope='module')
def docs(names_file):
    return load_docs(str(names_file))[:300]


def test_launch_reads_what_torchrun_sets():
    assert Launch.from_env({}) == Launch(0, 1, 0) and Launch.from_env({}).is_main
    launch = Launch.from_env({'RANK': '3', 'WORLD_SIZE': '4', 'LOCAL_RANK': '1'})
    assert launch == Launch(3, 4, 1) and not launch.is_main
    with pytest.raises(EngineError, match='whole numbers'):
        Launch.from_env({'RANK': 'x'})


def test_a_batch_is_cut_into_consecutive_parts_as_even_as_they_go():
    assert part_bounds(8, 4) == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert part_bounds(7, 3) == [(0, 2), (2, 4), (4, 7)]
    bounds = part_bounds(10, 4)
    assert bounds[0][0] == 0 and bounds[-1][1] == 10 and all(a < b for a, b in bounds)
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(3))


def trained(docs, steps=3, **options):
    from engine.torch_train import TorchTrainer
    trainer = TorchTrainer(docs, preset_config('microgpt', n_layer=2, n_embd=8, n_head=2, block_size=8),
                           TrainConfig(num_steps=steps), device='cpu', **options)
    losses = [r.loss for r in trainer.run()]
    return trainer, losses


def test_each_process_takes_its_own_parts_of_the_step():
    batch = [f'doc{i}' for i in range(7)]
    parts = [part for rank in (0, 1) for part in my_parts(batch, Launch(rank, 2, 0), 2)]
    assert parts == [['doc0'], ['doc1', 'doc2'], ['doc3', 'doc4'], ['doc5', 'doc6']]


def test_gradient_accumulation_trains_the_weights_of_the_whole_batch(torch, docs):
    whole, whole_losses = trained(docs, batch=6)
    accumulated, losses = trained(docs, batch=6, accumulate=3)
    assert losses == pytest.approx(whole_losses, rel=TOLERANCE)
    for name, w in whole.weights.items():
        np.testing.assert_allclose(accumulated.weights[name], w, rtol=0, atol=TOLERANCE * np.abs(w).max())


def test_a_batch_too_small_for_its_parts_is_one_sentence(torch, docs):
    with pytest.raises(ConfigError, match=r'A batch of 3 documents cannot be cut into 4 parts \(1 processes × 4'):
        trained(docs, batch=3, accumulate=4)


def test_a_run_resumed_from_its_checkpoint_ends_where_the_whole_run_ends(torch, docs, tmp_path):
    from engine.torch_train import TorchTrainer
    whole, _ = trained(docs, steps=6, batch=2)
    first = TorchTrainer(docs, whole.model_config, whole.config, batch=2, device='cpu')
    for _ in range(3):
        first.train_step()
    ckpt_io.save(tmp_path / 'half.json', ckpt_io.from_trainer(first))
    second = TorchTrainer(docs, whole.model_config, whole.config, batch=2, device='cpu')
    second.resume(ckpt_io.load(tmp_path / 'half.json'))
    assert second.step == 3
    list(second.run())
    for name, w in whole.weights.items():
        assert np.array_equal(second.weights[name], w), name  # JSON keeps every float: bit for bit
    assert np.array_equal(second.optimizer.m, whole.optimizer.m) and second.rng.getstate() == whole.rng.getstate()


def test_a_checkpoint_of_another_run_is_refused(torch, docs, tmp_path):
    from engine.torch_train import TorchTrainer
    other, _ = trained(docs, steps=2, batch=2)
    ckpt = ckpt_io.from_trainer(other)
    fresh = TorchTrainer(docs, other.model_config, TrainConfig(num_steps=5, learning_rate=0.02), device='cpu')
    with pytest.raises(CheckpointError, match='run.json is not a checkpoint of this run: its training settings'):
        fresh.resume(ckpt, 'run.json')
    with pytest.raises(CheckpointError, match='has already trained all 2 steps'):
        TorchTrainer(docs, other.model_config, other.config, device='cpu').resume(ckpt)


def torchrun(args, tmp_path):
    """main.py train under torchrun, two processes on this machine (gloo on the CPU): its stdout."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
                           str(ROOT / 'main.py'), 'train', *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow  # two processes, each importing torch
def test_a_two_process_gloo_job_trains_the_weights_of_one_process(torch, names_file, tmp_path):
    """Two processes × two accumulation steps on a batch of 8, against one process training the 8 at once: the
    same printed losses, once (rank 0 alone prints and writes), and the same weights and Adam moments."""
    common = ['--data', str(names_file), '--steps', '4', '--num-samples', '2', '--backend', 'torch', '--batch', '8',
              '--n-layer', '2', '--n-embd', '8', '--n-head', '2', '--block-size', '8', '--device', 'cpu']
    from engine.cli.commands import main
    import io
    single = io.StringIO()
    assert main(['train', *common, '--out', str(tmp_path / 'one.json')], out=single) == 0
    out = torchrun([*common, '--accumulate', '2', '--out', str(tmp_path / 'ddp.json')], tmp_path)
    assert out.count('step    4 /    4 | loss') == 1 and out.count('sample  2:') == 1
    assert [line for line in out.splitlines() if line.startswith('step')] == \
           [line for line in single.getvalue().splitlines() if line.startswith('step')]
    one, ddp = ckpt_io.load(tmp_path / 'one.json'), ckpt_io.load(tmp_path / 'ddp.json')
    assert (ddp.step, ddp.train_config, ddp.rng_state) == (4, one.train_config, one.rng_state)
    for name, w in one.model.floats().items():
        w = np.array(w)
        np.testing.assert_allclose(np.array(ddp.model.floats()[name]), w, rtol=0, atol=TOLERANCE * np.abs(w).max())
    m = np.array(one.adam_m)
    np.testing.assert_allclose(np.array(ddp.adam_m), m, rtol=0, atol=TOLERANCE * np.abs(m).max())


def test_a_model_too_big_to_draw_here_is_one_sentence_before_anything_is_made(torch, docs, monkeypatch):
    from engine import torch_train
    monkeypatch.setattr(torch_train, 'memory_size', lambda: 2**27)
    with pytest.raises(ConfigError, match=r'This model cannot be made here: drawing its 3,163,648 initial weights .* '
                                          r'about 0\.2 GB of memory and this machine has 0\.1 GB\.'):
        torch_train.TorchTrainer(docs, preset_config('microgpt', n_embd=256, n_layer=4), TrainConfig(), device='cpu')


def test_a_step_that_does_not_fit_in_memory_is_one_sentence(torch, docs, monkeypatch):
    from engine import torch_train
    trainer = torch_train.TorchTrainer(docs, preset_config('microgpt'), TrainConfig(num_steps=2), device='cpu')

    def out_of_memory(docs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1000000000000 bytes.")
    monkeypatch.setattr(trainer, 'gradient', out_of_memory)
    with pytest.raises(ConfigError, match='Step 1 does not fit in the memory of the cpu: give a smaller --batch or a '
                                          'larger --accumulate.'):
        trainer.train_step()
    assert trainer.step == 0


def test_the_validation_loss_in_torch_is_the_scalar_engines(torch, docs):
    from engine.validation import validation_loss
    trainer, _ = trained(docs, steps=3, batch=2)
    held_out = docs[-70:]  # more than one batch of them
    assert trainer.validation_loss(held_out) == pytest.approx(validation_loss(trainer.model, held_out), rel=1e-12)


def test_on_a_bpe_torch_trains_the_ids_numpy_trains_and_resumes_with_its_tokenizer(torch, docs, tmp_path):
    pytest.importorskip('tokenizers')
    from engine import pair
    from engine.bpe import BpeTokenizer
    from engine.torch_train import TorchTrainer
    from engine.vectorized import VectorTrainer
    tok = BpeTokenizer.train(docs, 300)
    config, train = preset_config('llama-style', n_embd=8, n_head=2, block_size=8), TrainConfig(num_steps=4)
    numpy_run = VectorTrainer(docs, config, train, batch=4, tokenizer=tok)
    torch_run = TorchTrainer(docs, config, train, batch=4, accumulate=2, device='cpu', tokenizer=tok)
    assert torch_run.shapes['wte'] == (tok.vocab_size, 8)
    for _ in range(2):
        numpy_run.train_step(), torch_run.train_step()
    for name, w in numpy_run.weights.items():
        np.testing.assert_allclose(torch_run.weights[name], w, rtol=0, atol=1e-10 * np.abs(w).max())
    pair.save(tmp_path / 'half.json', ckpt_io.from_trainer(torch_run))
    resumed = TorchTrainer(docs, config, train, batch=4, accumulate=2, device='cpu', tokenizer=BpeTokenizer.train(docs, 300))
    resumed.resume(ckpt_io.load(tmp_path / 'half.json'))  # the same text learns the same BPE: this run's checkpoint
    resumed.train_step(), torch_run.train_step()
    np.testing.assert_array_equal(resumed.weights['wte'], torch_run.weights['wte'])
    other = TorchTrainer(docs, config, train, batch=4, device='cpu', tokenizer=BpeTokenizer.train(docs, 280))
    with pytest.raises(CheckpointError, match='its vocabulary is another'):
        other.resume(ckpt_io.load(tmp_path / 'half.json'))
