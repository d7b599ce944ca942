"""Pytree states for the Lyapunov code: a tensor or a nested ``str``-keyed mapping of tensors.

Every leaf carries a leading *pair* dimension ``P`` (one row per reference trajectory); the
helpers map, compare and normalise such states leafwise, in float64 where norms are involved,
and check the inputs of :func:`fpt_core.dynamics.lyapunov.lyapunov_benettin`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from fpt_core.stats.checks import check_int

__all__ = ["State", "StepFn"]

State = torch.Tensor | Mapping[str, "State"]
"""A tensor or a (nested) mapping of tensors, each with a leading pair dimension ``P``."""

StepFn = Callable[[State, int], State]


# --------------------------------------------------------------------------------------------
# pytree helpers (tensor or nested str-keyed mapping of tensors)
# --------------------------------------------------------------------------------------------


def _leaves(state: State) -> list[torch.Tensor]:
    """Leaves in deterministic (mapping insertion) order."""
    if isinstance(state, torch.Tensor):
        return [state]
    return [leaf for key in state for leaf in _leaves(state[key])]


def _map(fn: Callable[..., torch.Tensor], *states: State) -> State:
    """Apply ``fn`` leafwise to states of identical structure."""
    first = states[0]
    if isinstance(first, torch.Tensor):
        return fn(*states)
    return {key: _map(fn, *(s[key] for s in states)) for key in first}


def _structure(state: State) -> Any:
    if isinstance(state, torch.Tensor):
        return None
    return tuple((key, _structure(state[key])) for key in state)


def _as_state(obj: Any, name: str) -> State:
    """Convert array-likes to float64 tensors; validate the container type."""
    if isinstance(obj, torch.Tensor):
        return obj.detach()
    if isinstance(obj, Mapping):
        if len(obj) == 0:
            raise ValueError(f"{name} must be a tensor or a non-empty mapping of tensors")
        for key in obj:
            if not isinstance(key, str):
                raise ValueError(f"{name} mapping keys must be str, got {type(key).__name__}")
        return {key: _as_state(value, f"{name}[{key!r}]") for key, value in obj.items()}
    try:
        return torch.as_tensor(np.asarray(obj, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a tensor, an array-like or a mapping of them, got {type(obj).__name__}"
        ) from exc


def _pair_sq_norm(a: State, b: State) -> torch.Tensor:
    """Σ over all leaves and non-pair coordinates of (a − b)², per pair, in float64: shape (P,)."""
    total = None
    for la, lb in zip(_leaves(a), _leaves(b), strict=True):
        sq = (la - lb).reshape(la.shape[0], -1).to(torch.float64).pow(2).sum(dim=1)
        total = sq if total is None else total + sq
    return total


def _scale_pairs(leaf: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Multiply row p of ``leaf`` by ``scale[p]`` (scale is float64, cast to the leaf dtype)."""
    return leaf * scale.to(device=leaf.device, dtype=leaf.dtype).view(-1, *([1] * (leaf.ndim - 1)))


def _random_unit(template: State, generator: torch.Generator) -> State:
    """Standard-normal pytree like ``template``, normalised to unit norm per pair (float64)."""
    draws = _map(
        lambda leaf: torch.randn(
            leaf.shape, generator=generator, dtype=torch.float64, device=generator.device
        ),
        template,
    )
    zeros = _map(torch.zeros_like, draws)
    norm = _pair_sq_norm(draws, zeros).sqrt()
    return _map(
        lambda d, leaf: _scale_pairs(d, 1.0 / norm).to(device=leaf.device, dtype=leaf.dtype),
        draws,
        template,
    )


def _prepare_x0(x0: Any, n_pairs: int | None) -> State:
    state = _as_state(x0, "x0")
    leaves = _leaves(state)
    for leaf in leaves:
        if not leaf.is_floating_point():
            raise ValueError(f"x0 leaves must be floating point tensors, got dtype {leaf.dtype}")
    if n_pairs is not None:
        n_pairs = check_int(n_pairs, "n_pairs", 1)
        return _map(lambda leaf: leaf.unsqueeze(0).expand(n_pairs, *leaf.shape).clone(), state)
    sizes = {leaf.shape[0] if leaf.ndim > 0 else None for leaf in leaves}
    if None in sizes:
        raise ValueError("x0 leaves need a leading pair dimension (P, ...); or pass n_pairs")
    if len(sizes) != 1:
        raise ValueError(f"x0 leaves must share the leading pair dimension, got sizes {sizes}")
    if sizes.pop() < 1:
        raise ValueError("x0 must hold at least one pair (leading dimension ≥ 1)")
    return _map(lambda leaf: leaf.clone(), state)


def _prepare_direction(direction: Any, x: State) -> State:
    d = _as_state(direction, "direction")
    if _structure(d) != _structure(x):
        raise ValueError("direction must have the same structure (keys) as x0")

    def fit(leaf_d: torch.Tensor, leaf_x: torch.Tensor) -> torch.Tensor:
        if leaf_d.shape == leaf_x.shape[1:]:
            leaf_d = leaf_d.unsqueeze(0).expand_as(leaf_x)
        if leaf_d.shape != leaf_x.shape:
            raise ValueError(
                f"direction leaf shape {tuple(leaf_d.shape)} must equal the state's "
                f"{tuple(leaf_x.shape)} or {tuple(leaf_x.shape[1:])}"
            )
        return leaf_d.to(dtype=torch.float64, device=leaf_x.device)

    d = _map(fit, d, x)
    norm = _pair_sq_norm(d, _map(torch.zeros_like, d)).sqrt()
    if not bool(torch.all(torch.isfinite(norm) & (norm > 0))):
        raise ValueError("direction must be finite with a nonzero norm for every pair")
    return _map(lambda dl, xl: _scale_pairs(dl, 1.0 / norm).to(xl.dtype), d, x)


def _call_step(step: StepFn, x: State, y: State, t: int, P: int) -> tuple[State, State]:
    """Advance reference and companion together: one call on the stacked batch of 2P states."""
    z = _map(lambda a, b: torch.cat([a, b], dim=0), x, y)
    out = step(z, t)
    out = _as_state(out, "step(states, t) output") if not isinstance(out, torch.Tensor) else out
    if _structure(out) != _structure(z):
        raise ValueError("step must return a state with the same structure (keys) as its input")
    for lz, lo in zip(_leaves(z), _leaves(out), strict=True):
        if lo.shape != lz.shape:
            raise ValueError(
                f"step must preserve leaf shapes: got {tuple(lo.shape)} for input {tuple(lz.shape)}"
            )
    out = _map(lambda leaf: leaf.detach(), out)
    return _map(lambda leaf: leaf[:P], out), _map(lambda leaf: leaf[P:], out)


def _separation(x: State, y: State, project: Callable[[State], State] | None) -> State:
    """``y − x``, projected by ``project`` when given."""
    diff = _map(lambda a, b: b - a, x, y)
    if project is None:
        return diff
    out = project(diff)
    if _structure(out) != _structure(diff):
        raise ValueError("project must return a state with the same structure as its input")
    return out


def _norm(sep: State) -> torch.Tensor:
    return _pair_sq_norm(sep, _map(torch.zeros_like, sep)).sqrt()


def _unit(sep: State, like: State) -> State:
    norm = _norm(sep)
    if not bool(torch.all(torch.isfinite(norm) & (norm > 0))):
        raise ValueError("the (projected) initial direction must be nonzero for every pair")
    return _map(lambda d, leaf: _scale_pairs(d, 1.0 / norm).to(leaf.dtype), sep, like)
