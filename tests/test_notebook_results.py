"""Each notebook's headline numbers at the `tiny` preset, against bounds a broken pipeline misses.

The notebooks are executed once per session by the ``tiny_book`` fixture (papermill, then the
book build). These checks hold by construction (an in-sample prediction reproduces itself, a
speedup is a ratio of two reported means, an interval contains its estimate) or follow from the
theory each page tests, with margins measured on this preset; a protocol or estimator that is
silently broken upstream moves them outside.
"""

import json
import math
from pathlib import Path

import pytest


def _summary(root: Path, stem: str) -> dict:
    return json.loads((root / "book" / "executed" / f"{stem}.summary.json").read_text())


def _inside(low: float, x: float, high: float) -> bool:
    return low - 1e-12 <= x <= high + 1e-12


def test_02_verdict_follows_from_the_premise_and_the_comparisons(tiny_book):
    s = _summary(tiny_book, "02_single_frequency")
    p = s["params"]
    # the unperturbed ensemble of notebook 01 (same configuration) is reused from the store
    assert s["n_reused"] >= p["n_runs"] and s["n_trained"] + s["n_reused"] == s["n_runs"]
    assert 0 <= s["unperturbed_censored"] < 1 and s["cv_lower_bound_low"] <= s["cv_lower_bound"]
    rows = {r["tau"]: r for r in s["per_tau"]}
    assert sorted(rows) == sorted([s["tau0"], *p["taus"]]) and rows[s["tau0"]]["role"] == "tau0"
    z = 1.959963984540054
    for r in rows.values():
        assert _inside(r["pred_low"], r["predicted"], r["pred_high"]), r
        assert _inside(r["meas_low"], r["measured"], r["meas_high"]), r
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


def test_03_optimum_speedups_are_ratios_of_the_reported_means(tiny_book):
    s = _summary(tiny_book, "03_optimal_perturbation")
    rows = s["protocols"]
    assert {r["protocol"] for r in rows} == set(s["params"]["protocols"]) == set(s["specs"])
    for r in rows:
        assert _inside(r["tau_low"], r["tau_star"], r["tau_high"]), r
        assert 0 < r["tau_star"] <= s["params"]["epochs"]
        assert _inside(r["mean_low"], r["mean_at_tau_star"], r["mean_high"]), r
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


def test_04_sgworld_beats_sgld_and_matches_its_theory(tiny_book):
    s = _summary(tiny_book, "04_sgworld_vs_sgld")
    per = s["errors_per_lr"]
    assert set(per) == {"SGLD", "SGWORLD"} and len(per["SGLD"]) == s["params"]["n_lr"]
    for sampler, rows in per.items():
        for lr, r in rows.items():
            # the control-variate estimate agrees with the linear theory within 4 SE
            assert abs(r["kl_coupled"] - r["kl_theory"]) < 4 * r["kl_coupled_se"], (sampler, lr)
            assert r["kl_coupled"] > 0 and r["kl_coupled_se"] > 0
    smallest = min(per["SGLD"], key=float)
    a, b = per["SGLD"][smallest], per["SGWORLD"][smallest]
    gap = a["kl_coupled"] - b["kl_coupled"]
    assert gap > 2 * math.hypot(a["kl_coupled_se"], b["kl_coupled_se"])
    assert s["kl_ratio_sgld_over_sgworld_smallest_lr"] - 2 * s["kl_ratio_se"] > 1
    # SGWORLD's error falls faster with the step size than SGLD's
    diff = s["slope_kl_sgworld"] - s["slope_kl_sgld"]
    assert diff > 3 * math.hypot(s["slope_kl_sgworld_se"], s["slope_kl_sgld_se"])
    assert s["slope_kl_sgld"] > 1


def test_05_entropy_production_is_additive_and_covariance_matches_theory(tiny_book):
    s = _summary(tiny_book, "05_out_of_equilibrium")
    for policy in ("with replacement", "without replacement"):
        ep = {int(k): v for k, v in s["ep_mean_measured"][policy].items()}
        assert ep[1] > 0
        for k, v in ep.items():  # windows of k steps: ⟨σ^(k)⟩ = k⟨σ⟩ in a stationary state
            assert v == pytest.approx(k * ep[1], rel=0.03), (policy, k)
        for k, v in s["ift"][policy].items():
            assert abs(v - 1) < 0.05 and s["ift_se"][policy][k] > 0, (policy, k)
        ratio = ep[1] / s["ep_mean_predicted_chain"][policy]["1"]
        assert 0.3 < ratio < 3, (policy, ratio)
        assert s["covariance_rel_error"][policy] < 0.15, policy
        assert s["irreversibility"][policy] > 0
    # without replacement the fluctuation theorem holds within 3 of its standard errors
    for k, v in s["ift"]["without replacement"].items():
        assert abs(v - 1) < 3 * s["ift_se"]["without replacement"][k], k


def test_06_tempbalance_changes_training_and_reports_consistent_statistics(tiny_book):
    s = _summary(tiny_book, "06_temperature_balance")
    for arm in ("SGD", "TempBalance"):
        f = s["fpt"][arm]
        assert 0 < f["n_reached"] <= f["n"] == s["params"]["n_runs"]
        assert _inside(f["mean_fpt_low"], f["mean_fpt"], f["mean_fpt_high"]), arm
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


def test_07_phases_follow_from_the_measured_exponents(tiny_book):
    s = _summary(tiny_book, "07_edge_of_chaos")
    p, cells = s["params"], s["cells"]
    counts = {}
    for c in cells:
        counts[c["phase"]] = counts.get(c["phase"], 0) + 1
        if c["phase"] == "chaotic":
            assert c["lyapunov"] > 2 * c["lyapunov_stderr"] > 0, c
        elif c["phase"] == "ordered":
            assert c["lyapunov"] < 0, c
        elif c["phase"] == "dead":
            assert c["jacobian"] <= 1e-2 and c["plateau_acc"] < 0.2, c
        assert c["n_trained"] + c["n_reused"] == p["n_runs"]
    assert counts == s["phase_counts"]
    by_phase = {r["phase"]: r for r in s["accuracy_by_phase"]}
    assert {k: r["cells"] for k, r in by_phase.items()} == counts
    best = max(c["plateau_acc"] for c in cells)
    assert s["best_cell"]["plateau_acc"] == pytest.approx(best)
    lrs = p["lrs"]
    for row in s["edge_momentum_grid"]:
        assert row["momentum"] in p["momenta"]
        if row["n_crossings"]:
            assert min(lrs) <= row["lr"] <= max(lrs), row
        else:
            assert row["lr"] is None
    for row in s["edge_weight_decay_grid"]:
        if row["n_crossings"]:
            assert min(p["weight_decays"]) <= row["weight_decay"] <= max(p["weight_decays"])
        else:
            assert row["weight_decay"] is None
