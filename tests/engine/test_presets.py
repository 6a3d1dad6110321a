"""engine.presets: the ladder's rungs as configurations of the one model. Each rung trains (fused and literal
graph bit for bit), records, steps back exactly, passes gradcheck, saves and loads; microgpt stays microgpt.
Each rung below microgpt ships trained on names.txt (assets/ladder), exactly the run README's command makes."""

import io
import json
import math
import random

import pytest

from engine import checkpoint as ckpt_io
from engine import history as history_io
from engine.backprop import Stepper
from engine.errors import CheckpointError, ConfigError
from engine.gradient.gradcheck import iter_gradcheck
from engine.model import GPTConfig, Model, finish, param_count, param_shapes
from engine.optim import SGD, Adam, TrainConfig, make_optimizer
from engine.cli.commands import main as cli_main
from engine.paths import DEFAULT_CHECKPOINT
from engine.presets import (LADDER, PRESETS, RUNGS, SHIPPED_EVERY, below, below_config, preset_config, preset_of,
                            shipped_checkpoint, shipped_rung)
from engine.tokenizer import Tokenizer
from engine.trace import literal_loss, record

TOK = Tokenizer('abcdem')   # a small vocabulary: 7 tokens with BOS
# What each rung's parameters are, at microgpt's shape with names.txt's 27 tokens
COUNTS = {'bigram': 27 * 27,
          'mlp': 2 * 27 * 16 + 16 * 16 + 8 * 16 * 16,                # wte, lm_head, wpe, fc1 and fc2
          'average': 2 * 27 * 16 + 16 * 16 + 8 * 16 * 16 + 2 * 16 * 16,  # + wv, wo
          'one-head': 4192, 'microgpt': 4192}


# microgpt with one block option each
OPTIONS = {'gelu': {'activation': 'gelu'}, 'layernorm': {'norm': 'layer'}, 'bias': {'bias': True}, 'tie': {'tie': True},
           'rope': {'position': 'rope'}, 'swiglu': {'activation': 'swiglu'}, 'gelu-erf': {'activation': 'gelu-erf'},
           'final norm': {'embed_norm': False, 'final_norm': True}}


@pytest.fixture(scope='module', params=list(PRESETS) + list(OPTIONS))
def rung(request):
    """(preset name, a small model of it with fresh weights, 'emma' recorded through it); 'gelu' and the others
    of OPTIONS are microgpt with that block option."""
    name = 'microgpt' if request.param in OPTIONS else request.param
    config = preset_config(name, n_embd=8, n_head=name != 'one-head' and 2 or None, block_size=8,
                           **OPTIONS.get(request.param, {}))
    model = Model.init(config, TOK, random.Random(3))
    for matrix, rows in model.state_dict.items():  # LayerNorm's gains and biases, the linears' biases, away from 1 and 0
        if '_ln_' in matrix or matrix.endswith('_b'):
            for p in rows[0]:
                p.data += random.Random(matrix).gauss(0, 0.3)
    return name, model, record(model, 'emma')


def test_parameter_counts_are_the_rungs_matrices():
    for name, count in COUNTS.items():
        config = preset_config(name)
        assert param_count(config, 27) == count == len(Model.init(config, Tokenizer('abcdefghijklmnopqrstuvwxyz'),
                                                                  random.Random(0)).params), name


def test_each_rung_has_the_matrices_it_is_named_for():
    names = {p: set(param_shapes(preset_config(p), 27)) for p in PRESETS}
    assert names['bigram'] == {'wte'} and param_shapes(preset_config('bigram'), 27)['wte'] == (27, 27)
    assert names['mlp'] == {'wte', 'wpe', 'lm_head', 'layer0.mlp_fc1', 'layer0.mlp_fc2'}
    assert names['average'] == names['mlp'] | {'layer0.attn_wv', 'layer0.attn_wo'}
    assert names['one-head'] == names['microgpt'] == names['average'] | {'layer0.attn_wq', 'layer0.attn_wk'}
    assert preset_config('one-head').n_head == 1


def test_microgpt_is_the_default_and_saves_exactly_the_fields_it_always_had():
    assert preset_config('microgpt') == GPTConfig() and TrainConfig().optimizer == 'adam'
    assert list(GPTConfig().to_dict()) == ['n_layer', 'n_embd', 'n_head', 'block_size', 'init_std']
    assert 'optimizer' not in TrainConfig().to_dict()
    text = DEFAULT_CHECKPOINT.read_text()
    assert ckpt_io.to_json(ckpt_io.from_json(text)) == text  # the shipped checkpoint reads and writes back as it is


def test_a_shape_laid_over_a_preset_and_the_rung_read_back():
    config = preset_config('average', n_embd=12, n_head=3, n_layer=2)
    assert (config.n_embd, config.n_head, config.n_layer, config.attention) == (12, 3, 2, 'uniform')
    assert [preset_of(preset_config(p)) for p in PRESETS] == list(PRESETS)


@pytest.mark.parametrize('name, shape, says', [
    ('transformer', {}, 'There is no preset'),
    ('bigram', {'n_layer': 2}, 'n_layer must be 0'),
    ('mlp', {'n_layer': 0}, 'n_layer must be a positive'),
    ('one-head', {'n_embd': 0}, 'n_embd must be a positive'),
    ('average', {'n_embd': 10, 'n_head': 4}, 'divisible'),
])
def test_an_unknown_preset_or_a_shape_it_cannot_take_is_one_sentence(name, shape, says):
    with pytest.raises(ConfigError) as e:
        preset_config(name, **shape)
    assert says in str(e.value) and str(e.value).count('.') <= 3 and '\n' not in str(e.value)


def test_bad_options_are_one_sentence():
    with pytest.raises(ConfigError, match='attention must be one of'):
        GPTConfig(attention='linear')
    with pytest.raises(ConfigError, match='arch must be one of'):
        GPTConfig(arch='rnn')
    with pytest.raises(ConfigError, match='optimizer must be adam or sgd'):
        TrainConfig(optimizer='rmsprop')


def test_fused_training_equals_the_literal_graph_bit_for_bit(rung):
    """As tests/engine/test_model.py proves for microgpt: losses, every gradient and the updates agree exactly."""
    _, model, _ = rung
    fast = Model.from_floats(model.config, TOK, model.floats())
    optimizer = Adam(fast.params, TrainConfig())
    for step, doc in enumerate(['emma', 'ada', 'mace']):
        loss = fast.loss(*fast.positions(doc))
        loss.backward()
        literal_value, literal = literal_loss(Model.from_floats(model.config, TOK, fast.floats()), doc)
        literal_value.backward()
        assert loss.data == literal_value.data
        assert [p.grad for p in fast.params] == [p.grad for p in literal.params]
        optimizer.update(step, 3)


def test_the_recording_is_the_training_loss_with_its_names_and_scopes(rung):
    name, model, trace = rung
    assert trace.loss == model.loss(*model.positions('emma')).data
    paths = {s.path for s in trace.scopes}
    assert 'loss' in paths and 'pos 4 / softmax' in paths and 'params / wte' in paths
    attention = 'pos 4 / layer 0 / attention'
    assert (attention in paths) == (name not in ('bigram', 'mlp'))
    activation = model.config.activation
    group = 'gelu' if activation == 'gelu-erf' else activation  # either GELU's form is the group 'gelu'
    assert (f'pos 4 / layer 0 / mlp / {group}' in paths) == (name != 'bigram')
    if model.config.norm == 'layer':  # LayerNorm in place of every rmsnorm, its gain and bias read there
        assert 'pos 4 / layer 0 / mlp / layernorm' in paths and not any('rmsnorm' in p for p in paths)
        first, last = ('final', 'final norm') if name == 'mini-gpt' else ('emb', 'embedding')  # the mini GPT: ln_f
        assert f'pos 4 / {last} / layernorm' in paths and ('pos 4 / final norm' in paths) == (name == 'mini-gpt')
        assert {trace.params[n][0] for n in trace.params} >= {f'{first}_ln_gain', f'{first}_ln_bias', 'layer0.attn_ln_gain',
                                                             'layer0.attn_ln_bias', 'layer0.mlp_ln_gain', 'layer0.mlp_ln_bias'}
    if group == 'gelu':  # the GELU option: one op per input, its local gradient recorded
        gelus = [n for n in range(len(trace)) if trace.op[n] == activation]
        assert len(gelus) == 5 * 32 and trace.name(gelus[3]) == 'x[3]'
        assert trace.scope_path(gelus[0]) == 'pos 0 / layer 0 / mlp / gelu' and 'relu' not in trace.op
    assert ('pos 4 / layer 0 / attention / head 0 / scores' in paths) == (name in ('one-head', 'microgpt', 'mini-gpt',
                                                                                   'llama-style'))
    blocks(model.config, trace, paths)
    if name == 'average':  # every head's weights are 1/T over positions 0..t, and shown as attention
        assert ('pos 4 / layer 0 / attention / head 1 / uniform') in paths
        assert trace.attention[0][1][4] == (0.2,) * 5 and trace.attention[0][0][0] == (1.0,)
        assert trace.name(trace.attention_ids[0][1][4][2]) == 'attn_weights[2]'
    else:
        assert len(trace.attention) == model.config.attention_layers
    if name == 'bigram':  # the logits are the row of wte: the softmax reads wte[e] itself
        e = 'abcdem'.index('e')  # pos 1 reads 'e' (pos 0 reads BOS)
        assert trace.attention == () and 'wte[' in trace.name(next(
            n for n in range(len(trace)) if trace.scope_path(n) == 'pos 1 / softmax' and trace.op[n] == '+'))
        assert {trace.params[c][:2] for n in range(len(trace)) if trace.scope_path(n) == 'pos 1 / softmax'
                for c in trace.children[n] if c in trace.params} == {('wte', e)}


def test_the_trace_steps_back_bit_for_bit(rung):
    _, model, trace = rung
    stepper = Stepper(trace)
    stepper.run_to_end()
    end = list(stepper.grads)
    loss = model.loss(*model.positions('emma'))
    loss.backward()
    assert [end[n] for n in sorted(trace.params)] == [
        model.state_dict[m][r][c].grad for m, r, c in (trace.params[n] for n in sorted(trace.params))]
    middle = stepper.total // 2
    stepper.seek(middle)
    snapshot = (list(stepper.grads), list(stepper.arrived))
    stepper.run_to_end()
    while stepper.position > middle:
        stepper.back()
    assert (stepper.grads, stepper.arrived) == snapshot
    for p in model.params:
        p.grad = 0


def test_gradcheck_agrees_with_backprop(rung):
    """Central differences against the recorded backward pass, to the tolerance microgpt's own gradients
    meet (tests/engine/gradient/test_gradcheck.py), on every parameter the document uses."""
    _, model, trace = rung
    result = finish(iter_gradcheck(model, trace))
    used = [p for p in result.params if p.node >= 0]
    assert len(used) >= 4 * len(TOK.uchars) + 4 and all(p.analytic != 0 for p in used[:3])
    # The key's bias (the bias option, without RoPE) has gradient 0: softmax undoes a shift of all scores alike;
    # backprop leaves rounding (1e-20), the difference is exactly 0.
    zero = {p.name for p in used if '.attn_wk_b[' in p.name and model.config.position == 'learned'}
    assert all(abs(p.analytic) < 1e-15 and abs(p.numeric) < 1e-12 for p in used if p.name in zero)
    # measured: 1e-9 (bigram) to 6e-6 (microgpt, fresh weights). The blocks' few worse ones are within the
    # difference's own error: its rounding, ~ε·|L|/h (7e-12 at h = 1e-4: SwiGLU's fc1 gradients of 1e-8), or its
    # truncation, h²·L‴/6 (a tied wte[4][7]: 1e-4 relative at h = 1e-4), which h = 1e-5 makes 100 times less.
    def agrees(p, h):
        return abs(p.numeric - p.analytic) <= 1e-5 * max(abs(p.numeric), abs(p.analytic)) + 4 * 2.2e-16 * trace.loss / h
    again = {p.name for p in used if not agrees(p, 1e-4)} - zero
    assert len(again) <= 3, sorted(again)
    closer = finish(iter_gradcheck(model, trace, h=1e-5, only=again)) if again else None
    assert again == set() or all(agrees(p, 1e-5) for p in closer.params if p.name in again)


def test_sgd_is_plain_gradient_descent_with_the_decaying_rate():
    params = Model.init(GPTConfig(n_embd=4, n_head=2), TOK, random.Random(1)).params[:3]
    for i, p in enumerate(params):
        p.grad = 0.5 * (i + 1)
    before = [p.data for p in params]
    sgd = make_optimizer(params, TrainConfig(optimizer='sgd', learning_rate=0.1, num_steps=4))
    assert isinstance(sgd, SGD) and isinstance(make_optimizer(params, TrainConfig()), Adam)
    sgd.update(1, 4)  # lr_t = 0.1 * (1 - 1/4)
    assert [p.data for p in params] == [b - 0.1 * (1 - 1 / 4) * 0.5 * (i + 1) for i, b in enumerate(before)]
    assert [p.grad for p in params] == [0, 0, 0] and sgd.m == [0.0] * 3 and sgd.v == [0.0] * 3


def test_a_rung_saves_its_options_and_loads_as_itself(rung, tmp_path):
    _, model, _ = rung
    path = tmp_path / 'rung.json'
    ckpt_io.save(path, ckpt_io.Checkpoint(model, train_config=TrainConfig(optimizer='sgd')))
    loaded = ckpt_io.load(path)
    assert loaded.model.config == model.config and loaded.train_config.optimizer == 'sgd'
    assert loaded.model.floats() == model.floats()
    assert json.loads(path.read_text())['train']['optimizer'] == 'sgd'


def test_a_checkpoint_whose_options_do_not_fit_its_matrices_is_refused(tmp_path):
    model = Model.init(preset_config('mlp', n_embd=8, n_head=2), TOK, random.Random(0))
    obj = json.loads(ckpt_io.to_json(ckpt_io.Checkpoint(model)))
    obj['config']['attention'] = 'softmax'  # says it has attention, holds none
    with pytest.raises(CheckpointError, match='does not hold exactly the matrices'):
        ckpt_io.from_json(json.dumps(obj))
    obj['config']['attention'] = 'sideways'
    with pytest.raises(CheckpointError, match='attention must be one of'):
        ckpt_io.from_json(json.dumps(obj))
    obj['config'] = {'n_layer': 1}
    with pytest.raises(CheckpointError, match='its config does not list exactly n_layer'):
        ckpt_io.from_json(json.dumps(obj))


def test_layernorm_starts_as_the_identity_gain_and_bias_drawn_from_nothing():
    """LayerNorm's gains are made 1 and its biases 0 without drawing: the other weights are drawn as they
    would be without it (the same rng stream, in order)."""
    tok = Tokenizer('abcdefghijklmnopqrstuvwxyz')
    plain = Model.init(GPTConfig(), tok, random.Random(42))
    layer = Model.init(GPTConfig(norm='layer'), tok, random.Random(42))
    assert [p.data for p in layer.state_dict['layer0.mlp_ln_gain'][0]] == [1.0] * 16
    assert [p.data for p in layer.state_dict['layer0.attn_ln_bias'][0]] == [0.0] * 16
    assert {name: [[p.data for p in row] for row in mat] for name, mat in layer.state_dict.items() if '_ln_' not in name} \
        == plain.floats()
    assert param_count(GPTConfig(norm='layer'), 27) == 4192 + 6 * 16 == len(Model.init(GPTConfig(norm='layer'), tok,
                                                                                        random.Random(0)).params)


def blocks(config, trace, paths):
    """The seed-style blocks in a recording: a bias added to every linear's output, lm_head reading wte, RoPE's
    rotation with its constants, SwiGLU's gate and product; each named as the code names it."""
    read = {trace.params[n][0] for n in trace.params}
    if config.bias:  # y = W·x + b in the row's own group: 'q[3]' is the sum, 'W·x[3]' the dot product
        q3 = next(n for n in range(len(trace)) if trace.scope_path(n) == 'pos 4 / layer 0 / attention / q / q[3]'
                  and trace.names[n] == 'q[3]')
        assert trace.op[q3] == '+' and trace.param_name(trace.children[q3][1]) == 'layer0.attn_wq_b[0][3]'
        assert trace.name(trace.children[q3][0]) == 'W·x[3]' and {'lm_head_b', 'layer0.mlp_fc2_b'} <= read
    assert ('lm_head' in read) == (not config.tie and config.arch == 'gpt')
    if config.tie:  # the logits are x's dot products with the rows of wte
        logit = next(n for n in range(len(trace)) if trace.scope_path(n).startswith('pos 4 / lm_head') and trace.op[n] == '*')
        assert trace.params[trace.children[logit][0]][0] == 'wte'
    assert ('wpe' in read) == (config.position == 'learned' and config.arch == 'gpt') and ('pos 4 / layer 0 / attention / rope' in paths) == (
        config.position == 'rope')
    if config.position == 'rope':  # pos 4's q and k turned by constants named cos[i], sin[i]: not weights
        rot = [n for n in range(len(trace)) if trace.scope_path(n) == 'pos 4 / layer 0 / attention / rope']
        assert [trace.names[n] for n in rot if trace.names[n] and trace.names[n].startswith('q_rot')][:2] == ['q_rot[0]', 'q_rot[1]']
        consts = {trace.names[n]: trace.data[n] for n in rot if trace.op[n] == 'const'}
        assert consts['cos[1]'] == math.cos(4 * 10000 ** -0.5) and consts['-sin[0]'] == -math.sin(4.0)
        assert not any(n in trace.params for n in rot) and 'pos 4 / embedding / tok + pos' not in paths
    if config.activation == 'swiglu':  # silu(fc1·x) ⊙ fc3·x: one silu op per hidden unit, then the product
        silus = [n for n in range(len(trace)) if trace.op[n] == 'silu']
        assert len(silus) == 5 * 32 and trace.name(silus[3]) == 'gate[3]' and 'layer0.mlp_fc3' in read
        assert trace.scope_path(silus[0]) == 'pos 0 / layer 0 / mlp / swiglu'


def test_the_seed_presets_are_their_blocks_at_microgpts_size_and_count_their_parameters():
    mini, llama = preset_config('mini-gpt'), preset_config('llama-style')
    assert (mini.norm, mini.activation, mini.bias, mini.tie, mini.position) == ('layer', 'gelu-erf', True, True, 'learned')
    assert (mini.embed_norm, mini.final_norm) == (False, True)  # nanoGPT's: no norm after tok + pos, ln_f before lm_head
    assert (llama.norm, llama.activation, llama.bias, llama.tie, llama.position) == ('rms', 'swiglu', False, False, 'rope')
    assert all((c.n_embd, c.n_layer, c.n_head, c.block_size) == (16, 1, 4, 16) for c in (mini, llama))
    # mini-gpt: wte, wpe, 6 LayerNorm rows (two layer norms and the final one), the layer's 12·16² and a bias per output (16·4 + 64 + 16), lm_head's bias
    assert param_count(mini, 27) == 27 * 16 + 16 * 16 + 6 * 16 + 12 * 16 * 16 + 144 + 27 == 4027
    # llama-style: wte, lm_head, wq wk wv wo, fc1 fc3 fc2 (no wpe, no biases)
    assert param_count(llama, 27) == 2 * 27 * 16 + 4 * 16 * 16 + 3 * 64 * 16 == 4960
    tok = Tokenizer('abcdefghijklmnopqrstuvwxyz')
    assert all(len(Model.init(c, tok, random.Random(0)).params) == param_count(c, 27) for c in (mini, llama))
    assert preset_config('mini-gpt', n_embd=32, n_layer=2).n_layer == 2  # a shape laid over
    assert preset_of(GPTConfig(norm='layer', activation='gelu-erf', bias=True, tie=True, embed_norm=False,
                               final_norm=True)) == 'mini-gpt'
    assert preset_of(GPTConfig(norm='layer', activation='gelu', bias=True, tie=True)) == 'microgpt'
    assert preset_of(GPTConfig(norm='layer', activation='gelu', bias=True)) == 'microgpt'


@pytest.mark.parametrize('shape, says', [
    ({'n_embd': 12, 'n_head': 4}, "RoPE rotates pairs of a head's numbers, so the head size (n_embd / n_head = 3) must be even."),
    ({'n_embd': 10, 'n_head': 4}, 'n_embd (10) must be divisible by n_head (4).'),
])
def test_a_shape_rope_cannot_take_is_one_sentence(shape, says):
    with pytest.raises(ConfigError) as e:
        preset_config('llama-style', **shape)
    assert str(e.value) == says
    with pytest.raises(ConfigError, match='bias must be true or false'):
        GPTConfig(bias='yes')
    with pytest.raises(ConfigError, match='position must be one of learned, rope'):
        GPTConfig(position='alibi')


def test_biases_are_made_zero_and_drawn_from_nothing():
    """As LayerNorm's: the weights of a model with biases are drawn as without them (the same rng stream)."""
    tok = Tokenizer('abcdefghijklmnopqrstuvwxyz')
    plain, biased = (Model.init(GPTConfig(bias=b), tok, random.Random(42)) for b in (False, True))
    assert [p.data for p in biased.state_dict['layer0.mlp_fc1_b'][0]] == [0.0] * 64
    assert {k: v for k, v in biased.floats().items() if not k.endswith('_b')} == plain.floats()
    assert list(biased.state_dict)[:4] == ['wte', 'wpe', 'lm_head', 'lm_head_b']


# The ladder, shipped.

def test_each_rung_stands_on_the_one_below_with_everything_else_kept():
    assert [below(p) for p in PRESETS] == [None, 'bigram', 'mlp', 'average', 'one-head', 'microgpt', 'microgpt']
    assert below_config(preset_config('llama-style')) == ('microgpt', preset_config('microgpt'))
    assert below_config(preset_config('bigram')) is None
    assert below_config(preset_config('microgpt')) == ('one-head', preset_config('one-head'))
    assert below_config(preset_config('one-head')) == ('average', preset_config('average'))
    assert below_config(preset_config('average')) == ('mlp', preset_config('mlp'))
    assert below_config(preset_config('mlp')) == ('bigram', preset_config('bigram'))
    wide = GPTConfig(n_embd=24, n_layer=2, n_head=2, activation='gelu')  # a microgpt of another shape and block
    assert below_config(wide) == ('one-head', GPTConfig(n_embd=24, n_layer=2, n_head=1, activation='gelu'))
    name, lower = below_config(preset_config('one-head', n_embd=10))  # 10 is no width for average's four heads
    assert name == 'average' and (lower.attention, lower.n_head, lower.n_embd) == ('uniform', 1, 10)


def test_where_each_rung_ships():
    assert shipped_checkpoint('microgpt') == DEFAULT_CHECKPOINT and shipped_checkpoint('mlp') == LADDER / 'mlp-names.json'
    assert [shipped_rung(shipped_checkpoint(p)) for p in RUNGS] == list(RUNGS)
    with pytest.raises(ConfigError, match='not a rung of the ladder'):
        shipped_checkpoint('mini-gpt')
    assert shipped_rung(LADDER / '..' / 'ladder' / 'bigram-names.json') == 'bigram'  # the file, however named
    assert shipped_rung(LADDER / 'other.json') is None
    with pytest.raises(ConfigError, match='There is no preset'):
        shipped_checkpoint('transformer')


@pytest.mark.parametrize('name', [p for p in RUNGS if p != 'microgpt'])
def test_each_shipped_rung_is_the_run_readme_trains_and_its_history_proves_itself(name, names_file, tmp_path):
    """`train --preset NAME --history-every 100 --out assets/ladder/NAME-names.json` (README): the shipped pair is
    that run's. Its first steps are what the command makes (2 steps here: the same weights, m and v after step 1,
    bit for bit, and the same losses), its history is the one its checkpoint names by content and ends at the
    checkpoint's weights (load_for), replays as it records from step 0, and stays small."""
    path = shipped_checkpoint(name)
    ckpt = ckpt_io.load(path)
    history = history_io.load_for(path, ckpt)
    assert history.bound and ckpt.model.config == preset_config(name) and ckpt.train_config == TrainConfig()
    assert (ckpt.step, ckpt.seed, history.every) == (1000, 42, SHIPPED_EVERY)
    assert sorted(history.snapshots) == list(range(0, 1001, SHIPPED_EVERY))
    assert path.stat().st_size + history_io.history_path(path, ckpt).stat().st_size < 2.5 * 2**20
    out = tmp_path / 'two.json'
    assert cli_main(['train', '--preset', name, '--data', str(names_file), '--steps', '2', '--history-every', '1',
                     '--num-samples', '0', '--out', str(out)], io.StringIO()) == 0
    two = ckpt_io.load(out)
    short = history_io.load_for(out, two)
    assert short.docs == history.docs[:2] and short.losses == history.losses[:2]  # step 2's loss: after step 1
    assert short.snapshots[0] == history.snapshots[0]
    after_one = history.seek(2)  # replayed from the snapshot of step 0, checked against what the file records
    assert (list(short.snapshots[1][0]), list(short.snapshots[1][1])) == (
        list(history.seek(1).weights), list(history.seek(1).m)) and after_one.loss == history.losses[1]


def test_the_shipped_bigram_replays_its_last_interval_to_its_checkpoint():
    """The one rung cheap enough to replay 100 steps here (0.3 s): the file's last interval gives the checkpoint."""
    path = shipped_checkpoint('bigram')
    ckpt = ckpt_io.load(path)
    state = history_io.load_for(path, ckpt).seek(1000)
    assert list(state.weights) == [p.data for p in ckpt.model.params] and list(state.m) == ckpt.adam_m


@pytest.mark.slow
def test_retraining_the_bigram_rung_as_readme_says_gives_the_shipped_pair_byte_for_byte(names_file, tmp_path):
    out = tmp_path / 'bigram-names.json'
    assert cli_main(['train', '--preset', 'bigram', '--data', str(names_file), '--history-every', str(SHIPPED_EVERY),
                     '--out', str(out)], io.StringIO()) == 0
    shipped = shipped_checkpoint('bigram')
    assert out.read_bytes() == shipped.read_bytes()
    name = json.loads(out.read_text())['history']['file']
    assert (out.parent / name).read_bytes() == (shipped.parent / name).read_bytes()


def test_the_large_recipe_is_llama_style_at_its_shape_and_its_count_is_the_formula():
    from engine import presets
    from engine.presets import RECIPES, check_preset, describe
    recipe, config = RECIPES['large'], preset_config('large')
    assert (config.n_embd, config.n_layer, config.n_head, config.block_size) == (256, 4, 4, 512)
    assert preset_of(config) == 'llama-style' and config == preset_config('llama-style', **recipe.shape)
    assert (recipe.tokenizer, recipe.vocab_size, recipe.batch, recipe.accumulate, recipe.learning_rate) == \
        ('bpe', 50_257, 64, 4, 1e-3)  # the issue's batch 16 × 4 accumulation steps: 64 a step, in parts of 16
    V, E, L = 50_257, 256, 4
    blocks = L * (4 * E * E + 3 * (4 * E) * E)  # wq wk wv wo; SwiGLU's fc1, fc3 [4E][E] and fc2 [E][4E]
    assert param_count(config, V) == 2 * V * E + blocks == 29_925_888  # wte and lm_head, untied; RoPE: no wpe
    assert sum(rows * cols for rows, cols in param_shapes(config, V).values()) == param_count(config, V)
    assert '29,925,888' in presets.__doc__ and '29.9M' in describe('large')
    assert preset_config('large', n_layer=2).n_layer == 2  # a shape given is laid over the recipe's
    assert 'large' not in PRESETS  # not a rung the Training panel offers: its scalar engine could not train it
    with pytest.raises(ConfigError, match='choose one of bigram, .*, llama-style.$'):
        check_preset('large')
    assert check_preset('large', recipes=True) == 'large'
