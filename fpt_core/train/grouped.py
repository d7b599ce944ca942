r"""R replicas of one architecture as ONE grouped network (one forward, one backward per step).

The engine keeps the state of R replicas as stacked tensors with a leading replica axis
(``torch.func.stack_module_state``). Models with BatchNorm cannot go through ``vmap`` with
per-replica running statistics updated in place, so the engine took their gradients replica by
replica. This module instead rewrites the architecture once into a *grouped* network whose
channels are the concatenation of the R replicas' channels (replica-major: channel ``r·C + c`` is
channel ``c`` of replica ``r``), and feeds it *views* of the stacked tensors:

* ``ConvNd(C_in, C_out, groups=g)`` → ``ConvNd(R·C_in, R·C_out, groups=R·g)``. The stacked weight
  :math:`W \in \mathbb{R}^{R \times C_{out} \times C_{in}/g \times k \ldots}` viewed as
  :math:`(R\,C_{out}) \times C_{in}/g \times k \ldots` is exactly that grouped weight: output
  group :math:`r g + j` reads input channels :math:`r C_{in} + j C_{in}/g, \ldots`, i.e. only
  replica r's channels (grouped convolution: Krizhevsky et al. 2012; ``torch.nn.Conv2d`` docs).
* ``BatchNorm(C)`` → ``BatchNorm(R·C)``: statistics are per channel, hence per replica;
  ``running_mean``/``running_var`` of shape (R, C) viewed as (R·C,) are updated in place.
  ``num_batches_tracked`` (one counter in the grouped layer) is advanced per replica afterwards.
* ``Linear(in, out)`` → :class:`GroupedLinear`: input ``[..., R·in]`` is viewed as
  ``[..., R, in]`` and :math:`y_{\cdot r o} = \sum_i x_{\cdot r i} W_{r o i} + b_{r o}` (batched
  einsum) with the stacked (R, out, in) weight.
* ReLU, pooling (incl. adaptive average pooling), residual additions act per channel or
  elementwise; ``Flatten`` of ``(B, R·C, *S)`` gives ``(B, R·C·∏S)`` whose replica-major order
  keeps each replica's features contiguous, as :class:`GroupedLinear` needs.

Every replica's output therefore depends only on its own input, parameters and buffers, and the
gradient of :math:`\sum_r \mathcal{L}_r` w.r.t. the stacked tensors is, slice r, the gradient of
:math:`\mathcal{L}_r` (the "ensemble as one grouped network" trick). Because the parameters passed
to :func:`torch.func.functional_call` are reshapes (views) of the stacked tensors, autograd returns
gradients directly in the stacked (R, ...) layout.
"""

from __future__ import annotations

import copy
import math
import weakref
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["GroupedLinear", "grouped_module", "grouped_forward", "grouped_grads"]

# modules with no parameters/buffers that act per channel or elementwise (safe in grouped layout)
_PASSTHROUGH = (
    nn.ReLU,
    nn.Identity,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


class GroupedLinear(nn.Module):
    """R independent ``Linear(in_features, out_features)`` on a replica-major input.

    ``weight`` has shape (R, out, in), ``bias`` (R, out). Input ``[..., R·in]`` → output
    ``[..., R·out]``.
    """

    def __init__(self, R: int, in_features: int, out_features: int, bias: bool = True, device=None):
        super().__init__()
        self.R, self.in_features, self.out_features = R, in_features, out_features
        self.weight = nn.Parameter(torch.empty(R, out_features, in_features, device=device))
        self.bias = nn.Parameter(torch.empty(R, out_features, device=device)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        xr = x.reshape(-1, self.R, self.in_features)
        y = torch.einsum("nri,roi->nro", xr, self.weight)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*lead, self.R * self.out_features)


@dataclass
class _Grouped:
    module: nn.Module
    R: int
    unsqueeze: bool  # SmallCNN on sequences (L,): add the channel axis before grouping
    keep: frozenset[str]  # names passed as stacked tensors unchanged (GroupedLinear)
    counters: tuple[str, ...]  # BatchNorm num_batches_tracked names
    bn_cumulative: tuple[str, ...]  # num_batches_tracked of BatchNorms with momentum=None


def _convert(module: nn.Module, R: int, prefix: str, keep: set[str]) -> None:
    for name, child in list(module.named_children()):
        path = f"{prefix}{name}"
        if isinstance(child, _CONVS):
            new: nn.Module = type(child)(
                child.in_channels * R,
                child.out_channels * R,
                child.kernel_size,
                stride=child.stride,
                padding=child.padding,
                dilation=child.dilation,
                groups=child.groups * R,
                bias=child.bias is not None,
                padding_mode=child.padding_mode,
                device="meta",
            )
        elif isinstance(child, _BatchNorm):
            new = type(child)(
                child.num_features * R,
                eps=child.eps,
                momentum=child.momentum,
                affine=child.affine,
                track_running_stats=child.track_running_stats,
                device="meta",
            )
        elif isinstance(child, nn.Linear):
            new = GroupedLinear(
                R, child.in_features, child.out_features, child.bias is not None, device="meta"
            )
            keep.update(f"{path}.{n}" for n, _ in new.named_parameters())
        elif isinstance(child, nn.Flatten):
            if child.start_dim != 1 or child.end_dim != -1:
                raise NotImplementedError(f"{path}: only Flatten(1, -1) keeps replicas contiguous")
            continue
        elif isinstance(child, _PASSTHROUGH):
            continue
        else:
            own = list(child.named_parameters(recurse=False)) + list(
                child.named_buffers(recurse=False)
            )
            if own:
                raise NotImplementedError(
                    f"{path}: {type(child).__name__} has no grouped counterpart "
                    "(supported: Conv1d/2d/3d, BatchNorm, Linear, ReLU, Flatten, pooling)"
                )
            _convert(child, R, f"{path}.", keep)
            continue
        setattr(module, name, new)


_CACHE: weakref.WeakKeyDictionary[nn.Module, dict[int, _Grouped]] = weakref.WeakKeyDictionary()


def _grouped(base: nn.Module, R: int) -> _Grouped:
    per_base = _CACHE.setdefault(base, {})
    if R not in per_base:
        module = copy.deepcopy(base).to("meta")
        keep: set[str] = set()
        _convert(module, R, "", keep)
        unsqueeze = bool(getattr(module, "unsqueeze", False))
        if unsqueeze:
            module.unsqueeze = False  # type: ignore[assignment]
        counters, cumulative = [], []
        for name, m in module.named_modules():
            if isinstance(m, _BatchNorm) and m.track_running_stats:
                key = f"{name}.num_batches_tracked" if name else "num_batches_tracked"
                counters.append(key)
                if m.momentum is None:
                    cumulative.append(key)
        per_base[R] = _Grouped(
            module, R, unsqueeze, frozenset(keep), tuple(counters), tuple(cumulative)
        )
    return per_base[R]


def grouped_module(base: nn.Module, R: int) -> nn.Module:
    """The grouped (meta-device) counterpart of ``base`` for ``R`` replicas (cached per base, R)."""
    return _grouped(base, R).module


def _replica_count(params: dict[str, torch.Tensor]) -> int:
    return int(next(iter(params.values())).shape[0])


def grouped_forward(
    base: nn.Module,
    params: dict[str, torch.Tensor],
    buffers: dict[str, torch.Tensor],
    x: torch.Tensor,
    training: bool = True,
    *,
    shared_input: bool = False,
    channels_last: bool = False,
    autocast_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Logits of R replicas in one grouped forward pass.

    Parameters
    ----------
    base : nn.Module
        One replica's architecture (any device, e.g. the engine's meta-device ``base``).
    params, buffers : dict
        Stacked state, each tensor of shape (R, ...) (``torch.func.stack_module_state``).
    x : torch.Tensor
        Inputs of shape (R, B, ...) — replica r sees ``x[r]`` — or, with ``shared_input``, one
        batch (B, ...) seen by every replica (evaluation).
    training : bool
        BatchNorm mode. In training mode the batch statistics are used and the running
        statistics in ``buffers`` are updated in place (and each replica's
        ``num_batches_tracked`` advanced by one); in eval mode the running statistics are used.
    channels_last : bool
        Give 2-D convolutions a channels-last input (faster on GPUs with tensor cores).
    autocast_dtype : torch.dtype or None
        Run the forward under ``torch.autocast`` with this dtype (e.g. ``torch.bfloat16``).

    Returns
    -------
    torch.Tensor
        Logits of shape (R, B, n_classes).
    """
    R = _replica_count(params)
    g = _grouped(base, R)
    if shared_input:
        x = x.unsqueeze(0).expand(R, *x.shape)
    if g.unsqueeze:
        x = x.unsqueeze(2)
    B = x.shape[1]
    xg = x.transpose(0, 1).reshape(B, R * x.shape[2], *x.shape[3:])
    if channels_last and xg.ndim == 4:
        xg = xg.contiguous(memory_format=torch.channels_last)
    p = {
        k: v if k in g.keep else v.reshape(R * v.shape[1], *v.shape[2:]) for k, v in params.items()
    }
    b: dict[str, torch.Tensor] = {}
    writeback: list[tuple[torch.Tensor, torch.Tensor]] = []
    for k, v in buffers.items():
        if k in g.counters:
            if k in g.bn_cumulative and training and not bool((v == v[0]).all()):
                raise ValueError(
                    f"{k}: BatchNorm(momentum=None) needs equal num_batches_tracked in all replicas"
                )
            b[k] = v[0].clone()
        elif v.is_contiguous():
            b[k] = v.view(R * v.shape[1], *v.shape[2:])
        else:  # a reshape would copy: update a contiguous copy and write it back
            c = v.contiguous()
            writeback.append((v, c))
            b[k] = c.view(R * v.shape[1], *v.shape[2:])
    g.module.train(training)
    if autocast_dtype is not None:
        with torch.autocast(device_type=xg.device.type, dtype=autocast_dtype):
            out = functional_call(g.module, (p, b), (xg,))
    else:
        out = functional_call(g.module, (p, b), (xg,))
    if training:
        with torch.no_grad():
            for v, c in writeback:
                v.copy_(c)
            for k in g.counters:
                if k in buffers:
                    buffers[k].add_(1)
    return out.reshape(B, R, -1).transpose(0, 1)


def grouped_grads(
    base: nn.Module,
    params: dict[str, torch.Tensor],
    buffers: dict[str, torch.Tensor],
    xb: torch.Tensor,
    yb: torch.Tensor,
    alive: torch.Tensor | None = None,
    *,
    channels_last: bool = False,
    autocast_dtype: torch.dtype | None = None,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Per-replica gradients and losses of the mean cross-entropy, one grouped forward/backward.

    Same semantics as the engine's replica-by-replica loop: ``grads[name][r]`` is the gradient of
    replica r's mean cross-entropy on ``(xb[r], yb[r])`` (``xb`` (R, B, ...), ``yb`` (R, B)) and
    ``losses[r]`` that loss (shape (R,)); for a dead replica (``alive[r]`` False) the gradient is
    zero, the loss NaN and its BatchNorm buffers are left untouched. Running statistics of the
    live replicas are updated in place in ``buffers``.
    """
    R, B = _replica_count(params), xb.shape[1]
    dev = xb.device
    alive = torch.ones(R, dtype=torch.bool, device=dev) if alive is None else alive.to(dev)
    dead = ~alive
    any_dead = bool(dead.any())
    saved = {k: v[dead].clone() for k, v in buffers.items()} if any_dead else {}
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    with torch.enable_grad():
        logits = grouped_forward(
            base,
            leaves,
            buffers,
            xb,
            training=True,
            channels_last=channels_last,
            autocast_dtype=autocast_dtype,
        )
        if logits.dtype not in (torch.float32, torch.float64):  # autocast: loss in float32
            logits = logits.float()
        per = F.cross_entropy(logits.reshape(R * B, -1), yb.reshape(R * B), reduction="none")
        per = per.view(R, B)
        losses = per.mean(1)
        total = torch.where(alive, losses, torch.zeros_like(losses)).sum()
        g = torch.autograd.grad(total, list(leaves.values()))
    grads = {}
    for k, gk in zip(leaves, g, strict=True):
        if any_dead:
            gk = torch.where(alive.view(-1, *([1] * (gk.ndim - 1))), gk, torch.zeros_like(gk))
        grads[k] = gk
    if any_dead:
        with torch.no_grad():
            for k, v in saved.items():
                buffers[k][dead] = v
    nan = torch.full_like(losses, math.nan)
    return grads, torch.where(alive, losses.detach(), nan)
