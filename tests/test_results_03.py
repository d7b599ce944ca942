"""Notebook 03 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/test_results_02.py for the conventions."""

import pytest
from results_helpers import inside, summary


def test_03_optimum_speedups_are_ratios_of_the_reported_means(tiny_book):
    s = summary(tiny_book, "03_optimal_perturbation")
    rows = s["protocols"]
    assert {r["protocol"] for r in rows} == set(s["params"]["protocols"]) == set(s["specs"])
    for r in rows:
        assert inside(r["tau_low"], r["tau_star"], r["tau_high"]), r
        assert 0 < r["tau_star"] <= s["params"]["epochs"]
        assert inside(r["mean_low"], r["mean_at_tau_star"], r["mean_high"]), r
        assert r["speedup"] == pytest.approx(
            s["unperturbed_mean_fpt"] / r["mean_at_tau_star"], rel=1e-9
        )
        assert r["speedup_is"] in ("estimate", "lower bound", "upper bound", "undetermined")
        assert 0 <= r["n_reached_tau0"] <= s["params"]["n_perturbed"]
        assert r["plateau_gain"] == pytest.approx(
            r["plateau_acc"] - s["unperturbed_plateau_acc"], abs=1e-12
        )
    # the best protocol has the smallest predicted mean first-passage time at its optimum
    best = min(rows, key=lambda r: r["mean_at_tau_star"])
    assert s["best_protocol"] == best["protocol"]
    # a full reset re-draws every weight: its plateau cannot beat the unperturbed one
    reset = next(r for r in rows if r["protocol"] == "reset")
    assert reset["plateau_gain"] < 0
