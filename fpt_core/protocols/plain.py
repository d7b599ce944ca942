"""Perturbations for a plain PyTorch model and optimiser, in your own training loop.

The same arithmetic as the engine's hooks (:mod:`fpt_core.protocols.ops`), applied in place to any
``torch.nn.Module``:

* :func:`shrink_perturb_` — θ ← λ·θ + σ·θ_fresh (Ash & Adams 2020), BatchNorm statistics too;
* :func:`partial_reset_` — re-draw the fraction of the weights with the smallest ``|w|``;
* :func:`reset_` — back to a fresh initialisation, or to a saved ``state_dict``;
* :class:`Perturber` — any protocol spec that ``TrainConfig(perturbation=...)`` takes, applied on
  its schedule by ``perturber.step(epoch)`` after each epoch's evaluation, as the engine does.

A fresh initialisation θ_fresh is PyTorch's default initialisation of a copy of the model under
``torch.manual_seed(seed)`` (every submodule's ``reset_parameters``), or what ``fresh``/``fresh_fn``
give. With an ``optimizer`` (``torch.optim.SGD`` with momentum), its momentum buffers are cleared
where the engine clears them.

Examples
--------
>>> import torch
>>> from torch import nn
>>> model = nn.Linear(3, 2)
>>> fresh = nn.Linear(3, 2)
>>> before = model.weight.detach().clone()
>>> shrink_perturb_(model, 0.4, 0.1, fresh=fresh)
>>> torch.allclose(model.weight, 0.4 * before + 0.1 * fresh.weight)
True
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from fpt_core.protocols import ops as ops
from fpt_core.protocols.registry import build_protocol
from fpt_core.train.engine import derive_seed

__all__ = ["fresh_copy", "shrink_perturb_", "partial_reset_", "reset_", "Perturber"]


def fresh_copy(model: nn.Module, seed: int) -> nn.Module:
    """A copy of ``model`` re-initialised by PyTorch's defaults under ``torch.manual_seed(seed)``
    (``reset_parameters`` of every submodule, in ``model.modules()`` order); the global RNG is
    left untouched."""
    new = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        for m in new.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
    return new


def _seed(generator: torch.Generator | None) -> int:
    return int(torch.randint(0, 2**62, (1,), generator=generator))


def _views(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: t.data.unsqueeze(0) for k, t in tensors.items()}  # writes through, replica axis 1


def _clear_momentum(optimizer: torch.optim.Optimizer | None, masks=None) -> None:
    if optimizer is None:
        return
    for group in optimizer.param_groups:
        for p in group["params"]:
            buf = optimizer.state.get(p, {}).get("momentum_buffer")
            if buf is None:
                continue
            if masks is None:
                buf.zero_()
            elif p in masks:
                buf.masked_fill_(masks[p], 0.0)


def _check_fresh(model: nn.Module, fresh: nn.Module) -> None:
    a, b = dict(model.named_parameters()), dict(fresh.named_parameters())
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise ValueError("fresh must be a module of the same architecture as model")


def shrink_perturb_(
    model: nn.Module,
    lam: float = 0.4,
    sigma: float = 0.1,
    *,
    fresh: nn.Module | None = None,
    generator: torch.Generator | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    reset_momentum: bool = True,
    batchnorm: str = "shrink",
) -> None:
    """θ ← λ·θ + σ·θ_fresh for every parameter of ``model`` in place (Ash & Adams, NeurIPS 2020).

    ``fresh`` is a module of the same architecture (default: :func:`fresh_copy` with a seed drawn
    from ``generator``). BatchNorm running statistics follow ``batchnorm`` ("shrink": λ·x + σ·x_init
    as the seed paper's ``state_dict`` arithmetic, "reset", "keep"). With ``optimizer`` and
    ``reset_momentum``, its momentum buffers are zeroed (the paper recreates the optimiser).
    """
    from fpt_core.protocols.perturb import (
        ShrinkPerturb,  # validates lam, sigma, batchnorm as the engine does
    )

    ShrinkPerturb(lam, sigma, batchnorm=batchnorm, tau=1)
    fresh = fresh_copy(model, _seed(generator)) if fresh is None else fresh
    _check_fresh(model, fresh)
    with torch.no_grad():
        ops.shrink_perturb_(_views(dict(model.named_parameters())),
                            _views(dict(fresh.named_parameters())), lam, sigma)  # fmt: skip
        ops.shrink_buffers_(_views(dict(model.named_buffers())),
                            _views(dict(fresh.named_buffers())), lam, sigma, batchnorm)  # fmt: skip
    if reset_momentum:
        _clear_momentum(optimizer)


def partial_reset_(
    model: nn.Module,
    fraction: float,
    *,
    fresh: nn.Module | None = None,
    generator: torch.Generator | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> int:
    """Re-draw, in place, the ``round(fraction·N)`` weights of smallest ``|w|`` among all N entries of
    the weight tensors (parameters with ≥ 2 dimensions; one global ranking) from a fresh
    initialisation, i.e. from U(−1/√fan_in, 1/√fan_in) of their layer for Linear/Conv. With
    ``optimizer``, the momentum of the re-drawn entries is zeroed. Returns the number re-drawn."""
    from fpt_core.protocols.perturb import PartialReset

    PartialReset(fraction, tau=1)  # validates fraction
    fresh = fresh_copy(model, _seed(generator)) if fresh is None else fresh
    _check_fresh(model, fresh)
    params = {k: p for k, p in model.named_parameters() if p.ndim >= 2}
    views = _views(params)
    chosen = ops.smallest_fraction(list(views.values()), fraction)
    sel = dict(zip(views, chosen, strict=True))
    with torch.no_grad():
        ops.replace_(views, _views(dict(fresh.named_parameters())), sel)
    _clear_momentum(optimizer, {params[k]: sel[k][0] for k in params})
    return int(sum(int(c.sum()) for c in chosen))


def reset_(
    model: nn.Module,
    *,
    state_dict: Mapping[str, torch.Tensor] | None = None,
    fresh: nn.Module | None = None,
    generator: torch.Generator | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> None:
    """Full reset in place: to ``state_dict`` (e.g. the run's own initial weights, saved with
    ``copy.deepcopy(model.state_dict())``) or else to a fresh initialisation; momentum zeroed."""
    source = fresh_copy(model, _seed(generator)) if fresh is None else fresh
    with torch.no_grad():
        if state_dict is not None:
            model.load_state_dict(state_dict)
        else:
            _check_fresh(model, source)
            model.load_state_dict(source.state_dict())
    _clear_momentum(optimizer)


class Perturber:
    """Apply a protocol spec (the dicts ``TrainConfig(perturbation=...)`` takes: ``shrink_perturb``,
    ``reset``, ``partial_reset``, ``warm_restart``) to a plain model on its schedule.

    Call :meth:`step` after each epoch's evaluation with the epoch just finished (and, to match
    the engine's random streams exactly, the global optimisation ``step``). Periodic and one-time
    schedules fire at the epochs the engine's hooks fire at; Poisson arrivals are drawn from the
    same per-run stream (``seed``). For ``warm_restart`` the learning-rate multiplier of the
    coming epoch is :attr:`lr_factor`; with ``set_lr=True`` the optimiser's learning rates are
    set to their initial values times it. On a decaying base schedule (``lr_schedule`` other than
    "constant") a warm restart instead restarts that schedule: :attr:`lr_restart_step` is the step
    (or epoch) to count it from, as the engine's ``lr_restart_step``. Do not call it after the last epoch (the engine applies
    nothing there).

    Parameters
    ----------
    model, optimizer : the model and its optimiser (``optimizer`` may be None).
    spec : ``{"kind": ..., **params}``; validated as by the engine.
    seed : the run's seed (fresh initialisations use ``derive_seed(seed, "<kind>:<step>")``).
    fresh_fn : seed → freshly initialised module of the same architecture (default
        :func:`fresh_copy`).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None,
        spec: Mapping[str, Any],
        seed: int,
        *,
        fresh_fn: Callable[[int], nn.Module] | None = None,
        set_lr: bool = True,
        lr_schedule: str = "constant",
    ) -> None:
        kind = spec.get("kind") if isinstance(spec, Mapping) else None
        if kind not in ("shrink_perturb", "reset", "partial_reset", "warm_restart"):
            raise ValueError(f"perturbation kind={kind!r} has no plain-model form here")
        self.hook = build_protocol(spec)
        self.model, self.optimizer, self.seed, self.set_lr = model, optimizer, int(seed), set_lr
        self.fresh_fn = fresh_fn or (lambda s: fresh_copy(model, s))
        self.initial = copy.deepcopy(model.state_dict())
        self.base_lrs = [g["lr"] for g in optimizer.param_groups] if optimizer else []
        if lr_schedule != "constant" and self.hook.kind == "warm_restart":
            if self.hook.schedule == "poisson":
                raise ValueError("schedule='poisson' of warm_restart needs lr_schedule='constant'")
        self.lr_schedule = lr_schedule
        self.lr_factor, self.lr_restart_step, self.events = 1.0, 0, []
        self._since, self._clock = math.inf, {}

    def step(self, epoch: int, step: int | None = None) -> bool:
        """Apply the perturbation if it is due at the end of ``epoch``; True if applied."""
        h = self.hook
        n = h.arrivals(self.seed, epoch - 1, epoch, self._clock)
        stream = f"{h.kind}:{epoch if step is None else step}"
        if n > 0:
            fresh = (
                None if h.kind == "warm_restart" else self.fresh_fn(derive_seed(self.seed, stream))
            )
            if h.kind == "shrink_perturb":
                shrink_perturb_(self.model, h.lam, h.sigma, fresh=fresh, optimizer=self.optimizer,
                                reset_momentum=h.reset_momentum, batchnorm=h.batchnorm)  # fmt: skip
            elif h.kind == "reset":
                reset_(self.model, state_dict=self.initial if h.to == "initial" else None,
                       fresh=fresh, optimizer=self.optimizer)  # fmt: skip
            elif h.kind == "partial_reset":
                partial_reset_(self.model, h.f, fresh=fresh,
                               optimizer=self.optimizer if h.reset_momentum else None)  # fmt: skip
            else:
                self._since, self.lr_restart_step = 0.0, epoch if step is None else step
                if h.reset_momentum:
                    _clear_momentum(self.optimizer)
            self.events.append({"epoch": epoch, "kind": h.kind})
        if h.kind == "warm_restart" and self.lr_schedule == "constant":
            self.lr_factor = float(h.multiplier(self._since))
            self._since += 1.0
            if self.set_lr and self.optimizer is not None:
                for g, lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
                    g["lr"] = lr * self.lr_factor
        return n > 0
