"""Paired comparisons of two training arms, and verdicts computed from confidence intervals.

:func:`paired_difference` is the CI of the mean difference between two arms trained with the same
seeds; :func:`improvement_verdict` (does a method improve an outcome?),
:func:`bias_removed_verdict` (does a correction remove a bias?) and :func:`band_verdict` (do
values lie in a band?) turn CIs into the ledger's verdicts (:data:`fpt_core.book.claims.VERDICTS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "PairedDifference",
    "band_verdict",
    "bias_removed_verdict",
    "improvement_verdict",
    "paired_difference",
]


@dataclass(frozen=True)
class PairedDifference:
    """Result of :func:`paired_difference`: ``mean`` of the differences b − a, its ``low`` and
    ``high`` confidence limits, ``half_width``, the ``sd`` of the differences, ``n`` pairs,
    ``pvalue`` (two-sided paired t test of mean 0) and ``n_required`` (pairs for a half-width
    ≤ ``target_half_width`` at this sd, normal approximation)."""

    mean: float
    low: float
    high: float
    half_width: float
    sd: float
    n: int
    pvalue: float
    n_required: int


def paired_difference(
    a, b, *, level: float = 0.95, target_half_width: float = 0.005
) -> PairedDifference:
    """Confidence interval of the mean paired difference b − a (Student t).

    With d_k = b_k − a_k over n pairs (run k of both arms shares its seed: the same
    initialisation and minibatch order), d̄ ± t_{n−1, (1+level)/2} · s_d/√n. Pairing helps when
    the two runs of a seed stay correlated (Var d = Var a + Var b − 2 Cov(a, b)).
    ``n_required`` = ⌈(z s_d / target_half_width)²⌉ with z the normal quantile (Student, 1908;
    any text on paired designs).

    Examples
    --------
    >>> r = paired_difference([0.70, 0.72, 0.71, 0.69], [0.71, 0.74, 0.72, 0.70])
    >>> round(r.mean, 4), r.n, bool(r.low > 0)
    (0.0125, 4, True)
    """
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length (pairs), got {a.size} and {b.size}")
    if a.size < 2:
        raise ValueError(f"need at least 2 pairs, got {a.size}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("a and b must be finite")
    if not 0 < level < 1:
        raise ValueError(f"level={level} must lie in (0, 1)")
    if not target_half_width > 0:
        raise ValueError(f"target_half_width={target_half_width} must be > 0")
    d = b - a
    n = d.size
    sd = float(np.std(d, ddof=1))
    hw = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n))
    p = float(stats.ttest_1samp(d, 0.0).pvalue) if sd > 0 else float(d.mean() == 0 or 0.0)
    z = float(stats.norm.ppf(0.5 + level / 2))
    m = float(d.mean())
    need = int(math.ceil((z * sd / target_half_width) ** 2)) if sd > 0 else 2
    return PairedDifference(m, m - hw, m + hw, hw, sd, n, p, max(need, 2))


def improvement_verdict(low: float, high: float, margin: float) -> str:
    """Verdict on "the method improves the outcome" from the CI [low, high] of the difference.

    * ``"reproduced"``: the CI excludes 0 on the positive side (low > 0);
    * ``"not reproduced"``: the CI excludes 0 on the negative side (high < 0), or lies within
      the equivalence margin (−margin ≤ low and high ≤ margin: any effect is smaller than the
      margin, two one-sided tests);
    * ``"not tested at this preset"``: otherwise (the experiment cannot decide).

    Examples
    --------
    >>> improvement_verdict(0.001, 0.004, 0.005), improvement_verdict(-0.004, 0.003, 0.005)
    ('reproduced', 'not reproduced')
    >>> improvement_verdict(-0.004, 0.009, 0.005)
    'not tested at this preset'
    """
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"(low, high)=({low}, {high}) must be finite with low ≤ high")
    if not margin >= 0:
        raise ValueError(f"margin={margin} must be ≥ 0")
    if low > 0:
        return "reproduced"
    if high < 0 or (-margin <= low and high <= margin):
        return "not reproduced"
    return "not tested at this preset"


def bias_removed_verdict(low: float, high: float, reference: float, fraction: float = 0.1) -> str:
    """Verdict on "a correction removes a bias" from the CI [low, high] of the corrected change.

    ``reference`` is the uncorrected change (e.g. plain Hill α(Q = 8) − α(Q = 1)); the bias
    counts as removed (``"reproduced"``) if the CI lies within ±``fraction``·abs(reference), as
    not removed (``"not reproduced"``) if it lies entirely outside that band, else
    ``"not tested at this preset"``.

    Examples
    --------
    >>> bias_removed_verdict(-0.05, 0.04, 2.0), bias_removed_verdict(0.5, 0.9, 2.0)
    ('reproduced', 'not reproduced')
    """
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"(low, high)=({low}, {high}) must be finite with low ≤ high")
    if not (math.isfinite(reference) and 0 < fraction < 1):
        raise ValueError(f"reference={reference} must be finite, fraction={fraction} in (0, 1)")
    band = fraction * abs(reference)
    if -band <= low and high <= band:
        return "reproduced"
    if low > band or high < -band:
        return "not reproduced"
    return "not tested at this preset"


def band_verdict(lows, highs, band: tuple[float, float]) -> str:
    """Verdict on "every value lies in ``band``" from per-item CIs [lows_i, highs_i].

    ``"reproduced"`` if every CI lies inside the band, ``"not reproduced"`` if some CI lies
    entirely outside it, else ``"not tested at this preset"``.

    Examples
    --------
    >>> band_verdict([2.2, 2.9], [2.6, 3.5], (2, 4)), band_verdict([1.5, 2.9], [1.8, 3.5], (2, 4))
    ('reproduced', 'not reproduced')
    """
    lo, hi = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
    if lo.shape != hi.shape or lo.size == 0 or not np.all(lo <= hi):
        raise ValueError("lows and highs must be non-empty, of one length, with lows ≤ highs")
    a, b = band
    if not a < b:
        raise ValueError(f"band={band} must be (low, high) with low < high")
    if np.all((lo >= a) & (hi <= b)):
        return "reproduced"
    if np.any((hi < a) | (lo > b)):
        return "not reproduced"
    return "not tested at this preset"
