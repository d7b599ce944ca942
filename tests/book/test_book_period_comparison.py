"""fpt_core.book.period_comparison: the held-out table, the prediction chart and the survival
frames carry the numbers they are given."""

import doctest
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fpt_core.book import period_comparison
from fpt_core.book.period_comparison import (
    held_out_table,
    prediction_chart,
    survival_comparison_chart,
    survival_frames,
)
from fpt_core.stats.fpt import FirstPassage

ROW = dict(predicted=23.4, pred_low=22.5, pred_high=24.3, measured=22.6, meas_low=21.8,
           meas_high=23.5, rel_error=0.0354, consistent=True, resolution=0.055,
           recipe_predicted=23.6, recipe_low=22.6, recipe_high=24.6, recipe_rel_error=-0.0426,
           recipe_consistent=False)  # fmt: skip
RES = pd.DataFrame([
    {**ROW, "tau": 30.0, "role": "tau0"},
    {**ROW, "tau": 35.0, "role": "held out"},
    {**ROW, "tau": 45.0, "role": "held out", "consistent": False, "rel_error": -0.2},
])  # fmt: skip


def test_docstring_examples():
    res = doctest.testmod(period_comparison, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_held_out_table_lists_only_held_out_periods():
    lines = held_out_table(RES).strip().splitlines()
    assert len(lines) == 4  # head, rule, two periods
    assert lines[2] == ("| 35 | 23.40 (22.50–24.30) | 22.60 (21.80–23.50) | +3.5% | consistent "
                        "| ±5.5% | -4.3% | differs |")  # fmt: skip
    assert lines[3].startswith("| 45 |") and "| -20.0% | differs |" in lines[3]


def test_prediction_chart_points_and_curve():
    curve = SimpleNamespace(taus=np.array([20.0, 40, 60]), mean=np.array([24.0, 25, 26]),
                            low=np.array([23.0, 24, 25]), high=np.array([25.0, 26, 27]),
                            tau0=30.0)  # fmt: skip
    spec = prediction_chart(RES, curve, baseline=28.6, horizon=120).to_dict()
    data = list(spec["datasets"].values())
    points = next(d for d in data if d and "kind" in d[0])
    assert len(points) == 9  # three kinds × three periods
    measured = [p for p in points if p["kind"] == "measured"]
    assert [p["x"] for p in measured] == [30.0, 35.0, 45.0] and measured[0]["y"] == 22.6
    renewal = [p["x"] for p in points if p["kind"] == "renewal from τ0"]
    assert renewal == pytest.approx([29.2, 34.2, 44.2])  # shifted left to stay readable
    assert any(d == [{"y": 28.6}] for d in data)  # the unperturbed mean
    assert spec["title"] == "E[min(T_τ, 120)]: measured vs predicted from τ0 = 30"


def fp(times, observed, horizon=4.0):
    return FirstPassage(np.array(times, float), np.array(observed), horizon)


def test_survival_frames_measured_is_kaplan_meier_and_hits_are_observed_times():
    measured = fp([1, 2, 3, 4], [True, True, True, False])
    surv, hits = survival_frames(measured, measured, 2.0, {2.0: measured, 3.0: measured}, 4.0)
    assert set(surv["τ"]) == {"τ = 2 (τ0)", "τ = 3"}
    km = surv[(surv.source == "measured") & (surv["τ"] == "τ = 3")]
    assert km["t"].tolist() == [0, 1, 2, 3, 4] and km["S"].tolist() == [1, 0.75, 0.5, 0.25, 0.25]
    assert hits[hits["τ"] == "τ = 3"]["fpt"].tolist() == [1, 2, 3]
    predicted = surv[surv.source == "predicted"]
    assert predicted["S"].between(0, 1).all() and len(predicted) > 0


def test_survival_chart_has_curves_over_a_histogram():
    measured = fp([1, 2, 3, 4], [True, True, True, False])
    spec = survival_comparison_chart(measured, measured, 2.0, {2.0: measured}, 4.0).to_dict()
    assert len(spec["vconcat"]) == 2
    assert spec["title"] == "Survival, predicted (dashed) vs measured (solid)"
