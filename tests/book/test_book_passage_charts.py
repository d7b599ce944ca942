"""fpt_core.book.passage_charts: each chart encodes the columns it is given."""

import numpy as np
import pandas as pd

from fpt_core.book import passage_charts as charts
from fpt_core.stats.fpt import first_passage, hazard, survival
from fpt_core.stats.qss import ks_relaxation


def test_ks_chart_has_the_pvalues_and_alpha():
    acc = np.random.default_rng(0).normal(size=(40, 8))
    ks = ks_relaxation(acc, np.arange(1.0, 9.0))
    spec = charts.ks_pvalue_chart(ks, 0.01).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert f"epoch {ks.reference_time:g}" in spec["title"] and "α = 0.01" in spec["title"]


def test_survival_hazard_and_prediction_charts():
    fp = first_passage(np.eye(5), 1.0, np.arange(1.0, 6.0))
    spec = charts.survival_hazard_chart(survival(fp), hazard(fp)).to_dict()
    assert [c["title"] for c in spec["hconcat"]] == ["Survival S(t)", "Hazard h(t)"]
    df = pd.DataFrame({"protocol": ["p", "p"], "tau": [1, 2], "runs": [3, 3],
                       "measured": [5.0, 4.0], "meas_low": [4.0, 3.0], "meas_high": [6.0, 5.0],
                       "predicted": [5.5, 4.0]})  # fmt: skip
    spec = charts.prediction_chart(df, 20).to_dict()
    assert "τ0 = 20" in spec["facet"]["column"]["title"]
    fields = {lay["encoding"]["y"]["field"] for lay in spec["spec"]["layer"]}
    assert fields == {"meas_low", "measured", "predicted"}


def test_matrix_and_scan_charts():
    mat = pd.DataFrame({"protocol": ["p"], "tau0": [1], "tau": [2], "rel_error": [0.1]})
    spec = charts.tau0_matrix_chart(mat).to_dict()
    assert spec["spec"]["encoding"]["color"]["scale"]["domain"] == [-0.3, 0.3]
    sr = pd.DataFrame({"K": [1, 2], "mean": [3.0, 2.0], "lo": [2.0, 1.0], "hi": [4.0, 3.0],
                       "n": [5, 5]})  # fmt: skip
    spec = charts.scanned_mean_chart(sr, "scan").to_dict()
    assert spec["title"] == "scan" and spec["layer"][0]["encoding"]["y2"]["field"] == "hi"


def test_docstring_examples():
    import doctest

    import fpt_core.book.passage_charts as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
