"""Heavy-tailed self-regularisation (HT-SR): layer ESDs and their power-law exponent α.

For a weight matrix W the empirical spectral density (ESD) is the set of eigenvalues of the
correlation matrix WᵀW, i.e. the squared singular values λ_i = σ_i(W)², without any 1/N
normalisation (α does not depend on the scale). HT-SR theory (Martin & Mahoney, JMLR 22, 2021)
fits a power law p(λ) ∝ λ^(−α) to the upper tail λ ≥ λ_min; smaller α = heavier tail.

Estimators (both are the continuous power-law maximum-likelihood estimator on the tail x ≥ xmin,
Hill, Ann. Stat. 3, 1975; Clauset, Shalizi & Newman, SIAM Rev. 51, 2009, eq. 3.1)

    α̂ = 1 + n / Σ_{λ_i ≥ xmin} ln(λ_i / xmin),      n = #{λ_i ≥ xmin},

and differ only in the choice of xmin: :func:`hill_alpha` takes the eigenvalue at a fixed rank
(the median by default, as TempBalance does), :func:`clauset_alpha` minimises the
Kolmogorov–Smirnov distance between the tail and the fitted law; :func:`hill_se` is the Hill
estimator's standard error. FARMS (:mod:`fpt_core.spectra.farms`) removes the
aspect-ratio bias of the ESD by pooling the spectra of fixed-aspect-ratio submatrices (Hu,
Goel, Killiakov & Yang, ICML 2025). :func:`fpt_core.spectra.layers.layer_alphas` applies any of them to every Linear/Conv
layer of a torch module; :mod:`fpt_core.protocols.tempbalance` turns the α's into learning-rate factors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = [
    "PowerLawFit",
    "clauset_alpha",
    "esd",
    "hill_alpha",
    "hill_se",
    "weight_layer_names",
]

_WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class PowerLawFit:
    """A power-law fit p(λ) ∝ λ^(−α), λ ≥ xmin, of an ESD.

    Attributes: ``alpha`` (``inf`` if every tail value equals ``xmin``), ``xmin``, ``ks_distance``
    (two-sided KS distance between the tail's empirical CDF and the fitted CDF; ``nan`` when
    ``alpha`` is infinite), ``n_tail`` (values ≥ ``xmin``, ``xmin`` itself included) and ``n``
    (values in the ESD).
    """

    alpha: float
    xmin: float
    ks_distance: float
    n_tail: int
    n: int


# --------------------------------------------------------------------------------------- ESD


def _weight_stack(weight, conv_norm: float) -> torch.Tensor:
    """Weight as a float64 stack (slices, rows, cols) with rows ≥ cols, conv slices scaled."""
    if not conv_norm > 0:
        raise ValueError(f"conv_norm={conv_norm} must be > 0")
    if isinstance(weight, torch.Tensor):
        w = weight.detach().to(torch.float64)
    else:
        w = torch.as_tensor(np.asarray(weight, dtype=np.float64))
    if w.ndim < 2 or w.ndim > 5:
        raise ValueError(
            f"weight must be 2-D (Linear: out × in) or 3- to 5-D (Conv: out × in × kernel…), "
            f"got shape {tuple(w.shape)}"
        )
    if w.numel() == 0:
        raise ValueError(f"weight is empty (shape {tuple(w.shape)})")
    if not bool(torch.isfinite(w).all()):
        raise ValueError("weight contains NaN or inf")
    if w.ndim == 2:
        mats = w.unsqueeze(0)
    else:  # (out, in, k1, …) -> (k1·…, out, in), scaled so that eigenvalues get × conv_norm
        mats = w.flatten(start_dim=2).permute(2, 0, 1) * math.sqrt(conv_norm)
    if mats.shape[1] < mats.shape[2]:
        mats = mats.transpose(1, 2)
    return mats


def esd(weight, *, conv_norm: float = 0.5) -> np.ndarray:
    """Empirical spectral density of a Linear or Conv weight: eigenvalues of WᵀW, ascending.

    λ_i = σ_i(W)², the squared singular values (the ``min(out, in)`` possibly non-zero
    eigenvalues of WᵀW; no 1/N normalisation).

    * 2-D ``(out, in)`` (Linear): W as is.
    * Conv ``(out, in, k1[, k2[, k3]])``: split into k1·k2·k3 slices W[:, :, i, j] of shape
      out × in, each scaled by ``sqrt(conv_norm)`` (default √0.5, as in TempBalance and
      weightwatcher), and the eigenvalues of all slices pooled. Conv1d ``(out, in, k)`` gives
      k slices. The scale only multiplies every λ by ``conv_norm`` and does not change α.

    Accepts a torch tensor (any device; computed there in float64) or an array; returns a
    float64 numpy array of ``slices · min(out, in)`` values. Reference: Martin & Mahoney (2021),
    JMLR 22(165); Zhou et al. (2023), NeurIPS 36.
    """
    mats = _weight_stack(weight, conv_norm)
    eigs = torch.linalg.svdvals(mats).square().flatten()
    return np.sort(eigs.cpu().numpy())


def _esd_count(weight: torch.Tensor) -> int:
    """Number of eigenvalues :func:`esd` returns, without computing them."""
    shape = tuple(weight.shape)
    return math.prod(shape[2:]) * min(shape[0], shape[1])


# ------------------------------------------------------------------------- power-law tails


def _check_eigs(eigenvalues, name: str = "eigenvalues") -> np.ndarray:
    x = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError(f"{name} is empty; need at least 2 values")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    if np.any(x < 0):
        raise ValueError(f"{name} must be ≥ 0 (eigenvalues of WᵀW); min is {x.min():g}")
    return np.sort(x)


def _ks_distance(tail: np.ndarray, xmin: float, alpha: float) -> float:
    """Two-sided KS distance between sorted ``tail`` (all ≥ xmin) and the fitted power law.

    D = max_j max(F(x_j) − j/n, (j+1)/n − F(x_j)), F(x) = 1 − (x/xmin)^(1−α), j = 0 … n−1.
    """
    n = tail.size
    cdf = -np.expm1(-(alpha - 1.0) * np.log(tail / xmin))
    r = np.arange(n)
    return float(np.max(np.maximum(cdf - r / n, (r + 1) / n - cdf)))


def _mle(tail: np.ndarray, xmin: float, n_total: int) -> PowerLawFit:
    """Continuous power-law MLE on ``tail`` (sorted, every value ≥ xmin > 0)."""
    n = tail.size
    s = float(np.sum(np.log(tail / xmin)))
    if s <= 0.0:
        return PowerLawFit(math.inf, float(xmin), math.nan, n, n_total)
    alpha = 1.0 + n / s
    return PowerLawFit(alpha, float(xmin), _ks_distance(tail, xmin, alpha), n, n_total)


def hill_alpha(eigenvalues, xmin_pos: float = 2, *, xmin: float | None = None) -> PowerLawFit:
    """Hill estimator of the ESD tail exponent, xmin at a fixed rank (TempBalance's ``median``).

    With λ sorted ascending (0-based), N values, ``i = floor(N / xmin_pos)``, ``xmin = λ_i``
    (the median for ``xmin_pos = 2``), the tail is λ_i … λ_{N−1} (n = N − i values, **λ_xmin
    itself included**, contributing ln 1 = 0 to the sum) and

        α̂ = 1 + n / Σ_{j=i}^{N−1} ln(λ_j / λ_i).

    This is the convention of the TempBalance and FARMS reference code (``pl_fitting='median'``)
    and Clauset et al.'s MLE on x ≥ xmin with xmin a sample value. (Eq. 2 of Liu et al. 2024
    counts only the k = n − 1 values above λ_xmin in the numerator; the two differ by the factor
    n/(n−1) in α − 1.) With ``xmin`` given explicitly (e.g. a known lower bound of the law) the
    tail is every λ ≥ ``xmin`` and ``xmin_pos`` is ignored.

    ``ks_distance`` is two-sided (both sides of each step of the empirical CDF, as in
    :func:`scipy.stats.kstest`); the reference code takes the lower side only. If every tail
    value equals xmin, α = inf and the KS distance is nan. Reference: Hill (1975), Ann. Stat.
    3(5):1163–1174; Zhou et al. (2023), NeurIPS 36.

    Raises ``ValueError`` naming the parameter for an empty, negative or non-finite ESD,
    ``xmin_pos ≤ 1``, a tail of fewer than 2 values, or xmin ≤ 0.
    """
    x = _check_eigs(eigenvalues)
    if xmin is not None:
        if not (np.isfinite(xmin) and xmin > 0):
            raise ValueError(f"xmin={xmin} must be finite and > 0")
        tail = x[x >= xmin]
        if tail.size < 2:
            raise ValueError(f"xmin={xmin} leaves {tail.size} values in the tail; need ≥ 2")
        return _mle(tail, float(xmin), x.size)
    if not xmin_pos > 1:
        raise ValueError(f"xmin_pos={xmin_pos} must be > 1 (xmin = λ[floor(N / xmin_pos)])")
    i = int(x.size / xmin_pos)
    if x.size - i < 2:
        raise ValueError(
            f"xmin_pos={xmin_pos} leaves {x.size - i} of the N={x.size} eigenvalues in the "
            "tail; need ≥ 2 (larger xmin_pos or more eigenvalues)"
        )
    if x[i] <= 0:
        raise ValueError(f"eigenvalues: xmin = λ[{i}] = {x[i]:g} must be > 0; drop zero modes")
    return _mle(x[i:], float(x[i]), x.size)


def hill_se(fit: PowerLawFit) -> float:
    """Asymptotic standard error of a power-law MLE: (α̂ − 1)/√n_tail.

    For a tail of n_tail values of a power law, α̂ − 1 = n_tail/Z with Z ~ Gamma(n_tail, α − 1),
    whose relative standard deviation is 1/√n_tail for large n_tail (Clauset, Shalizi & Newman
    2009, eq. 3.2). ``nan`` for an infinite α.

    Examples
    --------
    >>> round(hill_se(PowerLawFit(3.0, 1.0, 0.1, 100, 200)), 3)
    0.2
    """
    if not math.isfinite(fit.alpha):
        return math.nan
    return (fit.alpha - 1.0) / math.sqrt(fit.n_tail)


def clauset_alpha(
    eigenvalues, *, min_tail: int = 10, n_candidates: int | None = None
) -> PowerLawFit:
    """Power-law fit with xmin chosen by minimum KS distance (Clauset, Shalizi & Newman 2009).

    For every candidate xmin (the distinct positive values λ_(i) with at least ``min_tail``
    values ≥ λ_(i)) the continuous MLE on the tail x ≥ xmin,

        α̂(xmin) = 1 + n / Σ_{x_j ≥ xmin} ln(x_j / xmin),

    and the KS distance ``D(xmin) = max_{x ≥ xmin} |S(x) − P(x)|`` between the tail's empirical
    CDF S and the fitted CDF P(x) = 1 − (x/xmin)^(1−α̂) are computed (both sides of each step of
    S); the fit with the smallest D (the lowest xmin on ties) is returned. All α̂ come from
    suffix sums in O(N); the D's are evaluated vectorised over blocks of candidates, O(N) each.

    Parameters
    ----------
    eigenvalues : array
        The ESD (any order; zeros allowed, never a candidate).
    min_tail : int ≥ 2
        Smallest tail considered (tiny tails give noisy, spuriously small D).
    n_candidates : int ≥ 1, optional
        Use only this many candidates, evenly spaced in rank among the eligible ones (for
        large N; the cost is n_candidates · N). Default: all of them.

    Reference: Clauset, Shalizi & Newman (2009), SIAM Review 51(4):661–703, §3.
    """
    x = _check_eigs(eigenvalues)
    if not (isinstance(min_tail, int | np.integer) and min_tail >= 2):
        raise ValueError(f"min_tail={min_tail} must be an integer ≥ 2")
    if n_candidates is not None and not (
        isinstance(n_candidates, int | np.integer) and n_candidates >= 1
    ):
        raise ValueError(f"n_candidates={n_candidates} must be None or an integer ≥ 1")
    xp = x[x > 0]
    m = xp.size
    if m < min_tail:
        raise ValueError(f"eigenvalues has {m} positive values, fewer than min_tail={min_tail}")
    logx = np.log(xp)
    logx = logx - logx[0]  # shift for precision; α depends on differences only
    cand = np.flatnonzero(np.r_[True, xp[1:] != xp[:-1]])
    cand = cand[cand <= m - min_tail]
    if n_candidates is not None and n_candidates < cand.size:
        pick = np.unique(np.round(np.linspace(0, cand.size - 1, n_candidates)).astype(int))
        cand = cand[pick]
    n_tail = m - cand
    suffix = np.cumsum(logx[::-1])[::-1]
    denom = suffix[cand] - n_tail * logx[cand]
    with np.errstate(divide="ignore"):
        alphas = np.where(denom > 0, 1.0 + n_tail / np.where(denom > 0, denom, 1.0), np.inf)
    ds = np.full(cand.size, np.inf)
    finite = np.flatnonzero(np.isfinite(alphas))
    block = max(1, (1 << 20) // m)  # ≤ 1M entries per temporary array
    for start in range(0, finite.size, block):
        sel = finite[start : start + block]
        c = cand[sel]
        cols = np.arange(c.min(), m)
        rank = cols[None, :] - c[:, None]  # 0-based position within each tail
        ln_ratio = logx[cols][None, :] - logx[c][:, None]
        cdf = -np.expm1(-(alphas[sel] - 1.0)[:, None] * ln_ratio)
        nt = n_tail[sel][:, None]
        dev = np.maximum(cdf - rank / nt, (rank + 1) / nt - cdf)
        ds[sel] = np.max(np.where(rank >= 0, dev, -np.inf), axis=1)
    if finite.size == 0:
        return PowerLawFit(math.inf, float(xp[cand[0]]), math.nan, int(n_tail[0]), x.size)
    best = int(np.argmin(ds))
    return PowerLawFit(
        float(alphas[best]), float(xp[cand[best]]), float(ds[best]), int(n_tail[best]), x.size
    )


def _fit(eigs: np.ndarray, method: str, xmin_pos: float, min_tail: int, n_candidates):
    if method == "hill":
        return hill_alpha(eigs, xmin_pos)
    if method == "clauset":
        return clauset_alpha(eigs, min_tail=min_tail, n_candidates=n_candidates)
    raise ValueError(f"method={method!r} must be 'hill' or 'clauset'")


# ---------------------------------------------------------------------------------- models


def weight_layer_names(model: nn.Module) -> list[str]:
    """Names of the Linear/Conv1d/Conv2d/Conv3d modules of ``model``, in module order."""
    return [name for name, mod in model.named_modules() if isinstance(mod, _WEIGHT_LAYERS)]
