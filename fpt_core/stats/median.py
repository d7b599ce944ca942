"""Median (and other quantiles) of a first-passage time under right censoring.

The Kaplan–Meier quantile t_q = min{t : S(t) ≤ 1 − q} exists as soon as the survival curve drops
to 1 − q before the horizon, so the median first-passage time is estimable when the mean is not
(up to half the runs censored). The CI is a percentile bootstrap over runs (Efron 1981, "Censored
data and the bootstrap", J. Am. Stat. Assoc. 76, 312), through the same weighted Kaplan–Meier
estimator as :func:`fpt_core.stats.fpt.mean_fpt`.

Examples
--------
>>> import numpy as np
>>> from fpt_core.stats.fpt import FirstPassage
>>> fp = FirstPassage(np.array([1., 2., 3., 4., 10.]), np.array([True, True, True, True, False]), 10.)
>>> m = median_fpt(fp, n_resamples=200, rng=0)
>>> m.time, m.estimable
(3.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpt_core.stats.checks import check_level, check_resamples
from fpt_core.stats.fpt import FirstPassage, check_first_passage
from fpt_core.stats.km import KaplanMeier, bootstrap_stack, percentile_interval

__all__ = ["QuantileFPT", "quantile_fpt", "median_fpt"]


@dataclass(frozen=True)
class QuantileFPT:
    """Result of :func:`quantile_fpt`: the ``q``-quantile ``time`` with bootstrap CI
    ``low``/``high``; ``estimable`` is False (and ``time`` NaN) when S stays above 1 − q up to
    the horizon. ``high`` is NaN when more than (1 − level)/2 of the resamples never reach it."""

    q: float
    time: float
    low: float
    high: float
    estimable: bool
    n: int
    n_censored: int
    confidence_level: float


def _quantile(km: KaplanMeier, s: np.ndarray, q: float) -> np.ndarray:
    below = s <= 1.0 - q + 1e-12
    k = np.argmax(below, axis=1)
    return np.where(below.any(axis=1), km.u[k], np.nan)


def quantile_fpt(
    fp: FirstPassage,
    q: float,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | int | None = None,
) -> QuantileFPT:
    """The ``q``-quantile of the first-passage time, t_q = min{t : S(t) ≤ 1 − q}, with a
    percentile-bootstrap CI over runs (resamples that never reach it count as +∞)."""
    fp = check_first_passage(fp, "fp")
    if not 0 < q < 1:
        raise ValueError(f"q={q} must lie in (0, 1)")
    level = check_level(confidence_level)
    km = KaplanMeier(fp)
    t = float(_quantile(km, km.sf(), q)[0])
    reps = bootstrap_stack(
        lambda w: _quantile(km, km.sf(w), q)[:, None],
        [fp.n],
        check_resamples(n_resamples),
        np.random.default_rng(rng),
    )
    reps = np.where(np.isnan(reps), np.inf, reps)  # never reached: beyond the horizon
    lo, hi = percentile_interval(reps, level)
    lo, hi = float(lo[0]), float(hi[0])
    return QuantileFPT(
        q=q,
        time=t,
        low=lo if np.isfinite(lo) else float("nan"),
        high=hi if np.isfinite(hi) else float("nan"),
        estimable=bool(np.isfinite(t)),
        n=fp.n,
        n_censored=fp.n - fp.n_observed,
        confidence_level=level,
    )


def median_fpt(
    fp: FirstPassage,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | int | None = None,
) -> QuantileFPT:
    """The median first-passage time (:func:`quantile_fpt` at q = 0.5)."""
    return quantile_fpt(
        fp, 0.5, confidence_level=confidence_level, n_resamples=n_resamples, rng=rng
    )
