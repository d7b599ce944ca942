"""Notebook 06 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/book/test_results_02.py for the conventions."""

import math

import pytest
from results_helpers import inside, summary
from scipy import stats

from fpt_core.book.claims import VERDICTS
from fpt_core.stats.paired import improvement_verdict


def test_06_tempbalance_changes_training_and_reports_consistent_statistics(tiny_book):
    s = summary(tiny_book, "06_temperature_balance")
    n = s["params"]["n_runs"]
    for arm in ("SGD", "TempBalance"):
        f = s["fpt"][arm]
        assert 0 < f["n_reached"] <= f["n"] == n
        assert inside(f["mean_fpt_low"], f["mean_fpt"], f["mean_fpt_high"]), arm
        assert 0 < f["mean_fpt"] <= s["params"]["epochs"]
        alphas = s["final_alpha_mean"][arm].values()
        assert all(1.0 < a < 10.0 for a in alphas), (arm, alphas)
    # paired: the mean difference equals the difference of the arm means
    diff = s["plateau"]["TempBalance"]["mean"] - s["plateau"]["SGD"]["mean"]
    assert s["plateau_diff_tb_minus_sgd"] == pytest.approx(diff, abs=1e-12)
    lo, hi = s["plateau_diff_ci95"]
    assert lo < diff < hi and 0 <= s["plateau_diff_pvalue"] <= 1
    # the CI is the paired t interval of the recorded SD
    hw = stats.t.ppf(0.975, n - 1) * s["plateau_diff_sd"] / math.sqrt(n)
    assert (hi - lo) / 2 == pytest.approx(hw, rel=1e-9)
    assert s["plateau_verdict"] == improvement_verdict(lo, hi, s["params"]["margin"])
    # TempBalance's layer-wise learning rates act: the two arms do not train identically
    a_sgd, a_tb = s["final_alpha_mean"]["SGD"], s["final_alpha_mean"]["TempBalance"]
    assert a_sgd.keys() == a_tb.keys()
    assert max(abs(a_sgd[k] - a_tb[k]) for k in a_sgd) > 1e-4
    assert abs(diff) > 0 and s["plateau_diff_sd"] > 0


def test_06_design_has_something_to_balance_and_farms_uses_subwindows(tiny_book):
    s = summary(tiny_book, "06_temperature_balance")
    assert s["n_tuned_layers"] >= 4  # the MLP has 4 tuned layers of 4 shapes
    assert len({tuple(v) for v in s["tuned_layers"].values()}) == s["n_tuned_layers"]
    # α spread over the Hill SE: measured 3.8 at tiny; ≤ 1 would make the assignment noise
    assert s["alpha_spread_over_hill_se"] > 2
    # FARMS on windows smaller than the matrix differs from Hill (it equalled it with one window)
    assert s["median_abs_farms_minus_hill"] > 0.05
    # the aspect-ratio demo: Hill grows with Q (MP: ≈ +2.3 from Q = 1 to 8), FARMS does not
    rnd = s["aspect_ratio_bias"]["random"]
    assert 1.5 < rnd["hill_change"] < 3.5
    assert abs(rnd["farms_change"]) < 0.2
    # training lowers α: every tuned layer's mean change is negative (measured −0.08 … −1.2)
    assert all(v[0] < 0 for v in s["alpha_drop"].values())


def test_06_claims_rows_follow_from_the_numbers(tiny_book):
    s = summary(tiny_book, "06_temperature_balance")
    rows = s["claims"]
    assert len(rows) == 5 and all(r["verdict"] in VERDICTS for r in rows)
    tb = [r for r in rows if "improves test accuracy" in r["claim"]]
    assert len(tb) == 1 and tb[0]["verdict"] == s["plateau_verdict"]
    assert f"{s['plateau_diff_tb_minus_sgd']:+.4f}" in tb[0]["measured"]
    farms = [r for r in rows if r["claim"].startswith("FARMS")]
    verdicts = {b["kind"]: b["verdict"] for b in s["aspect_ratio_bias"].values()}
    assert [r["verdict"] for r in farms] == [verdicts["random"], verdicts["trained"]]
    band = [r for r in rows if r["claim"].startswith("Well-trained layers")]
    assert len(band) == 1
    gap = s["fit_gap"]
    assert s["band_premise_ok"] == (gap["train_loss"] >= 0.1 * gap["test_loss"])
    if not s["band_premise_ok"]:
        assert band[0]["verdict"] == "not tested at this preset"
