"""Median first-passage time under censoring: known answers, scipy as the oracle, coverage."""

import numpy as np
import pytest
from scipy import stats

from fpt_core.stats.fpt import FirstPassage, mean_fpt
from fpt_core.stats.median import median_fpt, quantile_fpt


def test_without_censoring_it_is_the_inverted_cdf_quantile():
    t = np.random.default_rng(0).exponential(size=101)
    fp = FirstPassage(t, np.ones(t.size, bool), t.max())
    for q in (0.1, 0.5, 0.9):
        assert quantile_fpt(fp, q, n_resamples=10).time == np.quantile(t, q, method="inverted_cdf")


def test_with_censoring_it_matches_scipys_kaplan_meier():
    rng = np.random.default_rng(1)
    t, c = rng.exponential(1.0, 400), rng.exponential(1.5, 400)
    fp = FirstPassage(np.minimum(t, c), t <= c, float(np.minimum(t, c).max()))
    sf = stats.ecdf(fp.to_censored_data()).sf
    expected = sf.quantiles[np.argmax(sf.probabilities <= 0.5)]
    assert median_fpt(fp, n_resamples=10).time == expected


def test_median_is_estimable_where_the_mean_is_not():
    t = np.array([1.0, 2, 3, 4, 5, 6, 10, 10, 10, 10])  # 4 of 10 censored at 10
    fp = FirstPassage(t, t < 10, 10.0)
    m, mean = median_fpt(fp, n_resamples=300, rng=0), mean_fpt(fp, n_resamples=50, rng=0)
    assert m.estimable and m.time == 5.0 and not mean.estimable
    assert m.low <= 5.0 and np.isnan(m.high)  # > 2.5 % of resamples of 10 runs never reach it
    big = FirstPassage(np.tile(t, 10), np.tile(t < 10, 10), 10.0)
    mb = median_fpt(big, n_resamples=300, rng=0)
    assert mb.time == 5.0 and mb.low <= 5.0 <= mb.high < 10
    mostly = FirstPassage(np.array([1.0, 10, 10]), np.array([True, False, False]), 10.0)
    gone = median_fpt(mostly, n_resamples=50, rng=0)
    assert not gone.estimable and np.isnan(gone.time) and np.isnan(gone.high)
    with pytest.raises(ValueError, match="q=1.5"):
        quantile_fpt(fp, 1.5)


@pytest.mark.parametrize("law", ["exponential", "lognormal"])
def test_ci_covers_the_true_median_at_the_nominal_rate(law):
    """300 simulated censored ensembles of 100 runs: coverage within 2 SE of 95 %."""
    rng = np.random.default_rng(7)
    true = np.log(2.0) if law == "exponential" else 1.0
    hits, trials = 0, 300
    for _ in range(trials):
        t = rng.exponential(1.0, 100) if law == "exponential" else rng.lognormal(0.0, 1.0, 100)
        c = np.minimum(rng.exponential(3.0, 100), 4.0)  # random censoring and a horizon
        fp = FirstPassage(np.minimum(t, c), t <= c, 4.0)
        m = median_fpt(fp, n_resamples=199, rng=rng)
        hits += m.low <= true <= m.high
    se = np.sqrt(0.95 * 0.05 / trials)
    assert abs(hits / trials - 0.95) < 2 * se, hits / trials
