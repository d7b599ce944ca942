"""First-passage analysis of training logs: first-passage times, survival, hazard, mean, QSS.

Training is viewed as a first-passage process: run ``i`` *completes* at the first evaluation time
at which its accuracy reaches the target,

    T_i = min{t_k : acc_i(t_k) ≥ target},

and is right-censored at the horizon (the last evaluation) when it never does. Everything here
takes plain arrays, so it works on any training log (see :func:`load_runs` for CSV files); it
uses only numpy, scipy, pandas and :mod:`fpt_core.stats.qss`. Restart and perturbation predictions
built on these estimators are in :mod:`fpt_core.stats.restart`.

References: Kaplan & Meier (1958) for the survival estimator; Meir, Keidar, Reuveni & Hirshberg
(arXiv:2502.04121) for the first-passage view of training and the QSS of the survivors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from fpt_core.stats.checks import check_level, check_resamples, check_times
from fpt_core.stats.km import KaplanMeier, bootstrap_stack, percentile_interval

__all__ = [
    "check_first_passage",
    "FirstPassage",
    "first_passage",
    "Survival",
    "survival",
    "Hazard",
    "hazard",
    "MeanFPT",
    "mean_fpt",
]


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FirstPassage:
    """Right-censored first-passage times of an ensemble (one entry per run).

    Attributes: ``times`` (first-passage time where ``observed``, else the censoring time),
    ``observed`` (bool: the run reached the target), ``horizon`` (end of observation, ≥ every
    time), ``grid`` (the evaluation times, or ``None`` for continuous-time data). It can be built
    directly from simulated or external first-passage times; arrays are validated.
    """

    times: np.ndarray
    observed: np.ndarray
    horizon: float
    grid: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=float)
        if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
            raise ValueError("times must be a non-empty 1-D array of finite values ≥ 0")
        obs = np.asarray(self.observed)
        if obs.shape != t.shape or obs.dtype != bool:
            raise ValueError(f"observed must be a boolean array of shape {t.shape}")
        h = float(self.horizon)
        if not np.isfinite(h) or h < t.max():
            raise ValueError(f"horizon={h} must be finite and ≥ max(times)={t.max()}")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "observed", obs)
        object.__setattr__(self, "horizon", h)
        if self.grid is not None:
            object.__setattr__(self, "grid", check_times(self.grid, None))

    @property
    def n(self) -> int:
        return int(self.times.size)

    @property
    def n_observed(self) -> int:
        return int(self.observed.sum())

    @property
    def censored(self) -> np.ndarray:
        return ~self.observed

    def to_censored_data(self) -> stats.CensoredData:
        """The sample as :class:`scipy.stats.CensoredData` (right-censored)."""
        return stats.CensoredData(
            uncensored=self.times[self.observed], right=self.times[~self.observed]
        )


@dataclass(frozen=True)
class Survival:
    """Kaplan–Meier survival S(t) = P(T > t) with a pointwise confidence band.

    ``times`` are the distinct observation times; ``sf``, ``low``, ``high`` hold S and its band on
    ``[times[k], times[k+1])``. Use :meth:`evaluate` for other times.
    """

    times: np.ndarray
    sf: np.ndarray
    low: np.ndarray
    high: np.ndarray
    horizon: float
    confidence_level: float

    @property
    def reaches_zero(self) -> bool:
        """Whether S drops to 0 by the horizon (so the mean FPT is estimable)."""
        return bool(self.sf[-1] == 0.0)

    def evaluate(self, t: np.ndarray | float) -> np.ndarray:
        """S(t) (step function, 1 before the first time); NaN beyond the horizon unless S = 0."""
        t = np.asarray(t, dtype=float)
        k = np.searchsorted(self.times, t, side="right") - 1
        s = np.where(k < 0, 1.0, self.sf[np.clip(k, 0, None)])
        return np.where((t > self.horizon) & (self.sf[-1] > 0), np.nan, s)


@dataclass(frozen=True)
class Hazard:
    """Discrete hazard on a time grid t_1 < t_2 < …

    ``probability`` h_k = P(t_{k-1} < T ≤ t_k | T > t_{k-1}) = events / at_risk, ``se`` its
    binomial standard error sqrt(h(1−h)/n_k), ``rate`` = h_k / (t_k − t_{k−1}) (t_0 = 0), the
    hazard per unit time.
    """

    times: np.ndarray
    probability: np.ndarray
    rate: np.ndarray
    se: np.ndarray
    events: np.ndarray
    at_risk: np.ndarray


@dataclass(frozen=True)
class MeanFPT:
    """Mean first-passage time with a percentile-bootstrap CI, and its coefficient of variation.

    ``estimable`` is False when the Kaplan–Meier curve does not reach 0 by the horizon: ``mean``
    is then the restricted mean ∫_0^horizon S(t) dt, a lower bound, and ``std``/``cv`` are NaN.
    ``cv_lower_bound`` is the CV of min(T, horizon), which no law of the censored runs' times
    beyond the horizon can undercut (it equals ``cv`` when estimable), with the lower end of its
    bootstrap CI ``cv_lower_bound_low``: the restart criterion CV > 1 is established under
    censoring when ``cv_lower_bound_low > 1``.
    """

    mean: float
    low: float
    high: float
    estimable: bool
    std: float
    cv: float
    cv_low: float
    cv_high: float
    cv_lower_bound: float
    cv_lower_bound_low: float
    horizon: float
    n: int
    n_censored: int
    confidence_level: float


def check_first_passage(fp: FirstPassage, name: str) -> FirstPassage:
    if not isinstance(fp, FirstPassage):
        raise ValueError(f"{name} must be a FirstPassage (see first_passage), got {type(fp)}")
    return fp


# ------------------------------------------------------------------------ public API


def first_passage(
    acc: np.ndarray, target: float, times: np.ndarray | None = None, *, nan: str = "never"
) -> FirstPassage:
    """First time each run reaches ``acc ≥ target``, right-censored at the horizon.

    T_i = min{t_k : acc[i, k] ≥ target}; runs that never reach it are censored at
    ``horizon = times[-1]``.

    Parameters
    ----------
    acc : array (runs, evaluations)
        Accuracy (or any score where larger is better) per run and evaluation.
    target : float
        Any finite real threshold (accuracies need not lie in [0, 1]).
    times : array (evaluations,), optional
        Evaluation times, finite, ≥ 0, strictly increasing; default ``1, 2, …``.
    nan : {"never", "censor"}
        ``"never"`` (default): a NaN entry (a diverged run, after divergence) never reaches the
        target and a run that never reaches it is censored at the horizon. ``"censor"``: a run
        that never reaches the target is censored at its last finite evaluation (logs of unequal
        length, NaN-padded); a run with no finite value is censored at 0.
    """
    acc = np.asarray(acc, dtype=float)
    if acc.ndim != 2 or 0 in acc.shape:
        raise ValueError(f"acc must be a non-empty (runs, evaluations) array, got {acc.shape}")
    if not np.isfinite(target):
        raise ValueError(f"target={target} must be a finite real number")
    if nan not in ("never", "censor"):
        raise ValueError(f"nan={nan!r} must be 'never' or 'censor'")
    times = check_times(times, acc.shape[1])
    with np.errstate(invalid="ignore"):
        reached = acc >= target
    hit = reached.any(axis=1)
    t_hit = times[reached.argmax(axis=1)]
    if nan == "never":
        t_cens = np.full(acc.shape[0], times[-1])
    else:
        finite = np.isfinite(acc)
        last = acc.shape[1] - 1 - finite[:, ::-1].argmax(axis=1)
        t_cens = np.where(finite.any(axis=1), times[last], 0.0)
    return FirstPassage(np.where(hit, t_hit, t_cens), hit, float(times[-1]), grid=times)


def survival(
    fp: FirstPassage, *, confidence_level: float = 0.95, method: str = "log-log"
) -> Survival:
    """Kaplan–Meier estimate of S(t) = P(T > t) with a pointwise confidence band.

    S(t) = Π_{t_j ≤ t} (1 − d_j / n_j), with d_j first passages at t_j and n_j runs at risk
    (T ≥ t_j); Greenwood's variance gives the band. Computed by :func:`scipy.stats.ecdf` on
    :class:`scipy.stats.CensoredData`; ``method`` is passed to its ``confidence_interval``:
    "log-log" (default; Kalbfleisch & Prentice 2002, the band stays inside (0, 1) and keeps its
    coverage for small ensembles) or "linear" (S ± z·SE, clipped; its lower edge reaches 0 at
    S ≈ 0.3 with 10 runs). Without censoring S is the empirical survival function.

    References: Kaplan & Meier, J. Am. Stat. Assoc. 53, 457 (1958).
    """
    fp = check_first_passage(fp, "fp")
    level = check_level(confidence_level)
    if method not in ("linear", "log-log"):
        raise ValueError(f"method={method!r} must be 'linear' or 'log-log'")
    sf = stats.ecdf(fp.to_censored_data()).sf
    with warnings.catch_warnings():  # the band is undefined where S = 0; NaN is fine there
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sf.confidence_interval(level, method=method)
    return Survival(
        np.asarray(sf.quantiles, float),
        np.asarray(sf.probabilities, float),
        np.asarray(ci.low.probabilities, float),
        np.asarray(ci.high.probabilities, float),
        fp.horizon,
        level,
    )


def hazard(fp: FirstPassage, times: np.ndarray | None = None) -> Hazard:
    """Discrete hazard h(t_k) = P(T = t_k | T ≥ t_k) on the evaluation grid.

    For times on a grid, h_k = d_k / n_k with d_k the runs first reaching the target in
    (t_{k−1}, t_k] and n_k those still running after t_{k−1} (minus runs censored inside the
    interval); then S(t_k) = Π_{j≤k} (1 − h_j), the Kaplan–Meier estimate. ``times`` defaults to
    ``fp.grid`` (evaluation times) or, without one, the distinct first-passage times. Grid points
    past the horizon are dropped; where nobody is at risk h is NaN.
    """
    fp = check_first_passage(fp, "fp")
    if times is None:
        times = fp.grid if fp.grid is not None else np.unique(fp.times[fp.observed])
    grid = check_times(times, None)
    grid = grid[grid <= fp.horizon]
    prev = np.concatenate([[0.0], grid[:-1]])
    t, obs = fp.times, fp.observed
    ev = np.sort(t[obs])
    events = np.searchsorted(ev, grid, side="right") - np.searchsorted(ev, prev, side="right")
    alive = t.size - np.searchsorted(np.sort(t), prev, side="right")
    cens = np.sort(t[~obs])
    lost = np.searchsorted(cens, grid, side="left") - np.searchsorted(cens, prev, side="right")
    at_risk = alive - lost
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where(at_risk > 0, events / at_risk, np.nan)
        se = np.sqrt(h * (1 - h) / at_risk)
    return Hazard(grid, h, h / (grid - prev), se, events, at_risk)


def mean_fpt(
    fp: FirstPassage,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    rng: np.random.Generator | int | None = None,
) -> MeanFPT:
    """Mean first-passage time ⟨T⟩ = ∫_0^∞ S(t) dt, its CI, and CV = sqrt(⟨T²⟩ − ⟨T⟩²) / ⟨T⟩.

    S is the Kaplan–Meier estimate and ⟨T²⟩ = ∫_0^∞ 2t S(t) dt; without censoring these are the
    sample moments (std with ddof = 0). If S does not reach 0 by the horizon the mean is not
    estimable: the restricted mean ∫_0^horizon S dt (a lower bound) is returned with
    ``estimable=False``. The CV of min(T, horizon) is a lower bound on the CV: with p_1, p_2
    the moments of T restricted to T ≤ horizon = h and mass s = S(h) beyond, a tail law of mean
    x ≥ h gives ⟨T²⟩ ≥ p_2 + s x² (Jensen), and (p_2 + s x²)/(p_1 + s x)² grows with x for
    x ≥ p_2/p_1, and p_2/p_1 ≤ h. The CI is a percentile bootstrap over runs (``rng``: seed or Generator).

    References: Kaplan & Meier (1958); the CV criterion for restart is Reuveni, PRL 116, 170601
    (2016).
    """
    fp = check_first_passage(fp, "fp")
    level = check_level(confidence_level)
    km = KaplanMeier(fp)
    x = np.array([fp.horizon])

    def moments(w: np.ndarray | None) -> np.ndarray:
        s = km.sf(w)
        m1, m2 = km.area(s, x)[:, 0], km.area(s, x, power=2)[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            cv = np.sqrt(np.maximum(m2 - m1**2, 0.0)) / m1
        return np.stack([m1, cv], axis=1)

    estimable = bool(km.sf()[0, -1] == 0.0)
    m1, cv = moments(None)[0]
    reps = bootstrap_stack(
        moments, [fp.n], check_resamples(n_resamples), np.random.default_rng(rng)
    )
    (lo, cv_lo), (hi, cv_hi) = percentile_interval(reps, level)
    nan = float("nan")
    return MeanFPT(
        mean=float(m1),
        low=float(lo),
        high=float(hi),
        estimable=estimable,
        std=float(cv * m1) if estimable else nan,
        cv=float(cv) if estimable else nan,
        cv_low=float(cv_lo) if estimable else nan,
        cv_high=float(cv_hi) if estimable else nan,
        cv_lower_bound=float(cv),
        cv_lower_bound_low=float(cv_lo),
        horizon=fp.horizon,
        n=fp.n,
        n_censored=fp.n - fp.n_observed,
        confidence_level=level,
    )
