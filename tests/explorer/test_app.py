"""explorer/app.py: the command line of the explorer (its defaults, a repeatable --open, a bad option in
one line and exit 2 before Qt starts) and the first-paint report `bench` asks for."""

from engine.paths import DEFAULT_CHECKPOINT
from explorer import app


def test_the_defaults_are_emma_on_the_shipped_checkpoint():
    args = app.parse([])
    assert args.doc == 'emma' and args.checkpoint == str(DEFAULT_CHECKPOINT)
    assert args.screenshot is None and args.open == [] and args.step == 0 and args.theme is None


def test_open_repeats_and_the_options_are_read():
    args = app.parse(['--doc', 'ava', '--open', 'pos 0', '--open', 'pos 1 / mlp', '--step', '7', '--theme', 'dark',
                      '--select', 'n12'])
    assert args.doc == 'ava' and args.open == ['pos 0', 'pos 1 / mlp']
    assert args.step == 7 and args.theme == 'dark' and args.select == 'n12'


def test_a_bad_option_is_one_line_and_exit_2(capsys):
    assert app.main(['--theme', 'blue']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: main.py: ') and 'blue' in err and err.count('\n') == 1


def test_the_first_paint_is_reported_only_when_asked(tmp_path, monkeypatch):
    report = tmp_path / 'report'
    monkeypatch.delenv('MICROGPT_BENCH_REPORT', raising=False)
    app.report_first_paint()
    assert not report.exists()
    monkeypatch.setenv('MICROGPT_BENCH_REPORT', str(report))
    app.report_first_paint()
    when, rss_mb = map(float, report.read_text().split())
    assert when > 1.7e9 and rss_mb > 1  # a time since the epoch, this process's peak memory in MB
