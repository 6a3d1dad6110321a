"""The rules of the house, checked on the source: rooms small enough to hold, imports one way, one home for
the weights' scope, every colour in the theme, and a map (ARCHITECTURE.md) that names every module."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ('engine', 'explorer')
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def modules():
    """Every module of the project as (dotted name, path), packages' __init__ files left out."""
    out = []
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob('*.py')):
            if path.name != '__init__.py':
                out.append(('.'.join(path.relative_to(ROOT).with_suffix('').parts), path))
    return out


MODULES = modules()


def test_every_module_is_on_the_map():
    text = (ROOT / 'ARCHITECTURE.md').read_text()
    named = set(re.findall(r'`((?:engine|explorer)/[\w/]+\.py)`', text))
    paths = {path.relative_to(ROOT).as_posix() for _, path in MODULES}
    assert paths - named == set(), 'modules missing from ARCHITECTURE.md'
    assert named - paths == set(), 'ARCHITECTURE.md names modules that do not exist'


def test_every_module_has_its_test_file():
    missing = [path.relative_to(ROOT).as_posix() for _, path in MODULES
               if not (ROOT / 'tests' / path.relative_to(ROOT).parent / f'test_{path.name}').is_file()]
    assert missing == []


@pytest.mark.parametrize('name, path', MODULES, ids=[m for m, _ in MODULES])
def test_rooms_are_small_enough_to_hold(name, path):
    source = path.read_text()
    assert source.count('\n') <= MAX_MODULE_LINES
    long = [f'{node.name} ({node.end_lineno - node.lineno + 1} lines)' for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


def imports_of(path):
    """The project modules a module imports, at any depth of its code (a function's own imports too)."""
    known = {name for name, _ in MODULES} | set(PACKAGES)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f'{node.module}.{a.name}' for a in node.names]
        else:
            continue
        found |= {n for n in names if n in known and n not in PACKAGES}
    return found


def test_imports_run_one_way():
    graph = {name: imports_of(path) for name, path in MODULES}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = 'open'
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 'open':
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 'done'

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_weights_scope_is_named_in_one_place():
    offenders = [f'{path.relative_to(ROOT)}:{n}' for name, path in MODULES if name != 'engine.graph.keys'
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"""['"]params(?: /|['"](?!\s*:))""", line)]  # a JSON field named params is not the scope
    assert offenders == []


COLOUR = re.compile(r"""QColor\(\s*(?:['"]|\d)|['"]#[0-9a-fA-F]{3,8}['"]|Qt\.(?:GlobalColor\.)?(?:black|white|red|"""
                    r"""green|blue|gray|grey|darkGray|lightGray|yellow|cyan|magenta|darkRed|darkGreen|darkBlue)\b""")


def test_every_colour_is_in_the_theme():
    offenders = [f'{path.relative_to(ROOT)}:{n}: {line.strip()}' for name, path in MODULES
                 if name.startswith('explorer.') and name != 'explorer.theme'
                 for n, line in enumerate(path.read_text().splitlines(), 1) if COLOUR.search(line)]
    assert offenders == []


def test_state_holds_no_widgets_and_nothing_but_the_cli_imports_the_cli():
    for name, path in MODULES:
        source = path.read_text()
        if name.startswith('explorer.state.'):
            assert 'QtWidgets' not in source, name
        if name.startswith('engine.') and not name.startswith('engine.cli.'):
            assert not any(m.startswith('engine.cli') for m in imports_of(path)), name
