"""The predicted law of the first-passage time under periodic perturbation, not only its mean.

:func:`predicted_survival` takes the same inputs as :func:`fpt_core.stats.restart.predict_mean_fpt`
(the unperturbed ensemble, an ensemble perturbed at τ0) and returns the survival function
P(T_τ > t) of perturbing every τ, single or renewal form (conventions in
:mod:`fpt_core.stats.restart`); its ``cdf`` goes to :func:`scipy.stats.kstest` against measured
first-passage times of an ensemble actually perturbed every τ.

Reference: Meir, Keidar, Reuveni & Hirshberg, arXiv:2502.04121 (2025).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fpt_core.stats.checks import check_positive_array
from fpt_core.stats.fpt import FirstPassage, check_first_passage
from fpt_core.stats.km import KaplanMeier
from fpt_core.stats.restart import post_perturbation

__all__ = ["PredictedFPT", "predicted_survival"]


@dataclass(frozen=True)
class PredictedFPT:
    """Predicted law of T_τ for perturbation every ``tau``: call :meth:`sf` / :meth:`cdf`.

    ``cdf`` can be passed to :func:`scipy.stats.kstest` against measured first-passage times.
    """

    tau: float
    form: str
    _km0: KaplanMeier = field(repr=False)
    _s: np.ndarray = field(repr=False)
    _kmp: KaplanMeier = field(repr=False)
    _sp: np.ndarray = field(repr=False)

    def sf(self, t: np.ndarray | float) -> np.ndarray:
        """P(T_τ > t): S(t) for t ≤ τ, then S(τ)·S_p(t − τ) (single) or, renewal,
        S(τ)·S_p(τ)^m·S_p(t − τ − mτ) with m = ⌈(t − τ)/τ⌉ − 1. NaN where data are missing."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        tau = self.tau
        before = self._km0.at(self._s, np.minimum(t, tau))[0]
        rest = np.maximum(t - tau, 0.0)
        if self.form == "single":
            after = self._kmp.at(self._sp, rest)[0]
        else:
            m = np.maximum(np.ceil(rest / tau) - 1, 0)
            sp_tau = self._kmp.at(self._sp, np.array([tau]))[0, 0]
            after = sp_tau**m * self._kmp.at(self._sp, rest - m * tau)[0]
        return np.where(t <= tau, before, before * after)

    def cdf(self, t: np.ndarray | float) -> np.ndarray:
        return 1.0 - self.sf(t)


def predicted_survival(
    unperturbed: FirstPassage,
    perturbed: FirstPassage,
    tau0: float,
    tau: float,
    *,
    form: str = "single",
    schedule: str = "periodic",
) -> PredictedFPT:
    """Predicted distribution of T_τ (perturbation every ``tau``), same inputs as
    :func:`predict_mean_fpt`: f_τ(t) = f(t)·1[t ≤ τ] + S(τ) f_p(t − τ)·1[t > τ] (single form)."""
    if form not in ("single", "renewal"):
        raise ValueError(f"form={form!r} must be 'single' or 'renewal'")
    tau = float(check_positive_array(tau, "tau")[0])
    km0 = KaplanMeier(check_first_passage(unperturbed, "unperturbed"))
    kmp = KaplanMeier(
        post_perturbation(perturbed, tau0, schedule=schedule, renewal=form == "renewal")
    )
    return PredictedFPT(tau, form, km0, km0.sf(), kmp, kmp.sf())
