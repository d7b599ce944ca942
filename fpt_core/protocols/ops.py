"""The arithmetic of the perturbations, shared by the engine's hooks (:mod:`fpt_core.protocols.perturb`, on
stacked replicas) and the functions for a plain ``nn.Module`` (:mod:`fpt_core.protocols.plain`).

Every function works on dicts of tensors with a leading replica axis R (a plain model is R = 1,
through ``unsqueeze(0)`` views that write through to the parameters) and an optional boolean
``mask`` of shape (R,) selecting the replicas to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

__all__ = ["shrink_perturb_", "shrink_buffers_", "replace_", "smallest_fraction"]


def _where(mask: torch.Tensor | None, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    if mask is None:
        return new
    return torch.where(mask.view(-1, *([1] * (old.ndim - 1))), new, old)


def shrink_perturb_(
    params: Mapping[str, torch.Tensor],
    fresh: Mapping[str, torch.Tensor],
    lam: float,
    sigma: float,
    mask: torch.Tensor | None = None,
) -> None:
    """θ ← λ·θ + σ·θ_fresh in place, for every tensor of ``params`` (Ash & Adams 2020)."""
    for k, p in params.items():
        p.copy_(_where(mask, lam * p + sigma * fresh[k], p))


def shrink_buffers_(
    buffers: Mapping[str, torch.Tensor],
    init: Mapping[str, torch.Tensor],
    lam: float,
    sigma: float,
    mode: str,
    mask: torch.Tensor | None = None,
) -> None:
    """BatchNorm running statistics under shrink & perturb: ``mode`` "shrink" (λ·x + σ·x_init, the
    seed paper's ``state_dict`` arithmetic), "reset" (x_init) or "keep"; integer buffers
    (``num_batches_tracked``) are never changed."""
    if mode == "keep":
        return
    for k, b in buffers.items():
        if b.is_floating_point():
            new = lam * b + sigma * init[k] if mode == "shrink" else init[k]
            b.copy_(_where(mask, new, b))


def replace_(
    params: Mapping[str, torch.Tensor],
    source: Mapping[str, torch.Tensor],
    where: Mapping[str, torch.Tensor] | torch.Tensor | None = None,
) -> None:
    """Copy ``source`` into ``params`` in place: everywhere, for the replicas of a (R,) mask, or
    elementwise where a per-tensor boolean of the tensor's shape is True."""
    for k, p in params.items():
        sel = where[k] if isinstance(where, Mapping) else where
        if sel is None:
            p.copy_(source[k])
        elif sel.ndim == 1 and p.ndim > 1 and sel.shape[0] == p.shape[0]:
            p.copy_(_where(sel, source[k], p))
        else:
            p.copy_(torch.where(sel, source[k], p))


def smallest_fraction(weights: Sequence[torch.Tensor], f: float) -> list[torch.Tensor]:
    """Per replica, the ``round(f·N)`` entries of smallest ``|w|`` among all N entries of
    ``weights`` (one global ranking over the tensors, ties broken by ``torch.topk``), as one
    boolean tensor per weight tensor."""
    flat = torch.cat([w.flatten(1) for w in weights], dim=1)  # (R, N)
    k_small = int(round(f * flat.shape[1]))
    chosen = torch.zeros_like(flat, dtype=torch.bool)
    if k_small:
        idx = torch.topk(flat.abs(), k_small, dim=1, largest=False).indices
        chosen.scatter_(1, idx, True)
    out, start = [], 0
    for w in weights:
        size = w[0].numel()
        out.append(chosen[:, start : start + size].view_as(w))
        start += size
    return out
