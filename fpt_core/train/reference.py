"""The plain PyTorch way to train one run: an ``nn.Module`` and ``torch.optim.SGD`` in a loop.

It draws the same initial weights and the same data order as :func:`fpt_core.train.engine.train_ensemble`
for the same seed, so it is the oracle for the batched engine (tests) and the baseline it is
benchmarked against (``bench/``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fpt_core.protocols.plain import Perturber
from fpt_core.train.config import TrainConfig
from fpt_core.train.data import Data
from fpt_core.train.engine import derive_seed, init_model

__all__ = ["train_solo"]


def train_solo(config: TrainConfig, seed: int, data: Data) -> dict[str, list[float]]:
    """Train one run with ``torch.optim.SGD``; return its trajectory (same fields as the engine).

    A ``config.perturbation`` (shrink & perturb, reset, partial reset, warm restart) is applied
    by :class:`fpt_core.protocols.plain.Perturber` after each epoch's evaluation, as the engine applies it.
    """
    model = init_model(config, data, seed).to(data.x_train.device)
    opt = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
    )
    n, b = data.n_train, config.batch_size
    spe = math.ceil(n / b)
    total = config.epochs * spe
    eval_every = config.eval_every or spe
    perturber = None
    if config.perturbation is not None:
        if eval_every != spe:
            raise ValueError("train_solo: a perturbation needs one evaluation per epoch")
        perturber = Perturber(model, opt, config.perturbation, seed, set_lr=False,
                              lr_schedule=config.lr_schedule,
                              fresh_fn=lambda s: init_model(config, data, s).to(data.x_train.device))  # fmt: skip
    gen = torch.Generator().manual_seed(derive_seed(seed, "order"))
    traj: dict[str, list[float]] = {
        k: [] for k in ("step", "epoch", "test_acc", "test_loss", "train_loss")
    }
    losses: list[float] = []

    def log(step: int) -> None:
        model.eval()
        with torch.no_grad():
            logits = model(data.prepare(data.x_test))
            traj["test_acc"].append(
                int((logits.argmax(-1) == data.y_test).sum()) / len(data.y_test)
            )
            traj["test_loss"].append(float(F.cross_entropy(logits, data.y_test)))
        model.train()
        traj["train_loss"].append(sum(losses) / len(losses) if losses else float("nan"))
        traj["step"].append(step)
        traj["epoch"].append(step / spe)
        losses.clear()

    log(0)
    for step in range(total):
        if step % spe == 0:
            perm = torch.randperm(n, generator=gen).to(data.x_train.device)
        idx = perm[(step % spe) * b : (step % spe + 1) * b]
        loss = F.cross_entropy(model(data.prepare(data.x_train[idx])), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        factor, restart = (1.0, 0) if perturber is None else (perturber.lr_factor,
                                                               perturber.lr_restart_step)  # fmt: skip
        for group in opt.param_groups:
            group["lr"] = config.lr_at(step - restart, total) * factor
        opt.step()
        losses.append(float(loss.detach()))
        if (step + 1) % eval_every == 0 or step + 1 == total:
            log(step + 1)
            if perturber is not None and step + 1 < total:
                perturber.step((step + 1) // spe, step=step + 1)
    return traj
