"""Train R independent replicas at once.

Each replica has its own seed: ``torch.manual_seed(seed)`` before building the model draws its
initial weights (as in the seed paper's released code), and a generator derived from the seed
draws its data order (a fresh permutation every epoch). Parameters are stacked along a leading
replica axis (``torch.func.stack_module_state``) and R replicas cost one batched computation, not a
Python loop: the plain MLP through hand-written batched matmuls (:mod:`fpt_core.train.batched`), other
models through ``vmap(grad(loss))``, and models with BatchNorm on a GPU as one grouped-convolution
network (:mod:`fpt_core.train.grouped`) whose BatchNorm statistics stay per replica. On the CPU,
BatchNorm models take gradients replica by replica (oneDNN's grouped-convolution backward was
measured slower than the loop). Image minibatches are gathered as ``uint8``, augmented per replica
(``augment="crop_flip"``, :mod:`fpt_core.train.augment`) and standardised on the device;
``precision="bf16"`` runs forward and backward under autocast.

The optimiser is SGD with momentum written on the stacked tensors, identical to
``torch.optim.SGD`` (``b ← μ b + g + λ θ``; ``θ ← θ − η_t b``; PyTorch's fused kernel when every
replica is alive at the base learning rate). A replica whose loss becomes NaN
or ±inf is marked diverged at that step, set back to its (finite) initial weights with zero
momentum, frozen there and no longer evaluated; the others are unaffected.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap
from tqdm import tqdm

from fpt_core.train import checkpoint as ckpt
from fpt_core.train.augment import random_crop_flip
from fpt_core.train.batched import MLPKernel, is_plain_mlp
from fpt_core.train.config import TrainConfig
from fpt_core.train.data import Data
from fpt_core.train.grouped import grouped_forward, grouped_grads
from fpt_core.train.models import build_model, has_batchnorm
from fpt_core.train.optim import sgd_step, uniform_step
from fpt_core.train.progress import emit as emit_progress
from fpt_core.train.replica_groups import replica_group

__all__ = ["ENGINE_VERSION", "EnsembleState", "Hook", "train_ensemble", "derive_seed", "init_model"]

# 2: hand-written MLP gradients, fused SGD step (float-rounding changes)
# 3: test accuracy is k/n in float64 (0.57 was stored as float32's 0.5699999928)
ENGINE_VERSION = "3"
Hook = Callable[["EnsembleState"], list[dict[str, Any]]]


def derive_seed(seed: int, stream: str) -> int:
    """An independent 63-bit seed for ``stream`` (e.g. ``"order"``) of run ``seed``."""
    digest = hashlib.sha256(f"{int(seed)}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def init_model(config: TrainConfig, data: Data, seed: int) -> nn.Module:
    """The model of run ``seed``: ``torch.manual_seed(seed)`` then PyTorch's default init."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return build_model(config.model, data.input_shape, data.n_classes, **config.model_kwargs)


@dataclass
class EnsembleState:
    """Everything a protocol (perturbation, scheduler) may read or change between steps.

    Tensors have a leading replica axis of length ``R``. ``lr_scale[name]`` (shape (R,)) multiplies
    the base learning rate for parameter ``name``; ``alive`` is False for diverged replicas.
    """

    config: TrainConfig
    seeds: list[int]
    base: nn.Module
    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]
    momentum: dict[str, torch.Tensor]
    init_params: dict[str, torch.Tensor]
    init_buffers: dict[str, torch.Tensor]
    lr_scale: dict[str, torch.Tensor]
    alive: torch.Tensor
    data: Data
    steps_per_epoch: int
    step: int = 0
    lr_restart_step: int = 0
    events: list[list[dict[str, Any]]] = field(default_factory=list)
    kernel: MLPKernel | None = None  # hand-written batched gradients for a plain MLP
    group: int = 0  # replicas per vmap call (fpt_core.train.replica_groups); 0: all

    @property
    def R(self) -> int:
        return len(self.seeds)

    @property
    def epoch(self) -> float:
        return self.step / self.steps_per_epoch

    def fresh_params(self, stream: str) -> dict[str, torch.Tensor]:
        """A fresh default initialisation per replica, seeded by (seed, ``stream``)."""
        models = [init_model(self.config, self.data, derive_seed(s, stream)) for s in self.seeds]
        params, _ = stack_module_state(models)
        dev = self.data.x_train.device
        return {k: v.detach().to(dev) for k, v in params.items()}

    def record(self, kind: str, replicas: Sequence[int] | None = None, **info: Any) -> None:
        """Append an event to the log of each replica in ``replicas`` (default: all alive)."""
        idx = range(self.R) if replicas is None else replicas
        for r in idx:
            if self.alive[r]:
                self.events[r].append(
                    {"step": self.step, "epoch": self.epoch, "kind": kind, **info}
                )


def _cross_entropy(base: nn.Module):
    def loss(p, b, x, y):
        return F.cross_entropy(functional_call(base, (p, b), (x,)), y)

    return loss


def _grads_vmap(state: EnsembleState, xb: torch.Tensor, yb: torch.Tensor):
    fn = vmap(grad_and_value(_cross_entropy(state.base)))
    g = state.group or state.R
    if g >= state.R:
        return fn(state.params, state.buffers, xb, yb)
    parts = [  # groups of replicas whose activations fit in cache (CPU)
        fn({k: v[s : s + g] for k, v in state.params.items()},
           {k: v[s : s + g] for k, v in state.buffers.items()}, xb[s : s + g], yb[s : s + g])
        for s in range(0, state.R, g)
    ]  # fmt: skip
    grads = {k: torch.cat([p[0][k] for p in parts]) for k in state.params}
    return grads, torch.cat([p[1] for p in parts])


GROUPED_ON = ("cuda",)  # device types where BatchNorm models train as one grouped network


def _grads_grouped(state: EnsembleState, xb: torch.Tensor, yb: torch.Tensor):
    return grouped_grads(
        state.base,
        state.params,
        state.buffers,
        xb,
        yb,
        state.alive,
        channels_last=xb.device.type == "cuda",
    )


def _grads_loop(state: EnsembleState, xb: torch.Tensor, yb: torch.Tensor):
    loss_fn = _cross_entropy(state.base)
    grads = {k: torch.zeros_like(v) for k, v in state.params.items()}
    losses = torch.full((state.R,), float("nan"), device=xb.device)
    for r in range(state.R):
        if not state.alive[r]:
            continue
        p = {k: v[r].detach().requires_grad_(True) for k, v in state.params.items()}
        b = {k: v[r] for k, v in state.buffers.items()}  # views: BN statistics update in place
        with torch.enable_grad():
            loss = loss_fn(p, b, xb[r], yb[r])
            g = torch.autograd.grad(loss, list(p.values()))
        for k, gk in zip(p, g, strict=True):
            grads[k][r] = gk
        losses[r] = loss.detach()
    return grads, losses


@torch.no_grad()
def evaluate(state: EnsembleState, chunk_elems: int = 1 << 18) -> tuple[torch.Tensor, torch.Tensor]:
    """Test accuracy (correct / n, float64 on the CPU) and mean cross-entropy per replica, (R,) each."""
    x, y, R = state.data.x_test, state.data.y_test, state.R
    state.base.eval()
    correct = torch.zeros(R, device=x.device)
    total_loss = torch.zeros(R, device=x.device)
    chunk = max(1, chunk_elems // R)
    fwd = lambda p, b, xc: functional_call(state.base, (p, b), (xc,))  # noqa: E731
    batched = not has_batchnorm(state.base)
    kernel = state.kernel
    for i in range(0, x.shape[0], chunk):
        xc, yc = state.data.prepare(x[i : i + chunk]), y[i : i + chunk]
        if kernel is not None:
            logits = kernel.forward(state.params, xc.expand(R, *xc.shape))[0]
        elif batched:
            logits = vmap(fwd, in_dims=(0, 0, None))(state.params, state.buffers, xc)
        else:  # BatchNorm: one grouped network, running statistics per replica
            logits = grouped_forward(
                state.base, state.params, state.buffers, xc, training=False, shared_input=True
            )
        correct += (logits.argmax(-1) == yc).sum(-1)
        total_loss += (
            F.cross_entropy(logits.flatten(0, 1), yc.repeat(R), reduction="none")
            .view(R, -1)
            .sum(-1)
        )
    state.base.train()
    # k/n in float64 (on the CPU: MPS has no float64): a stored 0.57 is the float 0.57, so a
    # target of 0.57 means "≥ 57 %"
    return correct.cpu().double() / x.shape[0], total_loss / x.shape[0]


def _new_state(config: TrainConfig, seeds: Sequence[int], data: Data) -> EnsembleState:
    dev = data.x_train.device
    models = [init_model(config, data, s) for s in seeds]
    params, buffers = stack_module_state(models)
    params = {k: v.detach().to(dev) for k, v in params.items()}
    buffers = {k: v.detach().to(dev) for k, v in buffers.items()}
    base = copy.deepcopy(models[0]).to("meta")
    base.train()
    R = len(seeds)
    return EnsembleState(
        config=config,
        seeds=[int(s) for s in seeds],
        base=base,
        params=params,
        buffers=buffers,
        momentum={k: torch.zeros_like(v) for k, v in params.items()},
        init_params={k: v.clone() for k, v in params.items()},
        init_buffers={k: v.clone() for k, v in buffers.items()},
        lr_scale={k: torch.ones(R, device=dev) for k in params},
        alive=torch.ones(R, dtype=torch.bool, device=dev),
        data=data,
        steps_per_epoch=math.ceil(data.n_train / config.batch_size),
        events=[[] for _ in seeds],
        kernel=MLPKernel(base) if is_plain_mlp(base) and config.precision == "fp32" else None,
        group=replica_group(base, data.input_shape, config.batch_size, R, dev),
    )


def train_ensemble(
    config: TrainConfig,
    seeds: Sequence[int],
    data: Data,
    *,
    hooks: Sequence[Hook] = (),
    progress: bool = True,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
) -> list[dict[str, Any]]:
    """Train one replica per seed, all at once, on ``data`` (already on the training device).

    Returns one record per seed: ``seed``, ``status`` (``"ok"`` or ``"diverged"``),
    ``diverged_step``, ``trajectory`` (lists ``step, epoch, test_acc, test_loss, train_loss``; the
    train loss is the mean minibatch loss since the previous evaluation) and ``events``. ``hooks``
    run after every evaluation except the first, in order, and may change the state; a hook with
    a ``start(state)`` method also has it called once, after the evaluation at step 0 and before
    the first step.

    With ``checkpoint`` (a file path) and ``checkpoint_every`` (epochs ≥ 1), the full state is
    written there atomically every ``checkpoint_every`` epochs (:mod:`fpt_core.train.checkpoint`); a
    call that finds a checkpoint of the same configuration, seeds and engine version continues
    from it, bit-identically to an uninterrupted run at the same thread count. Every hook must
    then have ``state_dict``/``load_state_dict`` (checked before training).
    """
    if checkpoint is not None:
        if not (isinstance(checkpoint_every, int) and checkpoint_every >= 1):
            raise ValueError(
                f"checkpoint_every={checkpoint_every!r} must be an integer ≥ 1 (epochs)"
            )
        ckpt.check_hooks(hooks)
    t0 = time.perf_counter()
    state = _new_state(config, seeds, data)
    R, dev, N, B = state.R, data.x_train.device, data.n_train, config.batch_size
    spe = state.steps_per_epoch
    total = config.epochs * spe
    eval_every = config.eval_every or spe
    kernel = state.kernel
    if kernel is not None:
        grads_fn = lambda st, xb, yb: kernel.grads(st.params, xb, yb)  # noqa: E731
    else:
        grads_fn = _grads_vmap
        if has_batchnorm(state.base):  # oneDNN's grouped-conv backward is slower than a loop
            grads_fn = _grads_grouped if dev.type in GROUPED_ON else _grads_loop
    aug_gens = [
        torch.Generator(device=dev).manual_seed(derive_seed(s, "augment"))
        for s in (seeds if config.augment else [])
    ]
    autocast = (
        torch.autocast(dev.type, dtype=torch.bfloat16)
        if config.precision == "bf16"
        else contextlib.nullcontext()
    )
    # everything the loop carries from step to step (a checkpoint saves it with the state)
    loop: dict[str, Any] = {
        "gens": [torch.Generator().manual_seed(derive_seed(s, "order")) for s in seeds],
        "aug_gens": aug_gens,
        "traj": {
            k: [[] for _ in range(R)]
            for k in ("step", "epoch", "test_acc", "test_loss", "train_loss")
        },
        "diverged_step": [None] * R,
        "loss_sum": torch.zeros(R, device=dev),
        "loss_n": 0,
    }
    traj, gens = loop["traj"], loop["gens"]

    def log_eval() -> None:
        acc, loss = evaluate(state)
        n = loop["loss_n"]
        train = (loop["loss_sum"] / n) if n else torch.full((R,), float("nan"), device=dev)
        for r in torch.nonzero(state.alive).flatten().tolist():
            for name, v in (("test_acc", acc), ("test_loss", loss), ("train_loss", train)):
                traj[name][r].append(float(v[r]))
            traj["step"][r].append(state.step)
            traj["epoch"][r].append(state.epoch)
        loop["loss_sum"], loop["loss_n"] = torch.zeros(R, device=dev), 0

    if checkpoint is not None and ckpt.load(checkpoint, state, loop, hooks, ENGINE_VERSION):
        traj = loop["traj"]
    else:
        log_eval()
        for hook in hooks:  # a protocol that acts at initialisation too (e.g. TempBalance)
            start = getattr(hook, "start", None)
            if start is not None:
                start(state)
    diverged_step = loop["diverged_step"]
    uniform = uniform_step(state)
    bar = tqdm(
        total=config.epochs,
        desc=f"train R={R}",
        unit="epoch",
        disable=not progress,
        leave=False,
        initial=state.step // spe,
    )
    perm = None
    while state.step < total:
        pos = state.step % spe
        if pos == 0:
            perm = torch.stack([torch.randperm(N, generator=g) for g in gens]).to(dev)
        idx = perm[:, pos * B : (pos + 1) * B]
        xb = data.x_train[idx]
        if aug_gens:
            xb = torch.stack([random_crop_flip(xb[r], 4, g) for r, g in enumerate(aug_gens)])
        with autocast:
            grads, losses = grads_fn(state, data.prepare(xb), data.y_train[idx])
        bad = state.alive & ~torch.isfinite(losses)
        if bad.any():
            for r in torch.nonzero(bad).flatten().tolist():
                state.record("diverged", [r])
                diverged_step[r] = state.step
            with torch.no_grad():  # freeze at finite weights so the batch stays finite
                for k, p in state.params.items():
                    p[bad] = state.init_params[k][bad]
                    state.momentum[k][bad] = 0.0
            state.alive &= ~bad
            uniform = False
        lr = config.lr_at(state.step - state.lr_restart_step, total)
        sgd_step(state, grads, lr, uniform)
        loop["loss_sum"] += torch.where(state.alive, losses, torch.zeros_like(losses)).detach()
        loop["loss_n"] += 1
        state.step += 1
        if state.step % eval_every == 0 or state.step == total:
            log_eval()
            for hook in hooks:
                hook(state)
            uniform = uniform_step(state)
        if state.step % spe == 0:
            bar.update(1)
            emit_progress("epoch", epoch=state.step // spe, epochs=config.epochs, replicas=R)
            if checkpoint is not None and (state.step // spe) % checkpoint_every == 0:
                if state.step < total:
                    ckpt.save(checkpoint, state, loop, hooks, ENGINE_VERSION)
    bar.close()
    wall = time.perf_counter() - t0
    return [
        {
            "seed": int(s),
            "status": "ok" if diverged_step[r] is None else "diverged",
            "diverged_step": diverged_step[r],
            "trajectory": {k: v[r] for k, v in traj.items()},
            "events": state.events[r],
            "wall_time_s": wall / R,
        }
        for r, s in enumerate(seeds)
    ]
