"""The ``fpt`` command on one's own logs: numbers from the library, clean failures."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from fpt_core.cli import main
from fpt_core.stats.fpt import first_passage, mean_fpt
from fpt_core.stats.logs import load_runs
from fpt_core.stats.median import median_fpt


def _logs(folder, rng, n=60, epochs=40, column="test_acc", drift=0.012):
    folder.mkdir()
    for i in range(n):
        acc = 0.5 + drift * np.arange(1, epochs + 1) + 0.05 * rng.standard_normal(epochs)
        pd.DataFrame({column: acc}).to_csv(folder / f"seed_{i}.csv", index=False)
    return folder


def test_analyze_reports_the_librarys_numbers_as_json(tmp_path, capsys):
    d = _logs(tmp_path / "runs", np.random.default_rng(0))
    assert main(["analyze", str(d), "--target", "0.8", "--json", "--n-resamples", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    log = load_runs(d)
    fp = first_passage(log.acc, 0.8, log.times)
    assert out["runs"] == 60 and out["censored"] == fp.n - fp.n_observed
    assert out["mean"]["value"] == pytest.approx(mean_fpt(fp, n_resamples=1).mean)
    assert out["median"]["value"] == median_fpt(fp, n_resamples=1).time
    assert out["survival"]["S"][-1] == pytest.approx(1 - fp.n_observed / fp.n)


def test_analyze_with_a_perturbed_ensemble_predicts_a_curve(tmp_path, capsys):
    rng = np.random.default_rng(1)
    d0, d1 = _logs(tmp_path / "u", rng), _logs(tmp_path / "p", rng, drift=0.02)
    args = ["analyze", str(d0), "--target", "0.85", "--perturbed", str(d1), "--tau0", "10"]
    assert main([*args, "--n-resamples", "50"]) == 0
    text = capsys.readouterr().out
    assert "predicted mean first-passage time" in text and "best τ" in text
    assert main([*args, "--n-resamples", "50", "--json", "--plot", str(tmp_path / "c.html")]) == 0
    out = json.loads(capsys.readouterr().out)
    p = out["prediction"]
    assert 0 <= out["logrank"]["pvalue"] <= 1 and out["logrank"]["statistic"] >= 0
    assert p["best_mean"] == min(p["mean"]) and (tmp_path / "c.html").stat().st_size > 1000


def test_analyze_reads_the_released_runs(capsys):
    args = ["analyze", str(ROOT / "data" / "meir2025"), "--target", "72", "--json"]
    assert main([*args, "--protocol", "s_and_p", "--tau0", "20", "--n-resamples", "100"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 1000 and out["censored"] == 293 and not out["mean"]["estimable"]
    assert out["median"]["value"] is not None and out["prediction"]["tau0"] == 20


@pytest.mark.parametrize(
    "args, needle",
    [
        (["/no/such/dir", "--target", "1"], "PATH '/no/such/dir' does not exist"),
        (["RUNS", "--target", "0.8", "--column", "val_acc"], "--column: none of ['val_acc']"),
        (["RUNS", "--target", "5"], "--target 5: no run in PATH reaches it"),
        (["RUNS", "--target", "0.8", "--tau0", "3"], "--tau0 goes with --perturbed"),
        (["RUNS", "--target", "0.8", "--perturbed", "RUNS", "--tau0", "99"], "--tau0 99"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(tmp_path, args, needle):
    d = _logs(tmp_path / "runs", np.random.default_rng(2), n=5)
    argv = [str(d) if a == "RUNS" else a for a in args]
    res = subprocess.run(
        [sys.executable, "-m", "fpt_core", "analyze", *argv], capture_output=True, text=True
    )
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and needle in res.stderr and "Traceback" not in res.stderr


def test_book_commands_need_a_checkout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "01_qss"]) == 2
    assert "checkout of fpt-book" in capsys.readouterr().err
