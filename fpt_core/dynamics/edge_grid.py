"""The edge-of-chaos experiment as one batched computation: every grid cell × seed is a replica.

:func:`run_edge_grid` trains all replicas of a tanh MLP (:mod:`fpt_core.dynamics.tanh_mlp`) together,
measures per replica the training map's largest Lyapunov exponent (softmax shift projected out),
the network map's asymptotic Jacobian exponent, the test accuracy every epoch and the
first-passage time to a target accuracy, and aggregates them per cell with standard errors
over seeds. :func:`classify` turns an exponent and its standard error into a phase,
:func:`sign_change_rows` finds the rows of a grid where an exponent changes sign, and
:func:`power_law` fits ``ln T = a + β ln x`` with the standard error of ``β``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats

from fpt_core.dynamics.lyapunov import LyapunovResult, convergence
from fpt_core.dynamics.tanh_mlp import (
    ReplicaSGD,
    TrainingRun,
    init_tanh_mlp,
    network_map_exponent,
    training_lyapunov,
    weight_decay_floor,
)

__all__ = [
    "EdgeGrid",
    "block_rates",
    "classify",
    "power_law",
    "run_edge_grid",
    "running_by_cell",
    "sign_change_rows",
]


def classify(value: float, se: float, z: float = 2.0) -> str:
    """``"chaotic"`` if ``value > z·se``, ``"ordered"`` if ``value < −z·se``, else ``"edge"``.

    ``NaN`` values (diverged) give ``"diverged"``; ``−inf`` (a super-stable orbit) is ordered.

    Examples
    --------
    >>> classify(0.3, 0.1), classify(-0.3, 0.1), classify(0.1, 0.1), classify(float("nan"), 0.1)
    ('chaotic', 'ordered', 'edge', 'diverged')
    """
    if math.isnan(value):
        return "diverged"
    if value == -math.inf:
        return "ordered"
    se = se if math.isfinite(se) else 0.0
    if value > z * se:
        return "chaotic"
    return "ordered" if value < -z * se else "edge"


def sign_change_rows(df: pd.DataFrame, row: str, along: str, value: str) -> list[dict]:
    """Rows (values of ``row``) along which ``value`` changes sign when sorted by ``along``.

    For each ``row`` value the cells are sorted by ``along``; a sign change is a pair of
    neighbours with ``v_i · v_{i+1} < 0``, located by linear interpolation in ``ln along``.
    Returns one dict per row with a sign change: ``{row: …, "at": …, "n_changes": …}``.

    Examples
    --------
    >>> d = pd.DataFrame({"m": [0, 0, 0, 1, 1], "lr": [1, 2, 4, 1, 2], "v": [-1, 1, 2, 1, 2]})
    >>> (row,) = sign_change_rows(d, "m", "lr", "v")
    >>> row["m"], round(row["at"], 6), row["n_changes"]
    (0, 1.414214, 1)
    """
    out = []
    for key, g in df.groupby(row, sort=True):
        g = g.sort_values(along)
        x, v = np.log(g[along].to_numpy(float)), g[value].to_numpy(float)
        hits = [
            x[i] - v[i] * (x[i + 1] - x[i]) / (v[i + 1] - v[i])
            for i in range(len(v) - 1)
            if np.isfinite(v[i]) and np.isfinite(v[i + 1]) and v[i] * v[i + 1] < 0
        ]
        if hits:
            k = key.item() if hasattr(key, "item") else key
            out.append({row: k, "at": float(np.exp(hits[0])), "n_changes": len(hits)})
    return out


@dataclass(frozen=True)
class PowerLaw:
    """``ln y = intercept + exponent · ln x``: OLS ``exponent``, its ``stderr``, ``n`` points."""

    exponent: float
    stderr: float
    intercept: float
    n: int


def power_law(x: Sequence[float], y: Sequence[float]) -> PowerLaw:
    """OLS fit of ``ln y = a + β ln x``; ``se(β) = sqrt(s² / Σ(ln x − mean)²)``, ``s²`` = RSS/(n − 2).

    Examples
    --------
    >>> f = power_law([1, 2, 4, 8], [3, 6, 12, 24])
    >>> round(f.exponent, 6), round(f.stderr, 6)
    (1.0, 0.0)
    """
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if lx.shape != ly.shape or lx.size < 3 or not (np.isfinite(lx).all() and np.isfinite(ly).all()):
        raise ValueError(f"x and y must be ≥ 3 matching positive values, got {lx.size} and {ly.size}")  # fmt: skip
    sxx = float(np.sum((lx - lx.mean()) ** 2))
    if sxx == 0:
        raise ValueError("x must vary to fit an exponent")
    beta = float(np.sum((lx - lx.mean()) * (ly - ly.mean())) / sxx)
    a = float(ly.mean() - beta * lx.mean())
    rss = float(np.sum((ly - a - beta * lx) ** 2))
    return PowerLaw(beta, math.sqrt(rss / (lx.size - 2) / sxx), a, int(lx.size))


@dataclass(frozen=True, eq=False)
class EdgeGrid:
    """Output of :func:`run_edge_grid`: per-cell ``cells`` table, per-replica ``replicas``
    table, the :class:`fpt_core.dynamics.tanh_mlp.TrainingRun` ``run`` and ``steps_per_epoch``."""

    cells: pd.DataFrame
    replicas: pd.DataFrame
    run: TrainingRun
    steps_per_epoch: int


def _se(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(np.std(v, ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan


def run_edge_grid(data, grid: Sequence[tuple[float, float, float]], seeds: Sequence[int], *,
                  hidden: int, batch_size: int, warmup: int, n_steps: int, transient: int,
                  renorm_every: int, d0: float, target: float, plateau_epochs: int,
                  n_probe: int, net_iter: int, net_transient: int, z: float = 2.0,
                  dtype: torch.dtype = torch.float32) -> EdgeGrid:  # fmt: skip
    """Train every (cell, seed) replica at once and measure both order parameters per cell.

    ``grid`` lists cells ``(η, μ, γ)``; replicas are cell-major. Per cell (mean ± standard error
    over seeds): ``lam_train`` (training-map exponent per epoch, softmax shift projected out, over
    the ``n_steps`` window after ``warmup + transient`` steps), ``lam_train_half`` and
    ``train_converged`` (:func:`fpt_core.dynamics.lyapunov.convergence` at the two-sided 95 % t critical
    value with ``len(seeds) − 1`` degrees of freedom), ``wd_floor`` (per epoch,
    :func:`fpt_core.dynamics.tanh_mlp.weight_decay_floor`) and ``lam_excess = lam_train − wd_floor``;
    ``lam_net`` (network-map exponent per layer iteration, mean over ``n_probe`` test inputs),
    ``net_converged`` (last half within that many SE of the whole); ``phase`` (:func:`classify` of
    ``lam_net``); ``plateau_acc`` (test accuracy over the last ``plateau_epochs`` epochs of the
    window) and ``acc_drift`` (that mean minus the mean over the ``plateau_epochs`` before it:
    > 0 where the cell is still learning); ``fpt`` (mean first epoch with test accuracy ≥ ``target``; NaN if any seed never
    reaches it, counted in ``n_censored``).
    """
    if not 0 < target < 1:
        raise ValueError(f"target must lie in (0, 1), got {target}")
    if len(grid) < 1 or len(seeds) < 2:
        raise ValueError("grid needs ≥ 1 cell and seeds ≥ 2 (standard errors over seeds)")
    reps = list(itertools.product(range(len(grid)), seeds))
    prep = getattr(data, "prepare", lambda v: v)  # uint8 images → standardised floats
    x_train, x_test = (prep(v).flatten(1).to(dtype) for v in (data.x_train, data.x_test))
    smap = ReplicaSGD(x_train, data.y_train,
                      lr=[grid[c][0] for c, _ in reps], momentum=[grid[c][1] for c, _ in reps],
                      weight_decay=[grid[c][2] for c, _ in reps], seeds=[s for _, s in reps],
                      batch_size=batch_size)  # fmt: skip
    spe = smap.steps_per_epoch
    if plateau_epochs < 1 or plateau_epochs * spe > n_steps + transient:
        raise ValueError(f"plateau_epochs must lie in [1, {(n_steps + transient) // spe}]")
    sizes = [int(x_train.shape[1]), hidden, hidden, int(data.n_classes)]
    params = init_tanh_mlp(sizes, [s for _, s in reps], dtype=dtype)
    run = training_lyapunov(smap, params, x_test, data.y_test, warmup=warmup, n_steps=n_steps,
                            transient=transient, renorm_every=renorm_every, d0=d0)  # fmt: skip
    per_epoch = run.result.per_epoch(spe)
    # a standard error from a few seeds is itself uncertain: the convergence checks use the
    # two-sided 95 % t critical value with (seeds − 1) degrees of freedom (3.18 for 4 seeds)
    z_conv = float(stats.t.ppf(0.975, len(seeds) - 1))
    conv = convergence(per_epoch, len(grid), z=z_conv)  # cell-major: one block of seeds per cell
    net = network_map_exponent(run.state["params"], x_test[:n_probe], n_iter=net_iter,
                               transient=net_transient)  # fmt: skip
    acc, steps = run.acc, run.eval_steps
    hit = acc >= target
    first = np.where(hit.any(1), steps[np.argmax(hit, axis=1)] / spe, np.nan)
    plateau = np.nanmean(acc[:, -plateau_epochs:], axis=1)
    # still learning? the plateau window against the same number of epochs just before it
    before = acc[:, -2 * plateau_epochs : -plateau_epochs]
    drift = plateau - (np.nanmean(before, axis=1) if before.shape[1] else np.nan)
    # last half of the window per replica, for the convergence test
    rs, ls = per_epoch.running_steps, per_epoch.log_stretch
    second = rs > per_epoch.n_steps / 2
    half = ls[second].sum(0) / np.diff(np.r_[0, rs])[second].sum() * spe
    rep_df = pd.DataFrame({
        "cell": [c for c, _ in reps], "seed": [s for _, s in reps],
        "lam_train": per_epoch.per_pair, "lam_train_half": half,
        "lam_net": np.nanmean(net.full, 1), "lam_net_half": np.nanmean(net.half, 1),
        "plateau_acc": plateau, "acc_drift": drift, "fpt": first,
    })  # fmt: skip
    rows = []
    for c, (lr, mu, wd) in enumerate(grid):
        r = rep_df[rep_df["cell"] == c]
        row = {"lr": lr, "momentum": mu, "weight_decay": wd, "eta_eff": lr / (1 - mu)}
        for key in (
            "lam_train",
            "lam_train_half",
            "lam_net",
            "lam_net_half",
            "plateau_acc",
            "acc_drift",
        ):
            v = r[key].to_numpy(float)
            row[key], row[key + "_se"] = float(np.nanmean(v)), _se(v)
        row["train_converged"] = bool(conv["converged"].iloc[c])
        for key in ("net",):
            full, h, se = row[f"lam_{key}"], row[f"lam_{key}_half"], row[f"lam_{key}_half_se"]
            ok = math.isfinite(full) and math.isfinite(h) and math.isfinite(se)
            row[f"{key}_converged"] = bool(ok and abs(h - full) <= z_conv * se + 1e-12)
        row["wd_floor"] = weight_decay_floor(lr, mu, wd) * spe
        row["lam_excess"] = row["lam_train"] - row["wd_floor"]
        row["lam_excess_se"] = row["lam_train_se"]  # the floor is exact
        f = r["fpt"].to_numpy(float)
        row["n_censored"] = int(np.isnan(f).sum())
        row["fpt"] = float(f.mean()) if row["n_censored"] == 0 else math.nan
        row["fpt_se"] = _se(f) if row["n_censored"] == 0 else math.nan
        row["phase"] = classify(row["lam_net"], row["lam_net_se"], z)
        rows.append(row)
    return EdgeGrid(pd.DataFrame(rows), rep_df, run, spe)


def running_by_cell(grid: EdgeGrid, every: int = 1) -> pd.DataFrame:
    """Running training-map exponent (per epoch) against measured steps, mean over each cell's
    seeds: ``Σ_{i≤j} ln(d_i/d^0_i) / steps_j`` (a convergence chart). Long format with columns
    ``cell``, ``step``, ``running``; every ``every``-th renormalisation.
    """
    res = grid.run.result
    running = np.cumsum(res.log_stretch, axis=0) / res.running_steps[:, None] * grid.steps_per_epoch
    n_cells = int(grid.cells.shape[0])
    per_cell = running.reshape(running.shape[0], n_cells, -1).mean(axis=2)
    keep = np.arange(0, running.shape[0], max(int(every), 1))
    return pd.DataFrame({
        "cell": np.tile(np.arange(n_cells), keep.size),
        "step": np.repeat(res.running_steps[keep], n_cells),
        "running": per_cell[keep].ravel(),
    })  # fmt: skip


def block_rates(result: LyapunovResult, n_blocks: int, n_groups: int = 1) -> pd.DataFrame:
    """Lyapunov rate over consecutive blocks of the measured window, mean ± SE per group of pairs.

    The window's renormalisation intervals are split into ``n_blocks`` blocks of (nearly) equal
    length; per pair ``p`` and block ``b``,

        λ_{p,b} = Σ_{j ∈ b} ln(d_j / d^0_j) / (steps in b) · steps_per_unit,

    averaged over each of ``n_groups`` contiguous blocks of pairs (e.g. the seeds of a grid cell)
    with its standard error. A rate that rises from the first block to the later ones is the
    alignment transient of the separation (it belongs in ``transient``, not in the window); one
    that keeps changing to the last block is a drift of the dynamics itself.

    Returns a long DataFrame: ``group``, ``block``, ``start``, ``stop`` (measured steps),
    ``rate``, ``rate_se``.

    Examples
    --------
    >>> import torch
    >>> from fpt_core.dynamics.lyapunov import lyapunov_benettin
    >>> r = lyapunov_benettin(lambda x, t: 0.5 * x, torch.ones(2, 1), n_steps=40, d0=1e-3)
    >>> [round(v, 4) for v in block_rates(r, 2)["rate"]]
    [-0.6931, -0.6931]
    """
    if not isinstance(n_blocks, int) or n_blocks < 1:
        raise ValueError(f"n_blocks must be an integer ≥ 1, got {n_blocks!r}")
    if not isinstance(n_groups, int) or n_groups < 1 or result.n_pairs % n_groups:
        raise ValueError(
            f"n_groups={n_groups!r} must be an integer ≥ 1 dividing the {result.n_pairs} pairs"
        )
    steps = result.running_steps
    if n_blocks > steps.size:
        raise ValueError(f"n_blocks must lie in [1, {steps.size}] (renormalisation intervals)")
    lengths = np.diff(np.r_[0, steps])
    edges = np.linspace(0, result.n_steps, n_blocks + 1)
    per = result.n_pairs // n_groups
    rows = []
    for b in range(n_blocks):
        m = (steps > edges[b]) & (steps <= edges[b + 1])
        rate = result.log_stretch[m].sum(axis=0) / lengths[m].sum() * result.steps_per_unit
        for g in range(n_groups):
            v = rate[g * per : (g + 1) * per]
            rows.append({"group": g, "block": b, "start": int(steps[m][0] - lengths[m][0]),
                         "stop": int(steps[m][-1]), "rate": float(np.mean(v)),
                         "rate_se": _se(np.asarray(v, float))})  # fmt: skip
    return pd.DataFrame(rows)
