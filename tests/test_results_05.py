"""Notebook 05 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/test_results_02.py for the conventions."""

import pytest
from results_helpers import summary


def test_05_entropy_production_is_additive_and_covariance_matches_theory(tiny_book):
    s = summary(tiny_book, "05_out_of_equilibrium")
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
