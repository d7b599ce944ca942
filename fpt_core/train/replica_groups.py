"""How many replicas one ``vmap`` call takes on the CPU: a group whose activations fit in cache.

``vmap(grad(loss))`` over R replicas of a convolutional network runs each convolution as one
grouped convolution over all R replicas. On a CPU its working set — the activations backward
keeps, R × batch × per-example activations — outgrows the last-level cache as R grows, and the
step slows down per replica (measurements at :data:`CPU_GROUP_BYTES`; ``make bench`` reports the
engine against a per-model loop at R = 256). The engine therefore splits the replicas into groups of :func:`replica_group` replicas, whose activations
take at most :data:`CPU_GROUP_BYTES`, and calls ``vmap`` once per group; every replica's
gradient still depends only on its own parameters and batch. On an accelerator the whole
ensemble is one call.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["CPU_GROUP_BYTES", "activation_bytes", "replica_group"]

# Measured on a quiet 2-core EPYC (32 MiB L3), gradients of 256 replicas (batch 100, MNIST-1D) in
# groups of 16 … 256: the fastest group of a 3-layer CNN of 8, 16 and 32 channels held 30–60 MiB
# by this count (every leaf output, ReLUs included: 64–128, 32–64 and 16 replicas); one call
# over all 256 was 1.6×, 2.8× and 2.9× slower. 32 MiB picks 64, 32 and 16.
CPU_GROUP_BYTES = 32 * 2**20


def activation_bytes(model: nn.Module, input_shape: Sequence[int], batch_size: int) -> int:
    """Bytes of the outputs of every leaf module for one batch in fp32 (what backward keeps).

    Shapes are found by a forward pass on the ``meta`` device: no memory, no arithmetic.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 3))
    >>> activation_bytes(net, (10,), batch_size=4)  # (20 + 20 + 3) floats × 4 examples × 4 B
    688
    """
    total = 0

    def hook(mod: nn.Module, inp: object, out: object) -> None:
        nonlocal total
        if isinstance(out, torch.Tensor):
            total += out.numel()

    on_meta = all(p.device.type == "meta" for p in model.parameters())
    meta = model if on_meta else copy.deepcopy(model).to("meta")  # the caller's model untouched
    leaves = [m for m in meta.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        with torch.no_grad():
            meta(torch.zeros(int(batch_size), *input_shape, device="meta"))
    finally:
        for h in handles:
            h.remove()
    return 4 * total


def replica_group(
    model: nn.Module,
    input_shape: Sequence[int],
    batch_size: int,
    n_replicas: int,
    device: torch.device | str,
) -> int:
    """Replicas per ``vmap`` call: all of them off the CPU; on the CPU the largest power of two
    whose activations (:func:`activation_bytes`) fit in :data:`CPU_GROUP_BYTES`, at least 1.

    ``model`` is one replica, on any device (it is not modified).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(1000, 1000))  # 4 kB of activations per example
    >>> replica_group(net, (1000,), batch_size=100, n_replicas=256, device="cpu")  # 400 kB each
    64
    >>> replica_group(net, (1000,), batch_size=100, n_replicas=256, device="cuda")
    256
    """
    n = int(n_replicas)
    if torch.device(device).type != "cpu" or n <= 1:
        return n
    try:
        per = activation_bytes(model, input_shape, batch_size)
    except (RuntimeError, NotImplementedError, StopIteration):  # no meta forward: one call
        return n
    fit = max(1, CPU_GROUP_BYTES // max(per, 1))
    return min(n, 1 << (fit.bit_length() - 1))
