"""k-sample log-rank test against scipy (k = 2), by hand, and its null distribution."""

import numpy as np
import pytest
from scipy import stats

from fpt_core.stats.fpt import FirstPassage
from fpt_core.stats.logrank import logrank


def _censored_exponential(rng, n, scale, horizon, grid=False):
    t = rng.exponential(scale, n)
    if grid:  # first passages observed on an epoch grid: many ties
        t = np.ceil(t)
    return FirstPassage(np.minimum(t, horizon), t <= horizon, float(horizon))


def test_two_samples_equal_scipy_logrank_squared():
    rng = np.random.default_rng(0)
    for grid in (False, True):
        a = _censored_exponential(rng, 80, 10.0, 15.0, grid)
        b = _censored_exponential(rng, 60, 14.0, 15.0, grid)
        ref = stats.logrank(a.to_censored_data(), b.to_censored_data())
        res = logrank(a, b)
        assert res.dof == 1
        assert res.statistic == pytest.approx(ref.statistic**2, rel=1e-10)
        assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-8)
        assert res.observed.sum() == a.n_observed + b.n_observed
        assert res.expected.sum() == pytest.approx(res.observed.sum())


def test_by_hand_three_samples():
    # times 1, 2: sample A events at 1 and 2, B an event at 2, C censored at 2 (still at risk)
    a = FirstPassage(np.array([1.0, 2.0]), np.array([True, True]), 3.0)
    b = FirstPassage(np.array([2.0, 3.0]), np.array([True, False]), 3.0)
    c = FirstPassage(np.array([2.0, 3.0]), np.array([False, True]), 3.0)
    res = logrank(a, b, c)
    # t=1: at risk (2, 2, 2), 1 event (A); t=2: at risk (1, 2, 2), 2 events (A, B);
    # t=3: at risk (0, 1, 1), 1 event (C)
    e_a = 1 * 2 / 6 + 2 * 1 / 5 + 0
    e_b = 1 * 2 / 6 + 2 * 2 / 5 + 1 * 1 / 2
    np.testing.assert_allclose(res.expected[:2], [e_a, e_b])
    np.testing.assert_array_equal(res.observed, [2, 1, 1])
    assert res.expected.sum() == pytest.approx(4.0) and res.dof == 2


def test_null_distribution_and_power():
    rng = np.random.default_rng(1)
    p = [
        logrank(*(_censored_exponential(rng, 50, 10.0, 20.0, grid=True) for _ in range(4))).pvalue
        for _ in range(300)
    ]
    assert 0.02 <= np.mean(np.array(p) < 0.05) <= 0.09  # ≈ 0.05 (binomial SE 0.013)
    assert stats.kstest(p, "uniform").pvalue > 1e-3
    slow = [_censored_exponential(rng, 100, s, 20.0, grid=True) for s in (10.0, 10.0, 16.0)]
    assert logrank(*slow).pvalue < 1e-3


def test_bad_input_is_named():
    fp = FirstPassage(np.array([1.0]), np.array([True]), 2.0)
    with pytest.raises(ValueError, match="samples"):
        logrank(fp)
    with pytest.raises(ValueError, match="observed"):
        logrank(fp, FirstPassage(np.array([2.0]), np.array([False]), 2.0))
