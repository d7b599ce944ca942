"""Tests of fpt_core.stats.optimum against exact answers.

Known answers: for a discrete first-passage law on the epoch grid with survival S, restart to a
fresh draw every τ (T = kτ counts as reached before the restart) has, for mτ ≤ t < (m+1)τ,
P(T_τ > t) = S(τ)^m S(t − mτ), so E[min(T_τ, h)] = Σ_{t<h} P(T_τ > t) is an exact finite sum. A
sample whose run counts are proportional to a probability mass function has that law as its
Kaplan–Meier estimate exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from fpt_core.stats.fpt import FirstPassage, first_passage
from fpt_core.stats.optimum import interior_optimum, separated_ranking
from fpt_core.stats.restart import sharp_restart_mean
from fpt_core.stats.rmst import predicted_restricted_mean
from fpt_core.stats.speedup import restricted_speedup


def exact_sample(pmf: dict[int, int], censored: int, horizon: float) -> FirstPassage:
    """Runs with first-passage time k (count pmf[k]) plus ``censored`` runs censored at horizon."""
    t = np.concatenate(
        [np.full(c, float(k)) for k, c in pmf.items()] + [np.full(censored, horizon)]
    )
    obs = np.concatenate([np.ones(sum(pmf.values()), bool), np.zeros(censored, bool)])
    return FirstPassage(t, obs, horizon)


def exact_restart_rmst(pmf: dict[int, int], censored: int, tau: int, h: int) -> float:
    n = sum(pmf.values()) + censored
    surv = lambda t: (sum(c for k, c in pmf.items() if k > t) + censored) / n  # noqa: E731
    return sum(surv(tau) ** (t // tau) * surv(t - (t // tau) * tau) for t in range(h))


@pytest.mark.parametrize("tau", [3, 5, 7, 12])
def test_sharp_restart_restricted_mean_is_exact(tau):
    pmf = {1: 5, 2: 10, 4: 20, 9: 15, 14: 30, 18: 20}  # bimodal: restart can help
    fp = exact_sample(pmf, censored=25, horizon=20.0)
    s = restricted_speedup(fp, tau, 20.0, n_resamples=50, rng=0)
    assert s.predicted == pytest.approx(exact_restart_rmst(pmf, 25, tau, 20), rel=1e-12)
    assert s.baseline == pytest.approx(exact_restart_rmst(pmf, 25, 100, 20), rel=1e-12)
    assert s.speedup == pytest.approx(s.baseline / s.predicted, rel=1e-12)
    assert s.low <= s.speedup <= s.high
    # the predicted share unreached at h: S(τ)^m S(h − mτ)
    m = 20 // tau
    n = fp.n
    surv = lambda t: fp.times[(fp.times > t) | ~fp.observed].size / n  # noqa: E731
    assert s.unreached == pytest.approx(surv(tau) ** m * surv(20 - m * tau), rel=1e-12)


def test_restart_of_a_geometric_law_changes_nothing():
    # memoryless on the epoch grid: pmf ∝ q^(k-1)(1-q); the Kaplan–Meier law is exact up to h
    q, n = 0.8, 10**6
    counts = {k: round(n * q ** (k - 1) * (1 - q)) for k in range(1, 31)}
    fp = exact_sample(counts, censored=n - sum(counts.values()), horizon=30.0)
    for tau in (2, 5, 11):
        s = restricted_speedup(fp, tau, 30.0, n_resamples=5, rng=0)
        assert s.speedup == pytest.approx(1.0, abs=2e-4)


def test_renewal_speedup_matches_predicted_restricted_mean():
    rng = np.random.default_rng(1)
    acc0 = rng.uniform(0.0, 1.0, (200, 41))
    acc1 = rng.uniform(0.0, 1.0, (150, 41))
    acc1[:, 11:16] += 0.3  # the perturbation at τ0 = 10 raises the chance to hit soon after
    times = np.arange(41.0)
    fp0, fp1 = first_passage(acc0, 0.97, times), first_passage(acc1, 0.97, times)
    for tau in (8.0, 15.0, 25.0):
        s = restricted_speedup(fp0, tau, 40.0, perturbed=fp1, tau0=10.0, n_resamples=30, rng=0)
        ref = predicted_restricted_mean(fp0, fp1, 10.0, tau, 40.0, n_resamples=5, rng=0)
        assert s.predicted == pytest.approx(ref.mean, rel=1e-12)
        assert s.pred_low <= s.predicted <= s.pred_high


def test_restricted_speedup_rejects_bad_input():
    fp = exact_sample({1: 3, 4: 3}, censored=1, horizon=10.0)
    with pytest.raises(ValueError, match="horizon"):
        restricted_speedup(fp, 3.0, 11.0)
    with pytest.raises(ValueError, match="tau="):
        restricted_speedup(fp, 0.0, 10.0)
    with pytest.raises(ValueError, match="tau0"):
        restricted_speedup(fp, 3.0, 10.0, perturbed=fp)
    with pytest.raises(ValueError, match="tau0"):
        restricted_speedup(fp, 3.0, 10.0, tau0=2.0)


def test_sharp_restart_curve_has_interior_optimum_where_restart_helps():
    pmf = {2: 40, 3: 20, 30: 40}  # fast or very slow: restart every ~3 epochs is best
    fp = exact_sample(pmf, censored=0, horizon=30.0)
    taus = np.arange(1.0, 31.0)
    c = sharp_restart_mean(fp, taus, n_resamples=300, rng=0)
    assert c.replicates.shape == (300, taus.size)
    o = interior_optimum(taus, c.mean, c.replicates)
    assert o.tau == 3.0 and o.interior and o.edge is None
    assert o.tau_low <= o.tau <= o.tau_high and o.low <= o.mean <= o.high
    # exact: E[min(T, 3)] / P(T ≤ 3) = (1 + 1 + 0.6) / 0.6
    assert o.mean == pytest.approx(2.6 / 0.6, rel=1e-12)


def test_interior_optimum_edges_and_noise():
    taus = np.arange(1.0, 21.0)
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 0.2, (400, taus.size))
    up = taus + 10.0
    o = interior_optimum(taus, up, up + noise)
    assert (o.tau, o.edge, o.interior) == (1.0, "lower", False)
    o = interior_optimum(taus, -up, -up + noise)
    assert (o.tau, o.edge, o.interior) == (20.0, "upper", False)
    # the allowed mask moves the ends: a bowl centred at 5 seen only from τ ≥ 8 is on its edge
    bowl = (taus - 5.0) ** 2
    o = interior_optimum(taus, bowl, bowl + noise, allowed=taus >= 8)
    assert (o.tau, o.edge, o.grid_low) == (8.0, "lower", 8.0)
    # a shallow minimum buried in independent noise is not an optimum
    flat = 10.0 + 0.01 * (taus - 10.0) ** 2 / 100
    o = interior_optimum(taus, flat, flat + rng.normal(0.0, 1.0, (400, taus.size)))
    assert o.edge is None and not o.interior and o.rise_left_low < 0


def test_interior_optimum_rejects_bad_input():
    taus = np.arange(1.0, 6.0)
    with pytest.raises(ValueError, match="taus"):
        interior_optimum(taus[::-1], taus, taus[None])
    with pytest.raises(ValueError, match="replicates"):
        interior_optimum(taus, taus, taus)
    with pytest.raises(ValueError, match="fewer than 3"):
        interior_optimum(taus, np.array([1, 2, np.nan, np.nan, np.nan]), taus[None])
    with pytest.raises(ValueError, match="allowed"):
        interior_optimum(taus, taus, taus[None], allowed=np.ones(3, bool))


def test_separated_ranking():
    r = separated_ranking(
        {"a": (10.0, 9.5, 10.5), "b": (12.0, 11.5, 12.5), "c": (14.0, 13.5, 14.5)}
    )
    assert r == {"a": ["b", "c"], "b": ["c"], "c": []}
    same = separated_ranking({"a": (10.0, 8.0, 12.0), "b": (10.5, 8.5, 12.5)})
    assert same == {"a": [], "b": []}
    with pytest.raises(ValueError, match="estimates"):
        separated_ranking({})


def test_measured_optimum():
    from fpt_core.stats.optimum import measured_optimum

    bowl = {
        10: (25.0, 24.0, 26.0),
        20: (22.0, 21.0, 23.0),
        40: (23.0, 22.0, 24.0),
        60: (26, 25, 27),
    }
    m = measured_optimum(bowl)
    assert (m.tau, m.above_left, m.above_right, m.interior) == (20.0, [10.0], [60.0], True)
    rising = {10: (20.0, 19.0, 21.0), 20: (22.0, 21.0, 23.0), 40: (26.0, 25.0, 27.0)}
    m = measured_optimum(rising)
    assert (m.tau, m.above_left, m.above_right, m.interior) == (10.0, [], [20.0, 40.0], False)
    flat = {10: (20.0, 15.0, 25.0), 20: (19.0, 14.0, 24.0), 40: (21.0, 16.0, 26.0)}
    assert not measured_optimum(flat).interior and measured_optimum(flat).above_right == []
    with pytest.raises(ValueError, match="three"):
        measured_optimum({10: (1.0, 0.5, 1.5), 20: (2.0, 1.5, 2.5)})
