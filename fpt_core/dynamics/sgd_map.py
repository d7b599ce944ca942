"""Training as a dynamical system: the Lyapunov exponent of SGD with momentum, and phase diagrams.

:class:`SGDMap` is the engine's optimiser step (same initial weights, per-seed data order and
update as :mod:`fpt_core.train.engine`) as a map ``step(states, t)`` on stacked (params, momentum)
states, so that :func:`fpt_core.dynamics.chaos.lyapunov_benettin` can advance a reference and a companion
on the same minibatch sequence; :func:`lyapunov_sgd` measures the largest exponent for many
configs at once, and :func:`phase_diagram` adds per grid cell an ensemble trained by
:func:`fpt_core.train.runner.run_ensemble`, its plateau accuracy and first-passage time (FPT).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from fpt_core.dynamics.chaos import LyapunovResult, jacobian_norm, lyapunov_benettin, phase_grid
from fpt_core.stats.fpt import first_passage, mean_fpt
from fpt_core.train.config import TrainConfig
from fpt_core.train.data import Data
from fpt_core.train.engine import derive_seed, init_model
from fpt_core.train.models import has_batchnorm

__all__ = [
    "SGDMap",
    "TrainingLyapunov",
    "lyapunov_sgd",
    "EnsembleMetrics",
    "ensemble_metrics",
    "phase_diagram",
]

_HYPER = ("momentum", "weight_decay")
_SHARED = ("dataset", "model", "model_kwargs", "batch_size", "num_samples", "data_seed")


class SGDMap:
    """SGD with momentum for ``P = len(configs) · len(seeds)`` (config, seed) pairs, as a map.

    Pairs are config-major (pair ``p`` is config ``p // len(seeds)``, seed ``p % len(seeds)``).
    ``step(states, t)`` takes ``k·P`` rows; row ``r`` is pair ``r mod P`` and every row of a pair
    uses the minibatch of global step ``t`` of its seed's data order (the engine's, so the
    reference of pair ``(c, s)`` follows the engine's run ``s`` of config ``c``).
    ``configs`` may differ only in ``lr``, ``momentum``, ``weight_decay``, ``epochs`` and
    ``lr_schedule``; models with BatchNorm are refused (``vmap`` rows must be independent).
    ``dtype`` (default: the data's, float32) is the precision of the states. A row whose minibatch
    loss is not finite (the engine's divergence criterion) or whose largest weight exceeds
    ``blowup`` (beyond it float32 cannot resolve a small separation) becomes NaN for good.
    """

    def __init__(self, configs: Sequence[TrainConfig], seeds: Sequence[int], data: Data, *,
                 dtype: torch.dtype | None = None, blowup: float = 1e4) -> None:  # fmt: skip
        self.configs, self.seeds, self.data = list(configs), [int(s) for s in seeds], data
        if not self.configs or not self.seeds:
            raise ValueError("configs and seeds must be non-empty")
        for c in self.configs[1:]:
            bad = [f for f in _SHARED if getattr(c, f) != getattr(self.configs[0], f)]
            if bad:
                raise ValueError(f"configs must share {_SHARED}; they differ in {bad}")
        c0, self.blowup = self.configs[0], float(blowup)
        models = [init_model(c0, data, s) for s in self.seeds]
        if has_batchnorm(models[0]):
            raise ValueError(f"model={c0.model!r} has BatchNorm; SGDMap needs a model without it")
        x_train = data.prepare(data.x_train)
        self.dtype, self.dev = dtype or x_train.dtype, x_train.device
        params, self._buffers = stack_module_state(models)
        self.base = copy.deepcopy(models[0]).to("meta")
        self._params0 = {k: v.detach().to(self.dev, self.dtype) for k, v in params.items()}
        self.P, self.batch = len(self.configs) * len(self.seeds), c0.batch_size
        self.steps_per_epoch = math.ceil(data.n_train / self.batch)
        self._seed_of = torch.arange(self.P) % len(self.seeds)
        self._cfg_of = torch.arange(self.P) // len(self.seeds)
        self._hyper = [torch.tensor([getattr(c, n) for c in self.configs]) for n in _HYPER]
        self._gens = [torch.Generator().manual_seed(derive_seed(s, "order")) for s in self.seeds]
        self._perms: list[torch.Tensor] = []
        self._x, self._y = x_train.to(self.dtype), data.y_train
        self._loss = lambda p, b, x, y: F.cross_entropy(functional_call(self.base, (p, b), (x,)), y)

    def x0(self) -> dict[str, dict[str, torch.Tensor]]:
        """Initial references (leading axis ``P``): the engine's initial weights, zero momentum."""
        reps = len(self.configs)
        p = {k: v.repeat(reps, *[1] * (v.ndim - 1)) for k, v in self._params0.items()}
        return {"params": p, "momentum": {k: torch.zeros_like(v) for k, v in p.items()}}

    def batch_indices(self, t: int) -> torch.Tensor:
        """Training-example indices of global step ``t`` per pair, shape (P, batch_size)."""
        epoch, pos = divmod(int(t), self.steps_per_epoch)
        while len(self._perms) <= epoch:  # the engine's order: a fresh permutation every epoch
            n = self.data.n_train
            self._perms.append(torch.stack([torch.randperm(n, generator=g) for g in self._gens]))
        idx = self._perms[epoch][:, pos * self.batch : (pos + 1) * self.batch]
        return idx[self._seed_of].to(self.dev)

    def __call__(self, states: Mapping[str, Mapping[str, torch.Tensor]], t: int) -> dict:
        """One step at global step ``t`` of ``k·P`` rows (row ``r`` is pair ``r mod P``)."""
        p, m = dict(states["params"]), dict(states["momentum"])
        rows = next(iter(p.values())).shape[0]
        if rows % self.P:
            raise ValueError(f"states must have a multiple of P={self.P} rows, got {rows}")
        pair = torch.arange(rows) % self.P
        idx = self.batch_indices(t)[pair]
        bufs = {k: v[self._seed_of[pair]].to(self.dev) for k, v in self._buffers.items()}
        g, loss = vmap(grad_and_value(self._loss))(p, bufs, self._x[idx], self._y[idx])
        lr = torch.tensor([c.lr_at(int(t), c.epochs * self.steps_per_epoch) for c in self.configs])
        lr, mu, wd = (v.to(self.dev, self.dtype)[self._cfg_of[pair]] for v in (lr, *self._hyper))
        bad, new = ~torch.isfinite(loss), {"params": {}, "momentum": {}}
        for k, th in p.items():  # exactly the engine's update (b ← μ b + g + λ θ; θ ← θ − η b)
            b = new["momentum"][k] = m[k] * _rows(mu, th) + (g[k] + th * _rows(wd, th))
            new["params"][k] = th - b * _rows(lr, th)
            bad |= new["params"][k].flatten(1).abs().amax(1) > self.blowup
        return {n: {k: v.masked_fill(_rows(bad, v), math.nan) for k, v in d.items()}
                for n, d in new.items()}  # fmt: skip

    @torch.no_grad()
    def run(self, states: dict, start: int, n_steps: int) -> dict:
        """Advance ``states`` from global step ``start`` by ``n_steps`` steps."""
        for t in range(start, start + n_steps):
            states = self(states, t)
        return states

    def forward(self, params: Mapping[str, torch.Tensor], pair: int, x: torch.Tensor):
        """Network output of pair ``pair`` (row ``pair`` of ``params``) on inputs ``x``."""
        b = {k: v[self._seed_of[pair]].to(self.dev) for k, v in self._buffers.items()}
        return functional_call(self.base, ({k: v[pair] for k, v in params.items()}, b), (x,))


def _rows(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``v`` (rows,) shaped to broadcast against ``like`` (rows, ...)."""
    return v.to(like.device).view(-1, *[1] * (like.ndim - 1))


@dataclass(frozen=True, eq=False)
class TrainingLyapunov:
    """Result of :func:`lyapunov_sgd`: ``result`` (per step, pairs config-major), the references'
    final ``state``, ``jacobian`` (P,) (mean input–output Jacobian norm per pair, or NaN)."""

    configs: list[TrainConfig]
    seeds: list[int]
    result: LyapunovResult
    steps_per_epoch: int
    warmup_steps: int
    state: dict
    jacobian: np.ndarray

    def frame(self) -> pd.DataFrame:
        """One row per config: ``lyapunov`` (per epoch; ``lyapunov_step`` per step), the spread
        across finite pairs (``lyapunov_sd``, ``lyapunov_stderr``), ``n_pairs_ok`` (pairs not
        diverged), ``jacobian``. A pair whose separation collapsed to exactly 0 is ``-inf``."""
        lam = self.result.per_pair.reshape(len(self.configs), len(self.seeds))
        jac, k = self.jacobian.reshape(lam.shape), self.steps_per_epoch
        rows = []
        for c, per, j in zip(self.configs, lam, jac, strict=True):
            ok, fin = per[~np.isnan(per)], per[np.isfinite(per)]
            mean = float(np.mean(ok)) if ok.size else math.nan
            sd = float(np.std(fin, ddof=1)) if fin.size > 1 else math.nan
            rows.append(
                {"lr": c.lr, "momentum": c.momentum, "weight_decay": c.weight_decay,
                 "eta_eff": c.lr / (1 - c.momentum), "lyapunov_step": mean, "lyapunov": mean * k,
                 "lyapunov_sd": sd * k, "lyapunov_stderr": sd * k / math.sqrt(max(fin.size, 1)),
                 "n_pairs_ok": int(ok.size),
                 "jacobian": float(np.nanmean(j)) if np.isfinite(j).any() else math.nan}
            )  # fmt: skip
        return pd.DataFrame(rows)


def lyapunov_sgd(configs: TrainConfig | Sequence[TrainConfig], seeds: Sequence[int], data: Data,
                 *, n_steps: int, warmup_steps: int = 0, renorm_every: int = 10, d0: float = 1e-3,
                 transient: int = 0, jacobian_inputs: torch.Tensor | None = None,
                 jacobian_ord: str = "fro", dtype: torch.dtype | None = None, blowup: float = 1e4,
                 **benettin: Any) -> TrainingLyapunov:  # fmt: skip
    """Largest Lyapunov exponent of training, per (config, seed) pair, by Benettin's method.

    Each reference is trained alone for ``warmup_steps`` steps (it is then the engine's run at that
    step), a companion is placed ``d0`` away (random direction over parameters and momentum
    buffers) and both are trained on the same minibatches by :class:`SGDMap` through
    :func:`fpt_core.dynamics.chaos.lyapunov_benettin` (``transient`` + ``n_steps`` steps, renormalised every
    ``renorm_every``; extra keywords such as ``direction`` or ``generator`` are passed on). A
    diverged pair gives ``NaN``. With ``jacobian_inputs`` (N, …) the input–output Jacobian norm
    of each reference network at the end is averaged over them (:func:`fpt_core.dynamics.chaos.jacobian_norm`).
    """
    configs = [configs] if isinstance(configs, TrainConfig) else list(configs)
    smap = SGDMap(configs, seeds, data, dtype=dtype, blowup=blowup)
    start = int(warmup_steps)
    x0, last = smap.x0(), {}
    x = smap.run(x0, 0, start)
    # pairs that diverged during the warm-up restart from x0 (Benettin needs finite states): NaN
    dead = ~torch.isfinite(x["params"][next(iter(x["params"]))].flatten(1)).all(1)
    x = {k: {n: torch.where(_rows(dead, v), x0[k][n], v) for n, v in d.items()} for k, d in x.items()}  # fmt: skip

    def step(z: dict, t: int) -> dict:
        last["z"] = smap(z, t + start)
        return last["z"]

    res = lyapunov_benettin(step, x, n_steps=n_steps, d0=d0, renorm_every=renorm_every,
                            transient=transient, **benettin)  # fmt: skip
    final = {k: {n: v[: smap.P].masked_fill(_rows(dead, v[: smap.P]), math.nan)
                 for n, v in d.items()} for k, d in last["z"].items()}  # fmt: skip
    if bool(dead.any()):
        per, log_stretch, dead_np = res.per_pair.copy(), res.log_stretch.copy(), dead.cpu().numpy()
        per[dead_np], log_stretch[:, dead_np] = math.nan, math.nan
        nan = np.full_like(res.running, math.nan)
        res = replace(res, per_pair=per, log_stretch=log_stretch, exponent=math.nan, running=nan)
    jac = np.full(smap.P, math.nan)
    if jacobian_inputs is not None:
        xin = jacobian_inputs.to(smap.dev, smap.dtype)
        for p in range(smap.P):
            if all(bool(torch.isfinite(v[p]).all()) for v in final["params"].values()):
                jac[p] = jacobian_norm(
                    lambda z, p=p: smap.forward(final["params"], p, z), xin, ord=jacobian_ord
                ).mean
    return TrainingLyapunov(configs, smap.seeds, res, smap.steps_per_epoch, start, final, jac)


@dataclass(frozen=True)
class EnsembleMetrics:
    """Plateau accuracy and first-passage time of one ensemble (:func:`ensemble_metrics`).

    Attributes
    ----------
    plateau_acc, plateau_sd : float
        Mean and sd over runs of each run's mean test accuracy over its last ``plateau_epochs``
        evaluations (a diverged run has no plateau and is left out).
    fpt_mean : float
        Mean first-passage time; NaN when not estimable (some run is censored).
    fpt_restricted, fpt_low, fpt_high, fpt_cv : float
        Restricted mean (a lower bound when runs are censored), its bootstrap interval and CV.
    n_censored, n_diverged, n_trained, n_reused : int
        Censored runs; diverged, trained and store-reused runs of the ensemble.
    fpt_times : list of float
        Each run's first-passage (or censoring) epoch.
    fpt_observed : list of bool
        Whether the run reached the target.
    """

    plateau_acc: float
    plateau_sd: float
    fpt_mean: float
    fpt_restricted: float
    fpt_low: float
    fpt_high: float
    fpt_cv: float
    n_censored: int
    n_diverged: int
    n_trained: int
    n_reused: int
    fpt_times: list
    fpt_observed: list

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict (one row of :func:`phase_diagram`)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def ensemble_metrics(
    ens: Any, target: float, plateau_epochs: int, **mean_kw: Any
) -> EnsembleMetrics:
    """Plateau accuracy and FPT of a :class:`fpt_core.train.runner.EnsembleResult`.

    Parameters
    ----------
    ens : EnsembleResult
        Anything with ``matrix("test_acc") -> (times, acc)`` (runs × evaluations) and the counts
        ``n_diverged``, ``n_trained``, ``n_reused``.
    target : float
        Test accuracy whose first passage is timed.
    plateau_epochs : int
        Number of final evaluations averaged into each run's plateau accuracy.
    **mean_kw
        Passed to :func:`fpt_core.stats.fpt.mean_fpt` (default ``n_resamples=199, rng=0``).

    Returns
    -------
    EnsembleMetrics
        ``fpt_mean`` is NaN when not estimable (some run censored): ``fpt_restricted`` then holds
        the restricted mean, a lower bound.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> acc = np.array([[0.1, 0.5, 0.6], [0.1, 0.2, 0.7]])
    >>> ens = SimpleNamespace(matrix=lambda v: (np.arange(3.0), acc), n_diverged=0,
    ...                       n_trained=2, n_reused=0)
    >>> m = ensemble_metrics(ens, target=0.5, plateau_epochs=1)
    >>> m.fpt_times, round(m.plateau_acc, 2)
    ([1.0, 2.0], 0.65)
    """
    times, acc = ens.matrix("test_acc")
    with warnings.catch_warnings():  # a diverged run has no plateau: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        plateau = np.nanmean(acc[:, -int(plateau_epochs) :], axis=1)
        plateau_acc, plateau_sd = float(np.nanmean(plateau)), float(np.nanstd(plateau))
    fp = first_passage(acc, target, times)
    m = mean_fpt(fp, **{"n_resamples": 199, "rng": 0, **mean_kw})
    return EnsembleMetrics(plateau_acc=plateau_acc, plateau_sd=plateau_sd,
                           fpt_mean=m.mean if m.estimable else math.nan, fpt_restricted=m.mean,
                           fpt_low=m.low, fpt_high=m.high, fpt_cv=m.cv, n_censored=m.n_censored,
                           n_diverged=ens.n_diverged, n_trained=ens.n_trained,
                           n_reused=ens.n_reused, fpt_times=fp.times.tolist(),
                           fpt_observed=fp.observed.tolist())  # fmt: skip


def phase_diagram(base: TrainConfig, grid: Mapping[str, Sequence[float]], n_runs: int, *,
                  target: float, plateau_epochs: int, lyapunov_pairs: int, data: Data,
                  run_kw: Mapping[str, Any] | None = None, progress: bool = False,
                  **lyap_kw: Any) -> pd.DataFrame:  # fmt: skip
    """Phase diagram of ``base`` over ``grid`` (names of :class:`TrainConfig` fields, e.g.
    ``{"lr": [...], "momentum": [...]}``): one row per cell with :func:`ensemble_metrics` of
    ``n_runs`` runs (``run_ensemble(cfg, n_runs, **run_kw)``) and the :func:`lyapunov_sgd`
    columns of seeds ``0 … lyapunov_pairs − 1`` (the references are runs 0 … of the ensemble),
    all cells in one batched Lyapunov computation; ``lyap_kw`` go to :func:`lyapunov_sgd`.
    """
    from fpt_core.train.runner import run_ensemble

    cells: list[TrainConfig] = []

    def cell(params: dict) -> dict:
        cfg = replace(base, **params)
        cells.append(cfg)
        ens = run_ensemble(cfg, n_runs, progress=False, **dict(run_kw or {}))
        return ensemble_metrics(ens, target, plateau_epochs).as_dict()

    df = phase_grid(cell, grid, progress=progress, desc="phase grid")
    lyap = lyapunov_sgd(cells, range(lyapunov_pairs), data, **lyap_kw).frame()
    df["eta_eff"] = [c.lr / (1 - c.momentum) for c in cells]
    keep = [c for c in lyap.columns if c not in df.columns]
    return pd.concat([df, lyap[keep]], axis=1)
