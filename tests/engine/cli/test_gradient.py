"""engine.cli.gradient: the nudge, provenance and gradcheck commands write the documented keys, and an
unknown node is one sentence, exit code 2 and nothing written."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]  # the project folder


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / 'main.py'), *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


@pytest.mark.slow  # three CLI processes
def test_cli_nudge_provenance_gradcheck_write_the_documented_keys(tmp_path):
    out = tmp_path / 'n.json'
    proc = run('nudge', '--doc', 'emma', '--node', 'wte[4][3]', '--by', '1e-4', '--json', str(out))
    assert proc.returncode == 0, proc.stderr
    nudge = json.loads(out.read_text())
    assert {'node', 'h', 'loss', 'loss_plus', 'loss_minus', 'numeric', 'grad'} <= set(nudge)
    assert nudge['node'] == 'wte[4][3]' and nudge['h'] == 1e-4
    assert abs(nudge['numeric'] - nudge['grad']) < 1e-5 * abs(nudge['grad'])

    out = tmp_path / 'p.json'
    proc = run('provenance', '--doc', 'emma', '--node', 'wte[4][3]', '--json', str(out))
    assert proc.returncode == 0, proc.stderr
    prov = json.loads(out.read_text())
    assert {'node', 'grad', 'terms', 'by_prediction'} <= set(prov)
    assert set(prov['terms'][0]) == {'parent', 'scope', 'local_grad', 'parent_grad', 'term'}
    assert set(prov['by_prediction'][0]) == {'position', 'target', 'grad'}
    assert sum(t['term'] for t in prov['terms']) == prov['grad'] == nudge['grad']

    out = tmp_path / 'g.json'
    proc = run('gradcheck', '--doc', 'a', '--json', str(out))  # 'a': the shortest pass, every parameter
    assert proc.returncode == 0, proc.stderr
    check = json.loads(out.read_text())
    assert {'max_rel_error', 'params'} <= set(check) and len(check['params']) == 4192
    assert set(check['params'][0]) == {'name', 'analytic', 'numeric'} and check['max_rel_error'] < 1e-5
    trace = tmp_path / 't.json'
    assert run('trace', '--doc', 'a', '--json', str(trace)).returncode == 0
    reported = json.loads(trace.read_text())['param_grads']
    for p in check['params'][::97]:
        matrix, rest = p['name'].split('[', 1)
        row, col = (int(i) for i in rest.rstrip(']').split(']['))
        assert p['analytic'] == reported[matrix][row][col]


@pytest.mark.parametrize('command, node', [('nudge', 'no such node'), ('provenance', 'no such node'),
                                           ('nudge', '²'), ('provenance', '①')])  # isdigit() says digits, int() not
def test_cli_unknown_node_one_sentence_exit_2_nothing_written(tmp_path, command, node):
    out = tmp_path / 'x.json'
    proc = run(command, '--doc', 'emma', '--node', node, '--json', str(out))
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.count('\n') == 1 and proc.stderr.startswith(f'error: No node is called {node!r}')


def test_cli_nudge_where_the_loss_has_no_value_is_one_line_not_a_traceback(tmp_path):
    out = tmp_path / 'x.json'
    proc = run('nudge', '--doc', 'emma', '--node', 'pos 0 / softmax / probs[target]', '--by', '-10', '--json', str(out))
    assert proc.returncode != 0 and not out.exists() and proc.stderr == (
        'error: At x + h = -9.949 the loss cannot be evaluated: pos 0 · log(probs[target]) would be log(-9.949), the '
        'log of a negative number.\n')
