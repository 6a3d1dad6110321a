"""engine.cli.import_command: a mini GPT written here in PyTorch (nanoGPT's module names, random weights, seeded),
its state_dict saved as a .pt, imported through `main.py import`, and the checkpoint's logits (scalar engine and
numpy) against the torch module's own; a state_dict that does not fit, a bad vocabulary, PyTorch missing: one
sentence, exit 2, nothing written. The tests that need PyTorch skip, saying why, where it is not installed."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import checkpoint as ckpt_io
from engine import state_dict_import, vectorized
from engine.cli.commands import main
from engine.presets import preset_of
from engine.state_dict_import import logits as engine_logits

ROOT = Path(__file__).resolve().parents[3]
TEXT = 'first citizen:\nbefore we proceed any further, hear me speak.\n'  # 25 characters, a newline among them
TOLERANCE = 1e-6


@pytest.fixture(scope='module')
def torch():
    return pytest.importorskip('torch', reason="importing a state_dict needs PyTorch: .venv/bin/pip install -e '.[torch]'")


def mini_gpt(torch, vocab=25, n_embd=16, n_layer=2, n_head=4, block_size=12, bias=True, fused=True, tie=True, seed=0):
    """The mini GPT as nanoGPT's model.py builds it (its module names, nn.GELU()'s exact form, LayerNorm eps 1e-5, the
    causal mask, tied lm_head), written here from that description; every weight drawn at random, LayerNorm's too."""
    nn, F = torch.nn, torch.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            if fused:
                self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
            else:
                self.query, self.key, self.value = (nn.Linear(n_embd, n_embd, bias=bias) for _ in range(3))
            self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)

        def forward(self, x):
            B, T, E = x.shape
            q, k, v = self.c_attn(x).split(E, dim=2) if fused else (self.query(x), self.key(x), self.value(x))
            q, k, v = (a.view(B, T, n_head, E // n_head).transpose(1, 2) for a in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(E // n_head))
            att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float('-inf'))
            y = F.softmax(att, dim=-1) @ v
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, E))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc, self.gelu = nn.Linear(n_embd, 4 * n_embd, bias=bias), nn.GELU()
            self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = nn.LayerNorm(n_embd, bias=bias), Attention()
            self.ln_2, self.mlp = nn.LayerNorm(n_embd, bias=bias), MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab, n_embd), wpe=nn.Embedding(block_size, n_embd),
                h=nn.ModuleList([Block() for _ in range(n_layer)]), ln_f=nn.LayerNorm(n_embd, bias=bias)))
            self.lm_head = nn.Linear(n_embd, vocab, bias=False)
            if tie:
                self.transformer.wte.weight = self.lm_head.weight

        def forward(self, idx):
            x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
            for block in self.transformer.h:
                x = block(x)
            return self.lm_head(self.transformer.ln_f(x))

    torch.manual_seed(seed)
    model = GPT()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 0.2) + (1.0 if name.endswith('ln_1.weight') or
                                                                           name.endswith('ln_2.weight') else 0.0))
    return model.eval()


def sequences(vocab, block_size, count=4, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, vocab, size=n).tolist() for n in (1, block_size // 2, block_size, block_size - 1)[:count]]


def max_difference(torch, module, model, seqs):
    """The largest |logit| difference, over every position of every sequence, between the torch module (float64)
    and the engine's model: its scalar forward pass and numpy's."""
    reference = module.double()
    w = {name: np.array(rows) for name, rows in model.floats().items()}
    worst = 0.0
    for ids in seqs:
        with torch.no_grad():
            want = reference(torch.tensor([ids])).numpy()[0]                     # [T, V]
        scalar = np.array(engine_logits(model, ids))                              # [T, V]
        numpy_logits = vectorized.forward(w, model.config, np.array([ids]))[0][0, :, :-1]
        worst = max(worst, np.abs(scalar - want).max(), np.abs(numpy_logits - want).max())
    return worst


def write_inputs(torch, tmp_path, module, text=TEXT, name='mini.pt'):
    torch.save(module.state_dict(), tmp_path / name)
    (tmp_path / 'vocab.txt').write_text(text, encoding='utf-8')
    return str(tmp_path / name), str(tmp_path / 'vocab.txt')


@pytest.mark.parametrize('bias, fused, tie', [(True, True, True), (False, False, True), (True, False, False)],
                         ids=['nanoGPT', 'no biases, separate q k v', 'separate q k v, own lm_head'])
def test_an_imported_mini_gpt_gives_the_torch_modules_logits(torch, tmp_path, capsys, bias, fused, tie):
    module = mini_gpt(torch, bias=bias, fused=fused, tie=tie)
    pt, vocab = write_inputs(torch, tmp_path, module)
    out = tmp_path / 'mini.json'
    assert main(['import', pt, '--vocab', vocab, '--out', str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith('imported the mini GPT: n_layer 2, n_embd 16, n_head 4, block_size 12, 25 characters + BOS')
    assert f'{"fused" if fused else "separate"} q,k,v' in said and ('tied to wte' in said) == tie
    model = ckpt_io.load(out).model
    config = model.config
    assert (config.activation, config.norm, config.embed_norm, config.final_norm) == ('gelu-erf', 'layer', False, True)
    assert (config.bias, config.tie) == (bias, tie) and model.tokenizer.uchars == sorted(set(TEXT))
    assert preset_of(config) == ('mini-gpt' if bias and tie else 'microgpt')
    assert max_difference(torch, module, model, sequences(25, 12)) < TOLERANCE


def test_nanogpts_own_checkpoint_compiled_names_and_mask_buffers_import_too(torch, tmp_path, capsys):
    """{'model': state_dict, ...} as nanoGPT's train.py saves it, the `_orig_mod.` prefix torch.compile adds, and the
    causal mask `attn.bias` older nanoGPT versions keep as a buffer."""
    module = mini_gpt(torch, n_layer=1)
    state = {f'_orig_mod.{k}': v for k, v in module.state_dict().items()}
    state['_orig_mod.transformer.h.0.attn.bias'] = torch.tril(torch.ones(12, 12)).view(1, 1, 12, 12)
    torch.save({'model': state, 'iter_num': 5000, 'best_val_loss': 1.47, 'config': {'n_head': 4}}, tmp_path / 'ckpt.pt')
    (tmp_path / 'vocab.txt').write_text(TEXT, encoding='utf-8')
    assert main(['import', str(tmp_path / 'ckpt.pt'), '--vocab', str(tmp_path / 'vocab.txt'),
                 '--out', str(tmp_path / 'out.json')]) == 0
    model = ckpt_io.load(tmp_path / 'out.json').model
    assert max_difference(torch, module, model, sequences(25, 12)) < TOLERANCE


def test_the_comparison_catches_one_mapping_done_wrong(torch, monkeypatch):
    """A square matrix transposed (attention's output projection) or q and k swapped still has every shape right:
    only the logits tell, and they do."""
    module = mini_gpt(torch, n_layer=1)
    state, uchars = module.state_dict(), sorted(set(TEXT))
    good, _ = state_dict_import.import_model(state, uchars)
    assert max_difference(torch, module, good, sequences(25, 12)) < TOLERANCE
    real = state_dict_import._engine_weights

    def transposed(*args):
        out = real(*args)
        out['layer0.attn_wo'] = [list(col) for col in zip(*out['layer0.attn_wo'])]
        return out
    monkeypatch.setattr(state_dict_import, '_engine_weights', transposed)
    assert max_difference(torch, module, state_dict_import.import_model(state, uchars)[0], sequences(25, 12)) > 1e-3
    monkeypatch.setattr(state_dict_import, '_engine_weights', real)
    swapped = dict(state)
    E = 16
    w = state['transformer.h.0.attn.c_attn.weight']
    swapped['transformer.h.0.attn.c_attn.weight'] = torch.cat((w[E:2 * E], w[:E], w[2 * E:]))
    model = state_dict_import.import_model(swapped, uchars)[0]
    assert max_difference(torch, module, model, sequences(25, 12)) > 1e-3


def _broken(torch, case):
    """A state_dict of the mini GPT with one thing wrong, and the sentence that names it."""
    state = dict(mini_gpt(torch, n_layer=2).state_dict())
    if case == 'missing key':
        del state['transformer.h.1.ln_2.weight']
        return state, ('The state_dict has no transformer.h.1.ln_2.weight (16), which the mini GPT\'s architecture '
                       'needs.')
    if case == 'wrong shape':
        state['transformer.h.0.mlp.c_fc.weight'] = torch.zeros(48, 16)
        return state, 'transformer.h.0.mlp.c_fc.weight is 48×16, not the 64×16 the other shapes imply for the mini GPT.'
    if case == 'unexpected key':
        state['transformer.h.0.attn.rotary.inv_freq'] = torch.zeros(2)
        return state, ('The state_dict has transformer.h.0.attn.rotary.inv_freq (2), which the mini GPT\'s '
                       'architecture has no place for.')
    if case == 'not a mini GPT':
        return {'model.embed_tokens.weight': torch.zeros(3, 4)}, ('The state_dict has no transformer.wte.weight matrix: '
                                                                  'is it the mini GPT\'s (nanoGPT\'s names)?')
    if case == 'heads do not divide':
        return state, 'n_embd (16) must be divisible by n_head (3).'
    raise AssertionError(case)


BROKEN = ('missing key', 'wrong shape', 'unexpected key', 'not a mini GPT', 'heads do not divide')


@pytest.mark.parametrize('case', BROKEN)
def test_a_state_dict_that_does_not_fit_is_one_sentence_naming_it_exit_2_nothing_written(torch, tmp_path, capsys, case):
    state, says = _broken(torch, case)
    torch.save(state, tmp_path / 'bad.pt')
    (tmp_path / 'vocab.txt').write_text(TEXT, encoding='utf-8')
    heads = ['--n-head', '3'] if case == 'heads do not divide' else []
    assert main(['import', str(tmp_path / 'bad.pt'), '--vocab', str(tmp_path / 'vocab.txt'), *heads,
                 '--out', str(tmp_path / 'out.json')]) == 2
    err = capsys.readouterr().err
    assert err == f'error: {says}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bad.pt', 'vocab.txt']


@pytest.mark.parametrize('case', ['vocabulary one short', 'vocabulary empty', 'pickled object', 'not a torch file'])
def test_bad_inputs_around_the_state_dict_are_one_sentence_exit_2_nothing_written(torch, tmp_path, capsys, case):
    pt, vocab = write_inputs(torch, tmp_path, mini_gpt(torch, n_layer=1))
    says = {'vocabulary one short': 'The vocabulary has 24 characters but transformer.wte.weight has 25 rows',
            'vocabulary empty': f'The vocabulary {vocab} is empty',
            'pickled object': 'is not a state_dict torch.load reads with weights_only=True (',
            'not a torch file': 'is not a state_dict torch.load reads with weights_only=True ('}[case]
    if case == 'vocabulary one short':
        Path(vocab).write_text(TEXT.replace('\n', ''), encoding='utf-8')
    elif case == 'vocabulary empty':
        Path(vocab).write_text('', encoding='utf-8')
    elif case == 'pickled object':
        torch.save({'model': module_free_object()}, pt)  # a class instance: weights_only refuses to unpickle it
    else:
        Path(pt).write_text('not a tensor in sight', encoding='utf-8')
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(['import', pt, '--vocab', vocab, '--out', str(tmp_path / 'out.json')]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and says in err and err.count('\n') == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before


class Opaque:
    """An object torch.load(weights_only=True) will not build."""


def module_free_object():
    return Opaque()


def test_without_pytorch_import_says_how_to_install_it(tmp_path):
    """In a Python where `import torch` fails (as without the extra): one sentence, exit 2, nothing written."""
    (tmp_path / 'mini.pt').write_bytes(b'PK')
    (tmp_path / 'vocab.txt').write_text('ab', encoding='utf-8')
    code = ('import sys; sys.modules["torch"] = None; from engine.cli.commands import main; '
            'sys.exit(main(["import", "mini.pt", "--vocab", "vocab.txt", "--out", "x.json"]))')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path,
                          env={'PYTHONPATH': str(ROOT), 'PATH': '/usr/bin:/bin'})
    assert proc.returncode == 2
    assert proc.stderr == ("error: Reading a PyTorch state_dict needs PyTorch: .venv/bin/pip install -e '.[torch]' "
                           "(the optional extra).\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ['mini.pt', 'vocab.txt']
