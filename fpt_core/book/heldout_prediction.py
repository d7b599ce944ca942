"""Predicted against measured mean first-passage times at perturbation periods held out.

From the ensemble perturbed every ``tau0`` epochs, :func:`fpt_core.stats.restart.predict_mean_fpt`
predicts ⟨T_τ⟩ at every other period; this module lays the prediction next to the mean measured
on the ensemble released for each period, and scores every choice of ``tau0`` against every
other period.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fpt_core.stats.fpt import FirstPassage, first_passage, mean_fpt
from fpt_core.stats.logs import RunLog
from fpt_core.stats.restart import predict_mean_fpt
from fpt_core.stats.verdicts import agreement

__all__ = [
    "perturbing_periods",
    "prediction_table",
    "tau0_matrix",
    "worst_error",
    "display_table",
]


def perturbing_periods(
    perturbed: Mapping[str, Mapping[int, RunLog]],
) -> dict[str, dict[int, RunLog]]:
    """The ensembles whose period is shorter than their runs (a longer one never perturbs).

    Parameters
    ----------
    perturbed : ``perturbed[protocol][tau]``, the run logs of each perturbed ensemble.

    Returns
    -------
    dict
        The same mapping without the periods ``tau`` not below the last epoch with a score.

    Examples
    --------
    >>> log = RunLog(np.arange(1.0, 6.0), np.ones((2, 5)), ["a", "b"])
    >>> perturbing_periods({"p": {2: log, 5: log}})["p"].keys()
    dict_keys([2])
    """
    return {
        p: {tau: r for tau, r in by.items() if tau < r.times[np.isfinite(r.acc).any(0)][-1]}
        for p, by in perturbed.items()
    }


def prediction_table(
    unperturbed: FirstPassage,
    perturbed: Mapping[str, Mapping[int, RunLog]],
    tau0: int,
    target: float,
    *,
    t_relax: float | None,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Predicted and measured ⟨T_τ⟩ at every period, from the ensemble perturbed every ``tau0``.

    Parameters
    ----------
    unperturbed : first passages of the unperturbed ensemble.
    perturbed : ``perturbed[protocol][tau]``, run logs; protocols without ``tau0`` are skipped.
    tau0 : the period the prediction is built from.
    target : the score a first passage reaches.
    t_relax : relaxation time; periods ``τ ≥ t_relax`` are marked ``in_qss`` (none if None).
    confidence_level, n_resamples : of the bootstrap intervals.
    rng : random generator, used in a fixed order (single form, renewal form, then the measured
        mean of each period).

    Returns
    -------
    pandas.DataFrame
        One row per protocol, period and form (``single``, ``renewal``; a form whose prediction is
        not finite is left out) with ``role`` (``tau0`` or ``held out``), ``predicted`` and
        ``measured`` with their intervals, ``measured_is_bound`` (censored runs), ``runs``,
        ``censored`` (share), ``rel_error`` (predicted / measured − 1), ``consistent`` (by
        :func:`fpt_core.stats.verdicts.agreement`) and ``in_qss``.

    Examples
    --------
    >>> times = np.arange(1.0, 41.0)
    >>> acc = (times[None, :] >= np.arange(5.0, 45.0, 2.0)[:, None]).astype(float)
    >>> fp0 = first_passage(acc, 1.0, times)
    >>> logs = {"p": {5: RunLog(times, acc, []), 10: RunLog(times, acc, [])}}
    >>> t = prediction_table(fp0, logs, 5, 1.0, t_relax=None, n_resamples=9, rng=0)
    >>> sorted(set(t["role"]))
    ['held out', 'tau0']
    """
    rows = []
    for p, by_tau in perturbed.items():
        if tau0 not in by_tau:
            continue
        fpp = first_passage(by_tau[tau0].acc, target, by_tau[tau0].times)
        others = np.array(sorted(by_tau), float)
        kw = dict(confidence_level=confidence_level, n_resamples=n_resamples)
        preds = {
            f: predict_mean_fpt(
                unperturbed, fpp, tau0, others, form=f, t_relax=t_relax, **kw, rng=rng
            )
            for f in ("single", "renewal")
        }
        for i, tau in enumerate(others):
            fpm = first_passage(by_tau[int(tau)].acc, target, by_tau[int(tau)].times)
            mm = mean_fpt(fpm, **kw, rng=rng)
            for form, pr in preds.items():
                if not np.isfinite([pr.mean[i], pr.low[i], pr.high[i]]).all():
                    continue  # the renewal form needs T_p beyond τ0: not from a periodic τ0
                a = agreement(pr.mean[i], pr.low[i], pr.high[i], mm.mean, mm.low, mm.high,
                              confidence_level=confidence_level)  # fmt: skip
                rows.append(dict(
                    protocol=p, tau=int(tau), form=form,
                    role="tau0" if tau == tau0 else "held out", predicted=pr.mean[i],
                    pred_low=pr.low[i], pred_high=pr.high[i], measured=mm.mean,
                    meas_low=mm.low, meas_high=mm.high, measured_is_bound=not mm.estimable,
                    runs=fpm.n, censored=1 - fpm.observed.mean(),
                    rel_error=a.relative_error, consistent=a.consistent,
                    in_qss=bool(tau >= (t_relax or np.inf)),
                ))  # fmt: skip
    return pd.DataFrame(rows)


def tau0_matrix(
    unperturbed: FirstPassage, perturbed: Mapping[str, Mapping[int, RunLog]], target: float
) -> pd.DataFrame:
    """Relative error of the single-form prediction built from each period, at every period.

    Parameters
    ----------
    unperturbed : first passages of the unperturbed ensemble.
    perturbed : ``perturbed[protocol][tau]``, run logs.
    target : the score a first passage reaches.

    Returns
    -------
    pandas.DataFrame
        Columns ``protocol``, ``tau0`` (built from), ``tau`` (predicted) and ``rel_error``
        (predicted / measured mean − 1, point estimates). A period none of whose runs passes
        after its first perturbation builds no prediction.

    Examples
    --------
    >>> times = np.arange(1.0, 41.0)
    >>> acc = (times[None, :] >= np.arange(5.0, 45.0, 2.0)[:, None]).astype(float)
    >>> fp0 = first_passage(acc, 1.0, times)
    >>> m = tau0_matrix(fp0, {"p": {5: RunLog(times, acc, []), 10: RunLog(times, acc, [])}}, 1.0)
    >>> sorted(set(zip(m["tau0"], m["tau"])))
    [(5, 5), (5, 10), (10, 5), (10, 10)]
    """
    mat = []
    for p, by_tau in perturbed.items():
        periods = np.array(sorted(by_tau), float)
        measured = {
            tau: mean_fpt(first_passage(by_tau[int(tau)].acc, target, by_tau[int(tau)].times),
                          n_resamples=1).mean
            for tau in periods
        }  # fmt: skip
        for src in periods:
            fps = first_passage(by_tau[int(src)].acc, target, by_tau[int(src)].times)
            if not (fps.times > src).any():
                continue
            pr = predict_mean_fpt(unperturbed, fps, src, periods, n_resamples=1, rng=0)
            mat += [
                dict(protocol=p, tau0=int(src), tau=int(tau),
                     rel_error=pr.mean[i] / measured[tau] - 1)
                for i, tau in enumerate(periods)
                if np.isfinite(pr.mean[i])
            ]  # fmt: skip
    return pd.DataFrame(mat)


def worst_error(rows: pd.DataFrame) -> str:
    """The relative error largest in magnitude per protocol, as text (``none`` without rows).

    Examples
    --------
    >>> worst_error(pd.DataFrame({"protocol": ["a", "a", "b"], "rel_error": [0.1, -0.2, 0.05]}))
    'a -20.0%, b +5.0%'
    >>> worst_error(pd.DataFrame({"protocol": [], "rel_error": []}))
    'none'
    """
    e = rows.groupby("protocol")["rel_error"].apply(lambda x: x.iloc[x.abs().argmax()])
    return ", ".join(f"{p} {v:+.1%}" for p, v in e.items()) if len(e) else "none"


def display_table(res: pd.DataFrame) -> pd.DataFrame:
    """The prediction table as shown: measured means with ``(≥)`` where they are lower bounds,
    relative error and censored share as percentages, numbers to two decimals.

    Examples
    --------
    >>> res = pd.DataFrame(dict(protocol=["p"], tau=[2], form=["single"], role=["tau0"],
    ...     predicted=[5.123], measured=[5.0], measured_is_bound=[True], rel_error=[0.0246],
    ...     consistent=[True], runs=[10], censored=[0.1]))
    >>> display_table(res).iloc[0][["measured", "rel_error", "censored"]].tolist()
    ['5.00 (≥)', '+2.5%', '10.0%']
    """
    return res.assign(
        measured=[f"{m:.2f}{' (≥)' if b else ''}"
                  for m, b in zip(res.measured, res.measured_is_bound, strict=True)],
        rel_error=res.rel_error.map("{:+.1%}".format), censored=res.censored.map("{:.1%}".format),
    )[["protocol", "tau", "form", "role", "predicted", "measured", "rel_error", "consistent",
       "runs", "censored"]].round(2)  # fmt: skip
