"""Layer-wise learning rates from ESD exponents: TempBalance and Model Balancing.

The learning rate acts as a temperature of SGD; TempBalance (Zhou et al., NeurIPS 36, 2023)
gives layers with a heavier-tailed ESD (small α, "over-trained") a lower and layers with a
lighter tail (large α, "under-trained") a higher learning rate, recomputed once per epoch:

    η_i = η_t · f_i,    f_i = s1 + (s2 − s1) · (α_i − α_min) / (α_max − α_min)

(:func:`tempbalance_factors`), or with the sigmoid map of Model Balancing (Liu et al., EMNLP
2024), f_i = 10^φ_i, φ_i = s · (σ(τ (α_i − ᾱ)) − 0.5) (:func:`model_balancing_factors`).
:func:`layer_lr_factors` applies either to the ordered α's of :func:`fpt_core.spectra.layers.layer_alphas`
(first/last layer kept at factor 1 on request) and :func:`param_lr_factors` spreads the layer
factors over a model's parameters (weight, bias, and the BatchNorm that follows the layer).

In training, :class:`TempBalance` is the engine protocol ``{"kind": "tempbalance", ...}``: after
every epoch it measures α of each layer of each replica from the stacked weights
(:func:`stacked_layer_alphas`, built on :func:`stacked_esd`) and sets the replica's per-parameter
learning-rate scales. :class:`WeightSnapshot` is a measuring hook that keeps the final weights;
:func:`alpha_history` turns the recorded events into a table and :func:`estimator_table` compares
the Hill, Clauset and FARMS estimates of given weights. This module reads the engine's state by
duck typing only and never imports the engine.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from scipy.special import expit
from torch import nn

from fpt_core.spectra.htsr import weight_layer_names
from fpt_core.spectra.tb_analysis import (  # noqa: F401  (re-exported: the measuring tools used to live here)
    WeightSnapshot,
    alpha_history,
    estimator_table,
    stacked_esd,
    stacked_layer_alphas,
)
from fpt_core.stats.checks import check_flag, check_number

__all__ = [
    "TempBalance",
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


def _round(x: float, decimals: int) -> float | None:
    return round(float(x), decimals) if math.isfinite(x) else None


class TempBalance:
    """Engine protocol ``{"kind": "tempbalance", ...}``: per-layer learning rates from ESD α.

    At initialisation (the engine's ``start`` call, before the first step: the reference
    implementation also assigns factors from the initial weights) and after each ``every``-th
    epoch (the first hook call at or after the epoch boundary) it
    measures α of every Linear/Conv layer of every live replica from the stacked weights
    (:func:`stacked_layer_alphas`) and maps them to factors f_i, either TempBalance's linear map
    (``assignment="tempbalance"``, :func:`tempbalance_factors`)

        f_i = s1 + (s2 − s1) · (α_i − α_min) / (α_max − α_min),

    or Model Balancing's sigmoid (``assignment="model_balancing"`` with ``s`` and ``tau``,
    :func:`model_balancing_factors`). It sets ``state.lr_scale[param][r] = f_i`` for the
    layer's weight and bias and, with ``batchnorm``, for the BatchNorm that follows it
    (:func:`param_lr_factors`); the engine then trains layer i with η_t · f_i, η_t from the
    base schedule (``TrainConfig.lr_schedule``). With ``exclude_first_last`` the first and last
    Linear/Conv layer of the model keep factor 1 and do not enter α_min, α_max (or the mean α);
    so do layers with fewer than ``min_eigs`` eigenvalues and layers whose α is not finite.
    Each replica has its own α's and factors.

    Every recomputation is recorded for each live replica as an event of kind
    ``"tempbalance"`` with ``alpha`` and ``factor``: lists aligned with the model's Linear/Conv
    layers (``None`` for a layer without α), rounded to ``decimals``; the run's first event
    also carries ``layers`` (the names). With ``apply=False`` the hook only measures: it never
    changes the state and records events of kind ``"layer_alpha"`` with ``alpha`` only (plain
    training with an α log that is part of the store key). All parameters are validated on
    construction; a ``ValueError`` names the bad one.

    Parameters
    ----------
    assignment : str
        'tempbalance' or 'model_balancing'.
    s1, s2 : float
        Ends of the linear map, 0 ≤ s1 ≤ s2 (TempBalance: 0.5 and 1.5).
    s : float, optional
        Model Balancing scale (≥ 0); required with ``assignment="model_balancing"``, not
        allowed otherwise.
    tau : float
        Model Balancing sigmoid steepness (> 0).
    method : str
        α estimator: 'hill' (median Hill, as TempBalance) or 'farms'.
    exclude_first_last : bool
        Keep the first and last Linear/Conv layer at factor 1.
    batchnorm : bool
        Give a BatchNorm the factor of the layer it follows.
    every : int
        Recompute every this many epochs (≥ 1).
    apply : bool
        False: measure and record α only.
    xmin_pos, conv_norm, min_eigs, aspect_ratio : float, float, int, float
        Passed to :func:`stacked_layer_alphas`.
    decimals : int
        Rounding of α and factors in the events (0 to 12).
    """

    def __init__(
        self,
        assignment: str = "tempbalance",
        *,
        s1: float = 0.5,
        s2: float = 1.5,
        s: float | None = None,
        tau: float = 10.0,
        method: str = "hill",
        exclude_first_last: bool = True,
        batchnorm: bool = True,
        every: int = 1,
        apply: bool = True,
        xmin_pos: float = 2,
        conv_norm: float = 0.5,
        min_eigs: int = 10,
        aspect_ratio: float = 1.0,
        decimals: int = 4,
    ) -> None:
        if assignment not in ("tempbalance", "model_balancing"):
            raise ValueError(
                f"assignment={assignment!r} must be 'tempbalance' or 'model_balancing'"
            )
        self.s1 = check_number(s1, "s1", low=0.0, low_open=False)
        self.s2 = check_number(s2, "s2", low=0.0, low_open=False)
        if self.s1 > self.s2:
            raise ValueError(f"s1={s1}, s2={s2}: need 0 ≤ s1 ≤ s2")
        if assignment == "model_balancing":
            if s is None:
                raise ValueError("s must be given (a finite number ≥ 0) for model_balancing")
            self.s: float | None = check_number(s, "s", low=0.0, low_open=False)
        elif s is not None:
            raise ValueError(f"s={s!r} is only used with assignment='model_balancing'")
        else:
            self.s = None
        self.tau = check_number(tau, "tau", low=0.0)
        if method not in ("hill", "farms"):
            raise ValueError(f"method={method!r} must be 'hill' or 'farms'")
        if not (isinstance(every, int) and not isinstance(every, bool) and every >= 1):
            raise ValueError(f"every={every!r} must be an integer ≥ 1")
        self.xmin_pos = check_number(xmin_pos, "xmin_pos", low=1.0)
        self.conv_norm = check_number(conv_norm, "conv_norm", low=0.0)
        if not (isinstance(min_eigs, int) and not isinstance(min_eigs, bool) and min_eigs >= 2):
            raise ValueError(f"min_eigs={min_eigs!r} must be an integer ≥ 2")
        self.aspect_ratio = check_number(aspect_ratio, "aspect_ratio", low=1.0, low_open=False)
        if not (isinstance(decimals, int) and not isinstance(decimals, bool)) or not (
            0 <= decimals <= 12
        ):
            raise ValueError(f"decimals={decimals!r} must be an integer in [0, 12]")
        self.assignment = assignment
        self.method = method
        self.exclude_first_last = check_flag(exclude_first_last, "exclude_first_last")
        self.batchnorm = check_flag(batchnorm, "batchnorm")
        self.apply = check_flag(apply, "apply")
        self.every = every
        self.min_eigs = min_eigs
        self.decimals = decimals
        self._state_ref: weakref.ref | None = None
        self._next_epoch = every
        self._first = True

    def __repr__(self) -> str:
        return (
            f"TempBalance(assignment={self.assignment!r}, s1={self.s1}, s2={self.s2}, "
            f"s={self.s}, tau={self.tau}, method={self.method!r}, apply={self.apply})"
        )

    def factors(self, alphas: Mapping[str, float], layers: Sequence[str]) -> dict[str, float]:
        """Factor per layer of ``layers`` for one replica's α's (non-finite α: factor 1)."""
        finite = {n: float(a) for n, a in alphas.items() if math.isfinite(a)}
        out = dict.fromkeys(layers, 1.0)
        if finite:
            out.update(
                layer_lr_factors(
                    finite,
                    self.assignment,
                    exclude_first_last=self.exclude_first_last,
                    layers=layers,
                    s1=self.s1,
                    s2=self.s2,
                    s=self.s,
                    tau=self.tau,
                )
            )
        return out

    def state_dict(self, state: Any) -> dict[str, Any]:
        """When the next assignment is due, for a checkpoint."""
        return {"next_epoch": self._next_epoch, "first": self._first}

    def load_state_dict(self, state: Any, d: dict[str, Any]) -> None:
        self._state_ref = weakref.ref(state)
        self._next_epoch, self._first = d["next_epoch"], d["first"]

    def start(self, state: Any) -> None:
        """Assign factors from the initial weights (called by the engine before the first step)."""
        self._state_ref = weakref.ref(state)
        self._next_epoch = 0
        self._first = True
        self(state)

    def __call__(self, state: Any) -> None:
        if self._state_ref is None or self._state_ref() is not state:  # a new ensemble (chunk)
            self._state_ref = weakref.ref(state)
            self._next_epoch = self.every
            self._first = True
        epoch = state.step // state.steps_per_epoch
        if epoch < self._next_epoch:
            return
        self._next_epoch = epoch + self.every
        layers = weight_layer_names(state.base)
        live = [r for r in range(len(state.seeds)) if bool(state.alive[r])]
        alphas = stacked_layer_alphas(
            state.params,
            state.base,
            self.method,
            replicas=live,
            min_eigs=self.min_eigs,
            xmin_pos=self.xmin_pos,
            conv_norm=self.conv_norm,
            aspect_ratio=self.aspect_ratio,
        )
        d = self.decimals
        for r in live:
            a_r = {n: float(alphas[n][r]) for n in alphas}
            alpha_list = [_round(a_r.get(n, math.nan), d) for n in layers]
            info: dict[str, Any] = {"layers": layers} if self._first else {}
            if self.apply:
                lf = self.factors(a_r, layers)
                pf = param_lr_factors(state.base, lf, batchnorm=self.batchnorm)
                with torch.no_grad():
                    for pname, f in pf.items():
                        state.lr_scale[pname][r] = f
                info.update(alpha=alpha_list, factor=[round(lf[n], d) for n in layers])
                state.record("tempbalance", [r], **info)
            else:
                state.record("layer_alpha", [r], **info, alpha=alpha_list)
        self._first = False
