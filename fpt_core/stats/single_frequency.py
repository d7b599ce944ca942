"""Test the single-frequency claim under its own premise, from accuracy matrices alone.

Meir, Keidar, Reuveni & Hirshberg (arXiv:2502.04121) claim that once the survivors (runs not
yet at the target) are in a quasi-steady state, one perturbed ensemble predicts the mean
first-passage time for perturbation at other periods. :func:`single_frequency_test` takes

* the unperturbed ensemble's accuracies,
* an ensemble perturbed **once** at τ0 (the law of T_p, the time from a perturbation to the
  target),
* ensembles perturbed **every** τ for several periods (brute force; τ0 among them for the
  paper's own recipe),

and returns the premise checks and, per period, the renewal prediction from τ0 against the
measurement. The premise holds when the KS relaxation time of all runs does not depend on the
reference epoch (:func:`fpt_core.stats.qss.relaxation_by_reference`), the survivors are in QSS
(:func:`fpt_core.stats.survivors.qss_onset`), the share of time at or above the target is stationary
(:func:`fpt_core.stats.qss.tail_stationarity`), τ0 and every held-out τ are at least the relaxation
time, and the law of T_p does not depend on τ (:func:`fpt_core.stats.logrank.logrank` on T_p of every
ensemble, cut at the shortest period). Predictions and measurements are compared as restricted
means to the common horizon (:func:`fpt_core.stats.rmst.predicted_restricted_mean`,
:func:`fpt_core.stats.fpt.mean_fpt`) with :func:`fpt_core.stats.verdicts.agreement`.

Verdict: *not tested at this preset* if the premise fails; else *reproduced* if every held-out
period agrees, *not reproduced* otherwise. Numpy/scipy only: it works on any training log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fpt_core.stats.fpt import FirstPassage, MeanFPT, first_passage, mean_fpt
from fpt_core.stats.logrank import LogRank, logrank
from fpt_core.stats.qss import (
    RelaxationByReference,
    TailStationarity,
    relaxation_by_reference,
    tail_stationarity,
)
from fpt_core.stats.restart import post_perturbation
from fpt_core.stats.rmst import RestrictedMean, predicted_restricted_mean
from fpt_core.stats.survivors import qss_onset
from fpt_core.stats.verdicts import Agreement, agreement

__all__ = ["PeriodCheck", "SingleFrequencyTest", "single_frequency_test", "censor_at"]


def censor_at(fp: FirstPassage, w: float) -> FirstPassage:
    """The same first-passage times seen only until ``w``: censored there."""
    return FirstPassage(np.minimum(fp.times, w), fp.observed & (fp.times <= w), float(w))


@dataclass(frozen=True)
class PeriodCheck:
    """One brute-force period: the renewal prediction from τ0 and the paper's recipe (single
    form, T_p from the periodic ensemble at τ0) against the measured restricted mean."""

    tau: float
    held_out: bool
    in_qss: bool
    censored: float
    measured: MeanFPT
    predicted: RestrictedMean
    agreement: Agreement
    recipe: RestrictedMean
    recipe_agreement: Agreement


@dataclass(frozen=True)
class SingleFrequencyTest:
    """Result of :func:`single_frequency_test`; :meth:`table` gives one row per period."""

    target: float
    tau0: float
    horizon: float
    t_relax: float
    survivors_source: str
    survivors_t_relax: float
    relaxation: RelaxationByReference
    tail: TailStationarity
    tp_logrank: LogRank
    tp_window: float
    unperturbed: MeanFPT
    periods: list[PeriodCheck]
    reasons: list[str] = field(default_factory=list)

    @property
    def premise(self) -> bool:
        """Every premise check passed (``reasons`` lists the failures)."""
        return not self.reasons

    @property
    def verdict(self) -> str:
        held = [p for p in self.periods if p.held_out]
        if not self.premise:
            return "not tested at this preset"
        return "reproduced" if all(p.agreement.consistent for p in held) else "not reproduced"

    def table(self) -> pd.DataFrame:
        rows = []
        for p in self.periods:
            a, b = p.agreement, p.recipe_agreement
            rows.append(
                dict(
                    tau=p.tau, role="held out" if p.held_out else "tau0", in_qss=p.in_qss,
                    predicted=p.predicted.mean, pred_low=p.predicted.low,
                    pred_high=p.predicted.high, measured=p.measured.mean,
                    meas_low=p.measured.low, meas_high=p.measured.high,
                    rel_error=a.relative_error, z=a.z, consistent=a.consistent,
                    resolution=a.resolution, recipe_predicted=p.recipe.mean,
                    recipe_low=p.recipe.low, recipe_high=p.recipe.high,
                    recipe_rel_error=b.relative_error, recipe_consistent=b.consistent,
                    censored=p.censored,
                )
            )  # fmt: skip
        return pd.DataFrame(rows)


def single_frequency_test(
    acc0: np.ndarray,
    acc_once: np.ndarray,
    acc_periodic: Mapping[float, np.ndarray],
    times: np.ndarray,
    *,
    target: float,
    tau0: float,
    alpha: float = 0.05,
    min_survivors: int = 10,
    max_spread: float = 0.2,
    n_references: int = 4,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: int = 0,
) -> SingleFrequencyTest:
    """Premise checks and predictions of the single-frequency claim (see the module docstring).

    Parameters
    ----------
    acc0, acc_once : arrays (runs, evaluations)
        Accuracy of the unperturbed ensemble and of the ensemble perturbed once at ``tau0``, on
        ``times`` (an evaluation at t = 0 is allowed and ignored by the QSS tests).
    acc_periodic : mapping τ → array (runs, evaluations)
        Ensembles perturbed every τ, on ``times``; ``tau0`` must be one of them.
    times : array (evaluations,)
        Evaluation times (epochs), shared by every ensemble; its last value is the horizon.
    target, tau0 : float
        The target accuracy and the period of the single perturbation.
    """
    times = np.asarray(times, dtype=float)
    if tau0 not in acc_periodic:
        raise ValueError(f"tau0={tau0} must be one of the periodic ensembles {list(acc_periodic)}")
    for name, a in [("acc0", acc0), ("acc_once", acc_once), *acc_periodic.items()]:
        if np.shape(a)[-1] != times.size:
            raise ValueError(f"{name}: {np.shape(a)[-1]} evaluations, times has {times.size}")
    horizon = float(times[-1])
    if not 0 < tau0 < horizon:
        raise ValueError(f"tau0={tau0} must lie in (0, horizon={horizon})")
    kw = dict(confidence_level=confidence_level, n_resamples=n_resamples)
    live = times > 0
    fp0 = first_passage(acc0, target, times)
    m0 = mean_fpt(fp0, rng=rng, **kw)
    onset = qss_onset(acc0, target, times, alpha=alpha, min_survivors=min_survivors,
                      fallback=tau0)  # fmt: skip
    refs = relaxation_by_reference(
        np.asarray(acc0)[:, live], times[live], np.linspace(horizon / 2, horizon, n_references),
        alpha=alpha, max_spread=max_spread,
    )  # fmt: skip
    t_relax = max(onset.t_relax, refs.latest if refs.latest is not None else horizon)
    start = min(t_relax, float(times[live][-4]))  # at least four evaluations to test
    tail = tail_stationarity(np.asarray(acc0)[:, live], times[live], level=target, start=start,
                             alpha=alpha)  # fmt: skip
    fp_once = first_passage(acc_once, target, times)
    fps = {float(tau): first_passage(a, target, times) for tau, a in acc_periodic.items()}
    window = min(fps)
    laws = [censor_at(post_perturbation(fp_once, tau0, schedule="once"), window)]
    laws += [censor_at(post_perturbation(fp, tau, renewal=True), window) for tau, fp in fps.items()]
    lr = logrank(*laws)
    periods = []
    for i, (tau, fp) in enumerate(sorted(fps.items())):
        meas = mean_fpt(fp, rng=rng + 1 + i, **kw)
        pred = predicted_restricted_mean(fp0, fp_once, tau0, tau, horizon, rng=rng + 100 + i, **kw)
        rec = predicted_restricted_mean(fp0, fps[float(tau0)], tau0, tau, horizon, form="single",
                                        schedule="periodic", rng=rng + 200 + i, **kw)  # fmt: skip
        periods.append(
            PeriodCheck(
                tau, tau != tau0, bool(tau >= t_relax), 1 - fp.n_observed / fp.n, meas, pred,
                agreement(pred.mean, pred.low, pred.high, meas.mean, meas.low, meas.high,
                          confidence_level=confidence_level),
                rec,
                agreement(rec.mean, rec.low, rec.high, meas.mean, meas.low, meas.high,
                          confidence_level=confidence_level),
            )
        )  # fmt: skip
    reasons = []
    if not refs.robust:
        reasons.append("the KS relaxation time of all runs depends on the reference epoch")
    if onset.source != "survivors in QSS":
        reasons.append("the survivors reach no QSS")
    if not tail.stationary:
        reasons.append(f"the share of time at or above the target drifts (p = {tail.pvalue:.2g})")
    if tau0 < t_relax or not all(p.in_qss for p in periods):
        reasons.append(f"τ0 or a held-out period lies before the relaxation time {t_relax:g}")
    if lr.pvalue < alpha:
        reasons.append(f"the law of T_p depends on τ (log-rank p = {lr.pvalue:.2g})")
    return SingleFrequencyTest(
        float(target), float(tau0), horizon, float(t_relax), onset.source, onset.t_relax, refs,
        tail, lr, float(window), m0, periods, reasons,
    )  # fmt: skip
