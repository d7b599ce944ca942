"""Perturbation protocols applied by the engine at scheduled times: the hooks named in
:mod:`fpt_core.protocols.registry` (``shrink_perturb``, ``reset``, ``partial_reset``, ``warm_restart``).

A protocol spec ``{"kind": ..., **params}`` in ``TrainConfig.perturbation`` is part of the
run's store key; :func:`fpt_core.protocols.registry.build_protocol` turns it into one of the hooks below,
and the engine calls ``hook(state)`` after every evaluation with the
:class:`fpt_core.train.engine.EnsembleState`. Every hook validates its parameters in ``__init__``
(``ValueError`` naming the parameter), perturbs only alive replicas and logs each application
with ``state.record(kind, replicas, ...)``.

**Timing** (parameters shared by all hooks; times in epochs):

* ``schedule="periodic"`` (default; the protocol of Meir et al. 2025): at every positive
  multiple of ``tau``: τ, 2τ, 3τ, …
* ``schedule="once"``: a single perturbation at ``tau`` (the single-frequency measurement).
* ``schedule="poisson"``: at the arrival times of a Poisson process of rate ``rate`` per epoch,
  drawn per replica from a generator seeded by ``(replica seed, "poisson:<rate>")``, so replicas
  get different times and a run is reproducible whatever the chunk it is trained in.

A perturbation due at time t is applied at the first evaluation at or after t (evaluations are
once per epoch by default, so an integer ``tau`` is exact), *after* the evaluation there: the
accuracy logged at t = kτ is the unperturbed one, as :mod:`fpt_core.stats.restart` assumes. Poisson
arrivals falling in the same evaluation interval merge into one perturbation (the number merged
is logged as ``arrivals``), so with evaluations every Δ epochs each evaluation fires with
probability 1 − exp(−rate·Δ). Nothing is applied at the final evaluation (no observable effect).

**Randomness**: fresh weights come from ``state.fresh_params(f"<kind>:{state.step}")``, PyTorch's
default initialisation seeded by (replica seed, stream): reproducible, different per replica and
per perturbation time, and independent of the ensemble a replica is trained in.

**BatchNorm** running statistics (ResNet-18): PyTorch initialises them deterministically
(mean 0, variance 1), so ``state.init_buffers`` is also their "fresh" value. Shrink & perturb
shrinks them like the weights (λ·x + σ·x_init, the paper's ``state_dict`` arithmetic; integer
``num_batches_tracked`` is left alone), a reset restores them, a partial reset and a warm
restart leave them unchanged. See each class for the details; the warm restart of the
learning rate lives in :mod:`fpt_core.protocols.warm_restart`.

References: Ash & Adams, NeurIPS 33 (2020) (shrink & perturb); Loshchilov & Hutter, ICLR 2017
(SGDR); Meir, Keidar, Reuveni & Hirshberg, arXiv:2502.04121 (2025).
"""

from __future__ import annotations

import copy
import math
import weakref
from typing import Any

import numpy as np
import torch

from fpt_core.protocols import ops as ops
from fpt_core.stats.checks import check_flag, check_number
from fpt_core.train.engine import EnsembleState, derive_seed

__all__ = ["Perturbation", "ShrinkPerturb", "Reset", "PartialReset", "SCHEDULES"]

SCHEDULES = ("periodic", "once", "poisson")
_EPS = 1e-9


def _bcast(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return mask.view(-1, *([1] * (like.ndim - 1)))


class Perturbation:
    """Base class: the timing of a perturbation; subclasses implement :meth:`apply`.

    Parameters
    ----------
    schedule : str
        ``"periodic"`` (every ``tau`` epochs), ``"once"`` (at ``tau`` only) or ``"poisson"``
        (at rate ``rate`` per epoch, per replica).
    tau : float
        Period (or time of the single perturbation) in epochs, > 0; required unless Poisson.
    rate : float
        Poisson rate per epoch, > 0; only with ``schedule="poisson"``.
    """

    kind = "perturbation"

    def __init__(
        self, schedule: str = "periodic", tau: float | None = None, rate: float | None = None
    ) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule={schedule!r} is unknown; allowed: {list(SCHEDULES)}")
        self.schedule = schedule
        if schedule == "poisson":
            if tau is not None:
                raise ValueError(
                    f"tau={tau!r} must not be given with schedule='poisson' (use rate)"
                )
            self.rate = check_number(rate, "rate", low=0.0)
            self.tau = None
        else:
            if rate is not None:
                raise ValueError(f"rate={rate!r} is only used with schedule='poisson'")
            if tau is None:
                raise ValueError(f"tau must be given (> 0 epochs) with schedule={schedule!r}")
            self.tau = check_number(tau, "tau", low=0.0)
            self.rate = None
        self._state_ref: weakref.ref | None = None
        self._memory: dict[str, Any] = {}

    # -- per-ensemble memory: one hook object serves every chunk of run_ensemble
    def memory(self, state: EnsembleState) -> dict[str, Any]:
        """Scratch space tied to this ``state`` (cleared when a new ensemble starts)."""
        if self._state_ref is None or self._state_ref() is not state:
            self._state_ref = weakref.ref(state)
            self._memory = {}
        return self._memory

    def state_dict(self, state: EnsembleState) -> dict[str, Any]:
        """This ensemble's memory (schedule clocks, Poisson streams), for a checkpoint."""
        return copy.deepcopy(self.memory(state))

    def load_state_dict(self, state: EnsembleState, d: dict[str, Any]) -> None:
        """Continue ``state`` with the memory saved by :meth:`state_dict`."""
        self._state_ref = weakref.ref(state)
        self._memory = copy.deepcopy(d)

    @staticmethod
    def _previous_eval_step(state: EnsembleState) -> int:
        every = state.config.eval_every or state.steps_per_epoch
        return ((state.step - 1) // every) * every

    def due(self, state: EnsembleState) -> tuple[torch.Tensor, list[int]]:
        """Replicas to perturb now (bool mask, alive only) and the merged arrival counts.

        Periodic/once: a multiple of τ (once: τ itself) lies in (previous evaluation, now].
        """
        R, dev = state.R, state.alive.device
        total = state.config.epochs * state.steps_per_epoch
        clocks = self.memory(state).setdefault("clocks", [{} for _ in range(R)])
        t_prev = self._previous_eval_step(state) / state.steps_per_epoch
        counts = [
            self.arrivals(s, t_prev, state.epoch, clock)
            for s, clock in zip(state.seeds, clocks, strict=True)
        ]
        mask = torch.tensor([c > 0 for c in counts], device=dev) & state.alive
        if state.step >= total:  # nothing after the last evaluation
            mask[:] = False
        return mask, counts

    def arrivals(self, seed: int, t_prev: float, t_now: float, clock: dict[str, Any]) -> int:
        """Perturbations due in (``t_prev``, ``t_now``] epochs for the run ``seed``.

        Periodic: the multiples of τ in that interval; once: τ itself, if in it; Poisson: the
        arrivals of the run's own stream, seeded by ``(seed, "poisson:<rate>")``, whose state is
        kept in ``clock`` (an empty dict at the start of the run). The engine's hooks and
        :class:`fpt_core.protocols.plain.Perturber` both count with this.
        """
        if self.schedule == "poisson":
            if "next" not in clock:
                clock["rng"] = np.random.default_rng(derive_seed(seed, f"poisson:{self.rate!r}"))
                clock["next"] = float(clock["rng"].exponential(1.0 / self.rate))
            n = 0
            while clock["next"] <= t_now + _EPS:
                n += 1
                clock["next"] += float(clock["rng"].exponential(1.0 / self.rate))
            return n
        k_now = math.floor(t_now / self.tau + _EPS)
        k_prev = math.floor(t_prev / self.tau + _EPS)
        if self.schedule == "once":
            k_now, k_prev = min(k_now, 1), min(k_prev, 1)
        return k_now - k_prev

    def __call__(self, state: EnsembleState) -> None:
        mask, counts = self.due(state)
        idx = torch.nonzero(mask).flatten().tolist()
        info: dict[str, Any] = {}
        with torch.no_grad():
            if idx:
                info = self.apply(state, mask) or {}
            self.after(state, mask)
        for r in idx:
            extra = {"arrivals": counts[r]} if self.schedule == "poisson" else {}
            state.record(self.kind, [r], **extra, **info)

    def after(self, state: EnsembleState, mask: torch.Tensor) -> None:
        """Called at every evaluation after :meth:`apply` (default: nothing)."""

    def apply(self, state: EnsembleState, mask: torch.Tensor) -> dict[str, Any] | None:
        """Perturb the replicas where ``mask`` is True; return extra event info."""
        raise NotImplementedError

    def _reset_momentum(self, state: EnsembleState, mask: torch.Tensor) -> None:
        for buf in state.momentum.values():
            buf[mask] = 0.0

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class ShrinkPerturb(Perturbation):
    """Shrink & perturb (Ash & Adams 2020): θ ← λ·θ + σ·θ_fresh.

    θ_fresh is a fresh default initialisation of the same architecture
    (``state.fresh_params(f"shrink_perturb:{step}")``). The released code of Meir et al. (2025)
    uses λ = 0.4, σ = 0.1 on the whole ``state_dict`` and recreates the optimiser; here:

    * ``lam``, ``sigma``: λ ∈ [0, 1], σ ≥ 0 (defaults 0.4, 0.1);
    * ``batchnorm``: ``"shrink"`` (default, as the paper's ``state_dict`` arithmetic: running
      mean/var ← λ·x + σ·x_init, x_init = 0 or 1 the deterministic initial values), ``"reset"``
      (running statistics ← their initial values) or ``"keep"``;
    * ``reset_momentum``: zero the momentum buffers (default True: the paper recreates the
      optimiser).
    """

    kind = "shrink_perturb"

    def __init__(
        self,
        lam: float = 0.4,
        sigma: float = 0.1,
        *,
        batchnorm: str = "shrink",
        reset_momentum: bool = True,
        schedule: str = "periodic",
        tau: float | None = None,
        rate: float | None = None,
    ) -> None:
        self.lam = check_number(lam, "lam", low=0.0, high=1.0, low_open=False)
        self.sigma = check_number(sigma, "sigma", low=0.0, low_open=False)
        if batchnorm not in ("shrink", "reset", "keep"):
            raise ValueError(f"batchnorm={batchnorm!r} must be 'shrink', 'reset' or 'keep'")
        self.batchnorm = batchnorm
        self.reset_momentum = check_flag(reset_momentum, "reset_momentum")
        super().__init__(schedule, tau, rate)

    def apply(self, state: EnsembleState, mask: torch.Tensor) -> dict[str, Any]:
        fresh = state.fresh_params(f"{self.kind}:{state.step}")
        ops.shrink_perturb_(state.params, fresh, self.lam, self.sigma, mask)
        ops.shrink_buffers_(
            state.buffers, state.init_buffers, self.lam, self.sigma, self.batchnorm, mask
        )
        if self.reset_momentum:
            self._reset_momentum(state, mask)
        return {"lam": self.lam, "sigma": self.sigma}


class Reset(Perturbation):
    """Full stochastic resetting: θ ← θ_0, the optimiser state (momentum) zeroed.

    ``to="initial"`` (default): the run's own initial weights and BatchNorm statistics
    (``state.init_params``/``init_buffers``; true resetting: the run restarts from where it
    started, with a new data order from then on since the order stream continues).
    ``to="fresh"``: a fresh default initialisation, ``state.fresh_params(f"reset:{step}")``
    (BatchNorm statistics to their initial values, which are deterministic).
    """

    kind = "reset"

    def __init__(
        self,
        to: str = "initial",
        *,
        schedule: str = "periodic",
        tau: float | None = None,
        rate: float | None = None,
    ) -> None:
        if to not in ("initial", "fresh"):
            raise ValueError(f"to={to!r} must be 'initial' or 'fresh'")
        self.to = to
        super().__init__(schedule, tau, rate)

    def apply(self, state: EnsembleState, mask: torch.Tensor) -> dict[str, Any]:
        src = (
            state.init_params
            if self.to == "initial"
            else state.fresh_params(f"{self.kind}:{state.step}")
        )
        ops.replace_(state.params, src, mask)
        ops.replace_(state.buffers, state.init_buffers, mask)
        self._reset_momentum(state, mask)
        return {"to": self.to}


class PartialReset(Perturbation):
    """Partial stochastic resetting: re-draw the fraction ``f`` of the smallest weights.

    Per replica, the ``round(f·N)`` entries of smallest ``|w|`` among all N entries of the
    weight tensors (parameters with ≥ 2 dimensions: Linear and Conv weights; biases and
    BatchNorm parameters are not candidates) — one global ranking over the weight tensors, not
    per layer — are replaced by the corresponding entries of a fresh default initialisation
    (``state.fresh_params(f"partial_reset:{step}")``), i.e. re-drawn from each layer's initial
    distribution U(−1/sqrt(fan_in), 1/sqrt(fan_in)). Ties at the cut are broken by
    ``torch.topk``. ``reset_momentum`` (default True) zeroes the momentum of the re-drawn
    entries only; BatchNorm statistics are left unchanged.
    """

    kind = "partial_reset"

    def __init__(
        self,
        f: float = 0.1,
        *,
        reset_momentum: bool = True,
        schedule: str = "periodic",
        tau: float | None = None,
        rate: float | None = None,
    ) -> None:
        self.f = check_number(f, "f", low=0.0, high=1.0)
        self.reset_momentum = check_flag(reset_momentum, "reset_momentum")
        super().__init__(schedule, tau, rate)

    @staticmethod
    def weight_names(state: EnsembleState) -> list[str]:
        """Names of the parameters ranked by ``|w|`` (those with ≥ 2 dimensions per replica)."""
        return [k for k, p in state.params.items() if p.ndim >= 3]

    def apply(self, state: EnsembleState, mask: torch.Tensor) -> dict[str, Any]:
        names = self.weight_names(state)
        k_small = int(round(self.f * sum(state.params[k][0].numel() for k in names)))
        if k_small == 0:
            return {"f": self.f, "n_reset": 0}
        fresh = state.fresh_params(f"{self.kind}:{state.step}")
        chosen = ops.smallest_fraction([state.params[k] for k in names], self.f)
        sel = {k: c & _bcast(mask, c) for k, c in zip(names, chosen, strict=True)}
        ops.replace_({k: state.params[k] for k in names}, fresh, sel)
        if self.reset_momentum:
            for k in names:
                state.momentum[k].masked_fill_(sel[k], 0.0)
        return {"f": self.f, "n_reset": k_small}
