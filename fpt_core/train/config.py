"""The configuration of one training run; everything in it is part of the run's store key."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from fpt_core.train.data import DATASETS
from fpt_core.train.models import MODELS

__all__ = ["TrainConfig", "LR_SCHEDULES", "AUGMENTATIONS", "PRECISIONS"]

LR_SCHEDULES = ("constant", "cosine")
AUGMENTATIONS = (None, "crop_flip")
PRECISIONS = ("fp32", "bf16")
_IMAGE_DATASETS = ("cifar10", "cifar100")


@dataclass(frozen=True)
class TrainConfig:
    """Dataset, model and optimiser of a run (the seed is given separately).

    Optimiser: SGD with heavy-ball momentum, exactly as ``torch.optim.SGD``:
    ``b ← μ·b + (g + λ·θ)``, ``θ ← θ − η_t·b``; ``η_t`` constant or cosine-annealed to 0 over
    ``epochs``. Test accuracy is evaluated every ``eval_every`` optimiser steps (``None``: once
    per epoch) and at step 0. ``perturbation`` is a protocol spec (see :mod:`fpt_core.protocols.perturb`).

    ``augment="crop_flip"`` (CIFAR only) draws, per example and step, a random 32×32 crop of the
    image zero-padded by 4 and a horizontal flip with probability ½, on the training device, from a
    generator seeded by the run's seed (see :mod:`fpt_core.train.augment`). ``precision="bf16"`` runs
    forward and backward under ``torch.autocast`` in bfloat16 (weights, optimiser and evaluation
    stay fp32); it changes the numbers, so it is part of the run's key.
    """

    dataset: str = "mnist1d"
    model: str = "mlp"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    num_samples: int = 5000
    data_seed: int = 42
    lr: float = 0.05
    momentum: float = 0.0
    weight_decay: float = 0.0
    batch_size: int = 100
    epochs: int = 50
    eval_every: int | None = None
    lr_schedule: str = "constant"
    perturbation: dict[str, Any] | None = None
    augment: str | None = None
    precision: str = "fp32"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and its allowed range."""
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset={self.dataset!r} is unknown; allowed: {list(DATASETS)}")
        if self.model not in MODELS:
            raise ValueError(f"model={self.model!r} is unknown; allowed: {list(MODELS)}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr={self.lr!r} must be a finite number > 0")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum={self.momentum!r} must lie in [0, 1)")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay={self.weight_decay!r} must be ≥ 0")
        for name in ("batch_size", "epochs", "num_samples"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be an integer ≥ 1")
        if self.eval_every is not None and (
            not isinstance(self.eval_every, int) or self.eval_every < 1
        ):
            raise ValueError(f"eval_every={self.eval_every!r} must be an integer ≥ 1 or None")
        if self.perturbation is not None:
            from fpt_core.protocols.registry import build_protocol

            build_protocol(self.perturbation)  # raises ValueError on a bad spec
        if self.augment not in AUGMENTATIONS:
            raise ValueError(f"augment={self.augment!r} is unknown; allowed: {list(AUGMENTATIONS)}")
        if self.augment is not None and self.dataset not in _IMAGE_DATASETS:
            raise ValueError(
                f"augment={self.augment!r} needs 32×32 images: dataset must be one of "
                f"{list(_IMAGE_DATASETS)}, got {self.dataset!r}"
            )
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision={self.precision!r} is unknown; allowed: {list(PRECISIONS)}"
            )
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule={self.lr_schedule!r} is unknown; allowed: {list(LR_SCHEDULES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lr_at(self, step: int, total_steps: int) -> float:
        """Base learning rate η_t at optimiser step ``step`` (0-based)."""
        if self.lr_schedule == "cosine":
            return self.lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))
        return self.lr
