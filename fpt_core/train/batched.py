"""Per-replica gradients of a stacked MLP ensemble, written out as batched matmuls.

For the :class:`~fpt_core.train.models.MLP` (the book's workhorse) the engine does not go through
``vmap(grad(...))``: with weights stacked as ``W_l`` of shape (R, out, in), replica ``r``'s
forward pass on its own minibatch ``x_r`` (B × in) is

    z_l = h_{l−1} W_lᵀ + b_l,   h_l = relu(z_l)   (l < L),   ℓ_r = (1/B) Σ_i CE(z_L,i, y_i),

and the backward pass, with ``δ_L = (softmax(z_L) − onehot(y)) / B``,

    ∂ℓ/∂W_l = δ_lᵀ h_{l−1},   ∂ℓ/∂b_l = Σ_i δ_l,i,   δ_{l−1} = (δ_l W_l) ⊙ 1[z_{l−1} > 0],

each line one ``torch.bmm`` (or reduction) over the replica axis. This is the same computation
autograd performs (tested against ``torch.autograd`` and ``torch.optim.SGD``), minus the
dispatcher and vmap overhead, with activations and gradients written into buffers reused from
step to step instead of fresh allocations.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from fpt_core.train.models import MLP

__all__ = ["is_plain_mlp", "MLPKernel"]


def is_plain_mlp(base: nn.Module) -> bool:
    """True for :class:`~fpt_core.train.models.MLP` (Flatten, then Linear/ReLU pairs, then Linear)."""
    return type(base) is MLP


class MLPKernel:
    """Forward and backward of R stacked MLPs; buffers are cached per (R, B, dtype, device).

    ``names`` are the parameter names of the base model in layer order, ``(weight, bias)`` each,
    as in ``torch.func.stack_module_state``.
    """

    def __init__(self, base: nn.Module, group: int = 8) -> None:
        self.group = int(group)
        linears = [n for n, m in base.named_modules() if isinstance(m, nn.Linear)]
        self.names = [(f"{n}.weight", f"{n}.bias") for n in linears]
        self._bufs: dict[tuple, Any] = {}

    def forward(
        self, params: dict[str, torch.Tensor], x: torch.Tensor, keep: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (R, B, classes) for inputs x (R, B, …); with ``keep``, activations are reused
        buffers (valid until the next call) returned for :meth:`grads`."""
        R, B = x.shape[:2]
        h = x.reshape(R, B, -1)
        hs = [h]
        acts = self._activations(params, R, B, x) if keep else None
        for l, (wn, bn) in enumerate(self.names):
            w, b = params[wn], params[bn]
            out = acts[l] if acts is not None else None
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2), out=out)
            if l < len(self.names) - 1:
                h = h.relu_()
            hs.append(h)
        return h, hs

    def grads(
        self, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Gradients of each replica's mean cross-entropy (same keys and shapes as ``params``)
        and the losses, shape (R,). The gradient tensors are reused on the next call.

        On the CPU, replicas are processed ``group`` at a time, so that one group's activations
        stay in cache between the forward and the backward pass; on a GPU all at once.
        """
        R, B = y.shape
        G = min(R, self.group) if x.device.type == "cpu" else R
        grads = self._buffers(params, R, B, x)
        losses = torch.empty(R, dtype=x.dtype, device=x.device)
        for s in range(0, R, G):
            sl = slice(s, s + G)
            p = {k: v[sl] for k, v in params.items()}
            g = {k: v[sl] for k, v in grads.items()}
            losses[sl] = self._group_grads(p, x[sl], y[sl], g)
        return grads, losses

    def _group_grads(self, params, x, y, grads) -> torch.Tensor:
        R, B = y.shape
        logits, hs = self.forward(params, x, keep=True)
        logp = torch.log_softmax(logits, dim=-1)
        losses = F.nll_loss(logp.flatten(0, 1), y.flatten(), reduction="none").view(R, B).mean(1)
        delta = logp.exp_()  # softmax, in place of log-softmax
        delta.view(R * B, -1)[torch.arange(R * B, device=y.device), y.flatten()] -= 1.0
        delta.div_(B)
        for l in range(len(self.names) - 1, -1, -1):
            wn, bn = self.names[l]
            torch.bmm(delta.transpose(1, 2), hs[l], out=grads[wn])
            torch.sum(delta, dim=1, out=grads[bn])
            if l > 0:
                dh = torch.bmm(delta, params[wn])
                delta = torch.ops.aten.threshold_backward(dh, hs[l], 0.0)
        return losses

    def _buffers(self, params, R, B, x):
        key = ("grads", R, x.dtype, x.device)
        if key not in self._bufs:
            self._bufs[key] = {k: torch.empty_like(v) for k, v in params.items()}
        return self._bufs[key]

    def _activations(self, params, R, B, x):
        key = ("acts", R, B, x.dtype, x.device)  # a few shapes: full/last group and batch
        if key not in self._bufs:
            self._bufs[key] = [
                torch.empty(R, B, params[wn].shape[1], dtype=x.dtype, device=x.device)
                for wn, _ in self.names
            ]
        return self._bufs[key]
