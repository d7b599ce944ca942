"""The statistical calls pages make: agreement of a prediction with a measurement."""

import math

import numpy as np
import pytest
from scipy import stats

from fpt_core.stats.verdicts import agreement


def test_agreement_by_hand():
    z = stats.norm.ppf(0.975)
    a = agreement(30.0, 28.0, 32.0, 31.0, 29.0, 33.0)
    se = math.hypot(4 / (2 * z), 4 / (2 * z))
    assert a.se == pytest.approx(se) and a.z == pytest.approx(-1 / se)
    assert a.consistent and a.relative_error == pytest.approx(-1 / 31)
    assert a.resolution == pytest.approx(z * se / 31)
    assert not agreement(30.0, 29.0, 31.0, 36.0, 35.0, 37.0).consistent
    exact = agreement(5.0, 5.0, 5.0, 5.0, 5.0, 5.0)
    assert exact.consistent and exact.z == 0.0
    assert agreement(5.0, 5.0, 5.0, 6.0, 6.0, 6.0).z == -math.inf


def test_agreement_calibration_for_normal_estimates():
    """Two unbiased normal estimates with their 95 % intervals: consistent 95 % of the time."""
    rng = np.random.default_rng(0)
    hits = []
    for _ in range(4000):
        p, m = rng.normal(10.0, 1.0), rng.normal(10.0, 2.0)
        hits.append(agreement(p, p - 1.96, p + 1.96, m, m - 3.92, m + 3.92).consistent)
    assert abs(np.mean(hits) - 0.95) < 0.015


@pytest.mark.parametrize(
    "args,kw,match",
    [
        ((1.0, 2.0, 0.0, 1.0, 0.0, 2.0), {}, "prediction"),
        ((1.0, 0.0, 2.0, 1.0, 0.0, math.nan), {}, "measurement"),
        ((1.0, 0.0, 2.0, 0.0, 0.0, 2.0), {}, "measured"),
        ((1.0, 0.0, 2.0, 1.0, 0.0, 2.0), {"confidence_level": 1.0}, "confidence_level"),
    ],
)
def test_agreement_bad_input(args, kw, match):
    with pytest.raises(ValueError, match=match):
        agreement(*args, **kw)
