"""engine.cli.training_data: `train --text FILE` trains on block_size windows of a continuous text, holds out
a seeded tenth (--val-fraction) and prints `val loss` every K steps (--eval-every); the names.txt path prints
exactly what it did; bad data options are one sentence, exit 2, nothing written."""

import io
import re
import sys

import pytest

from engine import checkpoint as ckpt_io
from engine.cli.commands import main
from engine.data import split_docs, text_windows
from engine.validation import validation_loss

PLAY = ('ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n'
        'Arise, fair sun, and kill the envious moon,\nWho is already sick and pale with grief.\n') * 3
SMALL = ['--n-embd', '8', '--n-head', '2', '--block-size', '8']


def run(*args, capsys):
    out = io.StringIO()
    code = main(list(args), out)
    return code, out.getvalue(), capsys.readouterr().err


@pytest.fixture
def play(tmp_path):
    path = tmp_path / 'play.txt'
    path.write_text(PLAY)
    return path


def test_a_text_trains_in_windows_and_prints_the_validation_loss_every_k_steps(tmp_path, play, capsys):
    out = tmp_path / 'play.json'
    code, stdout, err = run('train', '--text', str(play), '--steps', '9', '--eval-every', '4', '--num-samples', '2',
                            '--out', str(out), *SMALL, capsys=capsys)
    assert code == 0, err
    lines = stdout.splitlines()
    windows = text_windows(PLAY, 8)
    train, val = split_docs(windows, 0.1, 42)  # the default fraction, chosen with the default seed
    assert lines[:2] == [f'text: {len(PLAY)} characters in {len(windows)} windows of 8',
                         f'num docs: {len(train)} (val {len(val)})']
    steps = [line for line in lines if line.startswith('step ')]
    evaluated = [line for line in steps if '| val loss ' in line]
    assert [line[:16] for line in evaluated] == ['step    4 /    9', 'step    8 /    9', 'step    9 /    9']
    assert re.fullmatch(r'step    9 /    9 \| loss \d\.\d{4} \| val loss \d\.\d{4}', evaluated[-1])
    # the last one is the held-out windows' mean loss with the saved weights
    model = ckpt_io.load(out).model
    assert evaluated[-1].endswith(f'val loss {validation_loss(model, val):.4f}')
    assert '--- inference (new, hallucinated text) ---' in lines


def test_the_split_follows_the_seed_and_the_fraction(play, capsys):
    _, a, _ = run('train', '--text', str(play), '--steps', '1', '--num-samples', '0', '--val-fraction', '0.25',
                  *SMALL, capsys=capsys)
    windows = text_windows(PLAY, 8)
    assert a.splitlines()[1] == f'num docs: {len(windows) - round(0.25 * len(windows))} (val {round(0.25 * len(windows))})'
    _, none, _ = run('train', '--text', str(play), '--steps', '1', '--num-samples', '0', '--val-fraction', '0',
                     *SMALL, capsys=capsys)
    assert none.splitlines()[1] == f'num docs: {len(windows)}' and 'val loss' not in none


def test_documents_can_hold_out_a_validation_part_too(tmp_path, capsys):
    path = tmp_path / 'names.txt'
    path.write_text('\n'.join(['emma', 'ava', 'olivia', 'mia', 'isabella', 'sophia', 'amelia', 'ella', 'lia', 'lea']))
    code, stdout, err = run('train', '--data', str(path), '--steps', '2', '--num-samples', '0', '--val-fraction', '0.2',
                            '--eval-every', '1', *SMALL, capsys=capsys)
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0] == 'num docs: 8 (val 2)' and sum('val loss' in line for line in lines) == 2


def test_without_the_new_options_train_prints_what_it_printed(tmp_path, capsys):
    path = tmp_path / 'tiny.txt'
    path.write_text('emma\nava\nolivia\nmia\n')
    code, stdout, _ = run('train', '--data', str(path), '--steps', '3', '--num-samples', '2', *SMALL, capsys=capsys)
    lines = stdout.splitlines()
    assert code == 0 and lines[0] == 'num docs: 4' and 'val' not in stdout
    assert lines[-3] == '--- inference (new, hallucinated names) ---'


@pytest.mark.parametrize('args, says', [
    (['--text', 'TEXT', '--data', 'TEXT'], '--data and --text are two ways to give what to train on: give one.'),
    (['--text', 'TEXT', '--val-fraction', '1'], '--val-fraction must be at least 0 and below 1, not 1.0.'),
    (['--text', 'TEXT', '--val-fraction', '-0.1'], 'not -0.1.'),
    (['--text', 'TEXT', '--val-fraction', 'nan'], 'not nan.'),
    (['--text', 'TEXT', '--eval-every', '0'], '--eval-every must be a positive whole number of steps, not 0.'),
    (['--data', 'TEXT', '--eval-every', '5'], '--eval-every needs documents held out for validation'),
    (['--text', 'TEXT', '--val-fraction', '0', '--eval-every', '5'], 'give --val-fraction above 0.'),
    (['--text', 'BINARY'], 'is a binary file, not UTF-8 text.'),
    (['--text', 'EMPTY'], 'is empty (only white space).'),
    (['--text', 'SHORT'], 'leaves no validation documents'),
    (['--text', 'TEXT', '--tokenizer', 'bpe', '--backend', 'numpy', '--history-every', '1'],
     "--history-every needs the character tokenizer: a history names its vocabulary by its characters"),
])
def test_bad_data_options_are_one_sentence_exit_2_nothing_written(tmp_path, play, capsys, args, says):
    files = {'TEXT': play, 'BINARY': tmp_path / 'b.bin', 'EMPTY': tmp_path / 'e.txt', 'SHORT': tmp_path / 's.txt'}
    files['BINARY'].write_bytes(b'\x00\x01\x02abc')
    files['EMPTY'].write_text('\n  \n')
    files['SHORT'].write_text('a short text')
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / 'out.json'
    code, stdout, err = run('train', *[str(files.get(a, a)) for a in args], '--steps', '2', '--out', str(out),
                            *SMALL, capsys=capsys)
    assert code == 2 and stdout == '' and err.count('\n') == 1 and says in err and err.startswith('error: ')
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_bpe_is_learned_from_the_text_and_saved_beside_the_checkpoint(tmp_path, play, capsys):
    pytest.importorskip('tokenizers')
    out = tmp_path / 'play.json'
    code, stdout, err = run('train', '--text', str(play), '--backend', 'numpy', '--tokenizer', 'bpe', '--vocab-size',
                            '300', '--steps', '3', '--batch', '2', '--num-samples', '2', '--out', str(out), *SMALL,
                            capsys=capsys)
    assert code == 0, err
    bpe = re.search(r'^bpe: (\d+) tokens \(asked for at most 300\)$', stdout, re.M)
    assert bpe and 257 < int(bpe[1]) <= 300 and f'vocab size: {bpe[1]}\n' in stdout
    assert re.search(r'^text: \d+ characters in \d+ windows of 8 tokens$', stdout, re.M)
    ckpt = ckpt_io.load(out)
    assert ckpt.model.tokenizer.kind == 'bpe' and ckpt.model.tokenizer.vocab_size == int(bpe[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['play.json', ckpt.tokenizer_name, 'play.txt']
    code, sampled, err = run('sample', '--checkpoint', str(out), '--num-samples', '2', '--prompt', 'ROMEO', capsys=capsys)
    assert code == 0 and [line.startswith(f'sample  {i}: ROMEO') for i, line in enumerate(sampled.splitlines(), 1)] == [True] * 2


@pytest.mark.parametrize('args, says', [
    (['--tokenizer', 'bpe'], '--tokenizer bpe needs --backend numpy or torch'),
    (['--tokenizer', 'wordpiece', '--backend', 'numpy'], '--tokenizer must be char or bpe, not'),
    (['--vocab-size', '300', '--backend', 'numpy'], '--vocab-size needs --tokenizer bpe'),
    (['--tokenizer', 'bpe', '--vocab-size', '256', '--backend', 'numpy'], '--vocab-size must be at least 257'),
    (['--preset', 'large'], 'The large preset trains on a BPE, so it needs --backend numpy or torch'),
])
def test_bad_tokenizer_options_are_one_sentence_exit_2_nothing_written(tmp_path, play, capsys, args, says):
    out = tmp_path / 'out.json'
    code, stdout, err = run('train', '--text', str(play), *args, '--steps', '2', '--out', str(out), capsys=capsys)
    assert code == 2 and stdout == '' and err.count('\n') == 1 and says in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['play.txt']


def test_without_the_library_bpe_says_how_to_install_it_before_reading_the_data(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    code, stdout, err = run('train', '--text', str(tmp_path / 'missing.txt'), '--backend', 'numpy', '--tokenizer', 'bpe',
                            capsys=capsys)
    assert (code, stdout) == (2, '') and err == ("error: The BPE tokenizer needs the tokenizers library, which is not "
                                                 "installed: run pip install '.[bpe]'.\n")
