"""engine/code_lines.py: the lines of engine/model.py a configuration runs, found by running it, and what changes
from the rung below: each rung adds the lines of its one idea (the mlp its embedding and MLP, average its uniform
attention, one-head q·k attention in place of the uniform one) and microgpt only a number (n_head)."""

import sys

import pytest

from engine import model as model_code
from engine.code_lines import lines_run, rung_lines
from engine.model import GPTConfig
from engine.presets import PRESETS, preset_config
from engine.tokenizer import Tokenizer

TOK = Tokenizer('abcdem')
SOURCE = open(model_code.__file__, encoding='utf-8').read().splitlines()


def line(text, start=0):
    """The number of the first line of engine/model.py after line `start` that holds `text`."""
    return next(i for i, code in enumerate(SOURCE, 1) if i > start and text in code)


def code(numbers):
    return {SOURCE[n - 1].strip() for n in numbers}


@pytest.fixture(scope='module')
def rungs():
    return {name: rung_lines(preset_config(name), TOK) for name in PRESETS}


def test_the_bigram_runs_its_one_line_of_logits_and_no_layer(rungs):
    ran = rungs['bigram'].ran
    assert line("return state_dict['wte'][token_id]") in ran and line('def gpt(') in ran
    assert line('def linear(') not in ran and line('def rmsnorm(') not in ran
    assert line('for li in range(config.n_layer)') not in ran
    assert line('probs = softmax(logits, ops)') in ran and line('loss_t = -probs[target_id].log()') in ran
    assert line('import contextlib') not in ran  # run when the module was imported, not by the model
    assert rungs['bigram'].below is None and not rungs['bigram'].added and not rungs['bigram'].fields


def test_each_rung_adds_the_lines_of_its_idea(rungs):
    mlp, average, one_head, micro = rungs['mlp'], rungs['average'], rungs['one-head'], rungs['microgpt']
    assert mlp.below == 'bigram' and code(mlp.removed) == {
        "return state_dict['wte'][token_id]  # [vocab_size]: the token's row is its logits, nothing computed"}
    assert {line('def linear('), line("tok_emb = state_dict['wte'][token_id]"), line('x = [xi.relu() for xi in x]'),
            line("ops, 'fc1', 'x'")} <= mlp.added and line('def attention(x, li') not in mlp.ran
    assert mlp.fields == (('n_layer', 0, 1), ('arch', 'bigram', 'gpt'))  # not the attention a bigram never reads
    uniform = line('def uniform_attention(')
    assert average.below == 'mlp' and uniform in average.added and not average.removed
    assert line('attn_weights = [constant(1 / len(v_h)) for _ in v_h]') in average.added
    assert average.fields == (('attention', 'none', 'uniform'),)
    assert one_head.below == 'average' and line('def attention(x, li') in one_head.added and uniform in one_head.removed
    assert line("q = linear(x, state_dict[f'layer{li}.attn_wq']") in one_head.added
    scores = line("attn_logits = [ops.dot(q_h, k_h[t]")
    assert scores in one_head.added and scores not in average.ran
    assert micro.below == 'one-head' and micro.fields == (('n_head', 1, 4),)
    assert not micro.added and not micro.removed and micro.ran == one_head.ran  # the same lines, four heads


def test_a_block_option_is_kept_on_the_rung_below(rungs):
    """microgpt with GELU against one-head with GELU: the diff is still only the heads, and gelu's line runs."""
    gelu = rung_lines(GPTConfig(activation='gelu'), TOK)
    assert gelu.below == 'one-head' and gelu.fields == (('n_head', 1, 4),) and not gelu.added
    assert line('x = [xi.gelu() for xi in x]') in gelu.ran and line('x = [xi.relu() for xi in x]') not in gelu.ran
    layer = lines_run(GPTConfig(norm='layer'), TOK)
    assert line('def layernorm(') in layer and line('def rmsnorm(') not in layer
    assert layer - rungs['microgpt'].ran >= {line('mean = ops.total(x')}


def test_the_shape_does_not_change_the_lines_and_tracing_is_given_back():
    before = sys.gettrace()
    assert lines_run(GPTConfig(n_embd=32, n_layer=2, block_size=8), TOK) == lines_run(GPTConfig(), TOK)
    assert sys.gettrace() is before
    decorated = line('def head_dim(self)')  # a property: its def line, not its decorator's
    assert decorated in lines_run(GPTConfig(), TOK) and decorated - 1 not in lines_run(GPTConfig(), TOK)
