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

__all__ = ["KSRelaxation", "ks_relaxation"]


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
