import json

import numpy as np
import pytest

from fpt_core.book import presets, report


def test_write_summary_turns_numpy_and_nonfinite_into_json(tmp_path):
    path = report.write_summary(
        tmp_path / "x" / "s.json",
        {"a": np.float32(0.5), "b": np.arange(3), "c": float("nan"), "d": {"e": np.inf}},
    )
    assert json.loads(path.read_text()) == {"a": 0.5, "b": [0, 1, 2], "c": None, "d": {"e": None}}


def test_provenance_html_lists_what_a_reader_needs():
    summary = {
        "preset": "tiny",
        "params": {"lr": 0.1},
        "n_trained": 3,
        "n_reused": 5,
        "wall_time_s": 12.25,
        "provenance": report.provenance("cpu"),
    }
    html = report.provenance_html(summary)
    assert html.startswith("<details") and html.endswith("</details>")
    for needle in ("tiny", "torch", "git commit", "12.2 s", "3 / 5", '"lr": 0.1'):
        assert needle in html


def test_presets_resolve():
    table = {"tiny": {"n": 2, "lr": 0.1}, "default": {"n": 8, "lr": 0.1}}
    assert presets.resolve(table, "tiny", n=None, lr=0.2) == {"n": 2, "lr": 0.2, "preset": "tiny"}
    with pytest.raises(ValueError, match="preset='huge' is unknown"):
        presets.resolve(table, "huge")
    with pytest.raises(ValueError, match="'epochs' is not a knob"):
        presets.resolve(table, "tiny", epochs=3)


def test_every_notebook_has_its_presets_in_the_one_presets_file(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    stems = sorted(p.stem for p in (root / "notebooks").glob("[0-9]*.py"))
    for stem in stems:
        table = presets.load(stem, root / "notebooks" / "presets.yml")
        assert list(table) == ["tiny", "default", "paper"]
        assert table["tiny"].keys() == table["default"].keys() == table["paper"].keys()
    # the shared bases are merged in (YAML anchors), not left as keys
    assert presets.load("01_qss")["default"]["dataset"] == "mnist1d"
    assert "<<" not in presets.load("01_qss")["paper"]
    with pytest.raises(ValueError, match="stem='99_nothing'"):
        presets.load("99_nothing")
    bad = tmp_path / "p.yml"
    bad.write_text("x:\n  tiny: {a: 1}\n  default: {a: 2}\n  paper: {b: 3}\n")
    with pytest.raises(ValueError, match="same knobs"):
        presets.load("x", bad)
    bad.write_text("x:\n  tiny: {a: 1}\n  default: {a: 2}\n")
    with pytest.raises(ValueError, match="must be"):
        presets.load("x", bad)


def test_ensemble_counts_sum_every_ensemble():
    from types import SimpleNamespace as NS

    ens = [NS(n_runs=3, n_trained=3, n_reused=0, n_diverged=1)] * 2
    assert report.ensemble_counts(ens) == dict(n_runs=6, n_trained=6, n_reused=0, n_diverged=2)
    assert report.ensemble_counts([]) == dict(n_runs=0, n_trained=0, n_reused=0, n_diverged=0)
