"""Tests of fpt_core.stats.paired (paired CIs, verdicts) and the α-spread helpers of
fpt_core.spectra.tb_analysis."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpt_core.spectra.htsr import esd, hill_alpha, hill_se
from fpt_core.spectra.tb_analysis import (
    alpha_spread_over_se,
    hill_se_at_median,
    spread_over_se_by_run,
)
from fpt_core.stats.paired import (
    band_verdict,
    bias_removed_verdict,
    improvement_verdict,
    paired_difference,
)


def test_paired_difference_matches_scipy_ttest_rel():
    rng = np.random.default_rng(0)
    a = rng.normal(0.7, 0.02, 30)
    b = a + rng.normal(0.004, 0.01, 30)
    r = paired_difference(a, b)
    ref = stats.ttest_rel(b, a)
    ci = ref.confidence_interval(0.95)
    assert r.low == pytest.approx(ci.low, rel=1e-10) and r.high == pytest.approx(ci.high, rel=1e-10)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.mean == pytest.approx(np.mean(b) - np.mean(a), abs=1e-15)
    assert r.sd == pytest.approx(np.std(b - a, ddof=1))
    # seeds for ±0.005 at this sd: ⌈(1.96 sd / 0.005)²⌉
    assert r.n_required == math.ceil((stats.norm.ppf(0.975) * r.sd / 0.005) ** 2)


def test_paired_difference_covers_the_true_mean():
    # 2000 experiments of 12 pairs with true difference 0.01: coverage 0.95 ± 3·0.005
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(2000):
        a = rng.normal(0, 1, 12)
        r = paired_difference(a, a + 0.01 + rng.normal(0, 0.02, 12))
        hits += r.low <= 0.01 <= r.high
    assert abs(hits / 2000 - 0.95) < 0.015


def test_verdicts():
    assert improvement_verdict(0.001, 0.009, 0.005) == "reproduced"
    assert improvement_verdict(-0.009, -0.001, 0.005) == "not reproduced"
    assert improvement_verdict(-0.004, 0.004, 0.005) == "not reproduced"  # equivalent
    assert improvement_verdict(-0.004, 0.006, 0.005) == "not tested at this preset"
    assert bias_removed_verdict(-0.1, 0.1, 2.0) == "reproduced"
    assert bias_removed_verdict(-0.1, 0.3, 2.0) == "not tested at this preset"
    assert bias_removed_verdict(-0.9, -0.3, 2.0) == "not reproduced"
    assert band_verdict([2.1, 3.0], [2.5, 3.9], (2, 4)) == "reproduced"
    assert band_verdict([2.1, 4.1], [2.5, 5.0], (2, 4)) == "not reproduced"
    assert band_verdict([2.1, 3.5], [2.5, 4.5], (2, 4)) == "not tested at this preset"
    assert band_verdict([-0.3, -0.2], [-0.1, -0.05], (-np.inf, 0.0)) == "reproduced"
    with pytest.raises(ValueError, match="low"):
        improvement_verdict(0.1, 0.0, 0.005)
    with pytest.raises(ValueError, match="margin"):
        improvement_verdict(0.0, 0.1, -1.0)
    with pytest.raises(ValueError, match="fraction"):
        bias_removed_verdict(0.0, 0.1, 1.0, fraction=1.5)
    with pytest.raises(ValueError, match="pairs"):
        paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least 2"):
        paired_difference([1.0], [1.0])


def test_hill_se_at_median_agrees_with_the_fit():
    w = np.random.default_rng(2).standard_normal((300, 128))
    fit = hill_alpha(esd(w))
    assert fit.n_tail == 64
    assert hill_se_at_median(fit.alpha, 128) == pytest.approx(hill_se(fit), rel=1e-12)
    fit = hill_alpha(esd(w[:, :99]))  # odd N: n_tail = 99 − 49 = 50
    assert hill_se_at_median(fit.alpha, 99) == pytest.approx(hill_se(fit), rel=1e-12)
    with pytest.raises(ValueError, match="n_eigs"):
        hill_se_at_median(2.0, 1)


def test_alpha_spread_over_se_and_by_run():
    assert alpha_spread_over_se([2.0, 3.0, 2.5], [0.1, 0.2, 0.2]) == pytest.approx(
        1.0 / math.sqrt((0.01 + 0.04 + 0.04) / 3)
    )
    assert alpha_spread_over_se([2.0, np.nan, 3.0], [0.5, 0.5, 0.5]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="at least 2"):
        alpha_spread_over_se([2.0], [0.1])
    hist = pd.DataFrame(
        {
            "run": [0, 0, 1, 1, 0, 0],
            "epoch": [1, 1, 1, 1, 0, 0],
            "layer": ["a", "b", "a", "b", "a", "b"],
            "alpha": [2.0, 3.0, 2.0, 2.2, 9.0, 9.0],
        }
    )
    n_eigs = {"a": 128, "b": 128}  # n_tail 64
    got = spread_over_se_by_run(hist, n_eigs, ["a", "b"])
    se = lambda a: (a - 1) / 8  # noqa: E731
    want0 = 1.0 / math.sqrt((se(2.0) ** 2 + se(3.0) ** 2) / 2)
    want1 = 0.2 / math.sqrt((se(2.0) ** 2 + se(2.2) ** 2) / 2)
    np.testing.assert_allclose(got, [want0, want1], rtol=1e-12)
    with pytest.raises(ValueError, match="n_eigs"):
        spread_over_se_by_run(hist, {"a": 128}, ["a", "b"])
    with pytest.raises(ValueError, match="epoch"):
        spread_over_se_by_run(hist, n_eigs, ["a", "b"], epoch=7)
