"""explorer.panels.training with the optional PyTorch extra (issue 24): the panel offers PyTorch where it is
installed, and a run trained with it is numpy's run (to 1e-10 in float64), saved in the same checkpoint format.
Run by .ci/run's second pass, after `pip install -e '.[torch]'`; skipped without torch."""

import pytest

from explorer.panels import training
from tests.explorer.panels.test_training import dataset  # noqa: F401  the fixture

torch = pytest.importorskip('torch', reason="the torch backend's tests need PyTorch: .venv/bin/pip install -e '.[torch]'")


def test_the_panel_offers_pytorch_only_where_it_is_installed(monkeypatch):
    import importlib.util
    assert training.engines()[-1][1] == 'torch'
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: None)
    assert [name for _, name in training.engines()] == ['scalar', 'numpy']


def test_pytorch_in_the_panel_trains_numpys_run(window, qtbot, dataset):  # noqa: F811
    panel, s = window.training, window.session
    assert panel.set_dataset(str(dataset))
    panel.fields['steps'].setValue(30)
    weights = {}
    for backend in ('numpy', 'torch'):
        panel.backend.setCurrentIndex(panel.backend.findData(backend))
        if backend == 'torch':
            assert 'with PyTorch in float64' in panel.estimate.text()
        s.unsaved = False  # the run before: no "save it first?" box
        panel.start()
        qtbot.waitUntil(lambda: panel.run is None, timeout=120000)
        ckpt = s.checkpoint
        assert ckpt.step == 30 and (ckpt.history_file is None) == (backend == 'torch')  # numpy keeps one
        assert window.runs.runs[-1].name.endswith(f'{backend})')
        weights[backend] = [p.data for p in ckpt.model.params]
    assert len(weights['torch']) == len(weights['numpy'])
    assert all(abs(a - b) <= 1e-10 * max(1.0, abs(b)) for a, b in zip(weights['torch'], weights['numpy']))
    assert weights['torch'] != weights['numpy']  # summed in another order: PyTorch did train it, not numpy
    panel.backend.setCurrentIndex(0)
