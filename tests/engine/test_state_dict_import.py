"""engine.state_dict_import, piece by piece: the vocabulary file's format, the keys the architecture expects in
their order, the causal-mask buffer told from a weight, q_proj/k_proj/v_proj's naming, BOS's rows, and the logits of
a sequence. The end-to-end agreement with a torch module is tests/engine/cli/test_import_command.py's."""

import pytest

torch = pytest.importorskip('torch', reason="importing a state_dict needs PyTorch: .venv/bin/pip install -e '.[torch]'")

from engine.errors import EngineError  # noqa: E402
from engine.state_dict_import import (StateDictError, _is_causal_mask, expected_keys, fit, import_model,  # noqa: E402
                                      logits, read_vocabulary)


def test_the_vocabulary_is_the_files_characters_sorted_each_once(tmp_path):
    path = tmp_path / 'v.txt'
    path.write_text('hello\nworld\n', encoding='utf-8')
    assert read_vocabulary(path) == ['\n', 'd', 'e', 'h', 'l', 'o', 'r', 'w']  # sorted(set(text)), as the mini GPT's
    path.write_bytes(b'\xff\xfe')
    with pytest.raises(StateDictError, match='is not UTF-8 text'):
        read_vocabulary(path)
    with pytest.raises(StateDictError, match='does not exist'):
        read_vocabulary(tmp_path / 'missing.txt')
    assert issubclass(StateDictError, EngineError)


def test_the_expected_keys_come_in_the_architectures_order():
    keys = [k for k, _ in expected_keys(1, 8, 5, 6, ('c_attn',), True, True)]
    assert keys[:4] == ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.ln_1.weight',
                        'transformer.h.0.ln_1.bias']
    assert keys[-3:] == ['transformer.ln_f.weight', 'transformer.ln_f.bias', 'lm_head.weight']
    shapes = dict(expected_keys(1, 8, 5, 6, ('q_proj', 'k_proj', 'v_proj'), False, False))
    assert shapes['transformer.h.0.attn.k_proj.weight'] == (8, 8) and shapes['transformer.h.0.mlp.c_proj.weight'] == (8, 32)
    assert 'transformer.h.0.ln_1.bias' not in shapes and 'lm_head.weight' not in shapes  # no biases; tied, no lm_head


def test_only_a_causal_mask_passes_for_nanogpts_attn_bias_buffer():
    mask = torch.tril(torch.ones(4, 4)).view(1, 1, 4, 4)
    assert _is_causal_mask('transformer.h.0.attn.bias', mask)
    assert not _is_causal_mask('transformer.h.0.attn.bias', torch.ones(1, 1, 4, 4))        # not causal
    assert not _is_causal_mask('transformer.h.0.attn.bias', torch.zeros(12))              # a bias vector
    assert not _is_causal_mask('transformer.h.0.mlp.bias', mask)                           # not attention's


def small_state(E=8, V=5, T=6, names=('q_proj', 'k_proj', 'v_proj')):
    """A one-layer mini GPT's state_dict with separate q, k, v, no biases, lm_head absent (tied), random weights."""
    g = torch.Generator().manual_seed(3)
    state = {'transformer.wte.weight': torch.randn(V, E, generator=g), 'transformer.wpe.weight': torch.randn(T, E, generator=g)}
    for key, shape in expected_keys(1, E, V, T, names, False, False)[2:]:
        state[key] = torch.randn(*shape, generator=g)
    return state


def test_separate_q_k_v_map_to_wq_wk_wv_and_bos_gets_zero_rows():
    state = small_state()
    config, floats, words = fit(state, list('abcde'), n_head=2)
    assert 'separate q,k,v, no biases, lm_head tied to wte' in words and (config.n_embd, config.block_size) == (8, 6)
    assert floats['layer0.attn_wk'] == state['transformer.h.0.attn.k_proj.weight'].double().tolist()  # [out, in] both
    assert floats['wte'][-1] == [0.0] * 8 and len(floats['wte']) == 6                                # BOS: a zero row
    assert floats['layer0.attn_ln_bias'] == [[0.0] * 8] and 'lm_head' not in floats                   # no biases: 0
    model, _ = import_model(state, list('abcde'), n_head=2)
    out = logits(model, [0, 3, 4])
    assert len(out) == 3 and all(len(row) == 5 for row in out)  # the mini GPT's V logits, BOS's left out


def test_the_first_key_that_does_not_fit_is_named():
    state = small_state()
    state['transformer.h.0.attn.c_proj.weight'] = torch.zeros(8, 7)
    del state['transformer.h.0.ln_2.weight']  # later in the architecture's order than attn.c_proj
    with pytest.raises(StateDictError, match=r'^transformer.h.0.attn.c_proj.weight is 8×7, not the 8×8'):
        fit(state, list('abcde'), n_head=2)
