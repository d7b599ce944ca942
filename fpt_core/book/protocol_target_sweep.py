"""The same runs at other targets: does the location of each protocol's optimum depend on it?

The target accuracy is a choice; the runs are not. Re-analysing the same ensembles at other
targets (no training) gives, per target, the relaxation time and premise of the single-frequency
test and, per protocol, τ* (interior, or the edge it sits on) with the speedup and its CI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from fpt_core.stats.fpt import first_passage
from fpt_core.stats.optimum import protocol_optimum
from fpt_core.stats.single_frequency import single_frequency_test

SWEEP_RESAMPLES = 199  # the most bootstrap resamples per target


def optimum_cell(o, sp) -> str:
    """One table cell: "τ* 40 (interior), 1.20× (1.10–1.30)", or "no prediction" (``o`` None).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> optimum_cell(NS(tau=40.0, interior=False, edge="lower"), NS(speedup=1.2, low=1.1, high=1.3))
    'τ* 40 (lower), 1.20× (1.10–1.30)'
    >>> optimum_cell(None, None)
    'no prediction'
    """
    if o is None:
        return "no prediction"
    where = "interior" if o.interior else (o.edge or "not separated")
    return f"τ* {o.tau:g} ({where}), {sp.speedup:.2f}× ({sp.low:.2f}–{sp.high:.2f})"


def target_sweep(
    acc0: np.ndarray,
    acc_once: Mapping[str, np.ndarray],
    acc_periodic: Mapping[float, np.ndarray],
    times: np.ndarray,
    targets: Sequence[float],
    protocols: Sequence[str],
    *,
    tau0: float,
    alpha: float = 0.05,
    min_survivors: int = 10,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
) -> pd.DataFrame:
    """One row per target (sorted, duplicates dropped): premise and each protocol's optimum.

    Parameters
    ----------
    acc0 : numpy.ndarray
        Unperturbed accuracies (runs × epochs).
    acc_once : mapping
        Protocol → accuracies of the ensemble perturbed once at ``tau0`` (every protocol but
        ``"reset"``, which is predicted from ``acc0`` alone); ``"shrink_perturb"`` is required.
    acc_periodic : mapping
        τ → accuracies of shrink & perturb every τ (the premise's log-rank test).
    times : numpy.ndarray
        The epochs of the accuracy columns.
    targets, protocols : sequence
        The targets re-analysed and the protocols compared.
    tau0, alpha, min_survivors, confidence_level : see
        :func:`fpt_core.stats.single_frequency.single_frequency_test`.
    n_resamples : int
        Bootstrap resamples, at most :data:`SWEEP_RESAMPLES` (seeds 7 and 8).

    Returns
    -------
    pandas.DataFrame
        ``target, unperturbed censored, t_relax, premise``, and per protocol the cell of
        :func:`optimum_cell` and ``<protocol>_interior``.
    """
    nr = min(n_resamples, SWEEP_RESAMPLES)
    rows = []
    for a in sorted(set(targets)):
        sfa = single_frequency_test(acc0, acc_once["shrink_perturb"], acc_periodic, times,
                                    target=a, tau0=tau0, alpha=alpha,
                                    min_survivors=min_survivors,
                                    confidence_level=confidence_level, n_resamples=nr,
                                    rng=7)  # fmt: skip
        fpa = first_passage(acc0, a, times)
        row = {"target": a, "unperturbed censored": 1 - fpa.n_observed / fpa.n,
               "t_relax": sfa.t_relax, "premise": sfa.premise}  # fmt: skip
        for name in protocols:
            extra = {} if name == "reset" else dict(
                perturbed=first_passage(acc_once[name], a, times), tau0=tau0)  # fmt: skip
            r = protocol_optimum(fpa, t_relax=sfa.t_relax, confidence_level=confidence_level,
                                 n_resamples=nr, rng=8, **extra)  # fmt: skip
            row[name] = optimum_cell(r.optimum, r.speedup)
            row[f"{name}_interior"] = bool(r.optimum is not None and r.optimum.interior)
        rows.append(row)
    return pd.DataFrame(rows)
