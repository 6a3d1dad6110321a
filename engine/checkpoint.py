"""Checkpoints: JSON (never pickle), written atomically, validated completely before anything is used.

{"format": "microgpt-explorer checkpoint", "version": 1,
 "config": GPTConfig fields, "uchars": [str], "state_dict": {name: [[float]]},
 (or, for a byte-level BPE, in place of "uchars": "tokenizer": {"file": "NAME.tokenizer.<16 hex>.json", "sha256":
 hex}: the tokenizers library's JSON beside it in the same folder, named by its content; engine.pair writes it),
 "step": steps trained, "seed": int, "train": TrainConfig fields,
 "rng_state": random.Random state for sampling (optional), "adam": {"m": {...}, "v": {...}} (optional),
 "history": {"file": "NAME.history.<16 hex>.json", "sha256": hex} (optional: the training history saved with it,
 beside it in the same folder, named by its content; engine.pair writes the two as one)}
"""

import hashlib
import json
import math
import random
import re
from dataclasses import dataclass, fields
from pathlib import Path

from engine.checks import check_header, is_number, is_whole, requirement
from engine.errors import CheckpointError, ConfigError
from engine.files import read_user_file, write_atomic
from engine.model import OPTIONAL_FIELDS as model_options, GPTConfig, Model, param_shapes
from engine.tokenizer import Tokenizer
from engine.optim import MAX_STEPS, OPTIONAL_FIELDS as train_options, TrainConfig, adam_preview

FORMAT = 'microgpt-explorer checkpoint'
VERSION = 1
MAX_BYTES = 256 * 1024 * 1024  # far above any model the scalar engine can train in a lifetime
BYTES_PER_NUMBER = 18          # a number in the JSON: repr of a float and a comma (18.5 measured on a small run)


@dataclass
class Checkpoint:
    model: Model
    step: int = 0                 # training steps behind these weights
    seed: int = 42
    train_config: TrainConfig = None
    rng_state: tuple = None       # random.Random.getstate() to continue sampling from, if saved
    adam_m: list = None           # Adam's first moments, flat in model.params order, if saved
    adam_v: list = None
    history_file: object = None   # where this run's training history is (engine.history), if known; not in the JSON
    history_name: str = None      # the file name of the history saved with it ("history" in the JSON), if any
    history_sha256: str = None    # and the SHA-256 of that file's bytes: the history is this one, unchanged
    tokenizer_name: str = None    # a BPE's tokenizer file beside it ("tokenizer" in the JSON; engine.pair names it)

    def adam_preview(self, name, row, col, grad):
        """The update Adam would give parameter name[row][col] next, for this grad (fresh m, v if none saved)."""
        model = self.model
        index = 0
        for mat_name, mat in model.state_dict.items():
            if mat_name == name:
                index += row * len(mat[0]) + col
                break
            index += len(mat) * len(mat[0])
        m = self.adam_m[index] if self.adam_m is not None else 0.0
        v = self.adam_v[index] if self.adam_v is not None else 0.0
        return adam_preview(model.state_dict[name][row][col].data, grad, m, v, self.step,
                            self.train_config or TrainConfig())


def _nested(model, flat):
    """{name: [[float]]} from a flat list in params order."""
    out, i = {}, 0
    for name, mat in model.state_dict.items():
        out[name] = []
        for row in mat:
            out[name].append(list(flat[i:i + len(row)]))
            i += len(row)
    return out


def to_json(ckpt):
    model = ckpt.model
    obj = {'format': FORMAT, 'version': VERSION, 'config': model.config.to_dict(), **_vocabulary(ckpt),
           'state_dict': model.floats(), 'step': ckpt.step, 'seed': ckpt.seed}
    if ckpt.train_config is not None:
        obj['train'] = ckpt.train_config.to_dict()
    if ckpt.rng_state is not None:
        version, internal, gauss_next = ckpt.rng_state
        obj['rng_state'] = [version, list(internal), gauss_next]
    if ckpt.adam_m is not None:
        obj['adam'] = {'m': _nested(model, ckpt.adam_m), 'v': _nested(model, ckpt.adam_v)}
    if ckpt.history_name is not None:
        obj['history'] = {'file': ckpt.history_name, 'sha256': ckpt.history_sha256}
    return json.dumps(obj, separators=(',', ':')) + '\n'


def _vocabulary(ckpt):
    """{"uchars": the characters} or, for a BPE, {"tokenizer": its file beside the checkpoint and SHA-256}."""
    tok = ckpt.model.tokenizer
    if tok.kind == 'char':
        return {'uchars': tok.uchars}
    if ckpt.tokenizer_name is None:
        raise ValueError('a BPE checkpoint is saved with its tokenizer file (engine.pair.save names it)')
    return {'tokenizer': {'file': ckpt.tokenizer_name, 'sha256': tok.sha256()}}


def save(path, ckpt):
    write_atomic(path, to_json(ckpt))


def load(path):
    """A Checkpoint from a file; CheckpointError with one sentence if anything about it is wrong."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # reading it says why it cannot be read
    if size > MAX_BYTES:
        raise CheckpointError(f'{path.name} is {size // 2**20} MB, too large to be a microgpt checkpoint.')
    raw = read_user_file(path, 'The checkpoint', CheckpointError)
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise CheckpointError(f'{path.name} is not a checkpoint: it is not JSON text.') from None
    return from_json(text, path.name, path.parent)


def from_json(text, name='checkpoint', folder=None):
    """A Checkpoint from its JSON text; `folder`: where it is, for the BPE tokenizer file it may name."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f'{name} is not a checkpoint: it is not valid JSON ({str(e).split(":")[0]}).') from None
    try:
        return _parse(obj, folder)
    except CheckpointError as e:
        raise CheckpointError(f'{name} is not a valid checkpoint: {e}') from None


def _parse(obj, folder=None):
    need = requirement(CheckpointError)
    check_header(obj, FORMAT, VERSION, 'checkpoint', CheckpointError)
    config = obj.get('config')
    need(isinstance(config, dict) and _lists_fields(config, GPTConfig, model_options),
         'its config does not list exactly ' + ', '.join(_required(GPTConfig, model_options)) +
         ' (and, where they are not microgpt\'s, ' + ', '.join(model_options) + ').')
    try:
        config = GPTConfig(**config)
    except ConfigError as e:
        raise CheckpointError(_lower_first(str(e))) from None
    tokenizer_name, tokenizer = _tokenizer(obj, folder)
    _check_config_fits(config, obj.get('state_dict'))  # before building anything
    shapes = param_shapes(config, tokenizer.vocab_size)
    floats = _matrices(obj.get('state_dict'), shapes, 'state_dict')
    for key in ('step', 'seed'):
        need(is_whole(obj.get(key)), f'its {key} is not a whole number.')
    need(obj['step'] >= 0, 'its step is negative.')
    train_config = None
    if 'train' in obj:
        need(isinstance(obj['train'], dict) and _lists_fields(obj['train'], TrainConfig, train_options),
             'its train settings do not list exactly ' + ', '.join(_required(TrainConfig, train_options)) +
             ' (and, where it is not adam, ' + ', '.join(train_options) + ').')
        try:
            train_config = TrainConfig(**obj['train'])
        except ConfigError as e:
            raise CheckpointError(f'in its train settings, {_lower_first(str(e))}') from None
    most = train_config.num_steps if train_config else MAX_STEPS
    need(obj['step'] <= most, f'its step is more than {"its num_steps" if train_config else "the most steps a run can have"} '
                              f'({most:,}), where training stops.')
    rng_state = None
    if obj.get('rng_state') is not None:
        state = obj['rng_state']
        try:
            rng_state = (state[0], tuple(state[1]), state[2])
            random.Random().setstate(rng_state)
        except (TypeError, ValueError, IndexError, KeyError, OverflowError):
            raise CheckpointError('its rng_state is not a random generator state.') from None
    model = Model.from_floats(config, tokenizer, floats)
    adam_m = adam_v = None
    if 'adam' in obj:
        adam = obj['adam']
        need(isinstance(adam, dict) and set(adam) == {'m', 'v'}, 'its adam section must hold exactly m and v.')
        adam_m = [x for mat in _matrices(adam['m'], shapes, 'adam m').values() for row in mat for x in row]
        adam_v = [x for mat in _matrices(adam['v'], shapes, 'adam v').values() for row in mat for x in row]
    history_name, history_sha256 = _history(obj.get('history'))
    return Checkpoint(model, obj['step'], obj['seed'], train_config, rng_state, adam_m, adam_v,
                      history_name=history_name, history_sha256=history_sha256, tokenizer_name=tokenizer_name)


TOKENIZER_NAME = re.compile(r'[^/\\\x00]+\.tokenizer\.[0-9a-f]{16}\.json')


def _tokenizer(obj, folder):
    """(None, its character Tokenizer) from "uchars", or (file name, BpeTokenizer) from the "tokenizer" file it names
    beside it, checked against its SHA-256."""
    need = requirement(CheckpointError)
    if 'tokenizer' not in obj:
        uchars = obj.get('uchars')
        need(isinstance(uchars, list) and all(isinstance(c, str) and len(c) == 1 for c in uchars),
             'its vocabulary (uchars) is not a list of single characters.')
        need(len(uchars) > 0 and uchars == sorted(set(uchars)), 'its vocabulary (uchars) is empty, unsorted or repeats a character.')
        return None, Tokenizer(uchars)
    ref = obj['tokenizer']
    need('uchars' not in obj, 'it has both a character vocabulary (uchars) and a tokenizer file.')
    need(isinstance(ref, dict) and set(ref) == {'file', 'sha256'} and isinstance(ref['file'], str) and
         TOKENIZER_NAME.fullmatch(ref['file']) and isinstance(ref['sha256'], str) and
         re.fullmatch('[0-9a-f]{64}', ref['sha256']) and ref['file'].split('.')[-2] == ref['sha256'][:16],
         'its tokenizer is not {"file": "NAME.tokenizer.<16 hex digits>.json", "sha256": its 64 hex digits} naming '
         'a file beside it.')
    need(folder is not None, f'its tokenizer file {ref["file"]} is read from the folder of the checkpoint, and none was given.')
    from engine.bpe import BpeTokenizer  # the tokenizers library only for a BPE checkpoint
    path = Path(folder) / ref['file']
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f'its tokenizer file {ref["file"]} cannot be read beside it ({e.strerror or e}).') from None
    need(hashlib.sha256(raw).hexdigest() == ref['sha256'],
         f'its tokenizer file {ref["file"]} has changed since it was saved (its SHA-256 is not the one recorded).')
    try:
        return ref['file'], BpeTokenizer(raw.decode('utf-8'))
    except (UnicodeDecodeError, ConfigError) as e:
        raise CheckpointError(f'its tokenizer file {ref["file"]} is not a byte-level BPE tokenizer.') from None


def _required(cls, optional):
    return [f.name for f in fields(cls) if f.name not in optional]


def _lists_fields(obj, cls, optional):
    """True if a config's dict holds every field of cls, and of the optional ones only some (saved where
    they are not microgpt's, so that older files, without them, still read)."""
    names = set(obj)
    return set(_required(cls, optional)) <= names <= {f.name for f in fields(cls)}


HISTORY_NAME = re.compile(r'[^/\\\x00]+\.history\.[0-9a-f]{16}\.json')


def _history(ref):
    """The history a checkpoint names: (file name in its folder, sha256), or (None, None)."""
    if ref is None:
        return None, None
    if not (isinstance(ref, dict) and set(ref) == {'file', 'sha256'} and isinstance(ref['file'], str) and
            HISTORY_NAME.fullmatch(ref['file']) and ref['file'] not in ('.', '..') and isinstance(ref['sha256'], str)
            and re.fullmatch('[0-9a-f]{64}', ref['sha256']) and ref['file'].split('.')[-2] == ref['sha256'][:16]):
        raise CheckpointError('its history is not {"file": "NAME.history.<16 hex digits>.json", "sha256": its 64 hex '
                              'digits} naming a file beside it.')
    return ref['file'], ref['sha256']


def _lower_first(sentence):
    return sentence[:1].lower() + sentence[1:]


def _check_config_fits(config, state):
    """The config against the state_dict's own sizes, so that a config claiming 10**9 layers is refused
    before param_shapes (or anything else) allocates for it. The exact shapes are checked after."""
    def rows_cols(name):
        mat = state.get(name)
        if isinstance(mat, list) and mat and isinstance(mat[0], list):
            return len(mat), len(mat[0])
        raise CheckpointError(f'its state_dict has no {name} matrix.')

    if not isinstance(state, dict):
        raise CheckpointError('its state_dict is not a set of named matrices.')
    layers = sum(1 for name in state if isinstance(name, str) and name.endswith('.mlp_fc1'))
    if config.n_layer != layers:
        raise CheckpointError(f'its config says n_layer {config.n_layer} but its state_dict holds {layers} layer(s).')
    if config.arch == 'bigram':
        return  # one matrix, [vocab][vocab]: its exact shape is checked after
    _, n_embd = rows_cols('wte')
    if config.n_embd != n_embd:
        raise CheckpointError(f'its config says n_embd {config.n_embd} but its wte matrix has {n_embd} columns.')
    if config.position == 'rope':
        return  # no wpe: block_size sizes no matrix (RoPE's angles are computed, not stored)
    block_size, _ = rows_cols('wpe')
    if config.block_size != block_size:
        raise CheckpointError(f'its config says block_size {config.block_size} but its wpe matrix has {block_size} rows.')


def _matrices(state, shapes, what):
    """{name: [[float]]} checked against the shapes the config implies, every number finite."""
    if not isinstance(state, dict) or set(state) != set(shapes):
        raise CheckpointError(f'its {what} does not hold exactly the matrices ' + ', '.join(shapes) + '.')
    out = {}
    for name, (rows, cols) in shapes.items():
        mat = state[name]
        if not (isinstance(mat, list) and len(mat) == rows and
                all(isinstance(row, list) and len(row) == cols for row in mat)):
            raise CheckpointError(f'{what} {name} is not a {rows}×{cols} matrix.')
        for row in mat:
            for x in row:
                if not (is_number(x) and math.isfinite(x)):
                    raise CheckpointError(f'{what} {name} holds {x!r}, which is not a finite number.')
        out[name] = [[float(x) for x in row] for row in mat]
    return out


def check_fits(params):
    """Before a run that saves: CheckpointError (one sentence) if its checkpoint, the weights and Adam's two moments
    as JSON, would be over MAX_BYTES, so that load would refuse it (the large recipe, 29.9M parameters, is)."""
    size = 3 * params * BYTES_PER_NUMBER
    if size > MAX_BYTES:
        raise CheckpointError(f'A checkpoint of {params:,} parameters would be about {size / 2**30:,.1f} GB of JSON with '
                              f"Adam's moments, over the {MAX_BYTES // 2**20} MB a checkpoint may be: train it without --out.")


def from_trainer(trainer):
    """A Checkpoint of a Trainer as it stands: weights, Adam moments and the RNG to sample from next."""
    return Checkpoint(trainer.model, trainer.step, trainer.config.seed, trainer.config,
                      trainer.rng.getstate(), list(trainer.optimizer.m), list(trainer.optimizer.v))
