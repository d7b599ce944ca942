"""Data augmentation as batched tensor ops, for image batches that live on the training device.

The standard CIFAR augmentation (``RandomCrop(32, padding=4)`` then ``RandomHorizontalFlip()``
in torchvision; He et al. 2016) done per sample in a Python loop, on the CPU, dominates a
GPU step for small networks. :func:`random_crop_flip` draws every sample's crop offset and flip
at once and gathers all crops with one advanced-indexing operation, on any device and dtype
(keep the images as ``uint8`` on the GPU, augment, then standardise with
:meth:`fpt_core.train.data.Data.prepare`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["random_crop_flip"]


def random_crop_flip(
    x: torch.Tensor,
    padding: int,
    generator: torch.Generator | None = None,
    *,
    flip: bool = True,
) -> torch.Tensor:
    """Per-sample random crop with zero padding and random horizontal flip (p = 0.5).

    Equivalent to torchvision's ``RandomCrop((H, W), padding=padding)`` followed by
    ``RandomHorizontalFlip()``: each sample is zero-padded by ``padding`` on every side, a window
    of the original size is taken at a top/left offset drawn uniformly from
    ``{0, …, 2·padding}`` (independently for rows and columns), and mirrored left–right with
    probability 1/2 — one of ``2·(2·padding+1)²`` outcomes, all equally likely.

    Parameters
    ----------
    x : torch.Tensor
        Images (N, C, H, W) or per-replica batches (R, B, C, H, W), any dtype, any device.
    padding : int
        Zero padding on each side (4 for CIFAR); 0 gives flips only.
    generator : torch.Generator or None
        Source of the random offsets and flips (on the CPU or on ``x``'s device); the result is
        deterministic given its state.
    flip : bool
        Also flip horizontally (default True).

    Returns
    -------
    torch.Tensor
        Augmented images, same shape, dtype and device as ``x``.
    """
    if x.ndim not in (4, 5):
        raise ValueError(f"x must be (N, C, H, W) or (R, B, C, H, W), got shape {tuple(x.shape)}")
    if padding < 0:
        raise ValueError(f"padding={padding} must be ≥ 0")
    shape = x.shape
    x = x.reshape(-1, *shape[-3:])
    N, C, H, W = x.shape
    gdev = generator.device if generator is not None else x.device
    top = torch.randint(0, 2 * padding + 1, (N,), generator=generator, device=gdev).to(x.device)
    left = torch.randint(0, 2 * padding + 1, (N,), generator=generator, device=gdev).to(x.device)
    if flip:
        mirror = torch.randint(0, 2, (N,), generator=generator, device=gdev).to(x.device).bool()
    else:
        mirror = torch.zeros(N, dtype=torch.bool, device=x.device)
    xp = F.pad(x, (padding,) * 4) if padding else x  # zeros, any dtype
    ar_h = torch.arange(H, device=x.device)
    ar_w = torch.arange(W, device=x.device)
    rows = top[:, None] + ar_h  # (N, H)
    cols = left[:, None] + torch.where(mirror[:, None], W - 1 - ar_w, ar_w)  # (N, W)
    n = torch.arange(N, device=x.device)[:, None, None]
    out = xp.permute(0, 2, 3, 1)[n, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous().reshape(shape)
