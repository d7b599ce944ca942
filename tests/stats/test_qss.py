import numpy as np
import pytest
from scipy import stats

from fpt_core.stats.qss import ks_relaxation, relaxation_by_reference, tail_stationarity


def _relaxing_ensemble(rng, n_runs=400, n_eval=40, t_star=15):
    """Runs whose accuracy mean approaches 0.7 exponentially, then is exactly stationary."""
    t = np.arange(1, n_eval + 1)
    mean = np.where(t < t_star, 0.7 - 0.3 * np.exp(-(t - 1) / 3.0), 0.7)
    return t, mean + 0.02 * rng.standard_normal((n_runs, n_eval))


def test_pvalues_equal_scipy_and_relaxation_time_is_found():
    rng = np.random.default_rng(0)
    t, acc = _relaxing_ensemble(rng)
    res = ks_relaxation(acc, t, alpha=0.01)
    for j in (0, 10, 20):
        ref = stats.ks_2samp(acc[:, j], acc[:, -1])
        assert res.pvalue[j] == pytest.approx(ref.pvalue)
        assert res.statistic[j] == pytest.approx(ref.statistic)
    # before t* the mean differs by ≥ 0.3·e^{-13/3} ≈ 0.004 … detectable only early on; the
    # exact stationary part begins at 15, so t_relax ≤ 15, and early epochs are clearly rejected
    assert res.reached and 5 < res.t_relax <= 15
    assert np.all(res.pvalue[:5] < 1e-6)
    assert res.reference_time == 40


def test_not_reached_when_distribution_keeps_drifting():
    rng = np.random.default_rng(1)
    t = np.arange(1, 31)
    acc = 0.5 + 0.01 * t + 0.01 * rng.standard_normal((300, 30))
    res = ks_relaxation(acc, t)
    assert not res.reached and res.t_relax is None


def test_nan_entries_are_dropped_per_column():
    rng = np.random.default_rng(2)
    acc = rng.random((50, 10))
    acc[:5, 3:] = np.nan  # five runs diverged after the third evaluation
    res = ks_relaxation(acc)
    assert res.n[0] == 50 and res.n[5] == 45


@pytest.mark.parametrize(
    "kwargs,name",
    [({"alpha": 0.0}, "alpha"), ({"alpha": 1.5}, "alpha"), ({"reference": 10}, "reference")],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ks_relaxation(np.zeros((5, 10)), **kwargs)


def test_bad_shape():
    with pytest.raises(ValueError, match="values"):
        ks_relaxation(np.zeros(10))


def test_ks_grid_on_a_discrete_law():
    from fpt_core.stats.qss import ks_grid

    rng = np.random.default_rng(4)
    grid = np.arange(1, 41, dtype=float)
    p = 0.1
    cdf = 1 - (1 - p) ** grid  # geometric first-passage law on epochs 1, 2, …
    # hand-computed statistic on a tiny sample
    d, _ = ks_grid(np.array([1.0, 1.0, 3.0]), cdf[:3], grid[:3])
    assert d == pytest.approx(max(abs(2 / 3 - 0.1), abs(2 / 3 - 0.19), abs(1 - 0.271)))
    # samples from the law itself: the test is conservative (rejects at most α of the time)
    pvals = [ks_grid(rng.geometric(p, 300).astype(float), cdf, grid)[1] for _ in range(200)]
    assert np.mean(np.array(pvals) < 0.05) <= 0.05
    # a different law is rejected
    _, p_wrong = ks_grid(rng.geometric(0.2, 300).astype(float), cdf, grid)
    assert p_wrong < 1e-6
    with pytest.raises(ValueError, match="cdf"):
        ks_grid(np.ones(3), np.array([0.5, 1.5]), np.array([1.0, 2.0]))


def _ar1_runs(rng, n_runs, n_eval, drift=0.0, rho=0.8):
    """Stationary AR(1) per run (unit variance, started from its stationary law) plus a linear
    drift of the mean from 0 to ``drift`` over the evaluations."""
    x = np.empty((n_runs, n_eval))
    x[:, 0] = rng.standard_normal(n_runs)
    for k in range(1, n_eval):
        x[:, k] = rho * x[:, k - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n_runs)
    return x + drift * np.linspace(0.0, 1.0, n_eval)


def test_tail_stationarity_by_hand():
    acc = np.array(
        [
            [0.1, 0.9, 0.9, 0.1, 0.9, 0.9],  # windows (t 2–3, 4–5, 6): 1, 1/2, 1
            [0.1, 0.1, 0.1, 0.9, 0.9, np.nan],  # 0, 1, no value (NaN)
            [0.1, 0.1, 0.9, 0.9, 0.9, 0.9],  # 1/2, 1, 1
        ]
    )
    t = np.arange(1.0, 7.0)
    res = tail_stationarity(acc, t, level=0.5, start=2, n_windows=3)
    np.testing.assert_array_equal(res.windows, [[2, 3], [4, 5], [6, 6]])
    np.testing.assert_allclose(res.share, [0.5, 5 / 6, 1.0])
    # odd n_windows: early = window 1, late = window 3; run 2 has no late value and is dropped
    assert res.n == 2 and res.difference == pytest.approx((0.0 + 0.5) / 2)
    even = tail_stationarity(acc[[0, 2]], t, level=0.5, start=2, n_windows=2)
    # windows t 2–4 and 5–6: run 0 2/3 → 1, run 2 2/3 → 1
    assert even.difference == pytest.approx(1 / 3) and even.n == 2


def test_tail_stationarity_false_alarm_rate_and_power():
    rng = np.random.default_rng(1)
    level = stats.norm.ppf(0.8)  # the upper 20 % tail
    pvals = []
    for _ in range(200):
        res = tail_stationarity(_ar1_runs(rng, 100, 40), level=level, start=1)
        pvals.append(res.pvalue)
    rejected = np.mean(np.array(pvals) < 0.05)
    assert 0.01 <= rejected <= 0.10  # ≈ 0.05 under the null (binomial SE 0.015)
    res = tail_stationarity(_ar1_runs(rng, 2000, 40), level=level, start=1, n_windows=4)
    np.testing.assert_allclose(res.share, 0.2, atol=4 * res.share_se.max())
    # a drift of the mean by 0.6 SD over the range moves the tail share by ≈ 0.08 between the
    # halves, against a per-run SD of the difference ≈ 0.4: detected with 400 runs
    drifting = tail_stationarity(_ar1_runs(rng, 400, 40, drift=0.6), level=level, start=1)
    assert drifting.pvalue < 1e-3 and drifting.difference > 0 and not drifting.stationary


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"level": float("nan"), "start": 1}, "level"),
        ({"level": 0.5, "start": 100}, "n_windows"),
        ({"level": 0.5, "start": 1, "n_windows": 1}, "n_windows"),
        ({"level": 0.5, "start": 1, "alpha": 0.0}, "alpha"),
    ],
)
def test_tail_stationarity_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tail_stationarity(np.zeros((3, 10)), **kwargs)


def test_relaxation_by_reference_stable_in_qss_and_growing_under_drift():
    rng = np.random.default_rng(3)
    t, acc = _relaxing_ensemble(rng, n_eval=60)
    res = relaxation_by_reference(acc, t, [30, 45, 60], alpha=0.01)
    for ref, t_relax in res.t_relax.items():
        assert t_relax == ks_relaxation(acc, t, reference=int(ref) - 1, alpha=0.01).t_relax
    assert res.robust and res.latest <= 15
    # a mean that keeps drifting: every reference finds a "relaxation" just before itself
    drift = 0.6 + 0.002 * np.arange(1, 61) + 0.02 * rng.standard_normal((400, 60))
    moving = relaxation_by_reference(drift, t, [30, 45, 60], alpha=0.01)
    found = [v for v in moving.t_relax.values() if v is not None]
    assert not moving.robust and (len(found) < 3 or found == sorted(found))
    if found:  # the largest deviation from the median, relative to it
        med = np.median(found)
        assert moving.spread == pytest.approx(max(abs(v - med) for v in found) / med)
    with pytest.raises(ValueError, match="max_spread"):
        relaxation_by_reference(acc, t, [30], max_spread=0.0)
