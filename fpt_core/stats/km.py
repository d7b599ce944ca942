"""Weighted Kaplan–Meier on a fixed sample and the bootstrap machinery built on it (vectorised over
resamples): the engine under every interval of :mod:`fpt_core.stats`.

Reference: Kaplan & Meier (1958), *J. Am. Stat. Assoc.* 53, 457–481; Efron & Tibshirani (1993),
*An Introduction to the Bootstrap*, ch. 13 (percentile intervals).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fpt_core.stats.fpt import FirstPassage

__all__ = ["KaplanMeier", "bootstrap_stack", "percentile_interval", "resample_counts"]


class KaplanMeier:
    """Kaplan–Meier on a fixed sample for any run weights (bootstrap counts), vectorised.

    ``sf(w)`` with ``w`` of shape (b, n) returns S of shape (b, K) on the distinct times ``u``:
    S_k = Π_{j≤k} (1 − d_j / n_j), d_j the weighted events at u_j, n_j the weight at risk (T ≥ u_j).
    """

    def __init__(self, fp: FirstPassage) -> None:
        self.order = np.argsort(fp.times, kind="stable")
        t = fp.times[self.order]
        self.obs = fp.observed[self.order].astype(float)
        self.u, first = np.unique(t, return_index=True)
        self.start, self.stop = first, np.append(first[1:], t.size)
        self.horizon, self.n = fp.horizon, t.size

    def sf(self, w: np.ndarray | None = None) -> np.ndarray:
        w = np.ones((1, self.n)) if w is None else w[:, self.order]
        zero = np.zeros((w.shape[0], 1))
        cw = np.concatenate([zero, np.cumsum(w, axis=1)], axis=1)
        ce = np.concatenate([zero, np.cumsum(w * self.obs, axis=1)], axis=1)
        at_risk = cw[:, -1:] - cw[:, self.start]
        d = ce[:, self.stop] - ce[:, self.start]
        h = np.divide(d, at_risk, out=np.zeros_like(d), where=at_risk > 0)
        return np.cumprod(1.0 - h, axis=1)

    def at(self, s: np.ndarray, x: np.ndarray) -> np.ndarray:
        """S(x), shape (b, len(x)); NaN beyond the horizon where S(horizon) > 0."""
        k = np.searchsorted(self.u, x, side="right") - 1
        out = np.where(k < 0, 1.0, s[:, np.clip(k, 0, None)])
        return np.where((x > self.horizon) & (s[:, -1:] > 0), np.nan, out)

    def area(self, s: np.ndarray, x: np.ndarray, power: int = 1) -> np.ndarray:
        """∫_0^x p t^(p−1) S(t) dt (p = 1: restricted mean, p = 2: second moment); NaN as in at."""
        u = self.u**power
        cum = u[0] + np.concatenate(
            [np.zeros((s.shape[0], 1)), np.cumsum(s[:, :-1] * np.diff(u), axis=1)], axis=1
        )
        k = np.searchsorted(self.u, x, side="right") - 1
        kk = np.clip(k, 0, None)
        out = np.where(k < 0, x**power, cum[:, kk] + s[:, kk] * (x**power - u[kk]))
        return np.where((x > self.horizon) & (s[:, -1:] > 0), np.nan, out)


def resample_counts(n: int, b: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap counts over n runs, shape (b, n): how often each run is drawn."""
    idx = rng.integers(0, n, size=(b, n)) + n * np.arange(b)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)


def bootstrap_stack(
    stat: Callable[..., np.ndarray],
    sizes: list[int],
    n_resamples: int,
    rng: np.random.Generator,
    max_cells: int = 2_000_000,
) -> np.ndarray:
    """Stack stat(w_1, …) over resamples of each ensemble (independently), in memory chunks."""
    chunk = max(1, max_cells // max(sizes))
    out, done = [], 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        out.append(stat(*[resample_counts(n, b, rng) for n in sizes]))
        done += b
    return np.concatenate(out, axis=0)


def percentile_interval(reps: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(reps, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi
