"""The numbers of the non-equilibrium page that its summary keeps, keyed as the tests and the
claims ledger read them: fluctuation-theorem averages per window, the predicted and measured IFT
bias, the mean entropy production against theory, the covariance and circulation errors and the
learning-rate scan. :func:`page_record` assembles, from the page's tables, its words, its claims
and these entries; :func:`save_tables` writes the tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from fpt_core.book.claims import claims_box
from fpt_core.book.fluctuation_claims import fluctuation_claims
from fpt_core.book.fluctuation_words import detail_markdown, fluctuation_words, run_lengths
from fpt_core.book.ift_bias_scan import centre_shift, gaussian_dft_slope

__all__ = ["by_window", "fluctuation_results", "page_record", "save_tables"]

WR, WOR = "with replacement", "without replacement"


def save_tables(out_dir: str | Path, preset: str, tables: Mapping[str, pd.DataFrame]) -> list[Path]:
    """Write each table to ``out_dir/<name>_<preset>.csv`` (without the index), creating
    ``out_dir``; return the paths.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in save_tables(Path(d) / "x", "tiny", {"scan": pd.DataFrame({"a": [1]})})]
    ['scan_tiny.csv']
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        paths.append(out_dir / f"{name}_{preset}.csv")
        table.to_csv(paths[-1], index=False)
    return paths


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
    See ``tests/book/test_book_fluctuation_results.py`` for a complete synthetic input.
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


def page_record(
    *,
    params: Mapping[str, Any],
    lam_max: float,
    steps_per_epoch: int,
    runs: Mapping[str, Any],
    ness: Mapping[str, Any],
    mu1: Any,
    theory: pd.DataFrame,
    checks: pd.DataFrame,
    mean_shift: Mapping[str, float],
    ep: pd.DataFrame,
    sur: pd.DataFrame,
    toy_tab: pd.DataFrame,
    scan: pd.DataFrame,
    fits: Mapping[str, Any],
    pred: Mapping[float, Any],
    wor_ep_se: float,
    wor_irr_se: float,
    dft: Mapping[str, Any],
) -> tuple[dict[str, str], dict[str, str], list[dict[str, str]], dict[str, Any]]:
    """The page's words, Markdown paragraphs, claims and summary entries from its tables.

    Parameters
    ----------
    params : the resolved parameters (``lr``, ``paper_lr``, ``n_chains``).
    lam_max, steps_per_epoch : the Hessian's largest eigenvalue and M = N/B.
    runs, ness : per policy the run (``steps``) and its linear theory (with replacement: ``D``,
        ``functional``).
    mu1 : the anharmonic mean shift with replacement (for the centre's effect on the IFT).
    theory, checks, mean_shift : :mod:`fpt_core.book.stationary_moments` tables.
    ep, sur : entropy-production and surrogate rows (:mod:`fpt_core.book.entropy_tables`).
    toy_tab, scan, fits : the toy, the learning-rate scan and
        :func:`fpt_core.book.ift_bias_scan.premise_fits`.
    pred : per η of the scan the predicted bias.
    wor_ep_se, wor_irr_se : Monte Carlo errors of the without-replacement theory.
    dft : the Gaussian relation's test where the premise holds: ``share``, ``chi2``, ``p``.

    Returns
    -------
    (words, markdown, claims, results)
        :func:`fpt_core.book.fluctuation_words.fluctuation_words` plus ``run_lengths``;
        :func:`fpt_core.book.fluctuation_words.detail_markdown` of those words plus
        ``claims_box`` (:func:`fpt_core.book.claims.claims_box`);
        :func:`fpt_core.book.fluctuation_claims.fluctuation_claims`;
        :func:`fluctuation_results`.

    Examples
    --------
    See ``tests/book/test_book_fluctuation_results.py`` for a complete synthetic input.
    """
    lr = params["lr"]
    main, pr_main = scan[scan["η"] == lr].iloc[0], pred[lr]
    wr, wor = ep[ep["policy"] == WR], ep[ep["policy"] == WOR]
    words = {"run_lengths": run_lengths(runs, params["n_chains"])} | fluctuation_words(
        lr=lr, eta_m_lam=lr * steps_per_epoch * lam_max, ck=checks, th=theory, ep=ep,
        mean_shift=mean_shift, wor_irr_se=wor_irr_se, pr_main=pr_main, main=main, sur=sur,
        toy_tab=toy_tab, scan=scan, fits=fits, centre_shift=centre_shift(ness[WR], mu1),
        dft={**dft, "wor_pred": gaussian_dft_slope(wor)},
    )  # fmt: skip
    claims = fluctuation_claims(
        lr=lr, paper_lr=params["paper_lr"], ck=checks, wr=wr, scan=scan, sur=sur,
        resolved=fits["resolved"], resolved_all=fits["resolved_all"], fit=fits["fit"],
        fit_all=fits["fit_all"], toy_tab=toy_tab, dft_share=dft["share"], dft_chi2=dft["chi2"],
        dft_p=dft["p"],
    )  # fmt: skip
    results = fluctuation_results(
        lr=lr, ep=ep, sur=sur, pr_main=pr_main, main=main, toy_tab=toy_tab, fit=fits["fit"],
        resolved=fits["resolved"], fit_pred=fits["fit_pred"], wor_ep_se=wor_ep_se,
        theory=theory, ck=checks, policies=runs, scan=scan,
    )  # fmt: skip
    markdown = detail_markdown(words) | {"claims_box": claims_box(claims)}
    return words, markdown, claims, results
