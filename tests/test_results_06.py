"""Notebook 06 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/test_results_02.py for the conventions."""

import pytest
from results_helpers import inside, summary


def test_06_tempbalance_changes_training_and_reports_consistent_statistics(tiny_book):
    s = summary(tiny_book, "06_temperature_balance")
    for arm in ("SGD", "TempBalance"):
        f = s["fpt"][arm]
        assert 0 < f["n_reached"] <= f["n"] == s["params"]["n_runs"]
        assert inside(f["mean_fpt_low"], f["mean_fpt"], f["mean_fpt_high"]), arm
        assert 0 < f["mean_fpt"] <= s["params"]["epochs"]
        alphas = s["final_alpha_mean"][arm].values()
        assert all(1.0 < a < 10.0 for a in alphas), (arm, alphas)
    diff = s["plateau"]["TempBalance"]["mean"] - s["plateau"]["SGD"]["mean"]
    assert s["plateau_diff_tb_minus_sgd"] == pytest.approx(diff, abs=1e-12)
    lo, hi = s["plateau_diff_ci95"]
    assert lo < diff < hi and 0 <= s["plateau_welch_pvalue"] <= 1
    assert 0 <= s["logrank_pvalue"] <= 1
    # TempBalance's layer-wise learning rates act: the two arms do not train identically
    a_sgd, a_tb = s["final_alpha_mean"]["SGD"], s["final_alpha_mean"]["TempBalance"]
    assert a_sgd.keys() == a_tb.keys()
    assert max(abs(a_sgd[k] - a_tb[k]) for k in a_sgd) > 1e-4
    assert abs(diff) > 0
