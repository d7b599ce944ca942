"""fpt_core.book.period_curve_chart: curves, optima and brute-force points of the chart."""

import doctest
from types import SimpleNamespace as NS

import numpy as np

from fpt_core.book import period_curve_chart as pcc
from fpt_core.stats.optimum import ProtocolOptimum


def test_docstring_examples_run():
    res = doctest.testmod(pcc, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_curves_are_cut_and_optima_collected():
    taus = np.arange(1.0, 5.0)
    opt = NS(tau=2.0, mean=1.0)
    r = ProtocolOptimum(taus, np.array([5.0, 1.0, 2.0, 50.0]), taus * 0, taus, taus > 1, opt, None)
    curves, stars = pcc.period_curves({"a": r, "b": r}, cutoff=10.0)
    assert curves["tau"].tolist() == [1.0, 2.0, 3.0] * 2
    assert curves["allowed"].tolist() == [False, True, True] * 2
    assert stars.to_dict("records") == [{"protocol": "a", "tau": 2.0, "mean": 1.0},
                                        {"protocol": "b", "tau": 2.0, "mean": 1.0}]  # fmt: skip


def test_points_and_the_chart():
    periods = [NS(tau=t, measured=NS(mean=t, low=t - 1, high=t + 1)) for t in (30.0, 45.0)]
    pts = pcc.brute_force_points(periods, None)
    assert [p["y"] for p in pts] == [30.0, 45.0] and pts[0]["lo"] == 29.0
    taus = np.arange(1.0, 4.0)
    r = ProtocolOptimum(taus, taus, taus, taus, taus > 0, None, None)
    spec = pcc.period_curve_chart({"reset": r}, pts, 2.0).to_dict()
    rule = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rule")
    assert spec["datasets"][rule["data"]["name"]] == [{"y": 2.0}]
    assert spec["title"] == "Predicted mean first-passage time under periodic perturbation"
