"""Notebook 02 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

Each notebook's headline numbers at the `tiny` preset, against bounds a broken pipeline misses.

The notebooks are executed once per session by the ``tiny_book`` fixture (papermill, then the
book build). These checks hold by construction (an in-sample prediction reproduces itself, a
speedup is a ratio of two reported means, an interval contains its estimate) or follow from the
theory each page tests, with margins measured on this preset; a protocol or estimator that is
silently broken upstream moves them outside."""

import pytest
from results_helpers import inside, summary


def test_02_verdict_follows_from_the_premise_and_the_comparisons(tiny_book):
    s = summary(tiny_book, "02_single_frequency")
    p = s["params"]
    # the unperturbed ensemble of notebook 01 (same configuration) is reused from the store
    assert s["n_reused"] >= p["n_runs"] and s["n_trained"] + s["n_reused"] == s["n_runs"]
    assert 0 <= s["unperturbed_censored"] < 1 and s["cv_lower_bound_low"] <= s["cv_lower_bound"]
    rows = {r["tau"]: r for r in s["per_tau"]}
    assert sorted(rows) == sorted([s["tau0"], *p["taus"]]) and rows[s["tau0"]]["role"] == "tau0"
    z = 1.959963984540054
    for r in rows.values():
        assert inside(r["pred_low"], r["predicted"], r["pred_high"]), r
        assert inside(r["meas_low"], r["measured"], r["meas_high"]), r
        assert r["rel_error"] == pytest.approx(r["predicted"] / r["measured"] - 1, rel=1e-9)
        assert r["consistent"] == (abs(r["z"]) < z) and r["resolution"] > 0
        assert r["in_qss"] == (r["tau"] >= s["t_relax"]) and 0 <= r["censored"] <= 1
        # restricted means never exceed the horizon
        assert 0 < r["predicted"] <= p["epochs"] and 0 < r["measured"] <= p["epochs"]
    assert s["perturbed_censored_max"] == max(r["censored"] for r in rows.values())
    assert s["premise"] == (not s["premise_failures"])
    held = [r for r in rows.values() if r["role"] == "held out"]
    expected = (
        "not tested at this preset"
        if not s["premise"]
        else "reproduced"
        if all(r["consistent"] for r in held)
        else "not reproduced"
    )
    assert s["verdict"] == expected
    if any(not r["in_qss"] for r in held) or s["tau0"] < s["t_relax"]:
        assert not s["premise"]
    if s["tp_logrank_pvalue"] < 0.05:
        assert not s["premise"]
    sweep = {r["target"]: r for r in s["sweep"]}
    assert s["target"] in sweep and sweep[s["target"]]["verdict"] == s["verdict"]
    # censoring can only grow with the target (the same runs, a higher bar)
    cens = [sweep[a]["unperturbed censored"] for a in sorted(sweep)]
    assert cens == sorted(cens)
