"""Statistical calls a page may make, computed from estimates and their confidence intervals.

A page of this book states a claim as *reproduced*, *not reproduced* or *not tested at this
preset* only through these functions, so that the wording follows from the numbers:

* :func:`agreement` — does a prediction agree with a measurement, given both intervals? The
  standard error of each is read off its (percentile-bootstrap) interval as
  (high − low) / (2 z), z the normal quantile of the level, and the two are independent
  (different runs), so the difference has SE sqrt(se_p² + se_m²). The normal approximation is
  the usual one for a bootstrap interval of a mean.

Numpy only; no training code is imported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

__all__ = ["Agreement", "agreement", "VERDICTS"]

VERDICTS = ("reproduced", "not reproduced", "not tested at this preset")


@dataclass(frozen=True)
class Agreement:
    """Result of :func:`agreement`.

    ``difference`` (predicted − measured), ``se`` (its standard error), ``z`` (difference / se),
    ``consistent`` (``abs(z)`` below the two-sided critical value), ``relative_error`` (difference /
    measured) and ``resolution`` (half-width of the difference's interval / measured: the
    smallest relative error the comparison can detect).
    """

    difference: float
    se: float
    z: float
    consistent: bool
    relative_error: float
    resolution: float


def _se(low: float, high: float, z: float, name: str) -> float:
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"{name}: interval ({low}, {high}) must be finite with low ≤ high")
    return (high - low) / (2 * z)


def agreement(
    predicted: float,
    pred_low: float,
    pred_high: float,
    measured: float,
    meas_low: float,
    meas_high: float,
    *,
    confidence_level: float = 0.95,
) -> Agreement:
    """Compare a predicted and a measured value, each with its confidence interval.

    Examples
    --------
    >>> a = agreement(30.0, 28.0, 32.0, 31.0, 29.0, 33.0)
    >>> a.consistent, round(a.z, 2)
    (True, -0.69)
    >>> agreement(30.0, 29.0, 31.0, 36.0, 35.0, 37.0).consistent
    False
    """
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level={confidence_level} must lie in (0, 1)")
    if not (math.isfinite(predicted) and math.isfinite(measured) and measured != 0):
        raise ValueError(f"predicted={predicted} and measured={measured} must be finite, ≠ 0")
    z = float(stats.norm.ppf(0.5 + confidence_level / 2))
    se = math.hypot(
        _se(pred_low, pred_high, z, "prediction"), _se(meas_low, meas_high, z, "measurement")
    )
    diff = predicted - measured
    zz = diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    return Agreement(
        difference=diff,
        se=se,
        z=zz,
        consistent=bool(abs(zz) < z),
        relative_error=diff / measured,
        resolution=z * se / abs(measured),
    )
