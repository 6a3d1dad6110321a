"""microgpt explorer.

    python3 main.py                 open the app (first run: sets up .venv, then opens)
    python3 main.py test [ARGS]     set up .venv with the test tools and run pytest
    python3 main.py --help          every command, and whether it sets up .venv (the COMMANDS table)

The first run of a command that needs `.venv` makes it beside this file, installs the project into it
with pip (Graphviz comes inside the pygraphviz wheel), installs the system libraries Qt needs when it
can (root or sudo), and then runs the same command again inside `.venv`. Later runs only check and go.
`train`, `sample`, `trace`, `nudge`, `gradcheck` and `provenance` are pure Python and run at once with any python3.
"""

import hashlib
import importlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / '.venv'
QT_CHECKED = VENV / '.qt-loads'  # Qt's libraries were found to load for the install it names
APP = None  # the command of `python3 main.py [OPTIONS]`: the window
# command: (needs .venv, 'module:function' called with the arguments after the command, one-line help)
COMMANDS = {
    'train': (False, 'engine.cli.commands:train_main', "train microgpt and print what microgpt prints"),
    'sample': (False, 'engine.cli.commands:sample_main', 'generate documents from a checkpoint'),
    'trace': (False, 'engine.cli.commands:trace_main', 'write one forward and backward pass of a document as JSON'),
    'graph': (True, 'explorer.graph.export:main', 'export the graph view of a document as JSON, SVG or PNG (the '
                                                   "window's layout) or DOT (Graphviz)"),
    'attention': (True, 'explorer.attention.export:main', 'export the attention of a document as CSV (scores, weights, grads), PNG or SVG'),
    'nudge': (False, 'engine.cli.commands:nudge_main', 'nudge one scalar of a recorded pass by ±h: new losses, numeric vs grad'),
    'gradcheck': (False, 'engine.cli.commands:gradcheck_main', 'check every parameter\'s gradient by central differences'),
    'provenance': (False, 'engine.cli.commands:provenance_main', "split a node's gradient into its terms (by use, by "
                                                         'prediction)'),
    'history': (False, 'engine.cli.commands:history_main', "one parameter's value, gradient and Adam state at every "
                                                   'step of a training history, as JSON'),
    'import': (True, 'engine.cli.commands:import_main', "read a PyTorch state_dict of the mini GPT and its vocabulary "
                                                        'into a checkpoint (needs the torch extra)'),
    'bench': (True, 'explorer.bench:main', 'print one JSON line of timings and memory'),
    'test': (True, 'main:run_tests', 'run the tests; extra arguments go to pytest'),
    APP: (True, 'explorer.app:main', 'open the app (--doc, --checkpoint, --open, --step, --select, --theme, --positions K, '
                                     '--size WxH, --screenshot: 1400x900 unless --size)'),
}
# The Debian/Ubuntu packages Qt 6 lists for Linux (xcb for a real window, EGL/GL, fonts, keyboard).
QT_SYSTEM_PACKAGES = [
    'libegl1', 'libgl1', 'libfontconfig1', 'libglib2.0-0', 'libdbus-1-3', 'libxkbcommon0',
    'libxkbcommon-x11-0', 'libx11-xcb1', 'libxcb-cursor0', 'libxcb-icccm4', 'libxcb-image0',
    'libxcb-keysyms1', 'libxcb-randr0', 'libxcb-render-util0', 'libxcb-shape0', 'libxcb-xinerama0',
    'libxcb-xkb1', 'libxcb-xfixes0', 'libxcb-sync1', 'libxcb-shm0',
]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (['-h'], ['--help']):
        print(usage())
        return 0
    name = argv[0] if argv and not argv[0].startswith('-') else APP
    if name not in COMMANDS:
        commands = ', '.join(c for c in COMMANDS if c is not APP)
        print(f"error: main.py: unknown command {name!r} (choose from {commands}, or none to open the app)",
              file=sys.stderr)
        return 2
    needs_venv, target, _ = COMMANDS[name]
    if (needs_venv or _needs_numpy(name, argv)) and not _in_venv():
        return _stoppable(lambda: _bootstrap(argv))
    return _stoppable(lambda: _function(target)(argv if name is APP else argv[1:]), QT_BASE if needs_venv else ())


def _needs_numpy(name, argv):
    """`train --backend numpy` (or torch) runs in .venv, where numpy is installed (the system python3 may not
    have it) and the torch extra goes."""
    if name != 'train':
        return False
    args = argv[1:]
    return any(a in ('--backend=numpy', '--backend=torch') or (a == '--backend' and args[i + 1:i + 2] in (['numpy'], ['torch']))
               for i, a in enumerate(args))


STOP_SIGNALS = tuple(getattr(signal, s) for s in ('SIGINT', 'SIGTERM') if hasattr(signal, s))
QT_BASE = ('PySide6',)  # shiboken, under PySide6, dies with a fatal error when a Ctrl-C interrupts its start


def _stoppable(call, hold=()):
    """call()'s exit code, or 128 + the signal when Ctrl-C (SIGINT) or SIGTERM stopped it: raised where the
    command is as KeyboardInterrupt or SystemExit, so a half-written file's temp file is removed and child
    processes end as the interpreter exits; no traceback, 'interrupted' on stderr for Ctrl-C. Whatever comes
    out of a stopped command is that stop (PySide turns an interrupted import into an ImportError). A second
    signal (the terminal's Ctrl-C and the launcher's copy of it) changes nothing; one the shell ignores stays
    ignored. The modules in `hold` are imported first with both signals held (pending, not lost). Run as a
    program, the handlers stay until the end: a late Ctrl-C never raises outside call()."""
    state = {'armed': True, 'stopped': None}

    def on_signal(signum, frame):
        if state['armed'] and state['stopped'] is None:
            state['stopped'] = signum
            raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(s, on_signal)
    try:
        if hasattr(signal, 'pthread_sigmask'):  # the launcher started us holding them: one may come now
            _import_held(hold)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        code = call()
        state['armed'] = False
    except BaseException:
        state['armed'] = False
        if state['stopped'] is None:
            raise
    if __name__ != '__main__':  # imported (tests): put the caller's handlers back
        for s, handler in previous.items():
            signal.signal(s, handler)
    if state['stopped'] is None:
        return code
    if state['stopped'] == signal.SIGINT:
        print('interrupted', file=sys.stderr, flush=True)
    return 128 + state['stopped']


def _import_held(modules):
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # the command says what is missing when it needs it


def usage():
    """`main.py --help`: the COMMANDS table as text."""
    lines = ['usage: python3 main.py [COMMAND] [ARGS]      python3 main.py COMMAND --help: its options', '']
    for name, (needs_venv, _, help_text) in COMMANDS.items():
        lines.append(f"  {name or '(none)':10} {'.venv' if needs_venv else '':6}{help_text}")
    lines += ['', '.venv: sets up .venv beside main.py on its first run; the others need only python3.']
    return '\n'.join(lines)


def _function(target):
    module, function = target.split(':')
    return globals()[function] if module == 'main' else getattr(importlib.import_module(module), function)


def run_tests(argv):
    """pytest with a test process per core, a test file's tests kept together (they share one window or
    one recording); `-n 0` in the arguments runs them in this one process."""
    return subprocess.call([sys.executable, '-m', 'pytest', '-n', 'auto', '--dist', 'loadfile', *argv], cwd=ROOT)


def _in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def _say(message):
    print(f'[setup] {message}', file=sys.stderr, flush=True)


def _run(cmd, **kwargs):
    _say(' '.join(str(c) for c in cmd))
    return subprocess.run(cmd, **kwargs).returncode == 0


def _as_root(cmd):
    """cmd as root: directly when we are root, with sudo when it needs no password, else None."""
    if hasattr(os, 'geteuid') and os.geteuid() == 0:
        return cmd
    if shutil.which('sudo') and subprocess.run(['sudo', '-n', 'true'], capture_output=True).returncode == 0:
        return ['sudo', '-n', *cmd]
    return None


def _apt_install(packages):
    missing = [p for p in packages
               if subprocess.run(['dpkg', '-s', p], capture_output=True).returncode != 0]
    if not missing or not shutil.which('apt-get'):
        return True
    update, install = _as_root(['apt-get', 'update', '-qq']), _as_root(['apt-get', 'install', '-y', '-qq', *missing])
    if install is None:
        _say('please install: sudo apt-get install ' + ' '.join(missing))
        return False
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    return _run(update, env=env) and _run(install, env=env)


def _python_in_venv():
    return VENV / ('Scripts/python.exe' if os.name == 'nt' else 'bin/python')


def _bootstrap(argv):
    python = _python_in_venv()
    if not python.exists():
        if not _run([sys.executable, '-m', 'venv', str(VENV)]):
            shutil.rmtree(VENV, ignore_errors=True)  # Debian ships venv without ensurepip
            minor = f'python{sys.version_info.major}.{sys.version_info.minor}-venv'
            if not (_apt_install([minor]) and _run([sys.executable, '-m', 'venv', str(VENV)])):
                _say('could not create .venv; install python3-venv and run this again')
                return 2
    stamp = VENV / '.installed'
    want = hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != want:
        if not _run([str(python), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check',
                     '-e', f'{ROOT}[test]'], cwd=ROOT):
            _say('pip could not install the project; see the messages above')
            return 2
        stamp.write_text(want)
    if sys.platform.startswith('linux') and not _qt_checked(python, want):
        _apt_install(QT_SYSTEM_PACKAGES)
    code = _run_child([str(python), str(ROOT / 'main.py'), *argv])  # in the user's folder: their paths
    if code not in (0, 2, 128 + signal.SIGINT, 128 + signal.SIGTERM):
        _forget(QT_CHECKED)  # Qt may be why: the next start looks again
    return code


def _forget(path):
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _run_child(cmd):
    """Run cmd (this program again, in .venv) and return its exit code (128 + N if a signal N ended it). The
    SIGINT and SIGTERM this launcher gets go to the child, which answers them as every command does
    (_stoppable); the launcher waits for it, so it never leaves the child behind. The child starts holding
    both signals until its handlers are in place, and on Linux gets SIGTERM when the launcher dies in any
    way, SIGKILL too (PR_SET_PDEATHSIG: the launcher has one thread, the one that starts the child)."""
    got, child = [], None

    def forward(signum, frame):
        got.append(signum)
        if child is not None:
            child.send_signal(signum)
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(s, forward)
    child = subprocess.Popen(cmd, preexec_fn=_child_setup(os.getpid()) if os.name == 'posix' else None)
    for signum in got:  # one that came while the child was being started
        child.send_signal(signum)
    code = child.wait()  # the handlers stay: after the child the launcher only exits, whatever comes
    return code if code >= 0 else 128 - code


def _child_setup(launcher_pid):
    """What the child does between fork and exec: hold SIGINT and SIGTERM (pending, not lost) and, on Linux,
    ask for SIGTERM when its parent dies; if the launcher is already gone, end at once."""
    prctl = None
    if sys.platform.startswith('linux'):
        try:
            import ctypes
            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            prctl = None
    PR_SET_PDEATHSIG = 1

    def setup():
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
            if os.getppid() != launcher_pid:
                os._exit(128 + signal.SIGTERM)
    return setup


def _qt_checked(python, install):
    """Whether Qt's libraries load here. Looking (_qt_loads) takes ~0.3 s, at every start it held the
    window back: an answer yes is kept (QT_CHECKED, naming the install it was found for) until the
    install changes or a command fails in a way a missing library could explain."""
    if QT_CHECKED.exists() and QT_CHECKED.read_text() == install:
        return True
    if not _qt_loads(python):
        return False
    try:
        QT_CHECKED.write_text(install)
    except OSError:
        pass  # a .venv we may not write to: we look at every start, as before
    return True


def _qt_loads(python):
    """Whether Qt's libraries and its window plugin find every system library they need."""
    probe = ('import PySide6, pathlib, subprocess, sys; q = pathlib.Path(PySide6.__file__).parent / "Qt";'
             'libs = ["plugins/platforms/libqxcb.so", "plugins/platforms/libqoffscreen.so"] + [f"lib/libQt6{m}.so.6"'
             ' for m in ("Core", "Gui", "Widgets", "Charts", "Svg", "OpenGL", "OpenGLWidgets", "XcbQpa")];'
             'out = subprocess.run(["ldd", *(str(q / l) for l in libs)], capture_output=True, text=True).stdout;'
             'sys.exit("not found" in out)')
    return subprocess.run([str(python), '-c', probe], capture_output=True).returncode == 0


if __name__ == '__main__':
    sys.exit(main())
