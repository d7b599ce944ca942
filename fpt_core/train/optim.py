"""The SGD step on stacked replica tensors, shared by the engine and everything that replays it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from fpt_core.train.engine import EnsembleState

__all__ = ["sgd_step", "uniform_step"]


def uniform_step(state: EnsembleState) -> bool:
    """All replicas alive and every learning-rate scale 1: one fused SGD step serves them all."""
    return bool(state.alive.all()) and all(bool((s == 1).all()) for s in state.lr_scale.values())


@torch.no_grad()
def sgd_step(
    state: EnsembleState, grads: dict[str, torch.Tensor], lr: float, uniform: bool
) -> None:
    """One SGD-with-momentum step on every replica, identical to ``torch.optim.SGD``:
    ``b ← μ b + g + λ θ``, ``θ ← θ − η s_r b`` (``s_r`` the replica's per-layer learning-rate
    scale; a diverged replica is left alone). With ``uniform`` (every replica alive, every scale
    1) PyTorch's fused kernel does it in one pass per tensor."""
    cfg = state.config
    names = list(state.params)
    if uniform and hasattr(torch, "_fused_sgd_"):  # one pass over θ, b, g per tensor
        torch._fused_sgd_(
            [state.params[k] for k in names],
            # the fused kernel walks θ and g as flat memory: their strides must agree
            [
                grads[k] if grads[k].stride() == state.params[k].stride() else grads[k].contiguous()
                for k in names
            ],
            [state.momentum[k] for k in names] if cfg.momentum else [],
            weight_decay=cfg.weight_decay,
            momentum=cfg.momentum,
            lr=lr,
            dampening=0.0,
            nesterov=False,
            maximize=False,
            is_first_step=False,
        )
        return
    alive = state.alive.to(state.params[names[0]].dtype)
    for k in names:
        p, g = state.params[k], grads[k]
        shape = (-1, *([1] * (p.ndim - 1)))
        g = torch.where(state.alive.view(shape), g, 0.0)  # a dead replica's NaN stays out
        if cfg.weight_decay:
            g = g.add_(p, alpha=cfg.weight_decay)
        if cfg.momentum:
            g = state.momentum[k].mul_(cfg.momentum).add_(g)
        p.addcmul_(g, (lr * state.lr_scale[k] * alive).view(shape), value=-1.0)
