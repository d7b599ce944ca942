r"""Quasi-steady state (QSS) of an ensemble observable, tested with two-sample KS tests.

An ensemble of independent training runs is in a QSS from time ``t`` on when the distribution of
the observable (e.g. test accuracy) across runs no longer changes: at every later evaluation the
runs' values are statistically indistinguishable from those at a late reference time. Following
Meir, Keidar, Reuveni & Hirshberg (arXiv:2502.04121) the test is the two-sample
Kolmogorov–Smirnov test :func:`scipy.stats.ks_2samp`,
:math:`D_t = \sup_x |F_t(x) - F_\mathrm{ref}(x)|`, and the relaxation time is the first time after which every p-value stays above ``alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["KSRelaxation", "ks_relaxation", "ks_grid"]


@dataclass(frozen=True)
class KSRelaxation:
    """Result of :func:`ks_relaxation`.

    Attributes: ``times`` (evaluation times tested), ``statistic`` and ``pvalue`` (KS against the
    reference, one per time), ``reference_time``, ``alpha``, ``t_relax`` (first time from which
    every later p-value is ≥ ``alpha``; ``None`` if not reached before the reference), ``n``
    (runs with a finite value at each time).
    """

    times: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    reference_time: float
    alpha: float
    t_relax: float | None
    n: np.ndarray

    @property
    def reached(self) -> bool:
        return self.t_relax is not None


def ks_relaxation(
    values: np.ndarray,
    times: np.ndarray | None = None,
    *,
    reference: int = -1,
    alpha: float = 0.05,
    method: str = "auto",
) -> KSRelaxation:
    """KS test of the across-run distribution at each time against a reference time.

    Parameters
    ----------
    values : array (runs, evaluations)
        The observable per run and evaluation; ``NaN`` entries (e.g. diverged runs) are dropped
        per column.
    times : array (evaluations,), optional
        Evaluation times, default ``1, 2, …``.
    reference : int
        Column index of the reference distribution (default: the last evaluation).
    alpha : float in (0, 1)
        Significance level.
    method : str
        Passed to :func:`scipy.stats.ks_2samp`.

    Returns
    -------
    KSRelaxation
        With ``t_relax`` the earliest tested time ``t`` such that ``p(t') ≥ alpha`` for all
        ``t ≤ t' < t_ref``. Times after the reference are not tested.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] < 2:
        raise ValueError(
            f"values must be a (runs ≥ 2, evaluations) array, got shape {values.shape}"
        )
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha={alpha} must lie in (0, 1)")
    n_eval = values.shape[1]
    times = np.arange(1, n_eval + 1, dtype=float) if times is None else np.asarray(times, float)
    if times.shape != (n_eval,):
        raise ValueError(f"times has shape {times.shape}, expected ({n_eval},)")
    if not -n_eval <= reference < n_eval:
        raise ValueError(f"reference={reference} must index one of the {n_eval} evaluations")
    ref = reference % n_eval
    ref_vals = values[:, ref][np.isfinite(values[:, ref])]
    stat = np.full(ref, np.nan)
    pval = np.full(ref, np.nan)
    count = np.zeros(ref, dtype=int)
    for j in range(ref):
        col = values[:, j][np.isfinite(values[:, j])]
        count[j] = col.size
        if col.size and ref_vals.size:
            res = stats.ks_2samp(col, ref_vals, method=method)
            stat[j], pval[j] = res.statistic, res.pvalue
    ok = pval >= alpha
    # first index from which every later tested p-value is >= alpha
    t_relax = None
    if ref > 0 and ok[-1]:
        bad = np.flatnonzero(~ok)
        first = 0 if bad.size == 0 else bad[-1] + 1
        t_relax = float(times[first])
    return KSRelaxation(times[:ref], stat, pval, float(times[ref]), alpha, t_relax, count)


def ks_grid(sample: np.ndarray, cdf: np.ndarray, grid: np.ndarray) -> tuple[float, float]:
    """One-sample KS test of ``sample`` against a law known only on a grid of times.

    For first-passage times observed on an evaluation grid (e.g. once per epoch) the law is a
    step function. With ``cdf[k] = F(grid[k])`` the statistic is the largest gap between the
    empirical and the model CDF at the grid points,
    :math:`D = \\max_k |\\hat F(t_k) - F(t_k)|`, and the p-value is that of the Kolmogorov
    distribution for ``n = len(sample)`` (:data:`scipy.stats.kstwo`), which is conservative for a
    discrete law; :func:`scipy.stats.kstest` would treat tied times as gaps of a continuous law.
    Returns ``(D, p)``.
    """
    sample = np.asarray(sample, dtype=float)
    grid = np.asarray(grid, dtype=float)
    cdf = np.asarray(cdf, dtype=float)
    if sample.ndim != 1 or sample.size == 0:
        raise ValueError("sample must be a non-empty 1-D array")
    if grid.shape != cdf.shape or grid.ndim != 1:
        raise ValueError(f"grid {grid.shape} and cdf {cdf.shape} must be 1-D of equal length")
    if np.any(~np.isfinite(cdf)) or np.any((cdf < 0) | (cdf > 1)):
        raise ValueError("cdf values must lie in [0, 1]")
    emp = np.searchsorted(np.sort(sample), grid, side="right") / sample.size
    d = float(np.max(np.abs(emp - cdf)))
    return d, float(stats.kstwo.sf(d, sample.size))
