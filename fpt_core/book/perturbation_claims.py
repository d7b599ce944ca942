"""The claims of the optimal-perturbation page, each with its measured numbers and verdict.

Collects the verdicts computed by the modules of each test: the optimal period
(:mod:`fpt_core.book.periodic_brute_force`), the criterion for a helpful perturbation
(:mod:`fpt_core.book.perturbation_criterion`), the sharp-restart formula
(:mod:`fpt_core.book.sharp_restart_check`) and the reset's optimum
(:mod:`fpt_core.book.protocol_optima`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from fpt_core.book.periodic_brute_force import optimal_period_claim
from fpt_core.book.perturbation_criterion import criterion_claim
from fpt_core.book.protocol_optima import restart_optimum_claim
from fpt_core.book.sharp_restart_check import sharp_restart_claim
from fpt_core.stats.fpt import MeanFPT
from fpt_core.stats.optimum import MeasuredOptimum


def perturbation_claims(
    table: pd.DataFrame,
    brute_force: pd.DataFrame,
    brute_force_optimum: MeasuredOptimum,
    brute_force_horizon: float,
    criterion: pd.DataFrame,
    restricted: MeanFPT,
    premise: bool,
    reset_check: Mapping[str, Any] | None,
) -> list[dict[str, str]]:
    """The page's claims in order: optimal period, criterion, then (with a reset check) the
    sharp-restart formula and the reset's optimum.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`fpt_core.book.protocol_optima.protocol_table` (rows ``shrink_perturb`` and,
        with a reset check, ``reset``).
    brute_force, brute_force_optimum, brute_force_horizon
        :func:`fpt_core.book.periodic_brute_force.brute_force_periods` and its horizon.
    criterion : pandas.DataFrame
        :func:`fpt_core.book.perturbation_criterion.criterion_table`.
    restricted : MeanFPT
        The unperturbed restricted mean.
    premise : bool
        Whether the renewal prediction's premise holds.
    reset_check : mapping or None
        :func:`fpt_core.book.sharp_restart_check.sharp_restart_check`.

    Returns
    -------
    list of dict
        :func:`fpt_core.book.claims.claim` records.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> table = pd.DataFrame([{"protocol": "shrink_perturb", "speedup": None,
    ...                        "tau_star_interior": False}])
    >>> bf = pd.DataFrame({"tau": [10.0, 30.0, 45.0]})
    >>> crit = pd.DataFrame(columns=["tau", "criterion", "measured_effect"])
    >>> cs = perturbation_claims(table, bf, MeasuredOptimum(30.0, [10.0], [45.0], True), 60.0,
    ...                          crit, NS(mean=20.0, low=19.0, high=21.0), True, None)
    >>> [c["verdict"] for c in cs]
    ['reproduced', 'not tested at this preset']
    """
    rows = table.set_index("protocol")
    claims = [
        optimal_period_claim(brute_force, brute_force_optimum, brute_force_horizon,
                             rows.loc["shrink_perturb"], premise),
        criterion_claim(criterion, restricted, premise),
    ]  # fmt: skip
    if reset_check is not None:
        claims += [sharp_restart_claim(dict(reset_check)), restart_optimum_claim(rows.loc["reset"])]
    return claims
