"""fpt_core.book.accuracy_charts: the band is mean ± sample sd per epoch; the charts draw the
runs and epochs asked for."""

import doctest

import numpy as np
import pandas as pd
import pytest

from fpt_core.book import accuracy_charts
from fpt_core.book.accuracy_charts import (
    accuracy_band,
    accuracy_band_chart,
    accuracy_density_chart,
    density_epochs,
)


def frame(n_runs=4, n_epochs=3):
    rows = [(r, e, 0.1 * e + 0.01 * r) for r in range(n_runs) for e in range(n_epochs + 1)]
    return pd.DataFrame(rows, columns=["run", "epoch", "test_acc"])


def test_docstring_examples():
    res = doctest.testmod(accuracy_charts, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_band_is_mean_plus_minus_sample_sd():
    b = accuracy_band(frame())
    # runs 0..3 add 0, .01, .02, .03: mean .015, sample sd sqrt(sum((k - 1.5)^2) / 3) * .01
    sd = np.sqrt((2.25 + 0.25 + 0.25 + 2.25) / 3) * 0.01
    assert b["epoch"].tolist() == [0, 1, 2, 3]
    assert b["mean"].to_numpy() == pytest.approx(0.1 * np.arange(4) + 0.015)
    assert b["std"].to_numpy() == pytest.approx(np.full(4, sd))
    assert (b["hi"] - b["lo"]).to_numpy() == pytest.approx(np.full(4, 2 * sd))


def test_band_chart_draws_only_the_sampled_runs():
    spec = accuracy_band_chart(frame(), n_sample=2).to_dict()
    datasets = [d for d in spec["datasets"].values() if d and "run" in d[0]]
    assert len(datasets) == 1 and {r["run"] for r in datasets[0]} == {0, 1}


def test_density_epochs():
    assert density_epochs(120) == [12, 30, 60, 90, 120]
    assert density_epochs(30) == [3, 8, 15, 22, 30]  # round half to even: 7.5 → 8, 22.5 → 22
    assert density_epochs(2) == [1, 2]
    assert density_epochs(10, [0.5]) == [5]


def test_density_chart_keeps_the_asked_epochs():
    chart = accuracy_density_chart(frame(), [1, 3])
    assert sorted(set(chart.data["epoch"])) == [1, 3] and len(chart.data) == 8
