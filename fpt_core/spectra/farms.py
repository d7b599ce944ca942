"""FARMS: ESD exponents without aspect-ratio bias, from fixed-aspect-ratio submatrices.

The ESD of a random m × n matrix (m ≥ n) depends on its aspect ratio m/n (Marchenko–Pastur),
so the α of layers of different shapes mix training with geometry. FARMS (Hu, Goel, Killiakov &
Yang, "Eigenspectrum analysis of neural networks without aspect ratio bias", ICML 2025) fits α
to the pooled ESD of submatrices ("windows") that all have one aspect ratio Q. Its reference
code slides a window of a fixed size over each Linear weight on a grid of a fixed number of
positions per dimension (``sampling_ops_per_dim``), so the windows are smaller than the matrix
and overlap; :func:`farms_alpha` does this with ``size`` and ``windows_per_dim``. Without a
``size`` the window is the largest that fits, and a square matrix then has one window, the
whole matrix (FARMS = plain Hill there). :func:`aspect_ratio_table` compares plain Hill and
FARMS on submatrices of one matrix with Q = 1 … 8 rows per column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from fpt_core.spectra.htsr import _fit, _weight_stack, esd, hill_alpha
from fpt_core.stats.checks import check_int

__all__ = ["FarmsFit", "aspect_ratio_table", "farms_alpha", "farms_esd"]


@dataclass(frozen=True)
class FarmsFit:
    """Result of :func:`farms_alpha`.

    Attributes: ``alpha`` (mean of ``block_alphas``), ``ks_distance`` (mean over blocks),
    ``block_alphas`` (one α per pooled ESD: a single one for a matrix, one per window position
    for a convolution), ``window`` (rows, cols) of the submatrices, ``n_windows`` (window
    positions), ``n`` (eigenvalues pooled over all windows and slices).
    """

    alpha: float
    ks_distance: float
    block_alphas: np.ndarray
    window: tuple[int, int]
    n_windows: int
    n: int


def _grid(length: int, window: int, stride: int | None, per_dim: int | None) -> np.ndarray:
    """Window starts in 0 … length − window, ends included: step ≤ ``stride``, or
    ``per_dim`` evenly spaced positions (fewer if the span has fewer integers)."""
    span = length - window
    if span == 0:
        return np.zeros(1, dtype=int)
    k = per_dim if per_dim is not None else math.ceil(span / stride) + 1
    if k == 1:
        return np.zeros(1, dtype=int)
    return np.unique(np.round(np.linspace(0, span, k)).astype(int))


def _farms_windows(mats: torch.Tensor, aspect_ratio: float, size, stride, windows_per_dim):
    m, n = int(mats.shape[1]), int(mats.shape[2])  # m ≥ n
    if not (np.isfinite(aspect_ratio) and aspect_ratio >= 1):
        raise ValueError(
            f"aspect_ratio={aspect_ratio} must be ≥ 1 (rows/cols of the submatrices; the "
            "weight is transposed so that rows ≥ cols)"
        )
    for value, name in ((size, "size"), (stride, "stride"), (windows_per_dim, "windows_per_dim")):
        check_int(value, name, 1, allow_none=True)
    if stride is not None and windows_per_dim is not None:
        raise ValueError(
            f"stride={stride} and windows_per_dim={windows_per_dim}: give at most one of them"
        )
    c = min(n, math.floor(m / aspect_ratio)) if size is None else int(size)
    r = int(round(aspect_ratio * c))
    if c < 1 or c > n or r > m:
        raise ValueError(
            f"size={size}, aspect_ratio={aspect_ratio}: a {r}×{c} window does not fit the "
            f"{m}×{n} (rows ≥ cols) weight matrix"
        )
    if windows_per_dim is not None:
        return r, c, _grid(m, r, None, windows_per_dim), _grid(n, c, None, windows_per_dim)
    return r, c, _grid(m, r, stride or r, None), _grid(n, c, stride or c, None)


def _farms_blocks(weight, aspect_ratio, size, stride, windows_per_dim, conv_norm):
    """Eigenvalues per window position: array (windows, slices · c), and the window shape."""
    mats = _weight_stack(weight, conv_norm)
    r, c, rows, cols = _farms_windows(mats, aspect_ratio, size, stride, windows_per_dim)
    subs = torch.stack([mats[:, i : i + r, j : j + c] for i in rows for j in cols])
    blocks = torch.linalg.svdvals(subs).square().flatten(start_dim=1)
    return blocks.cpu().numpy(), (r, c), mats.shape[0]


def farms_esd(
    weight,
    *,
    aspect_ratio: float = 1.0,
    size: int | None = None,
    stride: int | None = None,
    windows_per_dim: int | None = None,
    conv_norm: float = 0.5,
) -> np.ndarray:
    """Pooled ESD of fixed-aspect-ratio submatrices (FARMS), ascending.

    The weight (conv: each kernel slice, scaled as in :func:`fpt_core.spectra.htsr.esd`) is oriented
    m × n with m ≥ n and cut into r × c windows with r/c = ``aspect_ratio`` = Q
    (r = round(Q·c)); c = ``size``, by default the largest that fits, min(n, floor(m/Q)). Window
    starts lie on a regular grid from 0 to m − r (rows) and 0 to n − c (columns): either
    ``windows_per_dim`` evenly spaced positions per dimension (the reference code's
    ``sampling_ops_per_dim``; overlapping windows when they are small), or with step ≤
    ``stride`` (default r resp. c: tiles without overlap, the last one shifted back to end at
    the border, so every entry is covered). Returns the squared singular values of every
    window of every slice. Reference: Hu, Goel, Killiakov & Yang (2025), ICML.

    Examples
    --------
    >>> w = np.random.default_rng(0).standard_normal((20, 10))
    >>> farms_esd(w).size                       # two 10×10 tiles
    20
    >>> farms_esd(w, size=5, windows_per_dim=3).size   # 3 × 3 windows of 5×5
    45
    """
    blocks, _, _ = _farms_blocks(weight, aspect_ratio, size, stride, windows_per_dim, conv_norm)
    return np.sort(blocks.ravel())


def farms_alpha(
    weight,
    *,
    aspect_ratio: float = 1.0,
    size: int | None = None,
    stride: int | None = None,
    windows_per_dim: int | None = None,
    conv_norm: float = 0.5,
    method: str = "hill",
    xmin_pos: float = 2,
    min_tail: int = 10,
    n_candidates: int | None = None,
) -> FarmsFit:
    """α without aspect-ratio bias: FARMS (fixed-aspect-ratio matrix subsampling).

    The ESD of a random m × n matrix depends on Q = m/n (Marchenko–Pastur support
    [(1 − Q^(−1/2))², (1 + Q^(−1/2))²] in units of the variance · m), so α of layers of different
    shapes are not comparable. FARMS fits α to the pooled ESD of submatrices that all have the
    same aspect ratio (windows as in :func:`farms_esd`):

    * a matrix (Linear): the eigenvalues of all windows are pooled and fitted once,
      α̂ = 1 + n_tail / Σ_{λ ≥ λ_min} ln(λ/λ_min) for the Hill ``method``;
    * a convolution: for each window position (block) the eigenvalues of that window in all
      kernel slices are pooled and fitted; α is the mean over blocks (as in the FARMS code).

    ``method`` ('hill' with ``xmin_pos``, or 'clauset' with ``min_tail``, ``n_candidates``)
    is the estimator applied to each pooled ESD. Reference: Hu, Goel, Killiakov & Yang (2025),
    "Eigenspectrum analysis of neural networks without aspect ratio bias", ICML.

    Examples
    --------
    >>> w = np.random.default_rng(0).standard_normal((100, 100))
    >>> fit = farms_alpha(w)                    # one window: the whole matrix
    >>> bool(fit.alpha == hill_alpha(esd(w)).alpha), fit.n_windows
    (True, 1)
    >>> farms_alpha(w, size=40, windows_per_dim=4).n_windows
    16
    """
    blocks, window, n_slices = _farms_blocks(
        weight, aspect_ratio, size, stride, windows_per_dim, conv_norm
    )
    pooled = [blocks.ravel()] if n_slices == 1 else list(blocks)
    fits = [_fit(b, method, xmin_pos, min_tail, n_candidates) for b in pooled]
    alphas = np.array([f.alpha for f in fits])
    return FarmsFit(
        alpha=float(np.mean(alphas)),
        ks_distance=float(np.mean([f.ks_distance for f in fits])),
        block_alphas=alphas,
        window=window,
        n_windows=int(blocks.shape[0]),
        n=int(blocks.size),
    )


def aspect_ratio_table(
    weight,
    ratios: Sequence[int],
    *,
    cols: int,
    size: int,
    windows_per_dim: int = 9,
    xmin_pos: float = 2,
) -> pd.DataFrame:
    """Plain Hill and FARMS α of submatrices of one matrix with Q = rows/cols = ``ratios``.

    ``weight`` (2-D) is oriented m × n with m ≥ n; for each Q the submatrix is its first
    ``Q · cols`` rows and first ``cols`` columns (so every Q sees the same columns, and a trained
    layer keeps its training while only its shape changes). Each row of the result has ``Q``,
    ``rows``, ``cols``, ``hill`` (median Hill on the submatrix's ESD), ``hill_se``
    ((α − 1)/√n_tail) and ``farms`` (:func:`farms_alpha`, square windows of ``size`` with
    ``windows_per_dim`` positions per dimension). For an i.i.d. matrix the plain Hill α grows
    with Q (the Marchenko–Pastur law narrows) while FARMS stays put.

    Examples
    --------
    >>> w = np.random.default_rng(0).standard_normal((400, 50))
    >>> t = aspect_ratio_table(w, [1, 8], cols=50, size=25)
    >>> bool(t.hill.iloc[1] - t.hill.iloc[0] > 1.0), bool(abs(t.farms.diff().iloc[1]) < 0.3)
    (True, True)
    """
    w = (
        torch.as_tensor(np.asarray(weight, dtype=np.float64))
        if not isinstance(weight, torch.Tensor)
        else weight.detach().to(torch.float64)
    )
    if w.ndim != 2:
        raise ValueError(f"weight must be 2-D, got shape {tuple(w.shape)}")
    if w.shape[0] < w.shape[1]:
        w = w.T
    if not (isinstance(cols, int) and 1 <= cols <= w.shape[1]):
        raise ValueError(f"cols={cols!r} must be an integer in [1, {w.shape[1]}]")
    ratios = list(ratios)
    if not ratios:
        raise ValueError("ratios must name at least one aspect ratio")
    for q in ratios:
        if not (isinstance(q, int | np.integer) and q >= 1 and q * cols <= w.shape[0]):
            raise ValueError(
                f"ratios: Q={q!r} must be an integer ≥ 1 with Q·cols ≤ {w.shape[0]} rows"
            )
    rows_out = []
    for q in ratios:
        sub = w[: q * cols, :cols]
        fit = hill_alpha(esd(sub), xmin_pos)
        farms = farms_alpha(sub, size=size, windows_per_dim=windows_per_dim, xmin_pos=xmin_pos)
        rows_out.append(
            {
                "Q": int(q),
                "rows": int(q * cols),
                "cols": int(cols),
                "hill": fit.alpha,
                "hill_se": (fit.alpha - 1.0) / math.sqrt(fit.n_tail),
                "farms": farms.alpha,
            }
        )
    return pd.DataFrame(rows_out)
