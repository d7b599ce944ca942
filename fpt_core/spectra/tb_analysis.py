"""Spectra of trained ensembles, and the statistics notebook 06 draws from them.

:func:`stacked_esd` and :func:`stacked_layer_alphas` measure α of every layer of every replica
of an ensemble from its stacked weights (the :class:`fpt_core.protocols.tempbalance.TempBalance` protocol
uses them each epoch); :class:`WeightSnapshot` keeps final weights; :func:`alpha_history` and
:func:`estimator_table` turn events and weights into tables, and :func:`alpha_spread_over_se`
asks whether the α of a model's layers differ by more than the estimator's noise. Reads the engine's state by duck
typing; never imports the engine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from fpt_core.spectra.farms import farms_alpha
from fpt_core.spectra.htsr import clauset_alpha, esd, hill_alpha, hill_se, weight_layer_names

__all__ = [
    "WeightSnapshot",
    "alpha_history",
    "alpha_spread_over_se",
    "spread_over_se_by_run",
    "estimator_table",
    "hill_se_at_median",
    "stacked_esd",
    "stacked_layer_alphas",
]


def stacked_esd(weight: torch.Tensor, *, conv_norm: float = 0.5) -> np.ndarray:
    """ESD of every replica of a stacked weight: array (R, n), each row ascending.

    ``weight`` has a leading replica axis: (R, out, in) for a Linear layer or
    (R, out, in, k1[, k2[, k3]]) for a convolution. Row r equals
    ``fpt_core.spectra.htsr.esd(weight[r], conv_norm=conv_norm)`` (same slicing and ``conv_norm``
    scale), computed by one batched ``torch.linalg.svdvals`` in float64.
    """
    if not isinstance(weight, torch.Tensor):
        weight = torch.as_tensor(np.asarray(weight, dtype=np.float64))
    if weight.ndim < 3 or weight.ndim > 6:
        raise ValueError(
            f"weight must be stacked (R, out, in) or (R, out, in, k…), got shape "
            f"{tuple(weight.shape)}"
        )
    if not conv_norm > 0:
        raise ValueError(f"conv_norm={conv_norm} must be > 0")
    w = weight.detach().to(torch.float64)
    if w.ndim == 3:
        mats = w.unsqueeze(1)  # (R, 1, out, in)
    else:  # (R, out, in, k…) -> (R, k…, out, in), scaled as in htsr.esd
        mats = w.flatten(start_dim=3).permute(0, 3, 1, 2) * math.sqrt(conv_norm)
    eigs = torch.linalg.svdvals(mats).square().flatten(start_dim=1)
    return np.sort(eigs.cpu().numpy(), axis=1)


def stacked_layer_alphas(
    params: Mapping[str, torch.Tensor],
    base: nn.Module,
    method: str = "hill",
    *,
    replicas: Iterable[int] | None = None,
    min_eigs: int = 10,
    xmin_pos: float = 2,
    conv_norm: float = 0.5,
    aspect_ratio: float = 1.0,
) -> dict[str, np.ndarray]:
    """α of every Linear/Conv layer of every replica of an ensemble: layer name → array (R,).

    ``params`` are the ensemble's stacked parameters (``state.params``: name → tensor with a
    leading replica axis) and ``base`` the model they belong to (any device, ``meta``
    included); its Linear/Conv modules, in ``weight_layer_names`` order, name the layers, and
    ``f"{layer}.weight"`` their weights. ``method``: 'hill' (median Hill, ``xmin_pos``, on
    :func:`stacked_esd`) or 'farms' (:func:`fpt_core.spectra.farms.farms_alpha` with the Hill estimator
    and ``aspect_ratio``, replica by replica). Layers with fewer than ``min_eigs`` eigenvalues
    are left out (as :func:`fpt_core.spectra.layers.layer_alphas` does). Entries of replicas not in
    ``replicas`` (default: all), and fits that fail (zero modes, a flat tail), are NaN.
    """
    if method not in ("hill", "farms"):
        raise ValueError(f"method={method!r} must be 'hill' or 'farms'")
    if not (isinstance(min_eigs, int | np.integer) and min_eigs >= 2):
        raise ValueError(f"min_eigs={min_eigs} must be an integer ≥ 2")
    out: dict[str, np.ndarray] = {}
    for name in weight_layer_names(base):
        key = f"{name}.weight" if name else "weight"
        if key not in params:
            raise ValueError(f"params has no {key!r} for layer {name!r} of base")
        w = params[key]
        R = int(w.shape[0])
        n_eigs = math.prod(w.shape[3:]) * min(int(w.shape[1]), int(w.shape[2]))
        if n_eigs < min_eigs:
            continue
        rows = range(R) if replicas is None else [int(r) for r in replicas]
        alphas = np.full(R, np.nan)
        eigs = stacked_esd(w, conv_norm=conv_norm) if method == "hill" else None
        for r in rows:
            try:
                if eigs is not None:
                    a = hill_alpha(eigs[r], xmin_pos).alpha
                else:
                    a = farms_alpha(
                        w[r], aspect_ratio=aspect_ratio, conv_norm=conv_norm, xmin_pos=xmin_pos
                    ).alpha
            except ValueError:
                a = math.nan
            alphas[r] = a if math.isfinite(a) else math.nan
        out[name] = alphas
    return out


class WeightSnapshot:
    """Measuring hook: keeps a CPU copy of the final weights of the runs with ``seeds``.

    Pass it in ``run_ensemble(..., hooks=[snap])``; it never changes the state and records no
    event (extra hooks are not part of the store key). At the last step of training
    (``state.step == config.epochs · steps_per_epoch``) it copies ``state.params`` of every
    replica whose seed is in ``seeds`` (default: all) into ``weights[seed]`` (name → tensor)
    and the model (on ``meta``) into ``base``. Runs reused from the store are not trained, so
    their weights are not captured: check :meth:`missing`.
    """

    def __init__(self, seeds: Iterable[int] | None = None) -> None:
        self.seeds = None if seeds is None else {int(s) for s in seeds}
        self.weights: dict[int, dict[str, torch.Tensor]] = {}
        self.base: nn.Module | None = None

    def missing(self, seeds: Iterable[int]) -> list[int]:
        """The seeds among ``seeds`` whose final weights were not captured."""
        return [int(s) for s in seeds if int(s) not in self.weights]

    def __call__(self, state: Any) -> None:
        if state.step < state.config.epochs * state.steps_per_epoch:
            return
        self.base = state.base
        for r, seed in enumerate(state.seeds):
            if self.seeds is None or seed in self.seeds:
                self.weights[int(seed)] = {
                    k: v[r].detach().to("cpu", copy=True) for k, v in state.params.items()
                }


def alpha_history(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Tidy table of the α (and factor) events of :class:`TempBalance` in run records.

    One row per (run, recomputation, layer): ``run`` (index in ``records``), ``seed``,
    ``step``, ``epoch``, ``layer``, ``layer_index`` (position among the model's Linear/Conv
    layers), ``alpha`` and ``factor`` (NaN where not recorded: a layer without α, or a
    measuring-only run).
    """
    rows = []
    for i, rec in enumerate(records):
        layers: list[str] | None = None
        for ev in rec.get("events", []):
            if ev.get("kind") not in ("tempbalance", "layer_alpha"):
                continue
            layers = ev.get("layers", layers)
            if layers is None:
                raise ValueError(f"records[{i}]: an α event precedes the one naming the layers")
            factors = ev.get("factor") or [None] * len(layers)
            for j, (name, a, f) in enumerate(zip(layers, ev["alpha"], factors, strict=True)):
                rows.append(
                    (
                        i,
                        rec.get("seed"),
                        ev["step"],
                        ev["epoch"],
                        name,
                        j,
                        np.nan if a is None else a,
                        np.nan if f is None else f,
                    )
                )
    cols = ["run", "seed", "step", "epoch", "layer", "layer_index", "alpha", "factor"]
    return pd.DataFrame(rows, columns=cols).astype({"alpha": float, "factor": float})


def estimator_table(
    weights: Mapping[str, torch.Tensor],
    base: nn.Module,
    *,
    min_eigs: int = 10,
    conv_norm: float = 0.5,
    min_tail: int = 10,
    farms_size: int | None = None,
    farms_windows_per_dim: int | None = None,
) -> pd.DataFrame:
    """Hill, Clauset and FARMS α of each Linear/Conv layer of one model's weights.

    ``weights``: parameter name → tensor of one replica (e.g. ``WeightSnapshot.weights[seed]``);
    ``base`` names the layers. One row per layer with at least ``min_eigs`` eigenvalues:
    ``layer``, ``shape``, ``n_eigs``, ``hill`` (median Hill), ``hill_xmin``, ``clauset``,
    ``clauset_xmin``, ``clauset_ks``, ``hill_se`` ((α − 1)/√n_tail of the Hill fit), ``farms``
    (FARMS with the Hill estimator on square windows of ``farms_size`` columns, clipped to the
    layer's short side, with ``farms_windows_per_dim`` positions per dimension; default: the
    largest window, tiled). Failed fits are NaN.
    """
    rows = []
    for name in weight_layer_names(base):
        w = weights[f"{name}.weight" if name else "weight"]
        eigs = esd(w, conv_norm=conv_norm)
        if eigs.size < min_eigs:
            continue
        row: dict[str, Any] = {"layer": name, "shape": "×".join(map(str, w.shape))}
        row["n_eigs"] = int(eigs.size)
        fits = {
            "hill": lambda e=eigs: hill_alpha(e),
            "clauset": lambda e=eigs: clauset_alpha(e, min_tail=min(min_tail, e.size)),
            "farms": lambda w=w: farms_alpha(
                w,
                conv_norm=conv_norm,
                size=None if farms_size is None else min(farms_size, *w.shape[:2]),
                windows_per_dim=farms_windows_per_dim,
            ),
        }
        for key, fit in fits.items():
            try:
                res = fit()
            except ValueError:
                res = None
            row[key] = math.nan if res is None else res.alpha
            if key in ("hill", "clauset"):
                row[f"{key}_xmin"] = math.nan if res is None else res.xmin
            if key == "hill":
                row["hill_se"] = math.nan if res is None else hill_se(res)
            if key == "clauset":
                row["clauset_ks"] = math.nan if res is None else res.ks_distance
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ layer α spread


def hill_se_at_median(alpha: float, n_eigs: int, xmin_pos: float = 2) -> float:
    """Standard error (α − 1)/√n_tail of a median-Hill α fitted to an ESD of ``n_eigs`` values.

    The fixed-rank Hill fit of :func:`fpt_core.spectra.htsr.hill_alpha` has n_tail = N − ⌊N/xmin_pos⌋
    (λ_xmin included), so the SE follows from α and the layer's eigenvalue count alone (the
    α logged by :class:`fpt_core.protocols.tempbalance.TempBalance` events).

    Examples
    --------
    >>> round(hill_se_at_median(3.0, 128), 4)   # n_tail = 64
    0.25
    """
    if not (isinstance(n_eigs, int | np.integer) and n_eigs >= 2):
        raise ValueError(f"n_eigs={n_eigs!r} must be an integer ≥ 2")
    if not xmin_pos > 1:
        raise ValueError(f"xmin_pos={xmin_pos} must be > 1")
    return (float(alpha) - 1.0) / math.sqrt(n_eigs - int(n_eigs / xmin_pos))


def alpha_spread_over_se(alphas, ses) -> float:
    """Spread of α across a model's layers in units of the estimator's standard error.

    (max_i α_i − min_i α_i) / sqrt(mean_i se_i²): above ~2–3 the order of the layers (and with
    it TempBalance's assignment) is not estimator noise; near 1 it is. NaN entries are dropped.

    Examples
    --------
    >>> alpha_spread_over_se([2.0, 2.5, 3.0], [0.1, 0.1, 0.1])
    10.0
    """
    a, s = np.asarray(alphas, dtype=float).ravel(), np.asarray(ses, dtype=float).ravel()
    if a.shape != s.shape:
        raise ValueError(f"alphas and ses must have the same length, got {a.size} and {s.size}")
    ok = np.isfinite(a) & np.isfinite(s)
    if ok.sum() < 2:
        raise ValueError("need at least 2 layers with finite α and standard error")
    if np.any(s[ok] <= 0):
        raise ValueError("ses must be > 0")
    return float(np.ptp(a[ok]) / math.sqrt(np.mean(s[ok] ** 2)))


def spread_over_se_by_run(
    hist: pd.DataFrame, n_eigs: Mapping[str, int], layers: Sequence[str], epoch=None
) -> np.ndarray:
    """:func:`alpha_spread_over_se` of ``layers`` for every run of an :func:`alpha_history` table.

    At ``epoch`` (default: the last recorded one), the α of the given layers of each run,
    with SEs from :func:`hill_se_at_median` and the layers' eigenvalue counts ``n_eigs``.
    Runs missing a layer's α are NaN.
    """
    if len(layers) < 2:
        raise ValueError(f"layers={list(layers)} must name at least 2 layers")
    missing = set(layers) - set(n_eigs)
    if missing:
        raise ValueError(f"n_eigs has no entry for layers {sorted(missing)}")
    ep = hist["epoch"].max() if epoch is None else epoch
    at = hist[hist["epoch"] == ep].pivot_table(index="run", columns="layer", values="alpha")
    if at.empty:
        raise ValueError(f"epoch={ep!r}: no α recorded there")
    out = []
    for _, row in at.iterrows():
        a = [row.get(name, np.nan) for name in layers]
        if not np.all(np.isfinite(a)):
            out.append(np.nan)
            continue
        se = [hill_se_at_median(x, int(n_eigs[name])) for x, name in zip(a, layers, strict=True)]
        out.append(alpha_spread_over_se(a, se))
    return np.asarray(out)
