"""Is there an optimal period? Brute force over ensembles perturbed every τ, at a common horizon.

Ensembles perturbed every τ (some trained only to a short horizon) are all cut at that horizon
and compared by their Kaplan–Meier restricted means; the best period is an interior optimum when
some shorter and some longer period are slower beyond the intervals
(:func:`fpt_core.stats.optimum.measured_optimum`). The claim of an optimal period is decided by this
brute force (it needs no premise) and, inside its premise, by the prediction.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fpt_core.book.claims import claim
from fpt_core.book.protocol_optima import optimum_text
from fpt_core.stats.fpt import MeanFPT, first_passage, mean_fpt
from fpt_core.stats.optimum import MeasuredOptimum, measured_optimum
from fpt_core.stats.single_frequency import censor_at


def brute_force_periods(
    short: Mapping[float, np.ndarray],
    long: Mapping[float, np.ndarray],
    times: np.ndarray,
    target: float,
    horizon: float,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
) -> tuple[pd.DataFrame, MeasuredOptimum]:
    """Restricted means E[min(T_τ, horizon)] per period, and the measured optimum.

    Parameters
    ----------
    short : mapping
        τ → accuracy matrix (runs × epochs) of an ensemble trained until ``horizon``.
    long : mapping
        τ → accuracy matrix on ``times``, cut at ``horizon`` here.
    times : numpy.ndarray
        The epochs of the long ensembles; those ≤ ``horizon`` are the short ones'.
    target : float
        The target accuracy.
    horizon : float
        The common horizon.
    confidence_level : float
        Level of the bootstrap CIs and of the comparison.
    n_resamples : int
        Bootstrap resamples (seed 20 + i for the i-th period in increasing order).

    Returns
    -------
    table : pandas.DataFrame
        ``tau, source`` ("short" or "notebook 02"), ``runs, measured, low, high, censored``.
    optimum : MeasuredOptimum
        The best period and the periods slower beyond the intervals.

    Examples
    --------
    >>> t = np.arange(1.0, 11.0)
    >>> acc = {tau: (t[None, :] >= np.arange(1, 21)[:, None] % k + 1).astype(float)
    ...        for tau, k in ((1.0, 9), (2.0, 3), (3.0, 8))}
    >>> bf, opt = brute_force_periods({1.0: acc[1.0]}, {2.0: acc[2.0], 3.0: acc[3.0]}, t, 0.5,
    ...                               10.0, n_resamples=50)
    >>> bf["source"].tolist(), opt.tau, opt.interior
    (['short', 'notebook 02', 'notebook 02'], 2.0, True)
    """
    kw = dict(confidence_level=confidence_level, n_resamples=n_resamples)
    acc_by_tau = {float(t): a for t, a in short.items()}
    acc_by_tau.update({float(t): a[:, times <= horizon] for t, a in long.items()})
    rows = []
    for i, (tau, acc) in enumerate(sorted(acc_by_tau.items())):
        fp = first_passage(acc, target, times[times <= horizon])
        mt = mean_fpt(censor_at(fp, horizon), rng=20 + i, **kw)
        rows.append(dict(tau=tau, source="short" if tau in map(float, short) else "notebook 02",
                         runs=mt.n, measured=mt.mean, low=mt.low, high=mt.high,
                         censored=mt.n_censored / mt.n))  # fmt: skip
    bf = pd.DataFrame(rows)
    opt = measured_optimum({r.tau: (r.measured, r.low, r.high) for r in bf.itertuples()},
                           confidence_level=confidence_level)  # fmt: skip
    return bf, opt


def _taus(ts: list[float]) -> str:
    return ", ".join(f"{t:g}" for t in ts) or "none"


def brute_force_texts(
    bf: pd.DataFrame, opt: MeasuredOptimum, unperturbed: MeanFPT, horizon: float
) -> dict[str, str]:
    """The brute force's numbers and words for the page, keyed by glue name.

    ``bf_horizon``, ``bf_best``, ``bf_left`` and ``bf_right`` (periods slower beyond the
    intervals), ``bf_interior`` ("an interior optimum" or "not an interior optimum"),
    ``bf_tied`` (periods within the intervals of the best) and ``bf_unperturbed``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> bf = pd.DataFrame({"tau": [10.0, 30.0, 45.0]})
    >>> opt = MeasuredOptimum(30.0, [10.0], [], False)
    >>> t = brute_force_texts(bf, opt, SimpleNamespace(mean=30.0, low=29.0, high=31.0), 60.0)
    >>> t["bf_left"], t["bf_right"], t["bf_interior"], t["bf_tied"], t["bf_unperturbed"]
    ('10', 'none', 'not an interior optimum', '45', '30.00 (29.00–31.00)')
    """
    above = opt.above_left + opt.above_right
    return {
        "bf_horizon": f"{horizon:g}",
        "bf_best": f"{opt.tau:g}",
        "bf_left": _taus(opt.above_left),
        "bf_right": _taus(opt.above_right),
        "bf_interior": "an interior optimum" if opt.interior else "not an interior optimum",
        "bf_tied": _taus([t for t in bf["tau"] if t != opt.tau and t not in above]),
        "bf_unperturbed": f"{unperturbed.mean:.2f} ({unperturbed.low:.2f}–{unperturbed.high:.2f})",
    }


def optimal_period_claim(
    bf: pd.DataFrame, opt: MeasuredOptimum, horizon: float, predicted: Mapping, premise: bool
) -> dict[str, str]:
    """The claim that periodic shrink & perturb has an interior optimal period.

    Reproduced when brute force finds an interior optimum, or the prediction (``predicted``, the
    protocol's row of :func:`fpt_core.book.protocol_optima.protocol_table`) does inside its
    premise; not reproduced when the longest measured period is best and a shorter one is
    slower beyond the intervals; otherwise not tested.

    Examples
    --------
    >>> bf = pd.DataFrame({"tau": [10.0, 30.0, 45.0]})
    >>> row = {"speedup": None, "tau_star_interior": False}
    >>> c = optimal_period_claim(bf, MeasuredOptimum(30.0, [10.0], [45.0], True), 60, row, False)
    >>> c["verdict"], c["measured"]
    ('reproduced', 'brute force E[min(T_τ, 60)]: smallest at τ = 30, slower beyond the intervals at τ = 10, 45; prediction: none')
    >>> optimal_period_claim(bf, MeasuredOptimum(45.0, [10.0], [], False), 60, row, True)["verdict"]
    'not reproduced'
    """
    r = predicted
    longest = opt.tau == bf["tau"].max()
    if opt.interior or (premise and r["tau_star_interior"]):
        verdict = "reproduced"
    elif longest and opt.above_left:  # perturbing as rarely as measured is best
        verdict = "not reproduced"
    else:
        verdict = "not tested at this preset"
    lower = (
        f"; ⟨T_τ⟩ rises from τ = {r['grid_low']:g} (the relaxation time) to "
        f"{r['grid_high']:g} by {r['rise_right']:.1f} epochs (lower end "
        f"{r['rise_right_low']:.1f}): its best period lies at or before the relaxation "
        "time, outside its premise"
    ) if not pd.isna(r["speedup"]) and r["edge"] == "lower" else ""  # fmt: skip
    return claim(
        "Meir et al. 2025",
        "Perturbing every τ epochs (shrink & perturb) has an optimal period τ*, an interior "
        "minimum of the mean first-passage time.",
        f"brute force E[min(T_τ, {horizon:g})]: smallest at τ = {opt.tau:g}, slower beyond the "
        "intervals at τ = "
        + (", ".join(f"{t:g}" for t in opt.above_left + opt.above_right) or "none")
        + "; prediction: "
        + ((optimum_text(r) + lower) if not pd.isna(r["speedup"]) else "none"),
        verdict,
    )
