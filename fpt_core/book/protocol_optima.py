"""Optimal periods of several perturbation protocols side by side: table, ranking and findings.

One row per protocol from its :class:`fpt_core.stats.optimum.ProtocolOptimum`: τ* with its CI,
whether it is interior or on an edge of the allowed grid, the rise of the curve from τ* to each
end, the restricted mean at τ* and the speedup over no perturbation with their CIs. Protocols
are ranked only where the intervals of their restricted means separate
(:func:`fpt_core.stats.optimum.separated_ranking`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fpt_core.book.claims import claim
from fpt_core.stats.optimum import ProtocolOptimum, separated_ranking


def protocol_table(
    results: Mapping[str, ProtocolOptimum], effect: Mapping[str, str], tau0: float
) -> pd.DataFrame:
    """One row per protocol: its optimum, restricted mean and speedup (None without a prediction).

    Parameters
    ----------
    results : mapping
        Protocol name → :func:`fpt_core.stats.optimum.protocol_optimum`; ``"reset"`` is predicted by
        sharp restart, every other protocol by the renewal form from one perturbation at τ0.
    effect : mapping
        Protocol name → what it perturbs (the ``effect`` column).
    tau0 : float
        The single perturbation of the renewal predictions (named in ``prediction``).

    Returns
    -------
    pandas.DataFrame
        Columns ``protocol, effect, prediction, tau_star, tau_low, tau_high,
        tau_star_interior, edge`` ("lower", "upper" or None), ``grid_low, grid_high,
        rise_left, rise_left_low, rise_right, rise_right_low, mean_at_tau_star, mean_low,
        mean_high, restricted_mean, restricted_low, restricted_high, speedup, speedup_low,
        speedup_high, unreached``.

    Examples
    --------
    >>> from fpt_core.stats.fpt import FirstPassage
    >>> from fpt_core.stats.optimum import protocol_optimum
    >>> t = np.array([2.0] * 40 + [3.0] * 20 + [30.0] * 40)
    >>> r = protocol_optimum(FirstPassage(t, np.ones(100, bool), 30.0), n_resamples=100)
    >>> row = protocol_table({"reset": r}, {"reset": "weights"}, 10).iloc[0]
    >>> row["prediction"], float(row["tau_star"]), bool(row["tau_star_interior"]), row["edge"]
    ('sharp restart (unperturbed only)', 3.0, True, None)
    """
    rows = []
    for name, res in results.items():
        o, sp = res.optimum, res.speedup
        row = {"protocol": name, "effect": effect[name],
               "prediction": "sharp restart (unperturbed only)" if name == "reset"
               else f"renewal, once at τ0 = {tau0:g}"}  # fmt: skip
        if o is None:
            rows.append({**row, "tau_star": None, "tau_star_interior": False, "speedup": None,
                         "speedup_low": None, "speedup_high": None})  # fmt: skip
            continue
        rows.append({
            **row, "tau_star": o.tau, "tau_low": o.tau_low, "tau_high": o.tau_high,
            "tau_star_interior": o.interior, "edge": o.edge, "grid_low": o.grid_low,
            "grid_high": o.grid_high, "rise_left": o.rise_left, "rise_left_low": o.rise_left_low,
            "rise_right": o.rise_right, "rise_right_low": o.rise_right_low,
            "mean_at_tau_star": o.mean, "mean_low": o.low, "mean_high": o.high,
            "restricted_mean": sp.predicted, "restricted_low": sp.pred_low,
            "restricted_high": sp.pred_high, "speedup": sp.speedup, "speedup_low": sp.low,
            "speedup_high": sp.high, "unreached": sp.unreached,
        })  # fmt: skip
    table = pd.DataFrame(rows)
    if "edge" in table:
        table["edge"] = table["edge"].where(table["edge"].isin(["lower", "upper"]), None)
    return table


def rank_protocols(
    table: pd.DataFrame, confidence_level: float = 0.95
) -> tuple[dict[str, list[str]], str | None]:
    """Who beats whom beyond the intervals of the restricted means, and the overall best.

    Adds the column ``better_than`` (comma-separated) to ``table`` in place.

    Returns
    -------
    beats : dict
        Protocol → the protocols it beats (only protocols with a speedup).
    best : str or None
        The protocol that beats every other one, if there is one (and more than one protocol).

    Examples
    --------
    >>> t = pd.DataFrame({"protocol": ["a", "b"], "speedup": [2.0, 1.1],
    ...     "restricted_mean": [10.0, 20.0], "restricted_low": [9.0, 19.0],
    ...     "restricted_high": [11.0, 21.0]})
    >>> rank_protocols(t), t["better_than"].tolist()
    (({'a': ['b'], 'b': []}, 'a'), ['b', ''])
    """
    ranked = table.dropna(subset=["speedup"])
    beats = separated_ranking(
        {r.protocol: (r.restricted_mean, r.restricted_low, r.restricted_high)
         for r in ranked.itertuples()}, confidence_level=confidence_level,
    ) if len(ranked) else {}  # fmt: skip
    table["better_than"] = [", ".join(beats.get(n, [])) for n in table["protocol"]]
    best = next((n for n, b in beats.items() if len(b) == len(beats) - 1 and len(beats) > 1), None)
    return beats, best


def protocol_findings(table: pd.DataFrame, beats: Mapping[str, list[str]], best: str | None) -> str:
    """A Markdown list: per protocol, where τ* sits and whether it speeds first passage up; then
    the ranking.

    Examples
    --------
    >>> t = pd.DataFrame([dict(protocol="reset", effect="weights", tau_star=3.0, tau_low=2.0,
    ...     tau_high=4.0, tau_star_interior=True, edge=None, grid_low=1.0, grid_high=30.0,
    ...     speedup=3.1, speedup_low=2.5, speedup_high=3.8)])
    >>> print(protocol_findings(t, {}, None))
    - **reset**: τ* = 3 (CI 2–4), an **interior optimum**; speedup 3.10× (CI 2.50–3.80), faster than no perturbation.
    """
    lines = []
    for r in table.replace({np.nan: None}).itertuples():
        if r.speedup is None:
            lines.append(f"- **{r.protocol}**: fewer than three allowed periods with a prediction.")
            continue
        where = ("an **interior optimum**" if r.tau_star_interior
                 else f"on the **{r.edge} edge** of the allowed grid ({r.grid_low:g}–{r.grid_high:g}): "
                 "not an optimum" + (" (the best period lies at or before the relaxation time, where "
                                     "the prediction does not hold)"
                                     if r.edge == "lower" and r.protocol != "reset" else "")
                 if r.edge else "not separated from the grid's ends by more than "
                 "the bootstrap noise: not an optimum")  # fmt: skip
        gain = ("faster than no perturbation" if r.speedup_low > 1 else
                "slower than no perturbation" if r.speedup_high < 1 else
                "not distinguishable from no perturbation")  # fmt: skip
        lines.append(
            f"- **{r.protocol}**: τ* = {r.tau_star:g} (CI {r.tau_low:g}–{r.tau_high:g}), {where}; "
            f"speedup {r.speedup:.2f}× (CI {r.speedup_low:.2f}–{r.speedup_high:.2f}), {gain}"
            + (" — a **learning-rate schedule effect**, not a perturbation of the weights"
               if r.effect == "learning-rate schedule" else "") + "."
        )  # fmt: skip
    if best:
        edge = table.set_index("protocol").loc[best, "edge"]
        lines.append(
            f"**Ranking**: {best} is faster at its τ* than every other protocol at theirs, beyond "
            "the intervals of the restricted means"
            + (" — and its τ* sits on the lower edge of its grid, so a shorter period, outside the "
               "prediction's premise, might do better still." if edge == "lower" else ".")
        )  # fmt: skip
    elif beats:
        order = "; ".join(f"{n} beats {', '.join(b)}" for n, b in beats.items() if b)
        lines.append("**Ranking**: no protocol beats all others beyond the intervals — the leaders "
                     "are indistinguishable" + (f" ({order})." if order else "."))  # fmt: skip
    return "\n".join(lines)


def optimum_text(r: Mapping) -> str:
    """τ* with its CI, where it sits on the allowed grid, and the speedup with its CI.

    Examples
    --------
    >>> r = dict(tau_star=40.0, tau_low=35.0, tau_high=45.0, tau_star_interior=False,
    ...          edge="lower", grid_low=40.0, grid_high=90.0, speedup=1.2, speedup_low=1.1,
    ...          speedup_high=1.3)
    >>> optimum_text(r)
    'τ* = 40 (CI 35–45), on the lower edge of 40–90; speedup 1.20× (CI 1.10–1.30)'
    """
    where = ("interior" if r["tau_star_interior"] else
             f"on the {r['edge']} edge of {r['grid_low']:g}–{r['grid_high']:g}" if r["edge"]
             else "not separated from the grid's ends")  # fmt: skip
    return (
        f"τ* = {r['tau_star']:g} (CI {r['tau_low']:g}–{r['tau_high']:g}), {where}; speedup "
        f"{r['speedup']:.2f}× (CI {r['speedup_low']:.2f}–{r['speedup_high']:.2f})"
    )


def restart_optimum_claim(r: Mapping) -> dict[str, str]:
    """The claim that restart to a fresh start every τ has an interior optimum that speeds
    first passage up, from the reset's row of :func:`protocol_table`.

    Reproduced for an interior τ* with the speedup's CI above 1; not reproduced when the CI lies
    below 1 or τ* sits on the upper edge (restarting as rarely as possible is best).

    Examples
    --------
    >>> r = dict(tau_star=3.0, tau_low=2.0, tau_high=4.0, tau_star_interior=True, edge=None,
    ...          grid_low=1.0, grid_high=30.0, speedup=3.1, speedup_low=2.5, speedup_high=3.8)
    >>> restart_optimum_claim(r)["verdict"]
    'reproduced'
    >>> restart_optimum_claim({**r, "tau_star_interior": False, "edge": "upper"})["verdict"]
    'not reproduced'
    >>> restart_optimum_claim({**r, "speedup": None})["measured"]
    'no prediction'
    """
    none = pd.isna(r["speedup"])
    verdict = ("not tested at this preset" if none else
               "reproduced" if r["tau_star_interior"] and r["speedup_low"] > 1 else
               "not reproduced" if r["speedup_high"] < 1 or r["edge"] == "upper" else
               "not tested at this preset")  # fmt: skip
    return claim(
        "Meir et al. 2025",
        "Restart to a fresh start every τ (sharp restart, the theory the paper builds on) "
        "has an interior optimal period at which it speeds first passage up.",
        "no prediction" if none else optimum_text(r),
        verdict,
    )
