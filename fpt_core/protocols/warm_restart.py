"""SGDR-style warm restart: a perturbation protocol that restarts the learning rate, not the weights.

The ``warm_restart`` hook of :mod:`fpt_core.protocols.registry`; timing (``schedule``, ``tau``,
``rate``), logging and randomness as for every :class:`fpt_core.protocols.perturb.Perturbation`.

Reference: Loshchilov & Hutter, *SGDR: stochastic gradient descent with warm restarts*, ICLR 2017.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from fpt_core.protocols.perturb import Perturbation
from fpt_core.stats.checks import check_flag, check_number
from fpt_core.train.engine import EnsembleState

__all__ = ["WarmRestart"]

_EPS = 1e-9


class WarmRestart(Perturbation):
    """SGDR-style warm restart of the learning rate: a perturbation of the optimiser only.

    Each perturbation starts a cosine-annealing cycle of ``cycle`` epochs (Loshchilov & Hutter
    2017): the learning-rate multiplier of the perturbed replica jumps to ``peak`` and anneals to
    ``floor``, m_k = floor + (peak − floor)·(1 + cos(π (k + ½) / cycle)) / 2 in epoch k = 0 … cycle−1
    after the restart (one value per evaluation interval, through ``state.lr_scale``; the midpoint
    rule keeps the cycle's mean at (peak + floor)/2), after which it is back to 1, the base
    schedule. A perturbation during a cycle restarts it. With ``peak = 1`` and ``floor < 1`` this
    is SGDR on top of a constant learning rate: an annealing phase that lowers the SGD noise,
    then the jump back to the base rate (the "restart"); ``peak > 1`` heats first. The cycle
    length is fixed, independent of ``tau``, so the law of the time from a perturbation to the
    target does not depend on the period (the single-frequency assumption).

    With ``lr_schedule="cosine"`` the perturbation instead resets the schedule position
    (``state.lr_restart_step = step``: the base cosine restarts from its maximum, the classic
    SGDR restart); that needs the same times for every replica, so ``schedule="poisson"`` is
    rejected there. ``reset_momentum`` (default False) also zeroes the momentum buffers. Weights
    and BatchNorm statistics are never touched.
    """

    kind = "warm_restart"

    def __init__(
        self,
        cycle: float = 5,
        *,
        peak: float = 1.0,
        floor: float = 0.05,
        reset_momentum: bool = False,
        schedule: str = "periodic",
        tau: float | None = None,
        rate: float | None = None,
    ) -> None:
        self.cycle = check_number(cycle, "cycle", low=0.0)
        self.peak = check_number(peak, "peak", low=0.0)
        self.floor = check_number(floor, "floor", low=0.0, low_open=False)
        self.reset_momentum = check_flag(reset_momentum, "reset_momentum")
        super().__init__(schedule, tau, rate)

    def multiplier(self, since: np.ndarray | float) -> np.ndarray:
        """Learning-rate multiplier ``since`` epochs after a restart (1 outside the cycle)."""
        e = np.asarray(since, dtype=float)
        k = np.floor(e + _EPS)
        inside = (e >= 0) & (k < self.cycle - _EPS)
        k = np.where(inside, k, 0.0)
        m = self.floor + (self.peak - self.floor) * 0.5 * (
            1.0 + np.cos(np.pi * (k + 0.5) / self.cycle)
        )
        return np.where(inside, m, 1.0)

    def _check_schedule(self, state: EnsembleState) -> bool:
        """True for a constant base schedule; rejects Poisson timing on a cosine one."""
        if state.config.lr_schedule == "constant":
            return True
        if self.schedule == "poisson":
            raise ValueError(
                "schedule='poisson' of warm_restart needs lr_schedule='constant' "
                "(a cosine base schedule restarts for all replicas at once)"
            )
        return False

    def apply(self, state: EnsembleState, mask: torch.Tensor) -> dict[str, Any]:
        if not self._check_schedule(state):
            state.lr_restart_step = state.step
        if self.reset_momentum:
            self._reset_momentum(state, mask)
        return {"cycle": self.cycle, "peak": self.peak, "floor": self.floor}

    def after(self, state: EnsembleState, mask: torch.Tensor) -> None:
        if not self._check_schedule(state):
            return
        mem = self.memory(state)
        since = mem.setdefault("since", np.full(state.R, np.inf))
        since[mask.cpu().numpy()] = 0.0
        m = torch.as_tensor(self.multiplier(since), device=state.alive.device)
        for scale in state.lr_scale.values():
            scale.copy_(m.to(scale.dtype))
        since += (state.config.eval_every or state.steps_per_epoch) / state.steps_per_epoch
