r"""Quasi-steady state (QSS) of an ensemble observable, tested with two-sample KS tests.

An ensemble of independent training runs is in a QSS from time ``t`` on when the distribution of
the observable (e.g. test accuracy) across runs no longer changes: at every later evaluation the
runs' values are statistically indistinguishable from those at a late reference time. Following
Meir, Keidar, Reuveni & Hirshberg (arXiv:2502.04121) the test is the two-sample
Kolmogorov–Smirnov test :func:`scipy.stats.ks_2samp`,
:math:`D_t = \sup_x |F_t(x) - F_\mathrm{ref}(x)|`, and the relaxation time is the first time after which every p-value stays above ``alpha``.

A KS test weighs the whole distribution; a first passage to a target above the plateau depends
on its upper tail only, which can keep drifting while KS finds nothing.
:func:`tail_stationarity` tests that tail directly: whether the share of time each run spends at
or above a level changes between the early and the late part of a window.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "KSRelaxation",
    "ks_relaxation",
    "RelaxationByReference",
    "relaxation_by_reference",
    "ks_grid",
    "TailStationarity",
    "tail_stationarity",
]


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


@dataclass(frozen=True)
class RelaxationByReference:
    """Result of :func:`relaxation_by_reference`: ``t_relax`` (reference time → KS relaxation
    time, ``None`` where not reached), ``median`` of the found ones, ``spread`` (largest
    abs(t_relax − median) / median; NaN if none found) and ``robust`` (every reference gives a
    relaxation time within ±``max_spread`` of the median)."""

    t_relax: dict[float, float | None]
    median: float
    spread: float
    max_spread: float

    @property
    def robust(self) -> bool:
        found = [t for t in self.t_relax.values() if t is not None]
        return len(found) == len(self.t_relax) and self.spread <= self.max_spread

    @property
    def latest(self) -> float | None:
        """The largest relaxation time found (``None`` if none)."""
        found = [t for t in self.t_relax.values() if t is not None]
        return max(found) if found else None


def relaxation_by_reference(
    values: np.ndarray,
    times: np.ndarray,
    references: np.ndarray,
    *,
    alpha: float = 0.05,
    max_spread: float = 0.2,
) -> RelaxationByReference:
    """:func:`ks_relaxation` against each reference time (the evaluation nearest to it).

    In a quasi-steady state the reference is arbitrary as long as it lies in the QSS, so the
    relaxation time must not depend on it; one that grows with the reference signals a slow drift
    that each test, against a reference close in time, is too weak to see.
    """
    times = np.asarray(times, dtype=float)
    if not 0 < max_spread < 1:
        raise ValueError(f"max_spread={max_spread} must lie in (0, 1)")
    refs = np.atleast_1d(np.asarray(references, dtype=float))
    if refs.size == 0 or not np.all(np.isfinite(refs)):
        raise ValueError(f"references={references!r} must be one or more finite times")
    out: dict[float, float | None] = {}
    for r in refs:
        j = int(np.argmin(np.abs(times - r)))
        out[float(times[j])] = ks_relaxation(values, times, reference=j, alpha=alpha).t_relax
    found = [t for t in out.values() if t is not None]
    med = float(np.median(found)) if found else float("nan")
    spread = max(abs(t - med) for t in found) / med if found else float("nan")
    return RelaxationByReference(out, med, spread, float(max_spread))


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


@dataclass(frozen=True)
class TailStationarity:
    """Result of :func:`tail_stationarity`.

    ``windows`` (``(n_windows, 2)``: first and last time of each window), ``share`` and
    ``share_se`` (per window: mean over runs of the fraction of the window's evaluations with a
    value ≥ ``level``, and its standard error over runs), ``difference`` and ``difference_se``
    (mean over runs of late − early share, late/early = second/first half of the windows),
    ``pvalue`` (Wilcoxon signed-rank test of the per-run differences; 1 when every difference is
    0), ``n`` (runs with a value in both halves).
    """

    level: float
    windows: np.ndarray
    share: np.ndarray
    share_se: np.ndarray
    difference: float
    difference_se: float
    pvalue: float
    alpha: float
    n: int

    @property
    def stationary(self) -> bool:
        """No change of the tail share detected at level ``alpha``."""
        return bool(self.pvalue >= self.alpha)


def tail_stationarity(
    values: np.ndarray,
    times: np.ndarray | None = None,
    *,
    level: float,
    start: float,
    n_windows: int = 4,
    alpha: float = 0.05,
) -> TailStationarity:
    r"""Is the upper tail P(value ≥ ``level``) stationary from ``start`` on?

    The evaluations at times ≥ ``start`` are cut into ``n_windows`` consecutive windows of
    (almost) equal size. Run ``i`` spends the fraction :math:`f_{iw}` of window ``w``'s
    evaluations at or above ``level`` (``NaN`` entries are not counted). In a stationary state
    :math:`E f_{iw}` is the same for every window. Runs are independent, so the per-run
    difference :math:`d_i = \bar f_{i,\mathrm{late}} - \bar f_{i,\mathrm{early}}` (second half
    of the windows minus first half; the middle window is left out when ``n_windows`` is odd) has
    median 0, which the Wilcoxon signed-rank test checks (:func:`scipy.stats.wilcoxon`, zero
    differences dropped). Correlation in time within a run does not bias the test: each run
    contributes one number.

    Parameters
    ----------
    values : array (runs, evaluations)
        E.g. test accuracy per run and evaluation.
    times : array (evaluations,), optional
        Evaluation times, default ``1, 2, …``.
    level : float
        The tail threshold, e.g. the first-passage target or a high plateau quantile.
    start : float
        First time of the tested range (e.g. the KS relaxation time).
    n_windows : int
        Number of windows, ≥ 2, at most the number of evaluations at or after ``start``.
    alpha : float in (0, 1)
        Significance level of :attr:`TailStationarity.stationary`.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] < 2:
        raise ValueError(
            f"values must be a (runs ≥ 2, evaluations) array, got shape {values.shape}"
        )
    n_eval = values.shape[1]
    times = np.arange(1, n_eval + 1, dtype=float) if times is None else np.asarray(times, float)
    if times.shape != (n_eval,):
        raise ValueError(f"times has shape {times.shape}, expected ({n_eval},)")
    if not np.isfinite(level):
        raise ValueError(f"level={level} must be a finite number")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha={alpha} must lie in (0, 1)")
    cols = np.flatnonzero(times >= start)
    if not isinstance(n_windows, (int, np.integer)) or not 2 <= n_windows <= cols.size:
        raise ValueError(
            f"n_windows={n_windows!r} must be an integer in [2, {cols.size}] (the evaluations "
            f"at or after start={start})"
        )
    parts = np.array_split(cols, int(n_windows))
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        above = (values >= level) & finite
    counts = np.stack([finite[:, p].sum(1) for p in parts], 1).astype(float)
    frac = np.stack([above[:, p].sum(1) for p in parts], 1) / np.where(counts > 0, counts, np.nan)
    half = n_windows // 2
    with warnings.catch_warnings():  # a run without values in a half: NaN, dropped below
        warnings.simplefilter("ignore", RuntimeWarning)
        early = np.nanmean(frac[:, :half], 1)
        late = np.nanmean(frac[:, n_windows - half :], 1)
    d = (late - early)[np.isfinite(late - early)]
    if d.size < 2:
        raise ValueError("fewer than two runs have values in both halves of the windows")
    pvalue = 1.0 if not np.any(d) else float(stats.wilcoxon(d).pvalue)
    n_w = np.isfinite(frac).sum(0)
    return TailStationarity(
        level=float(level),
        windows=np.array([[times[p[0]], times[p[-1]]] for p in parts]),
        share=np.nanmean(frac, 0),
        share_se=np.nanstd(frac, 0, ddof=1) / np.sqrt(n_w),
        difference=float(d.mean()),
        difference_se=float(d.std(ddof=1) / np.sqrt(d.size)),
        pvalue=pvalue,
        alpha=float(alpha),
        n=int(d.size),
    )
