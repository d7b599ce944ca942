r"""Speedup of a perturbation protocol: the ratio of restricted mean first-passage times.

The speedup of perturbing every :math:`\tau` is the ratio of restricted means to a common
horizon :math:`h`,

.. math::

    \text{speedup} = \frac{\mathbb E[\min(T, h)]}{\mathbb E[\min(T_\tau, h)]}
    = \frac{\int_0^h S(t)\,dt}{\int_0^h S_\tau(t)\,dt},

both estimates even when runs are censored at :math:`h` (Royston & Parmar 2013), with a
percentile-bootstrap CI that resamples the unperturbed runs *jointly* in numerator and
denominator. :math:`S_\tau` is the renewal law of
:func:`fpt_core.stats.predicted_law.predicted_survival` from an ensemble perturbed once at
:math:`\tau_0`, or — for a **reset to a fresh draw** (``perturbed=None``) — the sharp-restart
law, in which the restarted run's remaining time has the law of :math:`T` itself (Pal & Reuveni
2017): :math:`S_\tau(t) = S(\tau)^m\,S(t - m\tau)` for :math:`m\tau \le t < (m+1)\tau`, whose
mean is :math:`\mathbb E[\min(T,\tau)]/(1 - S(\tau))`.

References: Pal & Reuveni, PRL 118, 030603 (2017); Royston & Parmar, BMC Med. Res. Methodol.
13, 152 (2013); Meir, Keidar, Reuveni & Hirshberg, arXiv:2502.04121 (2025).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpt_core.stats.checks import check_level, check_resamples
from fpt_core.stats.fpt import FirstPassage, check_first_passage
from fpt_core.stats.km import KaplanMeier, bootstrap_stack, percentile_interval
from fpt_core.stats.predicted_law import PredictedFPT
from fpt_core.stats.restart import post_perturbation
from fpt_core.stats.rmst import _breaks, _integral

__all__ = ["Speedup", "restricted_speedup"]


@dataclass(frozen=True)
class Speedup:
    """Result of :func:`restricted_speedup`: ``speedup`` (``low``, ``high``) =
    ``baseline`` / ``predicted``, the unperturbed and predicted restricted means to ``horizon``
    (each with its own CI); ``unreached``: predicted P(T_τ > horizon) (when it is 0 the
    predicted restricted mean is the full mean ⟨T_τ⟩, and since ⟨T⟩ ≥ E[min(T, h)] the speedup
    is then a lower bound on ⟨T⟩/⟨T_τ⟩)."""

    tau: float
    horizon: float
    speedup: float
    low: float
    high: float
    baseline: float
    baseline_low: float
    baseline_high: float
    predicted: float
    pred_low: float
    pred_high: float
    unreached: float
    confidence_level: float


def restricted_speedup(
    unperturbed: FirstPassage,
    tau: float,
    horizon: float,
    *,
    perturbed: FirstPassage | None = None,
    tau0: float | None = None,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | int | None = None,
) -> Speedup:
    """E[min(T, h)] / E[min(T_τ, h)] for perturbation every ``tau``, h = ``horizon``.

    With ``perturbed`` (an ensemble perturbed **once** at ``tau0``): T_τ has the renewal law of
    :func:`fpt_core.stats.predicted_law.predicted_survival` (``form="renewal"``, ``schedule="once"``).
    Without: a **reset to a fresh draw** every τ, T_p ~ T (sharp restart), from the unperturbed
    ensemble alone. See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from fpt_core.stats.fpt import FirstPassage
    >>> t = np.arange(1.0, 11.0)  # T uniform on 1 … 10
    >>> fp = FirstPassage(t, np.ones(10, bool), 10.0)
    >>> s = restricted_speedup(fp, 5.0, 10.0, n_resamples=50, rng=0)
    >>> s.baseline, round(s.predicted, 4)  # E[min(T, 10)] = 5.5; simulated restart: 6.0
    (5.5, 6.0)
    """
    unperturbed = check_first_passage(unperturbed, "unperturbed")
    level = check_level(confidence_level)
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError(f"tau={tau} must be a finite number > 0")
    if not (np.isfinite(horizon) and 0 < horizon <= unperturbed.horizon):
        raise ValueError(
            f"horizon={horizon} must lie in (0, unperturbed horizon={unperturbed.horizon}]"
        )
    km0 = KaplanMeier(unperturbed)
    tau, horizon = float(tau), float(horizon)
    hz = np.array([horizon])
    if perturbed is None:
        if tau0 is not None:
            raise ValueError("tau0 is only used with perturbed (a reset needs none)")
        kmp, keep, sizes = km0, None, [unperturbed.n]
    else:
        perturbed = check_first_passage(perturbed, "perturbed")
        if tau0 is None:
            raise ValueError("tau0 (the time of the single perturbation) is required")
        kmp = KaplanMeier(post_perturbation(perturbed, tau0, schedule="once", renewal=True))
        keep, sizes = perturbed.times > tau0, [unperturbed.n, perturbed.n]
    breaks = _breaks(tau, horizon, km0.u, kmp.u, "renewal")

    def values(s: np.ndarray, sp: np.ndarray) -> np.ndarray:
        base = km0.area(s, hz)[:, 0]
        pred = np.array(
            [_integral(PredictedFPT(tau, "renewal", km0, s[i : i + 1], kmp, sp[i : i + 1]),
                       breaks) for i in range(s.shape[0])]
        )  # fmt: skip
        return np.stack([base, pred, base / pred], axis=1)

    def stat(*w: np.ndarray) -> np.ndarray:
        s = km0.sf(w[0])
        return values(s, s if perturbed is None else kmp.sf(w[1][:, keep]))

    s0 = km0.sf()
    sp0 = s0 if perturbed is None else kmp.sf()
    base, pred, ratio = values(s0, sp0)[0]
    reps = bootstrap_stack(stat, sizes, check_resamples(n_resamples), np.random.default_rng(rng))
    lo, hi = percentile_interval(reps, level)
    law = PredictedFPT(tau, "renewal", km0, s0, kmp, sp0)
    return Speedup(
        tau, horizon, float(ratio), float(lo[2]), float(hi[2]), float(base), float(lo[0]),
        float(hi[0]), float(pred), float(lo[1]), float(hi[1]), float(law.sf(horizon)[0]), level,
    )  # fmt: skip
