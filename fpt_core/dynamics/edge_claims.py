"""Verdicts on the edge-of-chaos claims from a per-cell table of :func:`fpt_core.dynamics.edge_grid.run_edge_grid`.

Each function returns the numbers behind a verdict and the verdict itself, one of
:data:`fpt_core.book.claims.VERDICTS`, by a rule stated in its docstring: an optimum counts only
inside the grid and only where confidence intervals (value ± z·SE over seeds) separate; a
difference counts only where the intervals of the two cells separate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from fpt_core.dynamics.edge_grid import power_law

__all__ = [
    "edge_region",
    "edge_optimum",
    "scaling_absent",
    "scaling_in_phase",
    "weight_decay_effect",
]

REPRODUCED, NOT_REPRODUCED, NOT_TESTED = "reproduced", "not reproduced", "not tested at this preset"


def edge_region(cells: pd.DataFrame, row: str = "momentum", along: str = "lr",
                value: str = "lam_net") -> pd.Series:  # fmt: skip
    """Cells in the edge region: phase ``"edge"``, or next (along ``along`` within their ``row``)
    to a neighbour whose ``value`` has the opposite sign (the boundary runs between them).

    Examples
    --------
    >>> d = pd.DataFrame({"momentum": [0] * 4, "lr": [1, 2, 4, 8], "lam_net": [-2, -1, 1, 2],
    ...                   "phase": ["ordered", "ordered", "chaotic", "chaotic"]})
    >>> edge_region(d).tolist()
    [False, True, True, False]
    """
    flag = cells["phase"].eq("edge").copy()
    for _, g in cells.groupby(row):
        g = g.sort_values(along)
        v, idx = g[value].to_numpy(float), g.index.to_numpy()
        for i in range(len(v) - 1):
            if np.isfinite(v[i]) and np.isfinite(v[i + 1]) and v[i] * v[i + 1] < 0:
                flag[idx[i]] = flag[idx[i + 1]] = True
    return flag


def edge_optimum(cells: pd.DataFrame, z: float = 2.0, acc: str = "plateau_acc") -> dict:
    """Is the best accuracy found at the edge of chaos?

    Cells still learning at the end of the window (``acc_drift > z·acc_drift_se``, when those
    columns exist) have no plateau yet and are left out of the comparison (``n_left_out``). If
    that leaves out more than half of the ordered or of the chaotic cells, the comparison with
    that phase cannot be made and the claim is *not tested*.

    Rule: the best cell (largest ``acc``) must not lie at the smallest or largest learning rate
    of the grid (an optimum on the grid edge is not an optimum) — else *not tested*. Then ``E``
    is the best cell of the edge region (:func:`edge_region`) and ``O`` the best cell outside;
    *reproduced* if ``E − z·se_E > O + z·se_O``, *not reproduced* if ``O − z·se_O > E + z·se_E``,
    *not tested* otherwise (the intervals overlap: no optimum can be called).
    """
    region = edge_region(cells)
    lr_min, lr_max = cells["lr"].min(), cells["lr"].max()
    rising = pd.Series(False, index=cells.index)
    if "acc_drift" in cells:
        rising = cells["acc_drift"] > z * cells["acc_drift_se"]
    left_out = {str(k): int(v) for k, v in cells.loc[rising, "phase"].value_counts().items()}
    n_phase = cells["phase"].value_counts()
    lost = [ph for ph, n in left_out.items() if ph != "edge" and n > n_phase.get(ph, 0) / 2]
    cells, region = cells[~rising], region[~rising]
    if cells.empty:
        return {"n_left_out": int(rising.sum()), "left_out_phases": left_out, "verdict": NOT_TESTED,
                "reason": "every cell is still learning"}  # fmt: skip
    best = cells.loc[cells[acc].idxmax()]
    interior = lr_min < best["lr"] < lr_max
    out = {"best": best.to_dict(), "best_interior": bool(interior),
           "best_in_edge_region": bool(region[best.name]), "n_left_out": int(rising.sum()),
           "left_out_phases": left_out}  # fmt: skip
    if not region.any() or region.all():
        return {**out, "verdict": NOT_TESTED, "reason": "no cells on one side of the edge"}
    e, o = cells[region], cells[~region]
    E, O = e.loc[e[acc].idxmax()], o.loc[o[acc].idxmax()]
    out.update(edge_best=E.to_dict(), outside_best=O.to_dict())
    lo_e, hi_e = E[acc] - z * E[acc + "_se"], E[acc] + z * E[acc + "_se"]
    lo_o, hi_o = O[acc] - z * O[acc + "_se"], O[acc] + z * O[acc + "_se"]
    if lost:
        verdict, reason = (
            NOT_TESTED,
            (
                f"most {' and '.join(lost)} cells are still learning at the end of the window: "
                "no comparison with that phase"
            ),
        )
    elif not interior:
        verdict, reason = NOT_TESTED, "the best cell lies on the learning-rate edge of the grid"
    elif lo_e > hi_o:
        verdict, reason = REPRODUCED, "the edge region's best beats every other cell"
    elif lo_o > hi_e:
        verdict, reason = NOT_REPRODUCED, "a cell away from the edge beats the edge region"
    else:
        verdict, reason = NOT_TESTED, "the intervals of the two best cells overlap"
    return {**out, "verdict": verdict, "reason": reason}


def weight_decay_effect(cells: pd.DataFrame, value: str, *, z: float = 2.0,
                        min_acc: float | None = None) -> dict:  # fmt: skip
    """Does weight decay lower ``value``? Every cell with ``γ > 0`` against ``γ = 0`` at its (η, μ).

    Per comparison ``d = v(γ) − v(0)``, ``se = sqrt(se(γ)² + se(0)²)``: *down* if ``d < −z·se``,
    *up* if ``d > z·se``. Cells with ``plateau_acc < min_acc`` (networks that no longer learn:
    their order is a by-product of dead weights) are left out. Verdict: *reproduced* if at least
    half of the comparisons are *down* and none *up*; *not reproduced* if some are *up* and no
    more are *down*, or none is *down*; *not tested* otherwise or with no comparison.
    """
    base = cells[cells["weight_decay"] == 0].set_index(["lr", "momentum"])
    rows = []
    for r in cells[cells["weight_decay"] > 0].itertuples():
        key = (r.lr, r.momentum)
        if key not in base.index or (min_acc is not None and r.plateau_acc < min_acc):
            continue
        b = base.loc[key]
        d = getattr(r, value) - b[value]
        se = math.hypot(getattr(r, value + "_se"), b[value + "_se"])
        sign = "down" if d < -z * se else "up" if d > z * se else "neither"
        rows.append({"lr": r.lr, "momentum": r.momentum, "weight_decay": r.weight_decay,
                     "diff": float(d), "se": float(se), "change": sign})  # fmt: skip
    n = len(rows)
    down = sum(r["change"] == "down" for r in rows)
    up = sum(r["change"] == "up" for r in rows)
    if n == 0:
        verdict = NOT_TESTED
    elif down >= n / 2 and up == 0:
        verdict = REPRODUCED
    elif down == 0 or (up > 0 and up >= down):
        verdict = NOT_REPRODUCED
    else:
        verdict = NOT_TESTED
    return {"n": n, "n_down": down, "n_up": up, "rows": rows, "verdict": verdict}


def scaling_in_phase(cells: pd.DataFrame, phase: str, *, level: float = 0.95) -> dict:
    """Fit ``T ∝ ((1 − μ)/η)^β`` over the cells of ``phase`` with an estimable mean FPT.

    ``β`` and its standard error from :func:`fpt_core.dynamics.edge_grid.power_law` on the cell means;
    ``ci`` uses Student's ``t`` with ``n − 2`` degrees of freedom. *reproduced* if the CI contains
    1, *not reproduced* if not, *not tested* with fewer than 3 cells or fewer than 2 distinct
    ``η/(1 − μ)``. ``n_censored_cells`` counts the phase's cells left out because a seed never
    reached the target (their times are longer than the horizon: leaving them out biases ``β``).
    ``offset`` (± ``offset_stderr``) is ``a`` of the affine fit ``T = a + c (1 − μ)/η``: a law
    proportional up to a constant number of epochs gives ``β`` slightly below 1 and ``a ≠ 0``.
    """
    sub = cells[(cells["phase"] == phase)]
    ok = sub[np.isfinite(sub["fpt"])]
    out = {"phase": phase, "n": int(len(ok)), "n_censored_cells": int(len(sub) - len(ok))}
    if len(ok) < 3 or ok["eta_eff"].nunique() < 2:
        return {**out, "exponent": math.nan, "exponent_stderr": math.nan,
                "ci": [math.nan, math.nan], "offset": math.nan, "offset_stderr": math.nan,
                "verdict": NOT_TESTED}  # fmt: skip
    f = power_law(1.0 / ok["eta_eff"].to_numpy(float), ok["fpt"].to_numpy(float))
    t = stats.t.ppf(0.5 + level / 2, f.n - 2)
    ci = [f.exponent - t * f.stderr, f.exponent + t * f.stderr]
    verdict = REPRODUCED if ci[0] <= 1 <= ci[1] else NOT_REPRODUCED
    # the affine alternative T = a + c·(1 − μ)/η: a proportional law up to an offset a
    x, y = 1.0 / ok["eta_eff"].to_numpy(float), ok["fpt"].to_numpy(float)
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    cov = float(resid @ resid) / (len(x) - 2) * np.linalg.inv(design.T @ design)
    return {**out, "exponent": f.exponent, "exponent_stderr": f.stderr, "ci": ci,
            "offset": float(coef[0]), "offset_stderr": float(math.sqrt(cov[0, 0])),
            "verdict": verdict}  # fmt: skip


def scaling_absent(fit: dict) -> str:
    """Verdict on "the scaling disappears in this phase" from :func:`scaling_in_phase`'s output:
    *reproduced* if the CI of ``β`` excludes 1, *not reproduced* if it contains 1, *not tested*
    without a fit.

    Examples
    --------
    >>> scaling_absent({"verdict": "not reproduced"}), scaling_absent({"verdict": "reproduced"})
    ('reproduced', 'not reproduced')
    """
    return {REPRODUCED: NOT_REPRODUCED, NOT_REPRODUCED: REPRODUCED}.get(fit["verdict"], NOT_TESTED)
