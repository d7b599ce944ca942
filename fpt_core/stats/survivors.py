"""The quasi-stationary state (QSS) of the survivors: masking runs after their first passage, the KS
relaxation of all runs and of the survivors, and the onset of the QSS.

Reference: Meir, Keidar, Reuveni & Hirshberg (arXiv:2502.04121).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpt_core.stats.fpt import first_passage
from fpt_core.stats.qss import KSRelaxation, ks_relaxation

__all__ = ["QSSOnset", "QSSRelaxation", "qss_onset", "qss_relaxation", "survivors"]


@dataclass(frozen=True)
class QSSRelaxation:
    """KS relaxation (:func:`fpt_core.stats.qss.ks_relaxation`) of all runs and of the survivors only.

    ``n_survivors[k]``: runs not yet at the target at evaluation k (T > t_k, finite value).
    """

    all_runs: KSRelaxation
    survivors: KSRelaxation
    n_survivors: np.ndarray


def survivors(acc: np.ndarray, target: float, times: np.ndarray | None = None) -> np.ndarray:
    """Copy of ``acc`` with each run's values at and after its first passage set to NaN.

    Column k then holds the survivors at t_k, the runs with T > t_k (the QSS conditioning).
    """
    acc = np.asarray(acc, dtype=float)
    fp = first_passage(acc, target, times)
    masked = acc.copy()
    masked[fp.observed[:, None] & (fp.grid[None, :] >= fp.times[:, None])] = np.nan
    return masked


def qss_relaxation(
    acc: np.ndarray,
    target: float,
    times: np.ndarray | None = None,
    *,
    reference: int = -1,
    alpha: float = 0.05,
    method: str = "auto",
) -> QSSRelaxation:
    """Quasi-steady state of all runs and of the survivors (runs not yet at the target).

    Runs :func:`fpt_core.stats.qss.ks_relaxation` (two-sample KS of each evaluation against the
    reference one) on ``acc`` and on :func:`survivors` ``(acc, target)``. The restart prediction of
    :mod:`fpt_core.stats.restart` assumes the survivors are in QSS at the perturbation times, τ ≥
    ``survivors.t_relax`` (Meir, Keidar, Reuveni & Hirshberg, arXiv:2502.04121).
    """
    acc = np.asarray(acc, dtype=float)
    masked = survivors(acc, target, times)
    kw = {"reference": reference, "alpha": alpha, "method": method}
    return QSSRelaxation(
        ks_relaxation(acc, times, **kw),
        ks_relaxation(masked, times, **kw),
        np.isfinite(masked).sum(axis=0),
    )


@dataclass(frozen=True)
class QSSOnset:
    """When the single-frequency prediction may be trusted: see :func:`qss_onset`.

    ``t_relax`` (time from which the survivors are taken to be in QSS), ``source`` (which test
    gave it, in words), ``reference`` (column index of the KS reference evaluation) and the
    underlying :class:`QSSRelaxation`.
    """

    t_relax: float
    source: str
    reference: int
    qss: QSSRelaxation


def qss_onset(
    acc: np.ndarray,
    target: float,
    times: np.ndarray | None = None,
    *,
    alpha: float = 0.05,
    min_survivors: int = 10,
    fallback: float,
) -> QSSOnset:
    """Relaxation time of the survivors, with an explicit fallback.

    The KS reference is the last evaluation that still has at least ``min_survivors`` survivors
    (against a handful of survivors the test has no power and would "find" a QSS everywhere).
    ``t_relax`` is the survivors' relaxation time if the test finds one; otherwise that of all
    runs; otherwise ``fallback`` (e.g. the measured period τ0). ``source`` says which applied.
    """
    if not isinstance(min_survivors, (int, np.integer)) or min_survivors < 2:
        raise ValueError(f"min_survivors={min_survivors!r} must be an integer ≥ 2")
    n_surv = np.isfinite(survivors(acc, target, times)).sum(axis=0)
    enough = np.nonzero(n_surv >= min_survivors)[0]
    reference = int(enough[-1]) if enough.size else -1
    qss = qss_relaxation(acc, target, times, reference=reference, alpha=alpha)
    if qss.survivors.reached:
        return QSSOnset(float(qss.survivors.t_relax), "survivors in QSS", reference, qss)
    if qss.all_runs.reached:
        return QSSOnset(
            float(qss.all_runs.t_relax), "survivors: no QSS; all runs in QSS", reference, qss
        )
    return QSSOnset(
        float(fallback), "no QSS detected; trusted only from the fallback on", reference, qss
    )
