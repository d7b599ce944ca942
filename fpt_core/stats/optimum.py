r"""Optimal perturbation period, speedup and ranking of protocols, with bootstrap intervals.

Three questions a page about *which perturbation, how often* must answer from data:

* **Is there an optimum?** :func:`interior_optimum` finds
  :math:`\tau^\ast = \arg\min_\tau \langle T_\tau\rangle` on a grid of periods and calls it an
  optimum only when it is *interior*: not on either end of the allowed grid, and the predicted
  curve rises from :math:`\tau^\ast` to both ends by more than its (paired) bootstrap noise. A
  minimum on the edge of the grid says only that the best period lies at or beyond that edge.
* **How much faster?** :func:`fpt_core.stats.speedup.restricted_speedup` (the ratio of
  restricted means to a common horizon, with a bootstrap CI) measures the gain at that optimum.
* **Which is best?** :func:`separated_ranking` orders protocols only where the intervals of
  their restricted means separate (:func:`fpt_core.stats.verdicts.agreement`); the others are
  *indistinguishable*.

References: Pal & Reuveni, PRL 118, 030603 (2017); Meir, Keidar, Reuveni & Hirshberg,
arXiv:2502.04121 (2025); Royston & Parmar, BMC Med. Res. Methodol. 13, 152 (2013).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from fpt_core.stats.checks import check_level
from fpt_core.stats.fpt import FirstPassage, check_first_passage
from fpt_core.stats.km import percentile_interval
from fpt_core.stats.restart import predict_mean_fpt, sharp_restart_mean
from fpt_core.stats.speedup import Speedup, restricted_speedup
from fpt_core.stats.verdicts import agreement

__all__ = [
    "ProtocolOptimum",
    "protocol_optimum",
    "InteriorOptimum",
    "interior_optimum",
    "separated_ranking",
    "MeasuredOptimum",
    "measured_optimum",
]


@dataclass(frozen=True)
class InteriorOptimum:
    """Result of :func:`interior_optimum`.

    ``tau`` = τ* (argmin of ``mean`` on the allowed grid) with the percentile CI
    ``tau_low``/``tau_high`` of the bootstrap argmins; ``mean``/``low``/``high``: ⟨T_τ*⟩ and its
    CI; ``rise_left``/``rise_right``: ⟨T⟩ at the first/last allowed τ minus ⟨T_τ*⟩, with the
    lower ends ``rise_left_low``/``rise_right_low`` of their paired-bootstrap CIs; ``interior``:
    τ* is not on an end and both rises are positive beyond noise; ``edge``: "lower", "upper" or
    None (τ* on that end of the grid); ``grid_low``/``grid_high``: the allowed grid's ends.
    """

    tau: float
    tau_low: float
    tau_high: float
    mean: float
    low: float
    high: float
    rise_left: float
    rise_left_low: float
    rise_right: float
    rise_right_low: float
    interior: bool
    edge: str | None
    grid_low: float
    grid_high: float


def interior_optimum(
    taus: np.ndarray,
    mean: np.ndarray,
    replicates: np.ndarray,
    *,
    allowed: np.ndarray | None = None,
    confidence_level: float = 0.95,
) -> InteriorOptimum:
    """τ* = argmin ⟨T_τ⟩ over the allowed, finite part of a predicted curve, and whether it is
    an interior optimum.

    Parameters
    ----------
    taus : array (m,)
        Strictly increasing grid of periods.
    mean : array (m,)
        Predicted ⟨T_τ⟩ (NaN/inf where not predicted).
    replicates : array (b, m)
        Bootstrap replicates of the curve (e.g. ``RestartPrediction.replicates``), resampled
        jointly over τ so that differences between two τ are paired.
    allowed : bool array (m,), optional
        Periods where the prediction's premise holds (e.g. τ ≥ t_relax); default all.

    Examples
    --------
    >>> import numpy as np
    >>> taus = np.arange(1.0, 11.0)
    >>> rng = np.random.default_rng(0)
    >>> bowl = (taus - 5) ** 2 + 10.0
    >>> reps = bowl + rng.normal(0, 0.3, (200, 1))  # a common shift: paired differences exact
    >>> o = interior_optimum(taus, bowl, reps)
    >>> o.tau, o.interior
    (5.0, True)
    >>> interior_optimum(taus, taus + 10.0, taus + rng.normal(0, 0.3, (200, 10))).edge
    'lower'
    """
    level = check_level(confidence_level)
    taus = np.asarray(taus, dtype=float)
    mean = np.asarray(mean, dtype=float)
    reps = np.asarray(replicates, dtype=float)
    if taus.ndim != 1 or taus.size < 3 or np.any(np.diff(taus) <= 0):
        raise ValueError("taus must be a strictly increasing 1-D grid of ≥ 3 periods")
    if mean.shape != taus.shape:
        raise ValueError(f"mean has shape {mean.shape}, taus {taus.shape}")
    if reps.ndim != 2 or reps.shape[1] != taus.size or reps.shape[0] < 1:
        raise ValueError(f"replicates must have shape (b ≥ 1, {taus.size}), got {reps.shape}")
    ok = np.ones(taus.size, bool) if allowed is None else np.asarray(allowed, bool)
    if ok.shape != taus.shape:
        raise ValueError(f"allowed has shape {ok.shape}, taus {taus.shape}")
    ok = ok & np.isfinite(mean)
    idx = np.flatnonzero(ok)
    if idx.size < 3:
        raise ValueError("fewer than 3 allowed periods with a finite prediction")
    first, last = int(idx[0]), int(idx[-1])
    i = int(idx[np.argmin(mean[idx])])
    sub = np.where(np.isfinite(reps[:, idx]), reps[:, idx], np.inf)
    rows = np.isfinite(sub).any(axis=1)
    tau_lo, tau_hi = (np.nan, np.nan)
    if rows.any():
        tau_lo, tau_hi = percentile_interval(taus[idx][np.argmin(sub[rows], axis=1)], level)
    lo, hi = percentile_interval(reps[:, i], level)
    alpha = 1.0 - level  # one-sided lower end for each rise (Bonferroni over the two ends)
    rises = []
    for j in (first, last):
        d = reps[:, j] - reps[:, i]
        d = d[np.isfinite(d)]
        rises.append(
            (float(mean[j] - mean[i]), float(np.quantile(d, alpha / 2)) if d.size else np.nan)
        )
    (rl, rl_lo), (rr, rr_lo) = rises
    edge = "lower" if i == first else ("upper" if i == last else None)
    interior = edge is None and rl_lo > 0 and rr_lo > 0
    return InteriorOptimum(
        float(taus[i]), float(tau_lo), float(tau_hi), float(mean[i]), float(lo), float(hi),
        rl, rl_lo, rr, rr_lo, bool(interior), edge, float(taus[first]), float(taus[last]),
    )  # fmt: skip


def separated_ranking(
    estimates: Mapping[str, tuple[float, float, float]], *, confidence_level: float = 0.95
) -> dict[str, list[str]]:
    """For each name, the names whose value it beats (is smaller than) beyond the intervals.

    ``estimates`` maps a name to (value, low, high), e.g. a restricted mean first-passage time
    and its CI (smaller is better). Two names are ordered only when
    :func:`fpt_core.stats.verdicts.agreement` finds their difference beyond its interval (the two are
    treated as independent; estimates sharing an ensemble are positively correlated, which makes
    this conservative). A name that beats every other one is the best; if none does, the leaders
    are indistinguishable.

    Examples
    --------
    >>> r = separated_ranking({"a": (10.0, 9.0, 11.0), "b": (20.0, 19.0, 21.0),
    ...                        "c": (10.5, 9.5, 11.5)})
    >>> r["a"], r["c"], r["b"]
    (['b'], ['b'], [])
    """
    if len(estimates) < 1:
        raise ValueError("estimates must hold at least one (value, low, high) triple")
    out: dict[str, list[str]] = {}
    for a, (va, la, ha) in estimates.items():
        out[a] = [
            b
            for b, (vb, lb, hb) in estimates.items()
            if b != a
            and not (
                g := agreement(va, la, ha, vb, lb, hb, confidence_level=confidence_level)
            ).consistent
            and g.difference < 0
        ]
    return out


@dataclass(frozen=True)
class ProtocolOptimum:
    """Result of :func:`protocol_optimum`: the predicted curve on ``taus`` (``mean``, ``low``,
    ``high``; NaN where not predicted), the ``allowed`` periods, the ``optimum`` (None if fewer
    than three allowed periods have a prediction) and the ``speedup`` at τ* (None likewise)."""

    taus: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    allowed: np.ndarray
    optimum: InteriorOptimum | None
    speedup: Speedup | None


def protocol_optimum(
    unperturbed: FirstPassage,
    *,
    perturbed: FirstPassage | None = None,
    tau0: float | None = None,
    t_relax: float = 0.0,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: int = 0,
) -> ProtocolOptimum:
    """Predicted ⟨T_τ⟩ on the epoch grid τ = 1 … h, its optimum and the speedup there.

    Without ``perturbed``: a reset to a fresh draw, ⟨T_τ⟩ = E[min(T, τ)]/(1 − S(τ))
    (:func:`fpt_core.stats.restart.sharp_restart_mean`), allowed for every τ ≤ h (exact, no premise).
    With ``perturbed`` (perturbed once at ``tau0``): the renewal form
    (:func:`fpt_core.stats.restart.predict_mean_fpt`), allowed for t_relax ≤ τ ≤ h − τ0 (the QSS
    premise; the law of T_p is seen until h − τ0). h is the unperturbed horizon.

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.fpt import FirstPassage
    >>> t = np.array([2.0] * 40 + [3.0] * 20 + [30.0] * 40)  # 13.4 / (2.6 / 0.6) = 3.09
    >>> r = protocol_optimum(FirstPassage(t, np.ones(100, bool), 30.0), n_resamples=100)
    >>> r.optimum.tau, r.optimum.interior, round(r.speedup.speedup, 2)
    (3.0, True, 3.09)
    """
    unperturbed = check_first_passage(unperturbed, "unperturbed")
    h = float(unperturbed.horizon)
    taus = np.arange(1.0, np.floor(h) + 1.0)
    kw = dict(confidence_level=confidence_level, n_resamples=n_resamples)
    if perturbed is None:
        c = sharp_restart_mean(unperturbed, taus, rng=rng, **kw)
        mean, low, high, reps = c.mean, c.low, c.high, c.replicates
        allowed = np.ones(taus.size, bool)
    else:
        if tau0 is None or not 0 < tau0 < h:
            raise ValueError(f"tau0={tau0} must lie in (0, horizon={h})")
        g = taus[taus <= h - tau0]
        p = predict_mean_fpt(unperturbed, perturbed, tau0, g, form="renewal", schedule="once",
                             rng=rng, **kw)  # fmt: skip
        pad = taus.size - g.size
        mean, low, high = (np.pad(a, (0, pad), constant_values=np.nan) for a in (p.mean, p.low,
                                                                                  p.high))  # fmt: skip
        reps = np.pad(p.replicates, ((0, 0), (0, pad)), constant_values=np.nan)
        allowed = (taus >= t_relax) & (taus <= h - tau0)
    try:
        o = interior_optimum(taus, mean, reps, allowed=allowed, confidence_level=confidence_level)
    except ValueError:  # fewer than three allowed periods with a prediction
        return ProtocolOptimum(taus, mean, low, high, allowed, None, None)
    extra = {} if perturbed is None else dict(perturbed=perturbed, tau0=tau0)
    sp = restricted_speedup(unperturbed, o.tau, h, rng=rng + 1, **kw, **extra)
    return ProtocolOptimum(taus, mean, low, high, allowed, o, sp)


@dataclass(frozen=True)
class MeasuredOptimum:
    """Result of :func:`measured_optimum`: the period with the smallest measured value
    (``tau``), the shorter and longer periods whose values lie above it beyond the intervals
    (``above_left``, ``above_right``) and ``interior``: both lists are non-empty."""

    tau: float
    above_left: list[float]
    above_right: list[float]
    interior: bool


def measured_optimum(
    estimates: Mapping[float, tuple[float, float, float]], *, confidence_level: float = 0.95
) -> MeasuredOptimum:
    """Brute-force optimum over measured periods: τ → (value, low, high), smaller is better.

    The best period is an interior optimum when at least one shorter and one longer period are
    worse beyond the intervals (:func:`fpt_core.stats.verdicts.agreement`, independent ensembles).

    Examples
    --------
    >>> m = measured_optimum({10: (25.0, 24.0, 26.0), 20: (22.0, 21.0, 23.0),
    ...                       40: (22.5, 21.5, 23.5), 60: (25.5, 24.5, 26.5)})
    >>> m.tau, m.above_left, m.above_right, m.interior
    (20.0, [10.0], [60.0], True)
    """
    if len(estimates) < 3:
        raise ValueError("estimates must hold at least three periods τ → (value, low, high)")
    tau = float(min(estimates, key=lambda t: estimates[t][0]))
    v, lo, hi = estimates[tau]
    above = [
        float(t)
        for t, (vt, lt, ht) in sorted(estimates.items())
        if float(t) != tau
        and not (
            g := agreement(vt, lt, ht, v, lo, hi, confidence_level=confidence_level)
        ).consistent
        and g.difference > 0
    ]
    left, right = [t for t in above if t < tau], [t for t in above if t > tau]
    return MeasuredOptimum(tau, left, right, bool(left and right))
