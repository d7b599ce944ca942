"""Layer-wise learning rates from ESD exponents: TempBalance and Model Balancing.

The learning rate acts as a temperature of SGD; TempBalance (Zhou et al., NeurIPS 36, 2023)
gives layers with a heavier-tailed ESD (small α, "over-trained") a lower and layers with a
lighter tail (large α, "under-trained") a higher learning rate, recomputed once per epoch:

    η_i = η_t · f_i,    f_i = s1 + (s2 − s1) · (α_i − α_min) / (α_max − α_min)

(:func:`tempbalance_factors`), or with the sigmoid map of Model Balancing (Liu et al., EMNLP
2024), f_i = 10^φ_i, φ_i = s · (σ(τ (α_i − ᾱ)) − 0.5) (:func:`model_balancing_factors`).
:func:`layer_lr_factors` applies either to the ordered α's of :func:`fpt_core.htsr.layer_alphas`
(first/last layer kept at factor 1 on request) and :func:`param_lr_factors` spreads the layer
factors over a model's parameters (weight, bias, and the BatchNorm that follows the layer).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy.special import expit
from torch import nn

__all__ = [
    "layer_lr_factors",
    "model_balancing_factors",
    "param_lr_factors",
    "tempbalance_factors",
]

_WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def _check_alphas(alphas) -> np.ndarray:
    a = np.asarray(alphas, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"alphas must be finite, got {a.tolist()}")
    return a


def tempbalance_factors(alphas, s1: float = 0.5, s2: float = 1.5) -> np.ndarray:
    """TempBalance linear map of layer α's to learning-rate factors (``tb_linear_map``).

        f_i = s1 + (s2 − s1) · (α_i − α_min) / (α_max − α_min),   η_i = η_t · f_i,

    so the most heavy-tailed layer gets s1, the least heavy-tailed s2. If all α are equal
    (including a single layer) every factor is (s1 + s2)/2 — no layer is singled out; (the
    reference code's ``np.interp`` would return s2 there). Requires 0 ≤ s1 ≤ s2.
    Reference: Zhou et al. (2023), NeurIPS 36, eq. for TB_Linear_Map; YefanZhou/TempBalance.
    """
    a = _check_alphas(alphas)
    if not (np.isfinite(s1) and np.isfinite(s2) and 0 <= s1 <= s2):
        raise ValueError(f"s1={s1}, s2={s2}: need finite 0 ≤ s1 ≤ s2")
    lo, hi = a.min(), a.max()
    if hi == lo:
        return np.full(a.size, 0.5 * (s1 + s2))
    return s1 + (s2 - s1) * (a - lo) / (hi - lo)


def model_balancing_factors(alphas, s: float, tau: float = 10.0) -> np.ndarray:
    """Model Balancing (TB_Sigmoid) map of layer α's to learning-rate factors.

        f_i = 10^φ_i,   φ_i = s · (1 / (1 + exp(−τ (α_i − ᾱ))) − 0.5),   η_i = η_t · f_i,

    with ᾱ the mean α of the layers given; factors lie in (10^(−s/2), 10^(s/2)) and equal 1 at
    α_i = ᾱ. Requires s ≥ 0 and τ > 0 (Liu et al. report τ = 10 working best).
    Reference: Liu et al. (2024), "Model balancing helps low-data training and fine-tuning",
    EMNLP, eqs. 3–4.
    """
    a = _check_alphas(alphas)
    if not (np.isfinite(s) and s >= 0):
        raise ValueError(f"s={s} must be finite and ≥ 0")
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError(f"tau={tau} must be finite and > 0")
    phi = s * (expit(tau * (a - a.mean())) - 0.5)
    return 10.0**phi


def layer_lr_factors(
    alphas: Mapping[str, object],
    method: str = "tempbalance",
    *,
    exclude_first_last: bool = True,
    layers: Sequence[str] | None = None,
    exclude: Collection[str] = (),
    s1: float = 0.5,
    s2: float = 1.5,
    s: float | None = None,
    tau: float = 10.0,
) -> dict[str, float]:
    """Learning-rate factor per layer from an ordered mapping layer name → α (or a fit).

    Values may be floats or results with an ``alpha`` attribute (:func:`layer_alphas`).
    Excluded layers keep factor 1 and do not enter α_min, α_max or ᾱ:

    * with ``exclude_first_last``, the first and last layer (TempBalance's default): of
      ``layers`` if given — pass ``weight_layer_names(model)`` so that a first/last layer which
      ``layer_alphas`` skipped for a small ESD still counts as the first/last one — otherwise
      the first and last keys of ``alphas`` (the reference code's behaviour);
    * every name in ``exclude``.

    ``method``: 'tempbalance' (:func:`tempbalance_factors` with ``s1``,
    ``s2``) or 'model_balancing' (:func:`model_balancing_factors` with ``s``, ``tau``).
    """
    if method not in ("tempbalance", "model_balancing"):
        raise ValueError(f"method={method!r} must be 'tempbalance' or 'model_balancing'")
    names = list(alphas)
    unknown = set(exclude) - set(names)
    if unknown:
        raise ValueError(f"exclude names {sorted(unknown)} are not keys of alphas")
    skip = set(exclude)
    order = names if layers is None else list(layers)
    if layers is not None and set(names) - set(order):
        raise ValueError(f"layers misses keys of alphas: {sorted(set(names) - set(order))}")
    if exclude_first_last and order:
        skip |= {order[0], order[-1]}
    tuned = [n for n in names if n not in skip]
    out = dict.fromkeys(names, 1.0)
    if not tuned:
        return out
    vals = [float(getattr(alphas[n], "alpha", alphas[n])) for n in tuned]
    if method == "tempbalance":
        f = tempbalance_factors(vals, s1=s1, s2=s2)
    else:
        if s is None:
            raise ValueError("s must be given (≥ 0) for method='model_balancing'")
        f = model_balancing_factors(vals, s=s, tau=tau)
    out.update(zip(tuned, (float(v) for v in f), strict=True))
    return out


def param_lr_factors(
    model: nn.Module, layer_factors: Mapping[str, float], *, batchnorm: bool = True
) -> dict[str, float]:
    """Learning-rate factor of every parameter of ``model`` (keys as ``model.named_parameters()``).

    A Linear/Conv module named in ``layer_factors`` passes its factor to all its parameters
    (weight and bias); with ``batchnorm``, a BatchNorm module that comes right after such a
    layer in module order (no other Linear/Conv/BatchNorm in between) gets the same factor, as
    TempBalance's ``batchnorm_type='order'``. Module order is ``named_modules()`` order, i.e.
    the order of definition in ``__init__``. Every other parameter gets 1.0. The engine sets
    lr = η_t · factor per parameter group each epoch.
    """
    layers = {n for n, m in model.named_modules() if isinstance(m, _WEIGHT_LAYERS)}
    unknown = set(layer_factors) - layers
    if unknown:
        raise ValueError(f"layer_factors names {sorted(unknown)} are not Linear/Conv modules")
    for name, f in layer_factors.items():
        if not (np.isfinite(f) and f >= 0):
            raise ValueError(f"layer_factors[{name!r}]={f} must be finite and ≥ 0")
    module_factor: dict[str, float] = {}
    prev = None  # the weight layer directly preceding in module order, if any
    for name, mod in model.named_modules():
        if isinstance(mod, _WEIGHT_LAYERS):
            prev = name
            if name in layer_factors:
                module_factor[name] = float(layer_factors[name])
        elif isinstance(mod, _BATCHNORMS):
            if batchnorm and prev in layer_factors:
                module_factor[name] = float(layer_factors[prev])
            prev = None
    out: dict[str, float] = {}
    seen: set[int] = set()
    for mname, mod in model.named_modules():
        for pname, p in mod.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            out[f"{mname}.{pname}" if mname else pname] = module_factor.get(mname, 1.0)
    return out
