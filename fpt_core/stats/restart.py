"""Restart and periodic perturbations of a first-passage process, predicted from measurements.

Conventions (times as in :mod:`fpt_core.stats.fpt`; t = 0 is the start of training):

* ``unperturbed`` is the :class:`~fpt_core.stats.fpt.FirstPassage` of the unperturbed ensemble: T, with
  survival S(t) = P(T > t) (Kaplan–Meier), right-censored at its horizon.
* ``perturbed`` is the :class:`~fpt_core.stats.fpt.FirstPassage` of an ensemble perturbed at τ0, times
  counted from the start of training. Runs with T ≤ τ0 reached the target before the perturbation
  and carry no information on it; for the others T_p = T − τ0 is the time from the first
  perturbation to the target (censored at horizon − τ0). ``schedule="periodic"`` (the paper's
  protocol): perturbed again at 2τ0, 3τ0, …; ``schedule="once"``: a single perturbation at τ0.
* On an evaluation grid the run is evaluated at t = kτ *before* it is perturbed there: T = τ
  counts as reached without perturbation. All integrals of the step-function S are then the
  exact discrete-time sums, e.g. E[min(T, τ)] = ∫_0^τ S(t) dt = Σ_{k<τ} P(T > k) per epoch.

Two predictions of the mean first-passage time ⟨T_τ⟩ when perturbing every τ (Meir, Keidar,
Reuveni & Hirshberg, arXiv:2502.04121), valid once the survivors are in QSS (τ ≥ t_relax, see
:func:`fpt_core.stats.survivors.qss_relaxation`), so that the law of T_p does not depend on τ:

* ``form="single"``: T_τ = T if T ≤ τ else τ + T_p, so ⟨T_τ⟩ = E[min(T, τ)] + S(τ)⟨T_p⟩ and
  f_τ(t) = f(t)·1[t ≤ τ] + S(τ) f_p(t − τ)·1[t > τ]. ⟨T_p⟩ is measured once, at τ0.
* ``form="renewal"``: T_p is the time to target after *one* perturbation, renewed by every
  further perturbation (perturbations after which T_p can exceed τ):
  ⟨T_τ⟩ = E[min(T, τ)] + S(τ)·E[min(T_p, τ)] / P(T_p ≤ τ). With ``schedule="periodic"`` the
  single-perturbation T_p is only seen up to τ0 (censored there), so τ ≤ τ0 is predicted.

Classical limits: sharp restart (T_p ~ T, Pal & Reuveni 2017) ⟨T_τ⟩ = E[min(T, τ)] / P(T ≤ τ);
Poisson restart at rate r (Reuveni 2016; Evans & Majumdar 2011) ⟨T_r⟩ = (1 − T̃(r)) / (r T̃(r)),
T̃(r) = E[e^{−rT}]. Censoring is handled with Kaplan–Meier restricted means; estimates that need
data beyond a horizon are NaN or flagged as bounds. CIs: percentile bootstrap over runs of each
ensemble, resampled independently. The predicted *law* of T_τ (not only its mean) is
:func:`fpt_core.stats.predicted_law.predicted_survival`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fpt_core.stats.checks import check_level, check_positive_array, check_resamples
from fpt_core.stats.fpt import FirstPassage, MeanFPT, check_first_passage, mean_fpt
from fpt_core.stats.km import KaplanMeier, bootstrap_stack, percentile_interval

__all__ = [
    "RestartCurve",
    "sharp_restart_mean",
    "PoissonRestart",
    "poisson_restart_mean",
    "post_perturbation",
    "RestartPrediction",
    "predict_mean_fpt",
    "Optimum",
    "optimal_tau",
    "BestPerturbation",
    "best_perturbation",
]

_Rng = np.random.Generator | int | None


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


@dataclass(frozen=True)
class RestartCurve:
    """⟨T_τ⟩ under sharp restart every τ, with a percentile-bootstrap CI (NaN past the horizon);
    ``replicates``: the bootstrap curves, (n_resamples, len(taus))."""

    taus: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    confidence_level: float
    replicates: np.ndarray = field(default=None, repr=False)


def sharp_restart_mean(
    fp: FirstPassage,
    taus: np.ndarray,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: _Rng = None,
) -> RestartCurve:
    """Mean FPT under sharp restart every τ from unperturbed samples.

    ⟨T_τ⟩ = E[min(T, τ)] / P(T ≤ τ) = ∫_0^τ S(t) dt / (1 − S(τ)), S by Kaplan–Meier; needs
    τ ≤ horizon. References: Pal & Reuveni, PRL 118, 030603 (2017).
    """
    km, taus = KaplanMeier(check_first_passage(fp, "fp")), check_positive_array(taus, "taus")
    level = check_level(confidence_level)

    def curve(w: np.ndarray | None) -> np.ndarray:
        s = km.sf(w)
        return _ratio(km.area(s, taus), 1.0 - km.at(s, taus))

    reps = bootstrap_stack(curve, [fp.n], check_resamples(n_resamples), np.random.default_rng(rng))
    lo, hi = percentile_interval(reps, level)
    return RestartCurve(taus, curve(None)[0], lo, hi, level, reps)


@dataclass(frozen=True)
class PoissonRestart:
    """⟨T_r⟩ under Poisson restart at each rate, with bootstrap CI.

    ``laplace``: T̃(r) from the observed first passages (censored runs contribute 0); ``tail``:
    e^{−rH} S(H), the most the censored runs could add to T̃(r); ``lower``: ⟨T_r⟩ had all of it
    been added (the smallest value consistent with the data); ``bound``: ``mean − lower`` exceeds
    1e-3 of ``mean``, i.e. censoring matters.
    """

    rates: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    laplace: np.ndarray
    tail: np.ndarray
    lower: np.ndarray
    bound: np.ndarray
    confidence_level: float


def poisson_restart_mean(
    fp: FirstPassage,
    rates: np.ndarray,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: _Rng = None,
) -> PoissonRestart:
    """Mean FPT under Poisson restart at rate r from unperturbed samples.

    ⟨T_r⟩ = (1 − T̃(r)) / (r T̃(r)), T̃(r) = E[e^{−rT}] = Σ_k e^{−r t_k} (S(t_{k−1}) − S(t_k)) with
    S by Kaplan–Meier. Mass beyond the horizon H adds at most e^{−rH} S(H) to T̃(r): negligible
    once rH ≫ 1, so a heavy-tailed FPT (even with infinite mean) censored at a large horizon
    gives ⟨T_r⟩ accurately. References: Reuveni, PRL 116, 170601 (2016); Evans & Majumdar,
    PRL 106, 160601 (2011).
    """
    km, rates = KaplanMeier(check_first_passage(fp, "fp")), check_positive_array(rates, "rates")
    level = check_level(confidence_level)
    decay = np.exp(-np.outer(km.u, rates))  # (K, m)

    def laplace(w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        s = km.sf(w)
        jumps = np.concatenate([np.ones((s.shape[0], 1)), s[:, :-1]], axis=1) - s
        return jumps @ decay, s[:, -1:] * np.exp(-rates * km.horizon)

    def curve(w: np.ndarray | None) -> np.ndarray:
        lap = laplace(w)[0]
        return _ratio(1.0 - lap, rates * lap)

    reps = bootstrap_stack(curve, [fp.n], check_resamples(n_resamples), np.random.default_rng(rng))
    lo, hi = percentile_interval(reps, level)
    lap, tail = (a[0] for a in laplace(None))
    mean, lower = _ratio(1.0 - lap, rates * lap), _ratio(1.0 - lap - tail, rates * (lap + tail))
    return PoissonRestart(rates, mean, lo, hi, lap, tail, lower, mean - lower > 1e-3 * mean, level)


def post_perturbation(
    perturbed: FirstPassage, tau0: float, *, schedule: str = "periodic", renewal: bool = False
) -> FirstPassage:
    """T_p = T − τ0 for the runs of ``perturbed`` with T > τ0, censored at horizon − τ0.

    With ``renewal=True`` and ``schedule="periodic"``, T_p > τ0 (after the second perturbation)
    is censored at τ0: what remains is the law of the time to target after a single perturbation.
    """
    perturbed = check_first_passage(perturbed, "perturbed")
    if schedule not in ("periodic", "once"):
        raise ValueError(f"schedule={schedule!r} must be 'periodic' or 'once'")
    if not 0 < tau0 < perturbed.horizon:
        raise ValueError(f"tau0={tau0} must lie in (0, horizon={perturbed.horizon})")
    keep = perturbed.times > tau0
    if not keep.any():
        raise ValueError(f"perturbed: no run is still running at tau0={tau0}")
    tp, obs, horizon = perturbed.times[keep] - tau0, perturbed.observed[keep], perturbed.horizon
    horizon -= tau0
    if renewal and schedule == "periodic":
        obs = obs & (tp <= tau0)
        tp, horizon = np.minimum(tp, tau0), min(horizon, tau0)
    return FirstPassage(tp, obs, horizon)


@dataclass(frozen=True)
class RestartPrediction:
    """Predicted ⟨T_τ⟩ for perturbation every τ (see :func:`predict_mean_fpt`).

    Per τ: ``mean`` with bootstrap CI ``low``/``high``; ``bound`` (True: a lower bound, because
    ⟨T_p⟩ needed data past the perturbed horizon); ``emin`` = E[min(T, τ)]; ``survival`` = S(τ);
    ``mean_tp`` = ⟨T_p⟩ (single form) or E[min(T_p, τ)] / P(T_p ≤ τ) (renewal); ``hazard``, the
    unperturbed hazard rate on the τ grid, (1 − S(τ_i)/S(τ_{i−1})) / (τ_i − τ_{i−1}), τ_{−1} = 0;
    ``in_qss`` = τ ≥ t_relax (all True when no t_relax was given). ``baseline``: unperturbed ⟨T⟩.
    ``replicates``: the bootstrap curves, (n_resamples, len(taus)).
    """

    taus: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    bound: np.ndarray
    emin: np.ndarray
    survival: np.ndarray
    mean_tp: np.ndarray
    hazard: np.ndarray
    in_qss: np.ndarray
    baseline: MeanFPT
    tau0: float
    form: str
    schedule: str
    confidence_level: float
    replicates: np.ndarray = field(repr=False)


def predict_mean_fpt(
    unperturbed: FirstPassage,
    perturbed: FirstPassage,
    tau0: float,
    taus: np.ndarray,
    *,
    form: str = "single",
    schedule: str = "periodic",
    t_relax: float | None = None,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: _Rng = None,
) -> RestartPrediction:
    """Predict ⟨T_τ⟩ for perturbations every τ from the ensemble perturbed at τ0.

    ``form="single"``: ⟨T_τ⟩ = E[min(T, τ)] + S(τ)⟨T_p⟩; ``form="renewal"``:
    ⟨T_τ⟩ = E[min(T, τ)] + S(τ) E[min(T_p, τ)] / P(T_p ≤ τ). S and E[min(T, τ)] = ∫_0^τ S are
    Kaplan–Meier estimates from ``unperturbed`` (NaN for τ past its horizon unless S reached 0);
    T_p comes from :func:`post_perturbation`. If the Kaplan–Meier curve of T_p does not reach 0,
    ⟨T_p⟩ is its restricted mean and the single-form prediction is flagged a lower bound. The
    CI resamples runs of both ensembles. See the module docstring for the conventions.
    References: Meir, Keidar, Reuveni & Hirshberg, arXiv:2502.04121; Pal & Reuveni (2017).
    """
    if form not in ("single", "renewal"):
        raise ValueError(f"form={form!r} must be 'single' or 'renewal'")
    unperturbed = check_first_passage(unperturbed, "unperturbed")
    tp = post_perturbation(perturbed, tau0, schedule=schedule, renewal=form == "renewal")
    keep = perturbed.times > tau0
    taus = check_positive_array(taus, "taus", increasing=True)
    level = check_level(confidence_level)
    km0, kmp = KaplanMeier(unperturbed), KaplanMeier(tp)
    prev = np.concatenate([[0.0], taus[:-1]])

    def parts(w0: np.ndarray | None, w1: np.ndarray | None) -> tuple[np.ndarray, ...]:
        s, sp = km0.sf(w0), kmp.sf(None if w1 is None else w1[:, keep])
        emin, st = km0.area(s, taus), km0.at(s, taus)
        if form == "single":
            mtp = np.broadcast_to(kmp.area(sp, np.array([kmp.horizon])), st.shape)
        else:
            mtp = _ratio(kmp.area(sp, taus), 1.0 - kmp.at(sp, taus))
        mean = np.where(st == 0, emin, emin + st * mtp)
        return mean, emin, st, mtp, s, sp

    def curve(w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
        return parts(w0, w1)[0]

    rng = np.random.default_rng(rng)
    reps = bootstrap_stack(curve, [unperturbed.n, perturbed.n], check_resamples(n_resamples), rng)
    lo, hi = percentile_interval(reps, level)
    mean, emin, st, mtp, s, sp = (a[0] for a in parts(None, None))
    bound = (form == "single") & (sp[-1] > 0) & (st > 0)
    haz = _ratio(1.0 - _ratio(st, km0.at(s[None], prev)[0]), taus - prev)
    in_qss = np.ones(taus.size, bool) if t_relax is None else taus >= t_relax
    baseline = mean_fpt(unperturbed, confidence_level=level, n_resamples=n_resamples, rng=rng)
    return RestartPrediction(
        taus,
        mean,
        lo,
        hi,
        bound,
        emin,
        st,
        np.array(mtp),
        haz,
        in_qss,
        baseline,
        float(tau0),
        form,
        schedule,
        level,
        reps,
    )


@dataclass(frozen=True)
class Optimum:
    """Best period τ* = argmin ⟨T_τ⟩ on the grid, with bootstrap CIs.

    ``mean`` (``low``, ``high``): ⟨T_τ*⟩; ``tau_low``/``tau_high``: percentile CI of the argmin
    over bootstrap curves; ``hazard``: unperturbed hazard rate h(τ*) on the τ grid, to compare
    with ``inverse_mean_tp`` = 1/⟨T_p⟩ (optimality: h(τ*) = 1/⟨T_p⟩ for the single form);
    ``baseline`` = unperturbed ⟨T⟩ (a lower bound if not estimable) and ``speedup`` =
    baseline / mean; ``bound``: ⟨T_τ*⟩ is only a lower bound.
    """

    tau: float
    mean: float
    low: float
    high: float
    tau_low: float
    tau_high: float
    hazard: float
    inverse_mean_tp: float
    baseline: float
    speedup: float
    bound: bool


def optimal_tau(prediction: RestartPrediction, *, qss_only: bool = True) -> Optimum:
    """τ* = argmin_τ ⟨T_τ⟩ over the prediction's grid (only τ ≥ t_relax when ``qss_only``).

    At an interior optimum of the single form d⟨T_τ⟩/dτ = S(τ) − f(τ)⟨T_p⟩ = 0, i.e. the
    hazard h(τ*) = f/S = 1/⟨T_p⟩ (Meir, Keidar, Reuveni & Hirshberg, arXiv:2502.04121); both
    sides are reported.
    """
    if not isinstance(prediction, RestartPrediction):
        raise ValueError("prediction must be a RestartPrediction (see predict_mean_fpt)")
    ok = prediction.in_qss if qss_only else np.ones(prediction.taus.size, bool)
    mean = np.where(ok & np.isfinite(prediction.mean), prediction.mean, np.inf)
    if not np.isfinite(mean).any():
        raise ValueError("prediction: no finite predicted mean on the allowed τ grid")
    i = int(np.argmin(mean))
    reps = np.where(ok & np.isfinite(prediction.replicates), prediction.replicates, np.inf)
    rows = np.isfinite(reps).any(axis=1)
    tau_lo = tau_hi = np.nan
    if rows.any():
        best = prediction.taus[np.argmin(reps[rows], axis=1)]
        tau_lo, tau_hi = percentile_interval(best, prediction.confidence_level)
    base = prediction.baseline.mean
    return Optimum(
        tau=float(prediction.taus[i]),
        mean=float(prediction.mean[i]),
        low=float(prediction.low[i]),
        high=float(prediction.high[i]),
        tau_low=float(tau_lo),
        tau_high=float(tau_hi),
        hazard=float(prediction.hazard[i]),
        inverse_mean_tp=float(1.0 / prediction.mean_tp[i]),
        baseline=float(base),
        speedup=float(base / prediction.mean[i]),
        bound=bool(prediction.bound[i]),
    )


@dataclass(frozen=True)
class BestPerturbation:
    """The perturbation kind with the smallest optimal ⟨T_τ*⟩; ``table``: one row per kind."""

    name: str
    optimum: Optimum
    table: pd.DataFrame = field(repr=False)


def best_perturbation(
    predictions: Mapping[str, RestartPrediction], *, qss_only: bool = True
) -> BestPerturbation:
    """Compare perturbation kinds (name → :func:`predict_mean_fpt` result) at their optimum τ*.

    ``table`` lists per kind τ* (and CI), ⟨T_τ*⟩ (and CI), speedup and the hazard criterion,
    sorted by ⟨T_τ*⟩; a speedup below 1 means no period of that kind beats no perturbation.
    """
    if not predictions:
        raise ValueError("predictions must map at least one name to a RestartPrediction")
    optima = {name: optimal_tau(p, qss_only=qss_only) for name, p in predictions.items()}
    table = pd.DataFrame([{"kind": k, **vars(o)} for k, o in optima.items()])
    table = table.sort_values("mean", kind="stable").reset_index(drop=True)
    name = str(table.loc[0, "kind"])
    return BestPerturbation(name, optima[name], table)
