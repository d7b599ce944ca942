"""The summary of a comparison of perturbation protocols, as written to ``<stem>.summary.json``.

Tests and the claims ledger read its keys; every number on the page is in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpt_core.book import report


def perturbation_summary(
    notebook: str,
    preset: str,
    params: Mapping[str, Any],
    *,
    sf: Any,
    horizon: float,
    table: pd.DataFrame,
    ranking: Mapping[str, list[str]],
    best: str | None,
    reset_check: Mapping[str, Any] | None,
    criterion: pd.DataFrame,
    warm_share: float | None,
    sweep: pd.DataFrame,
    brute_force: pd.DataFrame,
    brute_force_optimum: Any,
    brute_force_horizon: float,
    specs: Mapping[str, Any],
    claims: list[dict[str, str]],
    counts: Mapping[str, int],
    device: str,
    wall_time_s: float,
) -> dict[str, Any]:
    """The summary dict of the optimal-perturbation page.

    Parameters
    ----------
    notebook, preset : str
        The page's stem and preset.
    params : mapping
        The resolved preset.
    sf : SingleFrequencyTest
        The premise (``t_relax``, ``premise``, ``reasons``, ``tau0``, ``target`` and the
        unperturbed restricted mean ``unperturbed``).
    horizon : float
        The horizon h of the unperturbed runs.
    table, ranking, best
        :func:`fpt_core.book.protocol_optima.protocol_table` and
        :func:`~fpt_core.book.protocol_optima.rank_protocols`.
    reset_check : mapping or None
        :func:`fpt_core.book.sharp_restart_check.sharp_restart_check`.
    criterion, sweep, brute_force : pandas.DataFrame
        The criterion table, the target sweep and the brute-force table.
    warm_share : float or None
        Share of the warm restart's first passages inside its anneal.
    brute_force_optimum : MeasuredOptimum
        The brute force's optimum, at ``brute_force_horizon``.
    specs : mapping
        The protocols' perturbation specs.
    claims : list of dict
        The page's claims.
    counts : mapping
        ``n_runs, n_trained, n_reused, n_diverged`` over all ensembles.
    device : str
        Where the runs were trained.
    wall_time_s : float
        The page's wall time so far.

    Returns
    -------
    dict
        JSON-ready; NaN in ``protocols`` becomes None.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from fpt_core.stats.optimum import MeasuredOptimum
    >>> m0 = NS(mean=20.0, low=19.0, high=21.0, estimable=False, n=10, n_censored=2)
    >>> sf = NS(t_relax=12.0, premise=True, reasons=[], unperturbed=m0)
    >>> empty = pd.DataFrame({"protocol": ["reset"], "speedup": [np.nan]})
    >>> s = perturbation_summary("03", "tiny", {"target": 0.5, "tau0": 10}, sf=sf, horizon=30.0,
    ...     table=empty, ranking={}, best=None, reset_check=None, criterion=pd.DataFrame(),
    ...     warm_share=None, sweep=pd.DataFrame(), brute_force=pd.DataFrame(),
    ...     brute_force_optimum=MeasuredOptimum(10.0, [], [], False), brute_force_horizon=30.0,
    ...     specs={}, claims=[], counts={"n_runs": 10}, device="cpu", wall_time_s=1.0)
    >>> s["protocols"], s["unperturbed_censored"], s["speedup_basis"]
    ([{'protocol': 'reset', 'speedup': None}], 0.2, 'E[min(T, 30)] / predicted E[min(T_tau*, 30)]')
    """
    m0 = sf.unperturbed
    return {
        "notebook": notebook, "preset": preset, "params": params, "target": params["target"],
        "tau0": params["tau0"], "t_relax": sf.t_relax, "premise": sf.premise,
        "premise_failures": sf.reasons, "horizon": horizon,
        "unperturbed_restricted_mean": m0.mean, "unperturbed_restricted_low": m0.low,
        "unperturbed_restricted_high": m0.high, "unperturbed_mean_estimable": m0.estimable,
        "unperturbed_censored": m0.n_censored / m0.n,
        "speedup_basis": f"E[min(T, {horizon:g})] / predicted E[min(T_tau*, {horizon:g})]",
        "protocols": table.replace({np.nan: None}).to_dict(orient="records"),
        "best_protocol": best, "ranking": ranking, "reset_check": reset_check,
        "criterion": criterion.to_dict(orient="records"),
        "warm_restart_share_in_cycle": warm_share,
        "sweep": sweep.to_dict(orient="records"), "brute_force_horizon": brute_force_horizon,
        "brute_force": brute_force.to_dict(orient="records"),
        "brute_force_optimum": vars(brute_force_optimum),
        "specs": specs, "claims": claims, **counts,
        "device": device, "wall_time_s": wall_time_s,
        "provenance": report.provenance(device),
    }  # fmt: skip
