"""Pick the torch device: ``cuda``, then ``mps``, then ``cpu``, unless the caller or ``FPT_DEVICE`` says."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["parse_device", "resolve_device", "small_tensor_threads"]

DEVICE_KINDS = ("cpu", "cuda", "mps")


def parse_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device`` of a kind this project trains on (``cpu``, ``cuda[:i]``,
    ``mps``); whether it exists on this machine is not checked. ``ValueError`` otherwise."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        dev = None
    if dev is None or dev.type not in DEVICE_KINDS:
        raise ValueError(f"device={device!r}: must be one of 'cpu', 'cuda[:i]', 'mps' or None")
    return dev


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Return the device to train on.

    Order: the ``device`` argument, then the ``FPT_DEVICE`` environment variable, then the first
    available of ``cuda``, ``mps``, ``cpu``. An unavailable explicit choice raises ``ValueError``.
    """
    choice = device if device is not None else os.environ.get("FPT_DEVICE") or None
    if choice is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = parse_device(choice)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={choice!r}: CUDA is not available here; use 'cpu' or None (auto)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={choice!r}: MPS is not available here; use 'cpu' or None (auto)")
    return dev


@contextmanager
def small_tensor_threads(device: torch.device | str | None = None) -> Iterator[None]:
    """Run torch on one CPU thread inside the block (restored afterwards).

    Long loops over small tensors (a few thousand elements per operation) gain nothing from
    intra-op threads and lose much to their synchronisation, most on a shared, loaded machine
    (measured here: 40× more CPU time with two threads than with one). No effect off the CPU.
    """
    if device is not None and torch.device(device).type != "cpu":
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)
