"""Order and chaos in training dynamics: Lyapunov exponents, Jacobian norms, phase diagrams.

Training is a discrete-time dynamical system ``x_{t+1} = Φ_t(x_t)`` on the optimiser state ``x``
(parameters and, for SGD with momentum, the momentum buffer), with ``Φ_t`` depending on the
minibatch of step ``t``. Its largest Lyapunov exponent

    λ_max = lim_{n→∞} (1/n) ln( ‖δx_n‖ / ‖δx_0‖ )

separates an ordered phase (λ_max < 0: nearby runs that share the minibatch sequence converge)
from a chaotic one (λ_max > 0: they separate exponentially). It is estimated here by the
two-trajectory renormalisation method of Benettin, Galgani, Giorgilli & Strelcyn (1980,
Meccanica 15, 9–20; 21–30). The module also provides the input–output Jacobian norm of a function
(the order parameter family used by Feng, Zhang & Lai, arXiv:1909.05176, and Zhang, Feng, Chen &
Lai, arXiv:2107.09437), an engine-agnostic phase-grid runner, the ``λ = 0`` contour of a grid, and a
data-collapse test of training times against the effective learning rate ``η / (1 − μ)``.

Nothing here imports the training engine: a training step enters only as a callable.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import stats
from tqdm.auto import tqdm

__all__ = [
    "JacobianNorm",
    "LyapunovResult",
    "ScalingCollapse",
    "State",
    "edge_contour",
    "jacobian_norm",
    "lyapunov_benettin",
    "phase_grid",
    "scaling_collapse",
]

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


# --------------------------------------------------------------------------------------------
# Largest Lyapunov exponent (Benettin)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LyapunovResult:
    """Result of :func:`lyapunov_benettin`.

    Attributes
    ----------
    exponent : float
        ``λ`` per time unit (``unit``; a step unless converted), mean of ``per_pair``.
    stderr : float
        ``sd(per_pair, ddof=1) / sqrt(P)``; ``NaN`` for one pair. Honest only when the pairs are
        independent (distinct reference trajectories); pairs sharing one reference (``n_pairs``
        with a single ``x0``) are correlated and this underestimates the uncertainty.
    per_pair : ndarray (P,)
        ``λ_p = (1/n_steps) Σ_j ln(d_{j,p}/d^0_{j,p})`` per pair. ``-inf`` if the separation of a
        pair collapsed to exactly zero at some renormalisation (super-stable or underflow),
        ``NaN`` if its states became non-finite (e.g. a diverged training run).
    running : ndarray (n_renorm,)
        Running estimate after each renormalisation, mean over pairs of
        ``Σ_{i≤j} ln(d_i/d^0_i) / running_steps[j]`` (for convergence plots).
    running_steps : ndarray (n_renorm,)
        Measured steps at each renormalisation (always in steps, also after :meth:`per_epoch`).
    log_stretch : ndarray (n_renorm, P)
        The raw ``ln(d_j/d^0_j)`` per renormalisation interval and pair (not rescaled).
    n_steps, renorm_every, transient, d0
        The arguments used.
    unit : str
        ``"step"`` or ``"epoch"``.
    steps_per_unit : float
        Steps per time unit (1 for ``"step"``).
    """

    exponent: float
    stderr: float
    per_pair: np.ndarray
    running: np.ndarray
    running_steps: np.ndarray
    log_stretch: np.ndarray
    n_steps: int
    renorm_every: int
    transient: int
    d0: float
    unit: str = "step"
    steps_per_unit: float = 1.0

    @property
    def n_pairs(self) -> int:
        return int(self.per_pair.shape[0])

    def per_epoch(self, steps_per_epoch: float) -> LyapunovResult:
        """The same estimate per epoch: every exponent multiplied by ``steps_per_epoch``.

        ``λ_epoch = steps_per_epoch · λ_step`` since ``‖δx‖ ∝ exp(λ_step t)`` with ``t`` in steps.
        """
        if self.unit != "step":
            raise ValueError(f"per_epoch needs a per-step result, this one is per {self.unit!r}")
        if not (isinstance(steps_per_epoch, (int, float)) and math.isfinite(steps_per_epoch)):
            raise ValueError(
                f"steps_per_epoch must be a finite number > 0, got {steps_per_epoch!r}"
            )
        if steps_per_epoch <= 0:
            raise ValueError(f"steps_per_epoch must be > 0, got {steps_per_epoch}")
        k = float(steps_per_epoch)
        return replace(
            self,
            exponent=self.exponent * k,
            stderr=self.stderr * k,
            per_pair=self.per_pair * k,
            running=self.running * k,
            unit="epoch",
            steps_per_unit=k,
        )


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _prepare_x0(x0: Any, n_pairs: int | None) -> State:
    state = _as_state(x0, "x0")
    leaves = _leaves(state)
    for leaf in leaves:
        if not leaf.is_floating_point():
            raise ValueError(f"x0 leaves must be floating point tensors, got dtype {leaf.dtype}")
    if n_pairs is not None:
        n_pairs = _check_int(n_pairs, "n_pairs", 1)
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


def _renormalise(
    x: State, y: State, d_end: torch.Tensor, d0: float, generator: torch.Generator
) -> State:
    """Companion ← reference + d0 · (y − x)/‖y − x‖; a fresh random direction where ‖y − x‖ = 0."""
    dead = d_end == 0
    scale = torch.where(dead, torch.zeros_like(d_end), d0 / d_end)
    diff = _map(lambda a, b: _scale_pairs(b - a, scale), x, y)
    if bool(dead.any()):
        fresh = _random_unit(x, generator)
        diff = _map(
            lambda df, fr: torch.where(
                dead.to(df.device).view(-1, *([1] * (df.ndim - 1))), fr * d0, df
            ),
            diff,
            fresh,
        )
    return _map(lambda a, df: a + df, x, diff)


def _realised_separation(x: State, y: State, d0: float, t: int) -> torch.Tensor:
    d = _pair_sq_norm(y, x).sqrt()
    collapsed = (d == 0) & torch.isfinite(d)
    if bool(collapsed.any()):
        if t == 0 or bool(collapsed.all()):
            raise ValueError(
                f"d0={d0:g} is below the floating-point resolution of the state at step {t}: "
                "the companion rounds onto the reference; use a larger d0 (or float64 states)"
            )
        # one pair's weights grew so large that d0 is below their resolution: that pair's
        # estimate is lost (NaN), the others go on
        d = torch.where(collapsed, torch.full_like(d, float("nan")), d)
    return d


def lyapunov_benettin(
    step: StepFn,
    x0: Any,
    *,
    n_steps: int,
    renorm_every: int = 1,
    d0: float = 1e-8,
    n_pairs: int | None = None,
    transient: int = 0,
    direction: Any = None,
    generator: torch.Generator | None = None,
) -> LyapunovResult:
    """Largest Lyapunov exponent of ``x_{t+1} = step(x_t, t)`` by Benettin's two-trajectory method.

    For each of ``P`` pairs a reference ``x`` and a companion ``y = x + d0·u`` (``‖u‖ = 1``) are
    advanced by the same map. Every ``k = renorm_every`` steps the separation
    ``d_j = ‖y − x‖`` (Euclidean norm over all coordinates of all leaves, flattened) is recorded
    and the companion is pulled back along the current separation direction,
    ``y ← x + d0 (y − x)/d_j``. The estimate per step is

        λ = (1 / n_steps) Σ_j ln(d_j / d^0_j),   (= (1/(n_renorm k)) Σ_j ln(d_j / d0))

    (Benettin, Galgani, Giorgilli & Strelcyn 1980, Meccanica 15, 9–20 and 21–30), where ``d^0_j``
    is the separation actually realised after the previous renormalisation (``d0`` up to
    rounding of ``x + d0·u`` in the state's dtype; using it keeps float32 estimates unbiased). The
    last interval may be shorter than ``k`` when ``k`` does not divide ``n_steps``; the division by
    the total number of measured steps keeps the estimate per step.

    Parameters
    ----------
    step : callable ``(states, t) -> states``
        The map. ``states`` is a tensor or (nested) ``str``-keyed mapping of tensors whose leaves
        have a leading batch dimension ``2P``: rows ``[:P]`` are the references and ``[P:]`` the
        companions, advanced together in ONE call per step. ``t`` is the global step index
        (``0 … transient + n_steps − 1``), so a training step can select the minibatch of step
        ``t`` and feed it to both copies: Benettin's method needs both trajectories of a pair to
        see the same randomness. The map must act on rows independently (no coupling across the
        batch, e.g. no BatchNorm in training mode over it) and return the same structure and
        shapes. Its outputs are detached. For SGD with momentum the state must contain the
        momentum buffer too, otherwise the step is not a map on the state.
    x0 : tensor, array-like or mapping
        Initial references with a leading pair dimension ``P`` on every leaf; or, with
        ``n_pairs``, one unbatched state copied to ``n_pairs`` references (one trajectory,
        ``n_pairs`` initial perturbation directions). Array-likes become float64 tensors; tensors
        keep their dtype and device (float32 is fine for training states; choose ``d0`` well
        above their resolution).
    n_steps : int ≥ 1
        Measured steps (after the transient).
    renorm_every : int ≥ 1
        Steps ``k`` between renormalisations. Keep ``d0·exp(λ k)`` small (linear regime) and
        representable.
    d0 : float > 0
        Separation after each renormalisation, in the units of the state.
    n_pairs : int ≥ 1, optional
        See ``x0``.
    transient : int ≥ 0
        Steps advanced (with renormalisation) but not measured, at step indices
        ``0 … transient − 1``; they align the separation with the most unstable direction and
        let the reference reach its attractor.
    direction : state-like, optional
        Initial perturbation direction (same structure as ``x0``, leaves with or without the pair
        dimension), normalised to ``d0`` per pair over the whole pytree. Default: a standard
        normal draw from ``generator``, normalised the same way.
    generator : torch.Generator, optional
        Source of the random directions (also used to re-seed a pair whose separation collapsed
        to exactly 0). Default ``torch.Generator().manual_seed(0)`` (CPU): reproducible across
        devices, the direction is moved to the state's device afterwards.

    Returns
    -------
    LyapunovResult
        ``exponent`` per step (mean over pairs), ``stderr``, ``per_pair``, ``running``,
        ``log_stretch``; ``.per_epoch(steps_per_epoch)`` converts the time unit.
    """
    if not callable(step):
        raise ValueError("step must be a callable (states, t) -> states")
    n_steps = _check_int(n_steps, "n_steps", 1)
    renorm_every = _check_int(renorm_every, "renorm_every", 1)
    transient = _check_int(transient, "transient", 0)
    if isinstance(d0, bool) or not isinstance(d0, (int, float)) or not (0 < d0 < math.inf):
        raise ValueError(f"d0 must be a finite number > 0, got {d0!r}")
    d0 = float(d0)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    elif not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {type(generator)}")

    x = _prepare_x0(x0, n_pairs)
    P = _leaves(x)[0].shape[0]
    unit = _random_unit(x, generator) if direction is None else _prepare_direction(direction, x)
    y = _map(lambda a, u: a + u * d0, x, unit)
    d_start = _realised_separation(x, y, d0, 0)
    # pairs whose initial state is already non-finite (diverged) stay NaN; the rest must hold d0
    resolved = ~torch.isfinite(d_start) | ((d_start > 0.5 * d0) & (d_start < 2.0 * d0))
    if not bool(torch.all(resolved)):
        raise ValueError(
            f"d0={d0:g} is below the floating-point resolution of x0: the realised separation is "
            f"{d_start.min().item():.3g}…{d_start.max().item():.3g}; use a larger d0"
        )

    logs: list[torch.Tensor] = []
    counts: list[int] = []
    since = 0
    total = transient + n_steps
    for t in range(total):
        x, y = _call_step(step, x, y, t, P)
        since += 1
        measuring = t >= transient
        at_end = t == total - 1 or t == transient - 1
        if since == renorm_every or at_end:
            d_end = _pair_sq_norm(y, x).sqrt()
            if measuring:
                logs.append(torch.log(d_end) - torch.log(d_start))
                counts.append(t - transient + 1)
            since = 0
            if t < total - 1:
                y = _renormalise(x, y, d_end, d0, generator)
                d_start = _realised_separation(x, y, d0, t + 1)

    log_stretch = torch.stack(logs).cpu().numpy()
    running_steps = np.asarray(counts, dtype=np.int64)
    cumulative = np.cumsum(log_stretch, axis=0)
    with np.errstate(invalid="ignore"):
        per_pair = cumulative[-1] / n_steps
        running = np.mean(cumulative / running_steps[:, None], axis=1)
        exponent = float(np.mean(per_pair))
        stderr = float(np.std(per_pair, ddof=1) / math.sqrt(P)) if P > 1 else float("nan")
    return LyapunovResult(
        exponent=exponent,
        stderr=stderr,
        per_pair=per_pair,
        running=running,
        running_steps=running_steps,
        log_stretch=log_stretch,
        n_steps=n_steps,
        renorm_every=renorm_every,
        transient=transient,
        d0=d0,
    )


# --------------------------------------------------------------------------------------------
# Input–output Jacobian norm
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class JacobianNorm:
    """Result of :func:`jacobian_norm`.

    ``mean``, ``sd`` (ddof=1; ``NaN`` for one input), ``stderr`` (``sd/sqrt(n)``) of
    ``per_input`` (ndarray (n,)), the norm ``ord`` used, the flattened input and output
    dimensions ``in_dim`` and ``out_dim``.
    """

    mean: float
    sd: float
    stderr: float
    per_input: np.ndarray
    ord: str
    in_dim: int
    out_dim: int

    @property
    def n(self) -> int:
        return int(self.per_input.shape[0])


_JACOBIAN_ORDS = ("fro", "spectral", "rms")


def jacobian_norm(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    ord: str = "fro",
    batched: bool = True,
    chunk_size: int | None = None,
) -> JacobianNorm:
    """Norm of the input–output Jacobian ``J(x) = ∂f(x)/∂x``, per input, averaged over inputs.

    With inputs and outputs flattened, ``J(x_i)`` is an ``out_dim × in_dim`` matrix, computed by
    ``torch.func.vmap(torch.func.jacrev(f))`` over the leading dimension of ``x``. Per input:

    * ``"fro"``: ``‖J‖_F = sqrt(Σ_ab J_ab²)``;
    * ``"spectral"``: ``‖J‖_2 = σ_max(J)``, the largest singular value (the largest one-step
      stretch factor of an infinitesimal input perturbation);
    * ``"rms"``: ``‖J‖_F / sqrt(in_dim)``, the root-mean-square stretch
      ``sqrt(E‖J u‖² / E‖u‖²)`` of an isotropic random perturbation ``u`` (1 for an orthogonal
      ``J``; dimension-free, unlike ``‖J‖_F`` which is ``sqrt(n)`` for the identity).

    The result reports the mean, sd and standard error of the per-input norm over the inputs.

    Relation to the order parameters of the edge-of-chaos literature. For an iterated map
    ``h_{t+1} = F(h_t)`` with Jacobians ``J_t``, the largest Lyapunov exponent is
    ``lim (1/n) ln ‖J_n ⋯ J_1 u‖`` and obeys ``λ_max ≤ ⟨ln ‖J_t‖_2⟩ ≤ ⟨ln ‖J_t‖_F⟩`` (time
    average along the orbit); for a constant ``J`` it equals ``ln ρ(J)``, the spectral radius.
    Feng, Zhang & Lai (arXiv:1909.05176) locate the edge of chaos through the "asymptotic
    Jacobian norm" of the nonlinear operator, with a threshold that, per their abstract, depends
    on the system's dimensionality; Zhang, Feng, Chen & Lai (arXiv:2107.09437) use it to draw the
    order–chaos phase diagram of training. This function implements no threshold and no
    asymptotic limit: it returns exactly the norms listed above at the inputs given. To follow
    their construction, evaluate it with ``f`` the operator and ``x`` its asymptotic states, and
    consult the papers for the normalisation and the critical value.

    Parameters
    ----------
    f : callable
        With ``batched=True`` (default) ``f`` maps a batch ``(N, *in) → (N, *out)`` like a
        network (each row independently; use eval mode for BatchNorm/dropout); it is applied
        to one input at a time as ``f(x_i[None])[0]``. With ``batched=False`` ``f`` maps a
        single input ``(*in) → (*out)``.
    x : tensor, shape (N, ...)
        Inputs, N ≥ 1, floating point.
    ord : {"fro", "spectral", "rms"}
        Norm per input.
    batched : bool
        See ``f``.
    chunk_size : int ≥ 1, optional
        Passed to ``vmap`` to bound memory (``N × out_dim × in_dim`` Jacobian entries otherwise).
    """
    if not callable(f):
        raise ValueError("f must be a callable")
    if ord not in _JACOBIAN_ORDS:
        raise ValueError(f"ord must be one of {_JACOBIAN_ORDS}, got {ord!r}")
    if not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[0] < 1:
        raise ValueError("x must be a tensor (N ≥ 1, *in) with a leading input dimension")
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating point tensor, got dtype {x.dtype}")
    if chunk_size is not None:
        chunk_size = _check_int(chunk_size, "chunk_size", 1)

    def single(xi: torch.Tensor) -> torch.Tensor:
        return f(xi.unsqueeze(0)).squeeze(0) if batched else f(xi)

    x = x.detach()
    jac = torch.func.vmap(torch.func.jacrev(single), chunk_size=chunk_size)(x)
    n = x.shape[0]
    in_dim = int(np.prod(x.shape[1:], dtype=np.int64))
    out_dim = int(jac.numel() // (n * in_dim))
    jac = jac.reshape(n, out_dim, in_dim).detach()
    if ord == "spectral":
        per = torch.linalg.matrix_norm(jac, ord=2)
    else:
        per = torch.linalg.matrix_norm(jac, ord="fro")
        if ord == "rms":
            per = per / math.sqrt(in_dim)
    per_input = per.to(torch.float64).cpu().numpy()
    sd = float(np.std(per_input, ddof=1)) if n > 1 else float("nan")
    return JacobianNorm(
        mean=float(np.mean(per_input)),
        sd=sd,
        stderr=sd / math.sqrt(n),
        per_input=per_input,
        ord=ord,
        in_dim=in_dim,
        out_dim=out_dim,
    )


# --------------------------------------------------------------------------------------------
# Phase grids and the edge (λ = 0) contour
# --------------------------------------------------------------------------------------------


def phase_grid(
    cell: Callable[[dict[str, Any]], Mapping[str, Any]],
    grid: Mapping[str, Iterable[Any]],
    *,
    progress: bool = True,
    desc: str | None = "phase grid",
) -> pd.DataFrame:
    """Evaluate ``cell`` on every point of the Cartesian product of ``grid``: a tidy DataFrame.

    Points are visited in ``itertools.product`` order of ``grid`` (first name slowest). Each row
    holds the point's parameters followed by the measurements ``cell(params)`` returned; a
    measurement missing from some cells is ``NaN`` there. Engine-agnostic: ``cell`` may train an
    ensemble and return e.g. ``{"lyapunov": λ, "fpt": T}``; put seeds in the grid to repeat.

    Parameters
    ----------
    cell : callable ``dict -> mapping``
        Measurement of one grid point; keys must not repeat grid names.
    grid : mapping name → non-empty sequence of values
    progress : bool
        Show a tqdm progress bar.
    desc : str, optional
        Progress bar label.
    """
    if not callable(cell):
        raise ValueError("cell must be a callable params_dict -> dict of measurements")
    if not isinstance(grid, Mapping) or len(grid) == 0:
        raise ValueError("grid must be a non-empty mapping of name -> list of values")
    names = list(grid)
    axes = []
    for name in names:
        values = grid[name]
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValueError(f"grid[{name!r}] must be a sequence of values, got {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"grid[{name!r}] must hold at least one value")
        axes.append(values)
    total = math.prod(len(a) for a in axes)
    rows = []
    for point in tqdm(itertools.product(*axes), total=total, disable=not progress, desc=desc):
        params = dict(zip(names, point, strict=True))
        out = cell(dict(params))
        if not isinstance(out, Mapping):
            raise ValueError(f"cell must return a mapping of measurements, got {type(out)}")
        clash = set(out) & set(names)
        if clash:
            raise ValueError(f"cell measurement names {sorted(clash)} clash with grid names")
        rows.append({**params, **out})
    return pd.DataFrame(rows)


def edge_contour(
    df: pd.DataFrame,
    x: str,
    y: str,
    value: str = "lyapunov",
    level: float = 0.0,
    *,
    log_y: bool = False,
) -> pd.DataFrame:
    """For each ``x``, the ``y`` at which ``value`` crosses ``level`` (linear interpolation).

    For fixed ``x`` the rows are sorted by ``y`` (rows with equal ``x, y``, e.g. seeds, are
    averaged; ``NaN`` values are dropped) and ``s_i = value_i − level``. A crossing is a node with
    ``s_i = 0`` or an interval with ``s_i s_{i+1} < 0``, located at

        y* = y_i + (y_{i+1} − y_i) · (level − v_i) / (v_{i+1} − v_i)

    (in ``ln y`` when ``log_y``, for log-spaced grids such as learning rates). The first
    (smallest-``y``) crossing is returned; ``n_crossings`` counts them all. ``y`` is ``NaN`` where
    there is none. With ``value="lyapunov"`` and ``level=0`` this is the ``λ_max = 0`` line
    (edge of chaos) of a heatmap.

    Returns
    -------
    DataFrame with columns ``[x, y, "n_crossings"]``, one row per distinct ``x`` (sorted).
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    for arg, col in (("x", x), ("y", y), ("value", value)):
        if col not in df.columns:
            raise ValueError(f"{arg}={col!r} is not a column of df (columns: {list(df.columns)})")
    if x == y:
        raise ValueError("x and y must be different columns")
    if not math.isfinite(level):
        raise ValueError(f"level must be finite, got {level}")
    sub = df[[x, y, value]].astype({y: float, value: float})
    if log_y and not bool((sub[y] > 0).all()):
        raise ValueError(f"log_y=True needs y={y!r} > 0 everywhere")
    rows = []
    for xv, group in sub.groupby(x, sort=True):
        g = group.groupby(y, sort=True)[value].mean().dropna()
        ys = g.index.to_numpy(dtype=float)
        ys = np.log(ys) if log_y else ys
        s = g.to_numpy(dtype=float) - level
        found: list[float] = []
        for i in range(len(s)):
            if s[i] == 0.0:
                found.append(ys[i])
            elif i + 1 < len(s) and s[i] * s[i + 1] < 0:
                found.append(ys[i] + (ys[i + 1] - ys[i]) * (-s[i]) / (s[i + 1] - s[i]))
        y_star = found[0] if found else float("nan")
        if log_y and found:
            y_star = math.exp(y_star)
        rows.append({x: xv, y: y_star, "n_crossings": len(found)})
    return pd.DataFrame(rows, columns=[x, y, "n_crossings"])


# --------------------------------------------------------------------------------------------
# Training-time collapse onto the effective learning rate
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScalingCollapse:
    """Result of :func:`scaling_collapse` (all logs natural).

    Attributes
    ----------
    exponent, exponent_stderr, intercept : float
        ``b``, its OLS standard error, and ``a`` of the collapse fit ``ln T = a + b ln η_eff``.
    coef_lr, coef_one_minus_mu : float
        ``b_1, b_2`` of the free fit ``ln T = a' + b_1 ln η + b_2 ln(1 − μ)``; a collapse onto
        ``η_eff`` means ``b_2 = −b_1`` (then ``b = b_1``).
    r2_collapse, r2_full : float
        R² of the two fits; ``delta_r2 = r2_full − r2_collapse ≥ 0``.
    f_stat, p_value : float
        F test of the restriction ``b_2 = −b_1`` (1 and ``n − 3`` degrees of freedom):
        ``F = (RSS_collapse − RSS_full) / (RSS_full / (n − 3))``. A small p rejects the collapse.
    residual_sd : float
        ``sqrt(RSS_collapse / (n − 2))``: spread of ``ln T`` about the collapse line.
    within_sd : float
        Pooled sd of ``ln T`` among points with equal ``η_eff`` (relative tolerance ``rtol``),
        ``sqrt(Σ_g Σ_{i∈g} (ln T_i − mean_g)² / (n_g_total − G))`` over the ``G`` groups with ≥ 2
        points; free of any assumed functional form. ``NaN`` if no ``η_eff`` repeats.
    n, n_dropped, n_tied_groups : int
        Points used, rows dropped (time not finite and > 0, e.g. runs that never reached the
        target), and ``G``.
    data : DataFrame
        Used rows with ``eta_eff``, ``log_eta_eff``, ``log_time`` and ``residual`` (collapse fit).
    """

    exponent: float
    exponent_stderr: float
    intercept: float
    coef_lr: float
    coef_one_minus_mu: float
    r2_collapse: float
    r2_full: float
    f_stat: float
    p_value: float
    residual_sd: float
    within_sd: float
    n: int
    n_dropped: int
    n_tied_groups: int
    data: pd.DataFrame

    @property
    def delta_r2(self) -> float:
        return self.r2_full - self.r2_collapse


def _ols(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Coefficients, residual sum of squares, residuals."""
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    resid = target - design @ coef
    return coef, float(resid @ resid), resid


def _within_group_sd(
    log_eta_eff: np.ndarray, log_time: np.ndarray, rtol: float
) -> tuple[float, int]:
    order = np.argsort(log_eta_eff, kind="stable")
    le, lt = log_eta_eff[order], log_time[order]
    # consecutive sorted values closer than rtol (in ln, i.e. relative) belong to one group
    breaks = np.flatnonzero(np.diff(le) > rtol) + 1
    ss, dof, groups = 0.0, 0, 0
    for chunk in np.split(lt, breaks):
        if chunk.size >= 2:
            ss += float(np.sum((chunk - chunk.mean()) ** 2))
            dof += chunk.size - 1
            groups += 1
    return (math.sqrt(ss / dof) if dof > 0 else float("nan")), groups


def scaling_collapse(
    df: pd.DataFrame,
    lr: str = "lr",
    momentum: str = "momentum",
    time: str = "fpt",
    *,
    rtol: float = 1e-9,
) -> ScalingCollapse:
    """Test whether training times collapse onto the effective learning rate ``η/(1 − μ)``.

    For SGD with momentum ``μ`` and learning rate ``η`` the velocity in a slowly varying gradient
    relaxes to ``−η/(1 − μ) ∇L``, so ``η_eff = η / (1 − μ)`` is the step of the equivalent
    momentum-free dynamics. The training-time data ``T(η, μ)`` collapse if ``T`` depends on
    ``(η, μ)`` only through ``η_eff``. Two complementary measures:

    1. Power-law fits in logs. Collapse fit ``ln T = a + b ln η_eff`` against the free fit
       ``ln T = a' + b_1 ln η + b_2 ln(1 − μ)``. Since ``ln η_eff = ln η − ln(1 − μ)`` the collapse
       fit is the free fit restricted to ``b_2 = −b_1``; the nested F test of that restriction,
       the R² of both fits and the exponent ``b`` (``−1`` for ``T ∝ 1/η_eff``) are reported.
    2. Form-free spread: the pooled sd of ``ln T`` among points that share ``η_eff`` (needs a
       grid with repeated ``η_eff``; e.g. ``η = η_eff (1 − μ)``). It equals the noise level of
       ``ln T`` when the data collapse and grows when ``μ`` matters on its own.

    Parameters
    ----------
    df : DataFrame
        One row per run (or per grid cell).
    lr, momentum, time : str
        Column names: learning rate ``η > 0``, momentum ``0 ≤ μ < 1``, training time ``T``
        (e.g. a first-passage time). Rows with ``T`` not finite or ``≤ 0`` are dropped and
        counted (censored runs: handle them upstream if they are many).
    rtol : float > 0
        Relative tolerance for "equal ``η_eff``" in measure 2.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    for arg, col in (("lr", lr), ("momentum", momentum), ("time", time)):
        if col not in df.columns:
            raise ValueError(f"{arg}={col!r} is not a column of df (columns: {list(df.columns)})")
    if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    eta = df[lr].to_numpy(dtype=float)
    mu = df[momentum].to_numpy(dtype=float)
    t = df[time].to_numpy(dtype=float)
    if not bool(np.all(np.isfinite(eta) & (eta > 0))):
        raise ValueError(f"lr column {lr!r} must be finite and > 0")
    if not bool(np.all(np.isfinite(mu) & (mu >= 0) & (mu < 1))):
        raise ValueError(f"momentum column {momentum!r} must lie in [0, 1)")
    keep = np.isfinite(t) & (t > 0)
    n = int(keep.sum())
    if n < 4:
        raise ValueError(f"time column {time!r} needs ≥ 4 finite values > 0, got {n}")
    eta, mu, t = eta[keep], mu[keep], t[keep]
    log_eta, log_1m = np.log(eta), np.log1p(-mu)
    log_eff, log_t = log_eta - log_1m, np.log(t)

    ones = np.ones(n)
    full = np.column_stack([ones, log_eta, log_1m])
    if np.linalg.matrix_rank(full) < 3:
        raise ValueError(
            f"lr {lr!r} and momentum {momentum!r} must both vary, and not in lockstep, to test a "
            "collapse"
        )
    restricted = np.column_stack([ones, log_eff])
    coef_r, rss_r, resid_r = _ols(restricted, log_t)
    coef_f, rss_f, _ = _ols(full, log_t)
    tss = float(np.sum((log_t - log_t.mean()) ** 2))
    r2_r = 1.0 - rss_r / tss if tss > 0 else float("nan")
    r2_f = 1.0 - rss_f / tss if tss > 0 else float("nan")
    dof_f = n - 3
    if rss_f > 0:
        f_stat = max(rss_r - rss_f, 0.0) / (rss_f / dof_f)
        p_value = float(stats.f.sf(f_stat, 1, dof_f))
    else:  # exact fit: the restriction holds iff it costs nothing
        f_stat = 0.0 if rss_r <= 1e-12 * max(tss, 1.0) else math.inf
        p_value = 1.0 if f_stat == 0.0 else 0.0
    s2_r = rss_r / (n - 2)
    cov_r = s2_r * np.linalg.inv(restricted.T @ restricted)
    within_sd, groups = _within_group_sd(log_eff, log_t, float(rtol))

    data = df.loc[keep].copy()
    data["eta_eff"] = np.exp(log_eff)
    data["log_eta_eff"] = log_eff
    data["log_time"] = log_t
    data["residual"] = resid_r
    return ScalingCollapse(
        exponent=float(coef_r[1]),
        exponent_stderr=float(math.sqrt(cov_r[1, 1])),
        intercept=float(coef_r[0]),
        coef_lr=float(coef_f[1]),
        coef_one_minus_mu=float(coef_f[2]),
        r2_collapse=float(r2_r),
        r2_full=float(r2_f),
        f_stat=float(f_stat),
        p_value=p_value,
        residual_sd=float(math.sqrt(s2_r)),
        within_sd=within_sd,
        n=n,
        n_dropped=int((~keep).sum()),
        n_tied_groups=groups,
        data=data,
    )
