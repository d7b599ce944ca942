"""Phase grids, the ``λ = 0`` contour of a grid, and the training-time collapse on ``η/(1 − μ)``.

Engine-agnostic: a grid cell is any callable returning measurements.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

__all__ = ["ScalingCollapse", "edge_contour", "phase_grid", "scaling_collapse"]

# --------------------------------------------------------------------------------------------
# Phase grids and the edge (λ = 0) contour
# --------------------------------------------------------------------------------------------


def phase_grid(
    cell: Callable[[dict[str, Any]], Mapping[str, Any]],
    grid: Mapping[str, Iterable[Any]],
    *,
    progress: bool = True,
    desc: str | None = "phase grid",
) -> pd.DataFrame:
    """Evaluate ``cell`` on every point of the Cartesian product of ``grid``: a tidy DataFrame.

    Points are visited in ``itertools.product`` order of ``grid`` (first name slowest). Each row
    holds the point's parameters followed by the measurements ``cell(params)`` returned; a
    measurement missing from some cells is ``NaN`` there. Engine-agnostic: ``cell`` may train an
    ensemble and return e.g. ``{"lyapunov": λ, "fpt": T}``; put seeds in the grid to repeat.

    Parameters
    ----------
    cell : callable ``dict -> mapping``
        Measurement of one grid point; keys must not repeat grid names.
    grid : mapping name → non-empty sequence of values
    progress : bool
        Show a tqdm progress bar.
    desc : str, optional
        Progress bar label.
    """
    if not callable(cell):
        raise ValueError("cell must be a callable params_dict -> dict of measurements")
    if not isinstance(grid, Mapping) or len(grid) == 0:
        raise ValueError("grid must be a non-empty mapping of name -> list of values")
    names = list(grid)
    axes = []
    for name in names:
        values = grid[name]
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValueError(f"grid[{name!r}] must be a sequence of values, got {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"grid[{name!r}] must hold at least one value")
        axes.append(values)
    total = math.prod(len(a) for a in axes)
    rows = []
    for point in tqdm(itertools.product(*axes), total=total, disable=not progress, desc=desc):
        params = dict(zip(names, point, strict=True))
        out = cell(dict(params))
        if not isinstance(out, Mapping):
            raise ValueError(f"cell must return a mapping of measurements, got {type(out)}")
        clash = set(out) & set(names)
        if clash:
            raise ValueError(f"cell measurement names {sorted(clash)} clash with grid names")
        rows.append({**params, **out})
    return pd.DataFrame(rows)


def edge_contour(
    df: pd.DataFrame,
    x: str,
    y: str,
    value: str = "lyapunov",
    level: float = 0.0,
    *,
    log_y: bool = False,
) -> pd.DataFrame:
    """For each ``x``, the ``y`` at which ``value`` crosses ``level`` (linear interpolation).

    For fixed ``x`` the rows are sorted by ``y`` (rows with equal ``x, y``, e.g. seeds, are
    averaged; ``NaN`` values are dropped) and ``s_i = value_i − level``. A crossing is a node with
    ``s_i = 0`` or an interval with ``s_i s_{i+1} < 0``, located at

        y* = y_i + (y_{i+1} − y_i) · (level − v_i) / (v_{i+1} − v_i)

    (in ``ln y`` when ``log_y``, for log-spaced grids such as learning rates). The first
    (smallest-``y``) crossing is returned; ``n_crossings`` counts them all. ``y`` is ``NaN`` where
    there is none. With ``value="lyapunov"`` and ``level=0`` this is the ``λ_max = 0`` line
    (edge of chaos) of a heatmap.

    Returns
    -------
    DataFrame with columns ``[x, y, "n_crossings"]``, one row per distinct ``x`` (sorted).
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    for arg, col in (("x", x), ("y", y), ("value", value)):
        if col not in df.columns:
            raise ValueError(f"{arg}={col!r} is not a column of df (columns: {list(df.columns)})")
    if x == y:
        raise ValueError("x and y must be different columns")
    if not math.isfinite(level):
        raise ValueError(f"level must be finite, got {level}")
    sub = df[[x, y, value]].astype({y: float, value: float})
    if log_y and not bool((sub[y] > 0).all()):
        raise ValueError(f"log_y=True needs y={y!r} > 0 everywhere")
    rows = []
    for xv, group in sub.groupby(x, sort=True):
        g = group.groupby(y, sort=True)[value].mean().dropna()
        ys = g.index.to_numpy(dtype=float)
        ys = np.log(ys) if log_y else ys
        s = g.to_numpy(dtype=float) - level
        found: list[float] = []
        for i in range(len(s)):
            if s[i] == 0.0:
                found.append(ys[i])
            elif i + 1 < len(s) and s[i] * s[i + 1] < 0:
                found.append(ys[i] + (ys[i + 1] - ys[i]) * (-s[i]) / (s[i + 1] - s[i]))
        y_star = found[0] if found else float("nan")
        if log_y and found:
            y_star = math.exp(y_star)
        rows.append({x: xv, y: y_star, "n_crossings": len(found)})
    return pd.DataFrame(rows, columns=[x, y, "n_crossings"])


# --------------------------------------------------------------------------------------------
# Training-time collapse onto the effective learning rate
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScalingCollapse:
    """Result of :func:`scaling_collapse` (all logs natural).

    Attributes
    ----------
    exponent, exponent_stderr, intercept : float
        ``b``, its OLS standard error, and ``a`` of the collapse fit ``ln T = a + b ln η_eff``.
    coef_lr, coef_one_minus_mu : float
        ``b_1, b_2`` of the free fit ``ln T = a' + b_1 ln η + b_2 ln(1 − μ)``; a collapse onto
        ``η_eff`` means ``b_2 = −b_1`` (then ``b = b_1``).
    r2_collapse, r2_full : float
        R² of the two fits; ``delta_r2 = r2_full − r2_collapse ≥ 0``.
    f_stat, p_value : float
        F test of the restriction ``b_2 = −b_1`` (1 and ``n − 3`` degrees of freedom):
        ``F = (RSS_collapse − RSS_full) / (RSS_full / (n − 3))``. A small p rejects the collapse.
    residual_sd : float
        ``sqrt(RSS_collapse / (n − 2))``: spread of ``ln T`` about the collapse line.
    within_sd : float
        Pooled sd of ``ln T`` among points with equal ``η_eff`` (relative tolerance ``rtol``),
        ``sqrt(Σ_g Σ_{i∈g} (ln T_i − mean_g)² / (n_g_total − G))`` over the ``G`` groups with ≥ 2
        points; free of any assumed functional form. ``NaN`` if no ``η_eff`` repeats.
    n, n_dropped, n_tied_groups : int
        Points used, rows dropped (time not finite and > 0, e.g. runs that never reached the
        target), and ``G``.
    data : DataFrame
        Used rows with ``eta_eff``, ``log_eta_eff``, ``log_time`` and ``residual`` (collapse fit).
    """

    exponent: float
    exponent_stderr: float
    intercept: float
    coef_lr: float
    coef_one_minus_mu: float
    r2_collapse: float
    r2_full: float
    f_stat: float
    p_value: float
    residual_sd: float
    within_sd: float
    n: int
    n_dropped: int
    n_tied_groups: int
    data: pd.DataFrame

    @property
    def delta_r2(self) -> float:
        return self.r2_full - self.r2_collapse


def _ols(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Coefficients, residual sum of squares, residuals."""
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    resid = target - design @ coef
    return coef, float(resid @ resid), resid


def _within_group_sd(
    log_eta_eff: np.ndarray, log_time: np.ndarray, rtol: float
) -> tuple[float, int]:
    order = np.argsort(log_eta_eff, kind="stable")
    le, lt = log_eta_eff[order], log_time[order]
    # consecutive sorted values closer than rtol (in ln, i.e. relative) belong to one group
    breaks = np.flatnonzero(np.diff(le) > rtol) + 1
    ss, dof, groups = 0.0, 0, 0
    for chunk in np.split(lt, breaks):
        if chunk.size >= 2:
            ss += float(np.sum((chunk - chunk.mean()) ** 2))
            dof += chunk.size - 1
            groups += 1
    return (math.sqrt(ss / dof) if dof > 0 else float("nan")), groups


def scaling_collapse(
    df: pd.DataFrame,
    lr: str = "lr",
    momentum: str = "momentum",
    time: str = "fpt",
    *,
    rtol: float = 1e-9,
) -> ScalingCollapse:
    """Test whether training times collapse onto the effective learning rate ``η/(1 − μ)``.

    For SGD with momentum ``μ`` and learning rate ``η`` the velocity in a slowly varying gradient
    relaxes to ``−η/(1 − μ) ∇L``, so ``η_eff = η / (1 − μ)`` is the step of the equivalent
    momentum-free dynamics. The training-time data ``T(η, μ)`` collapse if ``T`` depends on
    ``(η, μ)`` only through ``η_eff``. Two complementary measures:

    1. Power-law fits in logs. Collapse fit ``ln T = a + b ln η_eff`` against the free fit
       ``ln T = a' + b_1 ln η + b_2 ln(1 − μ)``. Since ``ln η_eff = ln η − ln(1 − μ)`` the collapse
       fit is the free fit restricted to ``b_2 = −b_1``; the nested F test of that restriction,
       the R² of both fits and the exponent ``b`` (``−1`` for ``T ∝ 1/η_eff``) are reported.
    2. Form-free spread: the pooled sd of ``ln T`` among points that share ``η_eff`` (needs a
       grid with repeated ``η_eff``; e.g. ``η = η_eff (1 − μ)``). It equals the noise level of
       ``ln T`` when the data collapse and grows when ``μ`` matters on its own.

    Parameters
    ----------
    df : DataFrame
        One row per run (or per grid cell).
    lr, momentum, time : str
        Column names: learning rate ``η > 0``, momentum ``0 ≤ μ < 1``, training time ``T``
        (e.g. a first-passage time). Rows with ``T`` not finite or ``≤ 0`` are dropped and
        counted (censored runs: handle them upstream if they are many).
    rtol : float > 0
        Relative tolerance for "equal ``η_eff``" in measure 2.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    for arg, col in (("lr", lr), ("momentum", momentum), ("time", time)):
        if col not in df.columns:
            raise ValueError(f"{arg}={col!r} is not a column of df (columns: {list(df.columns)})")
    if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    eta = df[lr].to_numpy(dtype=float)
    mu = df[momentum].to_numpy(dtype=float)
    t = df[time].to_numpy(dtype=float)
    if not bool(np.all(np.isfinite(eta) & (eta > 0))):
        raise ValueError(f"lr column {lr!r} must be finite and > 0")
    if not bool(np.all(np.isfinite(mu) & (mu >= 0) & (mu < 1))):
        raise ValueError(f"momentum column {momentum!r} must lie in [0, 1)")
    keep = np.isfinite(t) & (t > 0)
    n = int(keep.sum())
    if n < 4:
        raise ValueError(f"time column {time!r} needs ≥ 4 finite values > 0, got {n}")
    eta, mu, t = eta[keep], mu[keep], t[keep]
    log_eta, log_1m = np.log(eta), np.log1p(-mu)
    log_eff, log_t = log_eta - log_1m, np.log(t)

    ones = np.ones(n)
    full = np.column_stack([ones, log_eta, log_1m])
    if np.linalg.matrix_rank(full) < 3:
        raise ValueError(
            f"lr {lr!r} and momentum {momentum!r} must both vary, and not in lockstep, to test a "
            "collapse"
        )
    restricted = np.column_stack([ones, log_eff])
    coef_r, rss_r, resid_r = _ols(restricted, log_t)
    coef_f, rss_f, _ = _ols(full, log_t)
    tss = float(np.sum((log_t - log_t.mean()) ** 2))
    r2_r = 1.0 - rss_r / tss if tss > 0 else float("nan")
    r2_f = 1.0 - rss_f / tss if tss > 0 else float("nan")
    dof_f = n - 3
    if rss_f > 0:
        f_stat = max(rss_r - rss_f, 0.0) / (rss_f / dof_f)
        p_value = float(stats.f.sf(f_stat, 1, dof_f))
    else:  # exact fit: the restriction holds iff it costs nothing
        f_stat = 0.0 if rss_r <= 1e-12 * max(tss, 1.0) else math.inf
        p_value = 1.0 if f_stat == 0.0 else 0.0
    s2_r = rss_r / (n - 2)
    cov_r = s2_r * np.linalg.inv(restricted.T @ restricted)
    within_sd, groups = _within_group_sd(log_eff, log_t, float(rtol))

    data = df.loc[keep].copy()
    data["eta_eff"] = np.exp(log_eff)
    data["log_eta_eff"] = log_eff
    data["log_time"] = log_t
    data["residual"] = resid_r
    return ScalingCollapse(
        exponent=float(coef_r[1]),
        exponent_stderr=float(math.sqrt(cov_r[1, 1])),
        intercept=float(coef_r[0]),
        coef_lr=float(coef_f[1]),
        coef_one_minus_mu=float(coef_f[2]),
        r2_collapse=float(r2_r),
        r2_full=float(r2_f),
        f_stat=float(f_stat),
        p_value=p_value,
        residual_sd=float(math.sqrt(s2_r)),
        within_sd=within_sd,
        n=n,
        n_dropped=int((~keep).sum()),
        n_tied_groups=groups,
        data=data,
    )
