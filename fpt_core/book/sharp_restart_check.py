"""The sharp-restart formula against brute force: predicted and measured restricted means.

A reset to a fresh draw every τ makes the restarted run a fresh draw from the ensemble, so
⟨T_τ⟩ = E[min(T, τ)]/(1 − S(τ)) follows from the unperturbed runs alone. The check compares
the restricted mean to the horizon that formula predicts
(:func:`fpt_core.stats.speedup.restricted_speedup`) with the Kaplan–Meier restricted mean of an
ensemble reset every τ (:func:`fpt_core.stats.fpt.mean_fpt`), by :func:`fpt_core.stats.verdicts.agreement`.
"""

from __future__ import annotations

from typing import Any

from fpt_core.book.claims import claim
from fpt_core.stats.fpt import FirstPassage, mean_fpt
from fpt_core.stats.speedup import restricted_speedup
from fpt_core.stats.verdicts import agreement

CENSORED_MAX = 0.05  # above this share of censored brute-force runs the check decides nothing


def sharp_restart_check(
    unperturbed: FirstPassage,
    restarted: FirstPassage,
    tau: float,
    horizon: float,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
) -> dict[str, Any]:
    """Predicted against measured E[min(T_τ, h)] for a reset to a fresh draw every ``tau``.

    Parameters
    ----------
    unperturbed : FirstPassage
        The unperturbed ensemble, the prediction's only input.
    restarted : FirstPassage
        The ensemble reset every ``tau`` (brute force).
    tau, horizon : float
        The reset period and the horizon h of the restricted means.
    confidence_level : float
        Level of the bootstrap CIs and of the agreement test.
    n_resamples : int
        Bootstrap resamples (fixed seeds: 3 for the measurement, 4 for the prediction).

    Returns
    -------
    dict
        ``tau, predicted, pred_low, pred_high, measured, meas_low, meas_high,
        measured_censored`` (share of censored brute-force runs), ``rel_error, z, consistent,
        resolution`` (of the agreement).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([2.0] * 40 + [3.0] * 20 + [30.0] * 40)
    >>> fp = FirstPassage(t, t < 30, 30.0)
    >>> c = sharp_restart_check(fp, fp, 30.0, 30.0, n_resamples=50)
    >>> round(c["predicted"], 2), round(c["measured"], 2), round(c["rel_error"], 6), c["consistent"]
    (13.4, 13.4, 0.0, True)
    """
    kw = dict(confidence_level=confidence_level, n_resamples=n_resamples)
    meas = mean_fpt(restarted, rng=3, **kw)
    pred = restricted_speedup(unperturbed, tau, horizon, rng=4, **kw)
    ag = agreement(pred.predicted, pred.pred_low, pred.pred_high, meas.mean, meas.low, meas.high,
                   confidence_level=confidence_level)  # fmt: skip
    return dict(
        tau=float(tau), predicted=pred.predicted, pred_low=pred.pred_low,
        pred_high=pred.pred_high, measured=meas.mean, meas_low=meas.low, meas_high=meas.high,
        measured_censored=meas.n_censored / meas.n, rel_error=ag.relative_error, z=ag.z,
        consistent=ag.consistent, resolution=ag.resolution,
    )  # fmt: skip


def sharp_restart_verdict(check: dict[str, Any] | None) -> str:
    """Verdict on the formula: a check decides only if most brute-force runs reach the target
    (at most :data:`CENSORED_MAX` censored) and the agreement has a resolution.

    Examples
    --------
    >>> c = dict(measured_censored=0.0, resolution=0.02, consistent=True)
    >>> sharp_restart_verdict(c), sharp_restart_verdict({**c, "consistent": False})
    ('reproduced', 'not reproduced')
    >>> sharp_restart_verdict({**c, "measured_censored": 0.2})
    'not tested at this preset'
    """
    if check is None or check["measured_censored"] > CENSORED_MAX or check["resolution"] == 0:
        return "not tested at this preset"
    return "reproduced" if check["consistent"] else "not reproduced"


def sharp_restart_texts(
    check: dict[str, Any] | None, n_runs: int, confidence_level: float = 0.95
) -> dict[str, str]:
    """The check's numbers and data-dependent words for the page, keyed by glue name.

    Parameters
    ----------
    check : dict or None
        From :func:`sharp_restart_check`; None when the reset was not run (every text "—").
    n_runs : int
        Runs of the brute-force ensemble.
    confidence_level : float
        Level of the agreement test.

    Returns
    -------
    dict of str to str
        ``reset_pred``, ``reset_meas`` (value and CI), ``reset_censored`` ("k of n"),
        ``reset_rel`` (signed %), ``reset_agree`` ("consistent" or "they differ"),
        ``reset_level``, ``reset_resolution`` and ``reset_caveat`` (a sentence when too many
        runs are censored to decide, else empty).

    Examples
    --------
    >>> c = dict(predicted=10.0, pred_low=9.0, pred_high=11.0, measured=10.5, meas_low=9.5,
    ...          meas_high=11.5, measured_censored=0.25, rel_error=-0.047, consistent=True,
    ...          resolution=0.1)
    >>> t = sharp_restart_texts(c, 8)
    >>> t["reset_pred"], t["reset_censored"], t["reset_rel"], t["reset_agree"]
    ('10.00 (9.00–11.00)', '2 of 8', '-4.7%', 'consistent')
    >>> t["reset_caveat"]
    'With 25% of the brute-force runs censored, the check decides nothing at this preset.'
    """
    if check is None:
        keys = ("pred", "meas", "censored", "rel", "agree", "level", "resolution", "caveat")
        return {f"reset_{k}": "—" for k in keys}
    c = check
    return {
        "reset_pred": f"{c['predicted']:.2f} ({c['pred_low']:.2f}–{c['pred_high']:.2f})",
        "reset_meas": f"{c['measured']:.2f} ({c['meas_low']:.2f}–{c['meas_high']:.2f})",
        "reset_censored": f"{round(c['measured_censored'] * n_runs)} of {n_runs}",
        "reset_rel": f"{c['rel_error']:+.1%}",
        "reset_agree": "consistent" if c["consistent"] else "they differ",
        "reset_level": f"{confidence_level:.0%}",
        "reset_resolution": f"±{c['resolution']:.1%}",
        "reset_caveat": (
            f"With {c['measured_censored']:.0%} of the brute-force runs censored, the check "
            "decides nothing at this preset." if c["measured_censored"] > CENSORED_MAX else ""
        ),
    }  # fmt: skip


def sharp_restart_claim(check: dict[str, Any]) -> dict[str, str]:
    """The claim that the sharp-restart formula needs no perturbed ensemble, with the check's
    numbers and :func:`sharp_restart_verdict`.

    Examples
    --------
    >>> c = dict(tau=40.0, predicted=10.0, pred_low=9.0, pred_high=11.0, measured=10.5,
    ...          meas_low=9.5, meas_high=11.5, measured_censored=0.0, rel_error=-0.047,
    ...          consistent=True, resolution=0.1)
    >>> r = sharp_restart_claim(c)
    >>> r["measured"], r["verdict"]
    ('τ = 40: predicted 10.00 (9.00–11.00) vs brute force 10.50 (9.50–11.50), -4.7%', 'reproduced')
    """
    c = check
    return claim(
        "Meir et al. 2025",
        "A full reset to a fresh start (sharp restart, the theory the paper builds on) "
        "needs no perturbed ensemble: ⟨T_τ⟩ = E[min(T, τ)]/(1 − S(τ)) from the "
        "unperturbed runs alone.",
        f"τ = {c['tau']:g}: predicted {c['predicted']:.2f} ({c['pred_low']:.2f}–"
        f"{c['pred_high']:.2f}) vs brute force {c['measured']:.2f} ({c['meas_low']:.2f}–"
        f"{c['meas_high']:.2f}), {c['rel_error']:+.1%}",
        sharp_restart_verdict(c),
    )
