"""explorer/panels/sampling.py: sampling in the window gives what the sample command prints, runs off the
UI thread, and lists the names it made."""

import io
import re
import threading

from engine import sampling as engine_sampling
from engine.cli.commands import main as cli_main
from engine.numbers import shown
from engine.paths import DEFAULT_CHECKPOINT
from engine.sampling import Settings, next_token_distributions, ranking
from explorer import theme
from explorer.panels.sampling import distribution_html


def test_sampling_reproduces_the_sample_command(window, qtbot):
    panel = window.sampling
    for seed, args in (('7', ['--seed', '7']), ('', [])):
        panel.seed.setText(seed)
        panel.count.setValue(5)
        with qtbot.waitSignal(panel.distribution_done, timeout=20000):  # the first sample's, shown once it is in
            with qtbot.waitSignal(panel.samples_done, timeout=20000):
                panel.generate()
        out = io.StringIO()
        assert cli_main(['sample', '--checkpoint', str(DEFAULT_CHECKPOINT), '--num-samples', '5', *args], out) == 0
        assert panel.names == re.findall(r'sample +\d+: (\S*)', out.getvalue())
    assert panel.list.currentRow() == 0
    text = panel.distribution.toPlainText()
    assert 'after BOS' in text and '◀' in text
    panel.seed.setText('x')
    panel.generate()
    assert 'whole number' in panel.problem.text()
    panel.seed.setText('')
    panel.list.setCurrentRow(1)
    with qtbot.waitSignal(window.session.view_changed, timeout=20000):
        panel.record_button.click()
    assert window.session.trace.doc == panel.names[1]


def test_sampling_runs_off_the_ui_thread_and_matches_the_cli(window, qtbot, monkeypatch):
    threads = []
    original = engine_sampling.sample

    def watched(*args, **kwargs):
        threads.append(threading.current_thread())
        return original(*args, **kwargs)
    monkeypatch.setattr(engine_sampling, 'sample', watched)
    panel = window.sampling
    panel.count.setValue(12)
    with qtbot.waitSignal(panel.samples_done, timeout=30000):
        panel.generate()
    assert len(threads) == 12 and all(t is not threading.main_thread() for t in threads)
    out = io.StringIO()
    monkeypatch.setattr(engine_sampling, 'sample', original)
    assert cli_main(['sample', '--checkpoint', str(DEFAULT_CHECKPOINT), '--num-samples', '12'], out) == 0
    assert panel.names == re.findall(r'sample +\d+: (\S*)', out.getvalue())
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == panel.names


def cli_names(*args):
    out = io.StringIO()
    assert cli_main(['sample', '--checkpoint', str(DEFAULT_CHECKPOINT), *args], out) == 0
    return re.findall(r'sample +\d+: (\S*)', out.getvalue())


def generate(panel, qtbot):
    with qtbot.waitSignal(panel.distribution_done, timeout=20000):
        with qtbot.waitSignal(panel.samples_done, timeout=20000):
            panel.generate()


def test_prompt_top_k_and_top_p_sample_as_the_command_does_and_the_bars_show_the_cut(window, qtbot):
    panel = window.sampling
    panel.seed.setText('3')
    panel.count.setValue(6)
    panel.prompt.setText('em')
    panel.top_k.setValue(4)
    panel.top_p.setValue(0.8)
    try:
        generate(panel, qtbot)
        assert panel.names == cli_names('--seed', '3', '--num-samples', '6', '--prompt', 'em', '--top-k', '4',
                                        '--top-p', '0.8')
        assert all(name.startswith('em') for name in panel.names)
        assert panel.status.text() == "6 samples, temperature 0.5, top-k 4, top-p 0.8, prompt 'em'."
        html = panel.distribution.toHtml()
        text = panel.distribution.toPlainText()
        assert 'the prompt gives e: not drawn' in text and 'the prompt gives m: not drawn' in text
        assert ' cut' in text and '→' in text and 'tokens kept' in text
        colors = theme.current()
        assert colors['bar_cut'] in html and colors['bar'] in html
    finally:
        panel.prompt.setText('')
        panel.top_k.setValue(0)
        panel.top_p.setValue(1.0)
        panel.seed.setText('')


def test_the_bars_grey_exactly_what_top_k_and_top_p_cut(window):
    model = window.session.model
    settings = Settings(top_k=3, top_p=0.9)
    steps = list(next_token_distributions(model, 'anna', settings=settings))
    html = distribution_html(model.tokenizer, 'anna', settings, steps, theme.current())
    tables = html.split('<table')[1:]
    assert len(tables) == len(steps) == 5
    for step, table in zip(steps, tables):
        kept = [i for i in ranking(step.probs) if step.kept[i] > 0]
        rows = re.findall(r'<tr( style="[^"]*")?><td><code>([^<]*)</code>.*?</tr>', table)
        shown_kept = [tok for style, tok in rows if not style]
        assert shown_kept == [model.tokenizer.token_text(i) for i in kept] and 1 <= len(kept) <= 3
        assert all('cut' in row for row in re.findall(r'<tr style=.*?</tr>', table))
        for i in kept:  # the renormalised probability of each kept token, as the sampler draws with it
            assert f'→ <b>{shown(step.kept[i])}</b>' in table
    plain = distribution_html(model.tokenizer, 'anna', Settings(), list(next_token_distributions(model, 'anna')),
                              theme.current())
    assert ' cut' not in plain and '→' not in plain  # without top-k/top-p nothing is cut or renormalised


def test_bad_input_is_one_sentence_beside_the_controls_and_changes_nothing(window, qtbot):
    panel = window.sampling
    panel.count.setValue(3)
    generate(panel, qtbot)
    names = list(panel.names)
    try:
        for prompt, says in (('emZ', "The prompt 'emZ' has 'Z', which is not in the vocabulary"),
                             ('a' * 16, 'shorten it to 15 or fewer.')):
            panel.prompt.setText(prompt)
            panel.generate()
            assert panel.problem.isVisibleTo(panel) and says in panel.problem.text()
            assert panel.names == names and panel.list.count() == 3 and panel.sampling is None
    finally:
        panel.prompt.setText('')
    generate(panel, qtbot)
    assert not panel.problem.isVisibleTo(panel)


def test_greedy_takes_the_most_likely_token_and_leaves_top_k_and_top_p_nothing_to_cut(window, qtbot):
    panel = window.sampling
    panel.top_k.setValue(5)
    panel.greedy.setChecked(True)
    try:
        assert not panel.top_k.isEnabled() and not panel.top_p.isEnabled()
        assert panel.settings().top_k is None and panel.settings().greedy
        panel.count.setValue(2)
        generate(panel, qtbot)
        assert panel.names == cli_names('--greedy', '--num-samples', '2')
        assert 'greedy' in panel.status.text()
    finally:
        panel.greedy.setChecked(False)
        panel.top_k.setValue(0)
    assert panel.top_k.isEnabled() and panel.top_p.isEnabled()


def test_a_text_models_spaces_and_line_ends_are_visible_and_recorded_as_they_are(window, qtbot, tmp_path):
    text = tmp_path / 'text.txt'
    text.write_text('the sea and the sun,\nthe moon and the stars.\n' * 8)
    out = tmp_path / 'text.json'
    assert cli_main(['train', '--text', str(text), '--steps', '20', '--num-samples', '0', '--n-embd', '8',
                     '--n-head', '2', '--block-size', '8', '--out', str(out)], io.StringIO()) == 0
    session = window.session
    session.load_checkpoint(out)
    qtbot.waitUntil(lambda: session.recording is None and session.checkpoint_path == out, timeout=20000)
    panel = window.sampling
    panel.prompt.setText('the ')
    panel.count.setValue(4)
    try:
        generate(panel, qtbot)
        assert all(name.startswith('the ') for name in panel.names)
        assert [panel.list.item(i).text() for i in range(4)] == [
            name.replace(' ', '␣').replace('\n', '⏎') for name in panel.names]
        text = panel.distribution.toPlainText()
        assert 'after ␣' in text or 'the prompt gives ␣' in text
        panel.list.setCurrentRow(2)
        panel.record_button.click()  # the text itself is recorded, not the signs it is shown with
        qtbot.waitUntil(lambda: session.recording is None and session.trace.doc == panel.names[2], timeout=20000)
    finally:
        panel.prompt.setText('')


def test_raised_among_the_first_columns_tabs_at_1280_by_720_it_is_whole(make_window, qtbot):
    """In All panels its tab shares ~130 px with Backprop's: raised, it grows to its whole height (its controls,
    the samples and the bars), the panel below keeping room."""
    win = make_window(1280, 720)
    panel = win.sampling
    win.docks['sampling_dock'].raise_()
    whole = lambda: panel.visibleRegion().boundingRect().height() >= panel.sizeHint().height() >= 300  # noqa: E731
    qtbot.waitUntil(whole, timeout=5000)
    assert win.attention_dock.height() >= 150


def test_narrow_the_samples_are_above_their_distribution_wide_beside_it(qtbot):
    from PySide6.QtCore import Qt
    from explorer.panels.sampling import NARROW, SamplingPanel

    class Session:
        model = checkpoint = None
    panel = SamplingPanel(Session())
    qtbot.addWidget(panel)
    panel.resize(NARROW - 100, 600)
    panel.show()
    qtbot.waitUntil(lambda: panel.split.orientation() == Qt.Vertical, timeout=3000)
    assert panel.list.width() > NARROW - 150  # a sample can be read whole
    panel.resize(NARROW + 300, 600)
    qtbot.waitUntil(lambda: panel.split.orientation() == Qt.Horizontal, timeout=3000)


def test_a_text_trained_model_says_why_its_samples_run_on():
    """The reviewer's mini GPT, trained on 64-character windows of names.txt, gave samples like 'en↵celan↵chasar…'."""
    import random
    from engine.model import GPTConfig, Model
    from engine.tokenizer import Tokenizer
    from explorer.panels.sampling import run_on_note
    names = Model.init(GPTConfig(), Tokenizer.from_docs(['emma', 'olivia']), random.Random(0))
    text = Model.init(GPTConfig(block_size=64), Tokenizer.from_docs(['emma\nolivia\n']), random.Random(0))
    assert run_on_note(names) == '' and run_on_note(None) == ''
    assert 'rarely draws BOS, so a sample runs to block_size (64 tokens)' in run_on_note(text)
