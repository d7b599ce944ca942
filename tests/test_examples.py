"""The README's own-loop example runs, and `fpt analyze` reads what it writes."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
from conftest import ROOT


def test_plain_loop_with_perturber_then_fpt_analyze(tmp_path):
    script = [sys.executable, str(ROOT / "examples" / "plain_loop.py")]
    small = ["--runs", "3", "--epochs", "6", "--samples", "600"]
    subprocess.run([*script, str(tmp_path / "plain"), *small], check=True, capture_output=True)
    subprocess.run([*script, str(tmp_path / "sp"), *small, "--tau", "2"], check=True,
                   capture_output=True)  # fmt: skip
    acc = np.array([pd.read_csv(f)["test_acc"] for f in sorted((tmp_path / "plain").glob("*.csv"))])
    assert acc.shape == (3, 6)
    sp = np.array([pd.read_csv(f)["test_acc"] for f in sorted((tmp_path / "sp").glob("*.csv"))])
    assert np.array_equal(sp[:, :2], acc[:, :2]) and not np.array_equal(sp, acc)  # same until τ
    target = float(np.median(acc.max(axis=1)))
    res = subprocess.run(
        [sys.executable, "-m", "fpt_core", "analyze", str(tmp_path / "plain"), "--target",
         str(target), "--perturbed", str(tmp_path / "sp"), "--tau0", "2", "--json",
         "--n-resamples", "20"], capture_output=True, text=True,
    )  # fmt: skip
    assert res.returncode in (0, 2), res.stderr
    if res.returncode == 0:
        out = json.loads(res.stdout)
        assert out["runs"] == 3 and "prediction" in out
    else:  # no perturbed run reached the target: the one-line error names it
        assert "--target" in res.stderr and res.stderr.count("\n") == 1
