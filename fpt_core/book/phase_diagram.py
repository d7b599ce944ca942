"""The phase diagram of a hyperparameter grid: where an exponent changes sign, and how sure it is.

A grid of cells (one row per cell, columns ``lr``, ``momentum``, ``weight_decay``, an exponent
and its standard error, a ``phase`` label and convergence flags) is read as a map of ordered and
chaotic phases. :func:`check_grid` validates the grid parameters of a page, :func:`grid_cells`
lists its (η, μ, γ) cells, :func:`heatmap` draws one exponent over (η, μ),
:func:`phase_boundary` counts the phases and locates the boundary row by row, and
:func:`training_map_signs` sorts the training-map exponents by sign and convergence. The
``words`` of the last two are phrases for a page's prose (glued into its markdown).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fpt_core.dynamics.edge_grid import sign_change_rows

__all__ = ["cell_scatter", "check_grid", "grid_cells", "heatmap", "heatmap_pair", "phase_boundary",
           "running_chart", "training_map_signs"]  # fmt: skip


def check_grid(p: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless the grid parameters ``p`` describe a valid (η, μ, γ) grid.

    ``lrs``, ``momenta``, ``wd_lrs`` and ``weight_decays`` must be non-empty lists without
    repeats, every momentum must lie in [0, 1), every weight decay be > 0, and the weight-decay
    grid (``wd_lrs`` × ``wd_momentum``) must lie inside the weight-decay-0 grid, whose cells it
    is compared with.

    Examples
    --------
    >>> ok = dict(lrs=[0.1, 0.2], momenta=[0.0], wd_lrs=[0.1], wd_momentum=0.0,
    ...           weight_decays=[0.01])
    >>> check_grid(ok)
    >>> check_grid(dict(ok, weight_decays=[0.0]))
    Traceback (most recent call last):
    ...
    ValueError: weight_decays=[0.0] must all be > 0
    """
    for name in ("lrs", "momenta", "wd_lrs", "weight_decays"):
        v = p[name]
        if not isinstance(v, list) or not v or len(set(v)) != len(v):
            raise ValueError(f"{name}={v!r} must be a non-empty list without repeats")
    if not all(0 <= m < 1 for m in p["momenta"] + [p["wd_momentum"]]):
        raise ValueError("momenta and wd_momentum must lie in [0, 1)")
    if not all(w > 0 for w in p["weight_decays"]):
        raise ValueError(f"weight_decays={p['weight_decays']} must all be > 0")
    if p["wd_momentum"] not in p["momenta"] or not set(p["wd_lrs"]) <= set(p["lrs"]):
        raise ValueError(
            "wd_lrs ⊆ lrs and wd_momentum ∈ momenta (their weight decay 0 is compared)"
        )


def grid_cells(p: Mapping[str, Any]) -> list[tuple[float, float, float]]:
    """The (η, μ, γ) cells: ``lrs`` × ``momenta`` at γ = 0, then ``wd_lrs`` × ``wd_momentum`` ×
    ``weight_decays``.

    Examples
    --------
    >>> grid_cells(dict(lrs=[0.1, 0.2], momenta=[0.0], wd_lrs=[0.1], wd_momentum=0.0,
    ...                 weight_decays=[0.01]))
    [(0.1, 0.0, 0.0), (0.2, 0.0, 0.0), (0.1, 0.0, 0.01)]
    """
    grid = list(itertools.product(p["lrs"], p["momenta"], [0.0]))
    grid += list(itertools.product(p["wd_lrs"], [p["wd_momentum"]], p["weight_decays"]))
    return grid


def heatmap(df: pd.DataFrame, value: str, title: str, fmt: str = ".2f", diverging: bool = True):
    """Cells of one grid as coloured rectangles on (log η) × μ, labelled with their values.

    Parameters
    ----------
    df : DataFrame
        One row per cell with ``lr``, ``momentum``, ``eta_eff``, ``phase`` and ``value``.
    value : str
        The column drawn.
    title : str
        Chart title.
    fmt : str
        Format of the labels and tooltips.
    diverging : bool
        Red–blue scale symmetric about 0 (an exponent) rather than viridis (an accuracy).

    Returns
    -------
    altair.LayerChart

    Examples
    --------
    >>> d = pd.DataFrame({"lr": [0.1, 0.2], "momentum": [0.0, 0.0], "eta_eff": [0.1, 0.2],
    ...                   "phase": ["ordered", "chaotic"], "v": [-1.0, 1.0]})
    >>> type(heatmap(d, "v", "v")).__name__
    'LayerChart'
    """
    import altair as alt

    d = df.copy()
    d["label"] = [f"{v:{fmt}}" if np.isfinite(v) else "n/a" for v in d[value]]
    finite = d[value].replace([np.inf, -np.inf], np.nan)
    m = float(np.nanmax(np.abs(finite))) or 1.0
    scale = (alt.Scale(scheme="redblue", domain=[-m, m], reverse=True) if diverging
             else alt.Scale(scheme="viridis"))  # fmt: skip
    base = alt.Chart(d).encode(
        x=alt.X("lr:O", title="learning rate η"),
        y=alt.Y("momentum:O", title="momentum μ", sort="descending"),
        tooltip=["lr", "momentum", "eta_eff", alt.Tooltip(f"{value}:Q", format=fmt), "phase"],
    )
    rect = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=scale, title=None))
    text = base.mark_text(fontSize=10).encode(text="label:N")
    return (rect + text).properties(width=300, height=150, title=title)


def heatmap_pair(df: pd.DataFrame, left: tuple, right: tuple):
    """Two :func:`heatmap` of ``df`` side by side, each with its own colour scale.

    ``left`` and ``right`` are :func:`heatmap`'s ``(value, title[, fmt[, diverging]])``.

    Examples
    --------
    >>> d = pd.DataFrame({"lr": [0.1, 0.2], "momentum": [0.0, 0.0], "eta_eff": [0.1, 0.2],
    ...                   "phase": ["ordered", "chaotic"], "v": [-1.0, 1.0], "w": [0.5, 0.7]})
    >>> c = heatmap_pair(d, ("v", "v"), ("w", "w", ".3f", False))
    >>> type(c).__name__, [h.title for h in c.hconcat]
    ('HConcatChart', ['v', 'w'])
    """
    import altair as alt

    charts = (heatmap(df, *left), heatmap(df, *right))
    return alt.hconcat(*charts).resolve_scale(color="independent")


def phase_boundary(wd0: pd.DataFrame) -> dict:
    """Phase counts and the sign changes of ``lam_net`` (and ``lam_train``) row by row.

    The boundary is *inside the grid* if there are at least 3 ordered and 3 chaotic cells and
    ``lam_net`` changes sign in at least 2 momentum rows. The crossings are also expressed in the
    effective learning rate η/(1 − μ); they *collapse* if they agree within a factor 2.

    Returns
    -------
    dict
        ``counts``, ``crossings``, ``crossings_train``, ``n_rows``, ``net_conv``,
        ``boundary_ok`` and ``words``: the numbers as strings (``n_ordered``, ``n_edge``,
        ``n_chaotic``, ``n_cross``, ``n_cross_train``, ``n_rows``) and phrases for the page
        (``b_at``, ``b_eta_eff_at``, ``b_collapse``, ``b_net_conv``, ``b_boundary``).

    Examples
    --------
    >>> d = pd.DataFrame({"momentum": [0.0] * 3 + [0.5] * 3, "lr": [0.1, 0.2, 0.4] * 2,
    ...                   "lam_net": [-1, 1, 2, -2, -1, 1], "lam_train": [1.0] * 6,
    ...                   "net_converged": [True] * 6,
    ...                   "phase": ["ordered", "chaotic", "chaotic", "ordered", "ordered",
    ...                             "chaotic"]})
    >>> b = phase_boundary(d)
    >>> b["counts"], b["boundary_ok"], len(b["crossings"])
    ({'ordered': 3, 'edge': 0, 'chaotic': 3}, True, 2)
    >>> b["words"]["b_collapse"]
    'not one value: the rows disagree by more than a factor 2.'
    """
    counts = {k: int((wd0["phase"] == k).sum()) for k in ("ordered", "edge", "chaotic")}
    crossings = sign_change_rows(wd0, "momentum", "lr", "lam_net")
    crossings_train = sign_change_rows(wd0, "momentum", "lr", "lam_train")
    net_conv = bool(wd0["net_converged"].all())
    ok = counts["ordered"] >= 3 and counts["chaotic"] >= 3 and len(crossings) >= 2
    eff = [c["at"] / (1 - c["momentum"]) for c in crossings]
    if len(crossings) < 2:
        collapse = "only one row crosses."
    elif np.ptp(np.log(eff)) < np.log(2):
        collapse = "close to one value in every row, as a collapse on η_eff would have it."
    else:
        collapse = "not one value: the rows disagree by more than a factor 2."
    words = {
        **{f"n_{k}": str(v) for k, v in counts.items()},
        "n_cross": str(len(crossings)),
        "n_cross_train": str(len(crossings_train)),
        "n_rows": str(wd0["momentum"].nunique()),
        "b_at": "; ".join(f"μ = {c['momentum']:g} at η ≈ {c['at']:.3g}" for c in crossings)
        or "none",
        "b_eta_eff_at": ", ".join(f"{e:.3g}" for e in eff),
        "b_collapse": collapse,
        "b_net_conv": "all" if net_conv else "not all",
        "b_boundary": "lies inside the grid" if ok else "is not resolved inside the grid",
    }
    return {"counts": counts, "crossings": crossings, "crossings_train": crossings_train,
            "n_rows": int(wd0["momentum"].nunique()), "net_conv": net_conv, "boundary_ok": ok,
            "words": words}  # fmt: skip


def training_map_signs(wd0: pd.DataFrame, net_conv: bool) -> dict:
    """Signs (2 SE) and convergence of the training-map exponents ``lam_train`` of a grid.

    A cell that fails the convergence check still has a settled sign if it is chaotic and both
    its whole-window and its last-half exponent lie more than 2 SE above 0. Every exponent a
    call rests on has converged (``lyap_conv``) if ``net_conv`` and every unconverged
    training-map exponent has a settled sign.

    Returns
    -------
    dict
        ``counts`` (negative, ≈ 0, positive), ``n_conv``, ``train_conv``, ``drift_ok``,
        ``lyap_conv`` and ``words``: the counts as strings (``t_neg``, ``t_zero``, ``t_pos``,
        ``n_conv``, ``n_wd0``) and phrases (``t_drifting``: the sentence tail naming the
        unconverged cells; ``t_lyap_conv``).

    Examples
    --------
    >>> d = pd.DataFrame({"lr": [0.1, 0.2], "momentum": [0.0, 0.0],
    ...                   "phase": ["ordered", "chaotic"], "lam_train": [-1.0, 2.0],
    ...                   "lam_train_se": [0.1, 0.1], "lam_train_half": [-1.0, 3.0],
    ...                   "lam_train_half_se": [0.1, 0.1], "train_converged": [True, False]})
    >>> t = training_map_signs(d, net_conv=True)
    >>> t["counts"], t["n_conv"], t["lyap_conv"]
    ({'negative': 1, '≈ 0': 0, 'positive': 1}, 1, True)
    """
    tr = wd0.apply(lambda r: "negative" if r.lam_train < -2 * r.lam_train_se else
                   "positive" if r.lam_train > 2 * r.lam_train_se else "≈ 0", axis=1)  # fmt: skip
    tr_counts = tr.value_counts().to_dict()
    counts = {k: int(tr_counts.get(k, 0)) for k in ("negative", "≈ 0", "positive")}
    settled = (wd0["lam_train"] > 2 * wd0["lam_train_se"]) & (
        wd0["lam_train_half"] > 2 * wd0["lam_train_half_se"]
    )
    drifting = wd0[~wd0["train_converged"]]
    drift_ok = bool(((drifting["phase"] == "chaotic") & settled[drifting.index]).all())
    train_conv = bool(wd0["train_converged"].all())
    lyap_conv = net_conv and drift_ok
    if train_conv:
        tail = "."
    else:
        tail = (("; the one that does not is " if len(drifting) == 1
                 else f"; the {len(drifting)} that do not are ")
                + ", ".join(f"η = {r.lr:g}, μ = {r.momentum:g} ({r.phase}, {r.lam_train:.3f} "
                            f"over the window, {r.lam_train_half:.3f} over its last half)"
                            for r in drifting.itertuples())
                + (" — chaotic, with a settled positive sign and a rate that still grows, as "
                   "the scan of the window below shows." if drift_ok
                   else " — not all of them chaotic with a settled sign."))  # fmt: skip
    return {"counts": counts, "n_conv": int(wd0["train_converged"].sum()),
            "train_conv": train_conv, "drift_ok": drift_ok, "lyap_conv": lyap_conv,
            "words": {"t_neg": str(counts["negative"]), "t_zero": str(counts["≈ 0"]),
                      "t_pos": str(counts["positive"]),
                      "n_conv": str(int(wd0["train_converged"].sum())), "n_wd0": str(len(wd0)),
                      "t_drifting": tail,
                      "t_lyap_conv": "converged" if lyap_conv else "not converged"}}  # fmt: skip


def running_chart(running: pd.DataFrame, cells: pd.DataFrame):
    """Running training-map exponent against the measured steps, one line per weight-decay-0 cell.

    ``running`` is :func:`fpt_core.dynamics.edge_grid.running_by_cell`'s frame (``cell``, ``step``,
    ``running``); ``cells`` the grid's cell table (``lr``, ``momentum``, ``weight_decay``).

    Examples
    --------
    >>> r = pd.DataFrame({"cell": [0, 0], "step": [5, 10], "running": [0.1, 0.2]})
    >>> c = pd.DataFrame({"lr": [0.1], "momentum": [0.0], "weight_decay": [0.0]})
    >>> len(running_chart(r, c).data)
    2
    """
    import altair as alt

    df = running.merge(cells[["lr", "momentum", "weight_decay"]].reset_index(names="cell"),
                       on="cell")  # fmt: skip
    return (
        alt.Chart(df[df["weight_decay"] == 0])
        .mark_line()
        .encode(
            x=alt.X("step:Q", title="measured steps"),
            y=alt.Y("running:Q", title="running λ_train per epoch", scale=alt.Scale(type="symlog")),
            color=alt.Color("lr:O", scale=alt.Scale(scheme="viridis")),
            strokeDash="momentum:N",
            tooltip=["lr", "momentum", "step", alt.Tooltip("running:Q", format=".4f")],
        )
        .properties(width=560, height=260, title="Convergence of the training-map exponent")
    )


def cell_scatter(cells: pd.DataFrame, x: str, y: str, x_title: str, y_title: str, title: str,
                 log: bool = False, shape: str = "edge_region"):  # fmt: skip
    """The cells of a grid as points of ``y`` against ``x``, coloured by phase.

    With ``log`` both axes are logarithmic; ``shape`` is the column that sets the marker.

    Examples
    --------
    >>> d = pd.DataFrame({"lr": [0.1], "momentum": [0.0], "phase": ["edge"], "a": [1.0],
    ...                   "b": [2.0], "edge_region": [True]})
    >>> cell_scatter(d, "a", "b", "a", "b", "b against a").mark.type
    'point'
    """
    import altair as alt

    scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    return alt.Chart(cells).mark_point(filled=True, size=70).encode(
        x=alt.X(f"{x}:Q", title=x_title, **({"scale": scale} if log else {})),
        y=alt.Y(f"{y}:Q", title=y_title, scale=scale),
        color="phase:N",
        shape=alt.Shape(f"{shape}:N", title=shape.replace("_", " ")),
        tooltip=["lr", "momentum", alt.Tooltip(f"{x}:Q", format=".3f"),
                 alt.Tooltip(f"{y}:Q", format=".3f"), "phase"],
    ).properties(width=560, height=260, title=title)  # fmt: skip
