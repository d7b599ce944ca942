"""The numbers of the non-equilibrium page that its summary keeps, keyed as the tests and the
claims ledger read them: fluctuation-theorem averages per window, the predicted and measured IFT
bias, the mean entropy production against theory, the covariance and circulation errors and the
learning-rate scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["by_window", "fluctuation_results"]


def by_window(col: str, g: pd.DataFrame) -> dict[str, Any]:
    """``{str(k): value}`` of column ``col`` over the windows ``k`` of the rows ``g``.

    Examples
    --------
    >>> by_window("x", pd.DataFrame({"k": [1, 2], "x": [0.5, 1.0]}))
    {'1': 0.5, '2': 1.0}
    """
    return dict(zip(map(str, g["k"]), g[col], strict=True))


def fluctuation_results(
    *,
    lr: float,
    ep: pd.DataFrame,
    sur: pd.DataFrame,
    pr_main: Any,
    main: pd.Series,
    toy_tab: pd.DataFrame,
    fit: dict | None,
    resolved: pd.DataFrame,
    fit_pred: dict,
    wor_ep_se: float,
    theory: pd.DataFrame,
    ck: pd.DataFrame,
    policies: Iterable[str],
    scan: pd.DataFrame,
) -> dict[str, Any]:
    """The summary entries of the non-equilibrium page.

    Parameters
    ----------
    lr : learning rate of the main runs (selects the surrogate rows at it).
    ep : entropy-production rows per policy and window ``k`` (``⟨e^−σ⟩``, ``SE(IFT)``, ``⟨σ⟩``,
        ``SE``, ``theory``, ``theory (chain)``, ``DFT slope``, ``SE(slope)``).
    sur : surrogate rows (``η``, ``policy``, ``functional``, ``k``, ``⟨e^−σ⟩``, ``SE(IFT)``,
        ``z(IFT)``).
    pr_main : the IFT-bias prediction at ``lr`` (``eps``, ``even_se``, ``even``, ``skew``,
        ``windows()``).
    main : the scan row at ``lr`` (``ε measured``, ``SE``).
    toy_tab : the validation toy's rows.
    fit, resolved, fit_pred : power-law fit of the measured ε over the resolved rows (or None),
        and of the predicted ε over the scan.
    wor_ep_se : Monte Carlo SE of the without-replacement theory of ⟨σ⟩.
    theory : the linear theory per policy (``‖C‖/‖D‖``, ``⟨σ⟩ per slowest relaxation time``).
    ck : per (policy, Σ or C) the ``rel. error (Frobenius)``.
    policies : the policies run.
    scan : the learning-rate scan.

    Returns
    -------
    dict
        Keys ``ift``, ``ift_se``, ``ift_surrogate_exact``, ``ift_surrogate_exact_se``,
        ``ift_surrogate_continuum``, ``surrogate_max_abs_z``, ``ift_bias_predicted``,
        ``ift_bias_eps``, ``ift_bias_toy``, ``eps_loglog_slope``, ``eps_loglog_slope_predicted``,
        ``ep_mean_*``, ``dft_slope``, ``dft_slope_se``, ``irreversibility``,
        ``ep_per_relaxation_time``, ``covariance_rel_error``, ``circulation_rel_error`` and
        ``lr_scan_with_replacement``.

    Examples
    --------
    See ``tests/test_book_fluctuation_results.py`` for a complete synthetic input.
    """
    runs = list(policies)
    by_k = by_window
    sur_main = sur[sur["η"] == lr]
    return {
        "ift": {p: by_k("⟨e^−σ⟩", g) for p, g in ep.groupby("policy")},
        "ift_se": {p: by_k("SE(IFT)", g) for p, g in ep.groupby("policy")},
        "ift_surrogate_exact": {p: by_k("⟨e^−σ⟩", g[g["functional"] == "exact"])
                                for p, g in sur_main.groupby("policy")},
        "ift_surrogate_exact_se": {p: by_k("SE(IFT)", g[g["functional"] == "exact"])
                                   for p, g in sur_main.groupby("policy")},
        "ift_surrogate_continuum": {p: by_k("⟨e^−σ⟩", g[g["functional"] == "continuum"])
                                    for p, g in sur_main.groupby("policy")},
        "surrogate_max_abs_z": float(sur["z(IFT)"].abs().max()),
        "ift_bias_predicted": {
            "with replacement": {str(k): v for k, v in pr_main.windows().items()},
            "without replacement": {str(k): None for k in (1, 2, 3)},  # epoch map: not derived
        },
        "ift_bias_eps": {"predicted": pr_main.eps, "predicted_se": pr_main.even_se,
                         "even": pr_main.even, "skew": pr_main.skew,
                         "measured": float(main["ε measured"]), "measured_se": float(main["SE"])},
        "ift_bias_toy": toy_tab.to_dict("records"),
        "eps_loglog_slope": None if fit is None else {**fit, "n_points": len(resolved)},
        "eps_loglog_slope_predicted": fit_pred["slope"],
        "ep_mean_measured": {p: by_k("⟨σ⟩", g) for p, g in ep.groupby("policy")},
        "ep_mean_se": {p: by_k("SE", g) for p, g in ep.groupby("policy")},
        "ep_mean_predicted": {p: by_k("theory", g) for p, g in ep.groupby("policy")},
        "ep_mean_predicted_chain": {p: by_k("theory (chain)", g) for p, g in ep.groupby("policy")},
        "ep_mean_predicted_mc_se_without_replacement": wor_ep_se,
        "dft_slope": {p: by_k("DFT slope", g) for p, g in ep.groupby("policy")},
        "dft_slope_se": {p: by_k("SE(slope)", g) for p, g in ep.groupby("policy")},
        "irreversibility": theory["‖C‖/‖D‖"].to_dict(),
        "ep_per_relaxation_time": theory["⟨σ⟩ per slowest relaxation time"].to_dict(),
        "covariance_rel_error": {p: ck.loc[(p, "Σ"), "rel. error (Frobenius)"] for p in runs},
        "circulation_rel_error": {p: ck.loc[(p, "C"), "rel. error (Frobenius)"] for p in runs},
        "lr_scan_with_replacement": scan.to_dict("records"),
    }  # fmt: skip
