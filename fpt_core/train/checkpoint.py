"""Checkpoints of a training chunk: everything the engine needs to continue bit-identically.

A chunk of a ``paper`` preset trains for hours; a killed process or a preempted GPU node must not
lose it. :func:`save` writes, atomically (temporary file, then ``os.replace``), the ensemble's full
state at an epoch boundary — weights, momentum, BatchNorm statistics, initial weights, per-layer
learning-rate scales, the alive mask, step counters, event logs, the trajectory so far, the
data-order and augmentation generators, and each hook's own state — and :func:`load` restores it.
A hook that keeps state between evaluations takes part through two methods,
``state_dict(state) -> dict`` and ``load_state_dict(state, d)`` (the perturbation protocols and
TempBalance have them); :func:`check_hooks` refuses, before any training, a hook without them.

A checkpoint belongs to one (configuration, seeds, engine version): :func:`load` ignores a file
written for anything else.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

__all__ = ["check_hooks", "load", "save"]

FORMAT = 1


def check_hooks(hooks: Any) -> None:
    """Raise ``ValueError`` naming the first hook that cannot be checkpointed."""
    for h in hooks:
        if not (
            callable(getattr(h, "state_dict", None))
            and callable(getattr(h, "load_state_dict", None))
        ):
            raise ValueError(
                f"checkpoint_every needs every hook to have state_dict(state) and "
                f"load_state_dict(state, d); {h!r} has not"
            )


def _identity(state: Any, version: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "engine": version,
        "config": state.config.to_dict(),
        "seeds": list(state.seeds),
    }


def save(path: str | Path, state: Any, loop: dict[str, Any], hooks: Any, version: str) -> None:
    """Write the chunk's state at an epoch boundary to ``path`` (atomically); ``version`` is the
    engine's (a checkpoint of another engine version is never resumed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "identity": _identity(state, version),
        "state": {
            k: getattr(state, k)
            for k in (
                "params",
                "buffers",
                "momentum",
                "init_params",
                "init_buffers",
                "lr_scale",
                "alive",
                "step",
                "lr_restart_step",
                "events",
            )
        },  # fmt: skip
        "loop": {
            **{k: v for k, v in loop.items() if k not in ("gens", "aug_gens")},
            "gens": [g.get_state() for g in loop["gens"]],
            "aug_gens": [g.get_state() for g in loop["aug_gens"]],
        },
        "hooks": [h.state_dict(state) for h in hooks],
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(blob, tmp)
    os.replace(tmp, path)


def load(path: str | Path, state: Any, loop: dict[str, Any], hooks: Any, version: str) -> bool:
    """Restore ``state``, ``loop`` and ``hooks`` from ``path``; False (nothing changed) if the
    file is absent or was written for another configuration, seed list or engine version."""
    path = Path(path)
    if not path.exists():
        return False
    blob = torch.load(path, map_location=state.alive.device, weights_only=False)
    if blob.get("identity") != _identity(state, version) or len(blob["hooks"]) != len(hooks):
        return False
    for k, v in blob["state"].items():
        setattr(state, k, v)
    saved = blob["loop"]
    for g, s in zip(loop["gens"], saved.pop("gens"), strict=True):
        g.set_state(s)
    for g, s in zip(loop["aug_gens"], saved.pop("aug_gens"), strict=True):
        g.set_state(s)
    loop.update(saved)
    for h, d in zip(hooks, blob["hooks"], strict=True):
        h.load_state_dict(state, d)
    return True
