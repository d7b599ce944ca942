"""α of every weight layer of a model, by any estimator: Hill, Clauset (:mod:`fpt_core.spectra.htsr`)
or FARMS (:mod:`fpt_core.spectra.farms`)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from torch import nn

from fpt_core.spectra.farms import FarmsFit, farms_alpha
from fpt_core.spectra.htsr import (
    _WEIGHT_LAYERS,
    PowerLawFit,
    _esd_count,
    _fit,
    esd,
)

__all__ = ["layer_alphas"]


def layer_alphas(
    model: nn.Module,
    method: str = "hill",
    *,
    min_eigs: int = 10,
    xmin_pos: float = 2,
    conv_norm: float = 0.5,
    min_tail: int = 10,
    n_candidates: int | None = None,
    estimator: str = "hill",
    aspect_ratio: float = 1.0,
    size: int | None = None,
    stride: int | None = None,
    windows_per_dim: int | None = None,
) -> OrderedDict[str, PowerLawFit | FarmsFit]:
    """α of every Linear/Conv layer of ``model``: ordered dict module name → fit.

    ``method``: 'hill' (:func:`hill_alpha` with ``xmin_pos``), 'clauset' (:func:`clauset_alpha`
    with ``min_tail``, ``n_candidates``) or 'farms' (:func:`farms_alpha` with ``estimator`` in
    {'hill', 'clauset'}, ``aspect_ratio``, ``size``, ``stride``, ``windows_per_dim``). Every result has ``alpha``,
    ``ks_distance`` and ``n``.

    Layers whose ESD (:func:`esd`) would have fewer than ``min_eigs`` eigenvalues are skipped,
    for every method alike (so the layer sets agree). The order is ``model.named_modules()``.
    Weights are read without gradient on their own device. References: Martin & Mahoney (2021);
    Zhou et al. (2023); Hu et al. (2025).
    """
    if method not in ("hill", "clauset", "farms"):
        raise ValueError(f"method={method!r} must be 'hill', 'clauset' or 'farms'")

    if method == "farms" and estimator not in ("hill", "clauset"):
        raise ValueError(f"estimator={estimator!r} must be 'hill' or 'clauset'")
    if not (isinstance(min_eigs, int | np.integer) and min_eigs >= 2):
        raise ValueError(f"min_eigs={min_eigs} must be an integer ≥ 2")
    out: OrderedDict[str, PowerLawFit | FarmsFit] = OrderedDict()
    for name, mod in model.named_modules():
        if not isinstance(mod, _WEIGHT_LAYERS) or _esd_count(mod.weight) < min_eigs:
            continue
        if method == "farms":
            out[name] = farms_alpha(
                mod.weight,
                aspect_ratio=aspect_ratio,
                size=size,
                stride=stride,
                windows_per_dim=windows_per_dim,
                conv_norm=conv_norm,
                method=estimator,
                xmin_pos=xmin_pos,
                min_tail=min_tail,
                n_candidates=n_candidates,
            )
        else:
            eigs = esd(mod.weight, conv_norm=conv_norm)
            out[name] = _fit(eigs, method, xmin_pos, min_tail, n_candidates)
    return out
