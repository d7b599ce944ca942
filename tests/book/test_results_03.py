"""Notebook 03 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/book/test_results_02.py for the conventions."""

import pytest
from results_helpers import inside, summary

VERDICTS = ("reproduced", "not reproduced", "not tested at this preset")


def test_03_reuses_the_runs_of_notebooks_01_and_02(tiny_book):
    s = summary(tiny_book, "03_optimal_perturbation")
    p = s["params"]
    # unperturbed runs (01/02) and shrink & perturb once + every τ0, every τ in sp_taus (02)
    shared = p["n_runs"] + (2 + len(p["sp_taus"])) * p["n_perturbed"]
    assert s["n_reused"] >= shared and s["n_trained"] + s["n_reused"] == s["n_runs"]


def test_03_optima_and_speedups_follow_from_the_reported_numbers(tiny_book):
    s = summary(tiny_book, "03_optimal_perturbation")
    p, h = s["params"], s["horizon"]
    rows = {r["protocol"]: r for r in s["protocols"]}
    assert set(rows) == set(p["protocols"]) and h == p["epochs"]
    assert inside(s["unperturbed_restricted_low"], s["unperturbed_restricted_mean"],
                  s["unperturbed_restricted_high"])  # fmt: skip
    for name, r in rows.items():
        if r["speedup"] is None:
            continue
        assert inside(r["tau_low"], r["tau_star"], r["tau_high"]), r
        assert inside(r["grid_low"], r["tau_star"], r["grid_high"]), r
        if name == "reset":  # exact for every τ up to the horizon: no premise
            assert r["grid_high"] == h
        else:  # the premise (τ ≥ t_relax) and the law of T_p, seen until h − τ0
            assert r["grid_low"] >= s["t_relax"] and r["grid_high"] <= h - s["tau0"]
        assert r["edge"] == (
            "lower" if r["tau_star"] == r["grid_low"]
            else "upper" if r["tau_star"] == r["grid_high"] else None
        )  # fmt: skip
        if r["tau_star_interior"]:
            assert r["edge"] is None and r["rise_left_low"] > 0 and r["rise_right_low"] > 0
        assert inside(r["mean_low"], r["mean_at_tau_star"], r["mean_high"]), r
        assert inside(r["restricted_low"], r["restricted_mean"], r["restricted_high"]), r
        assert 0 < r["restricted_mean"] <= h and 0 <= r["unreached"] <= 1
        # the speedup is the ratio of the two restricted means, inside its own interval
        assert r["speedup"] == pytest.approx(
            s["unperturbed_restricted_mean"] / r["restricted_mean"], rel=1e-9
        )
        assert inside(r["speedup_low"], r["speedup"], r["speedup_high"]), r
        if name == "reset" and r["tau_star"] >= h:  # no restart before the horizon
            assert r["speedup"] == pytest.approx(1.0, rel=1e-12)
    assert rows.get("warm_restart", {}).get("effect", "learning-rate schedule") == (
        "learning-rate schedule"
    )


def test_03_ranking_and_claims_are_consistent(tiny_book):
    s = summary(tiny_book, "03_optimal_perturbation")
    beats = s["ranking"]
    for a, losers in beats.items():
        for b in losers:  # strictly ordered: never both ways, and the winner has the smaller mean
            assert a not in beats[b]
            ra = next(r for r in s["protocols"] if r["protocol"] == a)
            rb = next(r for r in s["protocols"] if r["protocol"] == b)
            assert ra["restricted_mean"] < rb["restricted_mean"]
    winners = [a for a, b in beats.items() if len(beats) > 1 and len(b) == len(beats) - 1]
    assert s["best_protocol"] == (winners[0] if winners else None)
    claims = s["claims"]
    assert len(claims) >= 2 and all(c["verdict"] in VERDICTS for c in claims)
    sp = next(r for r in s["protocols"] if r["protocol"] == "shrink_perturb")
    # an optimum exists if brute force finds one (no premise needed) or the prediction does
    # inside its premise
    bf = s["brute_force_optimum"]
    rows = {r["tau"]: r for r in s["brute_force"]}
    assert rows[bf["tau"]]["measured"] == min(r["measured"] for r in rows.values())
    above = bf["above_left"] + bf["above_right"]
    assert all(rows[t]["measured"] > rows[bf["tau"]]["measured"] for t in above)
    assert all(t < bf["tau"] for t in bf["above_left"]) and all(
        t > bf["tau"] for t in bf["above_right"]
    )
    assert bf["interior"] == bool(bf["above_left"] and bf["above_right"])
    if bf["interior"] or (s["premise"] and sp["speedup"] is not None and sp["tau_star_interior"]):
        assert claims[0]["verdict"] == "reproduced"
    if not s["premise"]:  # the criterion is not decided outside the premise
        assert claims[1]["verdict"] == "not tested at this preset"
    rc = s["reset_check"]
    if rc is not None:
        assert inside(rc["pred_low"], rc["predicted"], rc["pred_high"])
        assert inside(rc["meas_low"], rc["measured"], rc["meas_high"])
        assert rc["rel_error"] == pytest.approx(rc["predicted"] / rc["measured"] - 1, rel=1e-9)
        verdict = claims[2]["verdict"]
        if rc["measured_censored"] > 0.05:
            assert verdict == "not tested at this preset"
        else:
            assert verdict == ("reproduced" if rc["consistent"] else "not reproduced")
