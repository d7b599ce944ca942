"""Notebook 05 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/book/test_results_02.py for the conventions."""

import numpy as np
import pytest
from results_helpers import summary

from fpt_core.book.claims import VERDICTS

WR, WOR = "with replacement", "without replacement"


def test_05_entropy_production_is_additive_and_covariance_matches_theory(tiny_book):
    s = summary(tiny_book, "05_out_of_equilibrium")
    for policy in (WR, WOR):
        ep = {int(k): v for k, v in s["ep_mean_measured"][policy].items()}
        assert ep[1] > 0
        for k, v in ep.items():  # windows of k steps: ⟨σ^(k)⟩ = k⟨σ⟩ in a stationary state
            assert v == pytest.approx(k * ep[1], rel=0.03), (policy, k)
        ratio = ep[1] / s["ep_mean_predicted_chain"][policy]["1"]
        assert 0.3 < ratio < 3, (policy, ratio)
        assert s["covariance_rel_error"][policy] < 0.15, policy
        assert s["irreversibility"][policy] > 0


def test_05_ift_bias_is_predicted_and_the_surrogate_is_exact(tiny_book):
    s = summary(tiny_book, "05_out_of_equilibrium")
    # the exact discrete-time log ratio satisfies the IFT on the surrogate of both chains
    for policy in (WR, WOR):
        for k, v in s["ift_surrogate_exact"][policy].items():
            se = s["ift_surrogate_exact_se"][policy][k]
            assert 0 < se < 0.01 and abs(v - 1) < 4 * se, (policy, k, v, se)
    assert s["surrogate_max_abs_z"] < 4
    # on the network, with replacement: ⟨e^{−σ^(k)}⟩ ≈ (1 + ε)^k with the predicted ε
    eps = s["ift_bias_eps"]
    assert 0 < eps["predicted"] < 0.1 and eps["even"] > 0 and eps["skew"] > 0
    assert eps["measured"] > 5 * eps["measured_se"]  # the bias is resolved at tiny (η = 1e-5)
    assert abs(eps["measured"] - eps["predicted"]) < 4 * eps["measured_se"] + 0.2 * eps["predicted"]
    for k, v in s["ift_bias_predicted"][WR].items():
        assert v == pytest.approx((1 + eps["predicted"]) ** int(k), rel=1e-12)
        meas, se = s["ift"][WR][k], s["ift_se"][WR][k]
        assert abs(meas - v) < 4 * se + 0.2 * (v - 1), k
    assert set(s["ift_bias_predicted"][WOR]) == set(s["ift"][WOR])
    # ε ∝ η² over the scan (two resolved learning rates with ηλ_max ≤ 0.1 at tiny; ε ∝ η would
    # give 1, a bias from the centre or the discretisation ≈ 1 as well)
    fit = s["eps_loglog_slope"]
    assert fit is not None and fit["n_points"] >= 2
    assert 1.0 < fit["slope"] < 3.0 and 1.8 < s["eps_loglog_slope_predicted"] < 2.3
    # the validation toy: the prediction within 4 SE of the simulation
    for row in s["ift_bias_toy"]:
        assert abs(row["z"]) < 4 and row["ε predicted"] > 0, row


def test_05_claims_are_computed(tiny_book):
    s = summary(tiny_book, "05_out_of_equilibrium")
    claims = s["claims"]
    assert len(claims) >= 7
    assert all(c["verdict"] in VERDICTS and c["paper"] == "Adhikari et al. 2023" for c in claims)
    by_claim = {c["claim"]: c["verdict"] for c in claims}
    surrogate = [v for k, v in by_claim.items() if "surrogate" in k]
    assert surrogate == ["reproduced"]
    rows = s["lr_scan_with_replacement"]
    assert [r["η"] for r in rows] == sorted(r["η"] for r in rows)
    assert all(np.isfinite(r["ε predicted"]) and r["ε predicted"] > 0 for r in rows)
