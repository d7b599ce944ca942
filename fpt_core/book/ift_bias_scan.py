"""The IFT bias ε = ⟨e^−σ⟩ − 1 measured against its prediction: on a validation toy process and
over a scan of learning rates, with the power-law fits of ε against η where it is resolved.

Predictions are :func:`fpt_core.langevin.ift_bias.predict_ift_bias`; the fits
:func:`fpt_core.langevin.ift_bias.power_law_fit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fpt_core.langevin import ift_bias

__all__ = ["toy_table", "scan_table", "premise_fits"]

PREMISE = 0.1  # the expansion's premise: ηλ_max ≤ 0.1 (relative corrections O(ηλ_max))


def toy_table(rows: Sequence[Mapping[str, float]]) -> pd.DataFrame:
    """The toy's predicted and simulated ε with ``z`` (difference over the combined SE) and
    ``sim./pred.``.

    Examples
    --------
    >>> t = toy_table([{"η (toy)": 0.02, "ε predicted": 0.01, "SE(pred.)": 0.0003,
    ...                 "ε simulated": 0.0105, "SE(sim.)": 0.0004}])
    >>> t[["z", "sim./pred."]].round(3).values.tolist()
    [[1.0, 1.05]]
    """
    toy = pd.DataFrame(list(rows))
    toy["z"] = (toy["ε simulated"] - toy["ε predicted"]) / np.hypot(
        toy["SE(sim.)"], toy["SE(pred.)"]
    )
    toy["sim./pred."] = toy["ε simulated"] / toy["ε predicted"]
    return toy


def scan_table(
    scan_runs: Mapping[float, tuple[Mapping[str, Any], Any]],
    pred: Mapping[float, Any],
    lam_max: float,
) -> pd.DataFrame:
    """One row per learning rate: measured and predicted ε, ⟨σ⟩ against the chain theory, the DFT
    slope measured and implied by ε for Gaussian σ, and the chain-steps a 3-SE resolution needs.

    Parameters
    ----------
    scan_runs : per η the run (``.ep[0]`` the one-step window: ``count``, ``mean``, ``ift``,
        ``ift_se``, ``dft_slope``, ``dft_slope_se``) and its theory (``ep_mean_chain``).
    pred : per η the prediction (``eps``, ``even_se``, ``skew``).
    lam_max : the Hessian's largest eigenvalue.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> e1 = dict(count=10000, mean=0.02, ift=1.001, ift_se=1e-4, dft_slope=0.95,
    ...           dft_slope_se=0.01)
    >>> s = scan_table({1e-3: (SimpleNamespace(ep=[e1]), SimpleNamespace(ep_mean_chain=0.02))},
    ...                {1e-3: SimpleNamespace(eps=0.0012, even_se=1e-4, skew=0.0006)}, 50.0)
    >>> s[["ηλ_max", "z(ε)", "skew share", "chain-steps to resolve"]].round(3).values.tolist()
    [[0.05, -1.414, 0.5, 625.0]]
    """
    rows = []
    for v, (r, n_v) in scan_runs.items():
        e1, p_ = r.ep[0], pred[v]
        var_e = e1["ift_se"] ** 2 * e1["count"]  # Var(e^−σ) per sample (SE² × samples)
        rows.append({
            "η": v, "ηλ_max": v * lam_max, "chain-steps": e1["count"], "⟨σ⟩": e1["mean"],
            "⟨σ⟩ / theory (chain)": e1["mean"] / n_v.ep_mean_chain,
            "ε measured": e1["ift"] - 1, "SE": e1["ift_se"], "ε predicted": p_.eps,
            "SE(pred.)": p_.even_se, "skew share": p_.skew / p_.eps,
            "DFT slope": e1["dft_slope"], "SE(slope)": e1["dft_slope_se"],
            "DFT slope predicted": ift_bias.dft_slope_from_bias(e1["mean"], p_.eps),
            "chain-steps to resolve": 9 * var_e / p_.eps**2,
        })  # fmt: skip
    scan = pd.DataFrame(rows)
    scan["z(ε)"] = (scan["ε measured"] - scan["ε predicted"]) / np.hypot(
        scan["SE"], scan["SE(pred.)"]
    )
    scan["z(slope)"] = (scan["DFT slope"] - scan["DFT slope predicted"]) / scan["SE(slope)"]
    return scan


def premise_fits(scan: pd.DataFrame) -> dict[str, Any]:
    """Power-law fits of ε against η: measured, over the rows where ε is resolved (> 3 SE) and
    ηλ_max ≤ 0.1 (``resolved``, ``fit``) or resolved at all (``resolved_all``, ``fit_all``), each
    None with fewer than two rows; and predicted, over the whole scan (``fit_pred``).

    Examples
    --------
    >>> eta = np.array([1e-4, 2e-4, 4e-4, 4e-3])
    >>> scan = pd.DataFrame({"η": eta, "ηλ_max": 100 * eta, "ε measured": 1e6 * eta**2,
    ...                      "SE": 1e5 * eta**2, "ε predicted": 1e6 * eta**2,
    ...                      "SE(pred.)": 1e5 * eta**2})
    >>> f = premise_fits(scan)
    >>> len(f["resolved"]), len(f["resolved_all"]), round(f["fit"]["slope"], 6)
    (3, 4, 2.0)
    """
    resolved_all = scan[scan["ε measured"] > 3 * scan["SE"]]
    resolved = scan[(scan["ε measured"] > 3 * scan["SE"]) & (scan["ηλ_max"] <= PREMISE)]

    def fit(rows: pd.DataFrame) -> dict | None:
        return (ift_bias.power_law_fit(rows["η"], rows["ε measured"], rows["SE"])
                if len(rows) >= 2 else None)  # fmt: skip

    return dict(resolved=resolved, resolved_all=resolved_all, fit=fit(resolved),
                fit_all=fit(resolved_all),
                fit_pred=ift_bias.power_law_fit(scan["η"], scan["ε predicted"], scan["SE(pred.)"]))  # fmt: skip
