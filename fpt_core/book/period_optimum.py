"""The best perturbation period measured directly, the speedup it gives, and its ties.

For each protocol the released period with the smallest measured mean first-passage time; it is
an optimum only when interior to the grid, and another period is worse only where the intervals
separate. The same for a scan that holds first-passage times alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpt_core.stats.fpt import MeanFPT, first_passage, mean_fpt
from fpt_core.stats.logs import RunLog

__all__ = [
    "best_period_table",
    "best_scanned",
    "best_period_text",
    "scanned_text",
    "optimum_vs_relaxation",
]


def best_period_table(
    unperturbed: MeanFPT,
    perturbed: Mapping[str, Mapping[int, RunLog]],
    target: float,
    predicted: pd.DataFrame,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Per protocol, the period τ* of smallest measured ⟨T_τ⟩ and the speedup over no perturbation.

    Parameters
    ----------
    unperturbed : mean first-passage time of the unperturbed ensemble (with its interval).
    perturbed : ``perturbed[protocol][tau]``, run logs.
    target : the score a first passage reaches.
    predicted : rows with ``protocol``, ``tau`` and ``predicted`` (one form), for the predicted τ*.
    confidence_level, n_resamples, rng : of the bootstrap intervals (``rng`` used in order).

    Returns
    -------
    pandas.DataFrame
        One row per protocol: ``tau_star``, ``tau_star_interior``, ``mean_at_tau_star`` with
        ``mean_low``/``mean_high``, ``indistinguishable`` (periods whose lower end lies at or below
        τ*'s upper end), ``predicted_tau_star``, ``speedup`` (unperturbed mean / mean at τ*) with
        ``speedup_low``/``speedup_high`` (from the interval ends) and ``speedup_is``
        (``estimate``, or ``lower bound`` when the unperturbed mean is a restricted mean).

    Examples
    --------
    >>> times = np.arange(1.0, 31.0)
    >>> fast = (times[None, :] >= np.arange(2.0, 12.0)[:, None]).astype(float)
    >>> slow = (times[None, :] >= np.arange(10.0, 20.0)[:, None]).astype(float)
    >>> m0 = mean_fpt(first_passage(slow, 1.0, times), n_resamples=9, rng=0)
    >>> logs = {"p": {1: RunLog(times, slow, []), 2: RunLog(times, fast, []),
    ...               3: RunLog(times, slow, [])}}
    >>> pred = pd.DataFrame({"protocol": ["p"] * 3, "tau": [1, 2, 3], "predicted": [9, 5, 9]})
    >>> row = best_period_table(m0, logs, 1.0, pred, n_resamples=9, rng=0).iloc[0]
    >>> int(row.tau_star), bool(row.tau_star_interior), round(float(row.speedup), 2)
    (2, True, 2.23)
    """
    rows = []
    kw = dict(confidence_level=confidence_level, n_resamples=n_resamples)
    for p, by_tau in perturbed.items():
        ms = {tau: mean_fpt(first_passage(r.acc, target, r.times), **kw, rng=rng)
              for tau, r in by_tau.items()}  # fmt: skip
        star = min(ms, key=lambda k: ms[k].mean)
        ties = [k for k in ms if k != star and ms[k].low <= ms[star].high]
        pred = predicted[predicted["protocol"] == p].set_index("tau")["predicted"]
        rows.append(dict(
            protocol=p, tau_star=star, tau_star_interior=min(ms) < star < max(ms),
            mean_at_tau_star=ms[star].mean, mean_low=ms[star].low, mean_high=ms[star].high,
            indistinguishable=ties, predicted_tau_star=int(pred.idxmin()) if len(pred) else None,
            speedup=unperturbed.mean / ms[star].mean,
            speedup_low=unperturbed.low / ms[star].high,
            speedup_high=unperturbed.high / ms[star].low,
            speedup_is="estimate" if unperturbed.estimable else "lower bound",
        ))  # fmt: skip
    return pd.DataFrame(rows)


def best_scanned(fpts: Mapping[int, np.ndarray]) -> dict[str, Any]:
    """The scanned parameter with the smallest mean first-passage time (uncensored times).

    Parameters
    ----------
    fpts : first-passage times per scanned value ``K``.

    Returns
    -------
    dict
        ``table`` (``K``, ``mean``, ``se``, ``n``, ``lo``/``hi`` the 95 % normal interval),
        ``k_star``, ``mean``, ``half_width`` (1.96 SE), ``ties`` (the other ``K`` whose interval
        reaches τ*'s upper end) and ``where`` (``interior to`` or ``on the edge of`` the grid).

    Examples
    --------
    >>> b = best_scanned({1: np.array([9.0, 9.2]), 2: np.array([2.0, 4.0]),
    ...                   3: np.array([3.0, 5.0])})
    >>> b["k_star"], b["where"], b["ties"]
    (2, 'interior to', [3])
    """
    sr = pd.DataFrame([dict(K=k, mean=v.mean(), se=v.std(ddof=1) / np.sqrt(v.size), n=v.size)
                       for k, v in fpts.items()])  # fmt: skip
    sr["lo"], sr["hi"] = sr["mean"] - 1.96 * sr["se"], sr["mean"] + 1.96 * sr["se"]
    k_star = int(sr.loc[sr["mean"].idxmin(), "K"])
    star = sr.loc[sr["K"] == k_star].iloc[0]
    ties = sr.loc[(sr["K"] != k_star) & (sr["lo"] <= star["hi"]), "K"].tolist()
    where = "interior to" if sr["K"].min() < k_star < sr["K"].max() else "on the edge of"
    return dict(table=sr, k_star=k_star, mean=float(star["mean"]),
                half_width=float(1.96 * star["se"]), ties=ties, where=where)  # fmt: skip


def best_period_text(opt: pd.DataFrame) -> str:
    """One clause per protocol of :func:`best_period_table`: τ*, where it lies, ⟨T⟩, speedup, ties
    and the τ* the prediction gives.

    Examples
    --------
    >>> opt = pd.DataFrame([dict(protocol="p", tau_star=2, tau_star_interior=True,
    ...     mean_at_tau_star=5.83, speedup=13.2, speedup_is="lower bound", indistinguishable=[],
    ...     predicted_tau_star=1)])
    >>> best_period_text(opt)
    'p: τ* = 2 (interior, ⟨T⟩ = 5.8, speedup ≥ 13.20, indistinguishable from τ = none; the prediction from τ0 puts it at τ = 1)'
    """
    return "; ".join(
        f"{r.protocol}: τ* = {r.tau_star} "
        f"({'interior' if r.tau_star_interior else 'edge of the grid'}, ⟨T⟩ = "
        f"{r.mean_at_tau_star:.1f}, speedup {'≥ ' if r.speedup_is != 'estimate' else ''}"
        f"{r.speedup:.2f}, indistinguishable from τ = {r.indistinguishable or 'none'}; "
        f"the prediction from τ0 puts it at τ = {r.predicted_tau_star})"
        for r in opt.itertuples()
    )


def scanned_text(best: dict[str, Any] | None) -> str:
    """A sentence on :func:`best_scanned`'s result (or on its absence, for ``None``).

    Examples
    --------
    >>> scanned_text(best_scanned({1: np.array([9.0, 9.2]), 2: np.array([2.0, 4.0]),
    ...                            3: np.array([3.0, 5.0])}))
    'Smallest mean first-passage time at K = 2, 3.00 ± 1.96, interior to the grid 1–3; K = 3 is indistinguishable from it (95 % intervals overlap).'
    >>> scanned_text(None)
    'This folder has no SR_frac_of_smallest_w scan.'
    """
    if best is None:
        return "This folder has no SR_frac_of_smallest_w scan."
    sr, ties = best["table"], best["ties"]
    return (
        f"Smallest mean first-passage time at K = {best['k_star']}, {best['mean']:.2f} ± "
        f"{best['half_width']:.2f}, {best['where']} the grid {sr['K'].min()}–{sr['K'].max()}; "
        + (f"K = {', '.join(map(str, ties))} {'is' if len(ties) == 1 else 'are'} "
           "indistinguishable from it (95 % intervals overlap)." if ties
           else "every other K is slower beyond the 95 % intervals.")
    )  # fmt: skip


def optimum_vs_relaxation(opt: pd.DataFrame, t_relax: float | None) -> str:
    """Whether every protocol's τ* lies below the relaxation time, where the single-frequency
    prediction's premise fails, as a sentence.

    Examples
    --------
    >>> opt = pd.DataFrame({"tau_star": [2, 4]})
    >>> optimum_vs_relaxation(opt, 16.0)[:40]
    'The optimum lies below the relaxation ti'
    >>> optimum_vs_relaxation(opt, 3.0)
    'The optimum does not lie below the relaxation time for every protocol.'
    """
    if t_relax and (opt["tau_star"] < t_relax).all():
        return ("The optimum lies below the relaxation time, so it is found by brute force, not "
                "by the single-frequency prediction.")  # fmt: skip
    return "The optimum does not lie below the relaxation time for every protocol."
