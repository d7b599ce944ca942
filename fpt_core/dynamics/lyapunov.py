"""The largest Lyapunov exponent of a (random) map by Benettin's two-trajectory method.

A map ``x_{t+1} = step(x_t, t)`` on pytree states (:mod:`fpt_core.dynamics.pytree`) is advanced for a
reference and a companion at once; the separation is renormalised every ``k`` steps (Benettin,
Galgani, Giorgilli & Strelcyn 1980, Meccanica 15, 9–20; 21–30). An optional linear projection of
the separation removes exactly neutral directions (e.g. a symmetry of the loss) so that the
exponent of the quotient map is measured; :func:`convergence` compares the last half of the
window with the whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from fpt_core.dynamics.pytree import (
    State,
    StepFn,
    _call_step,
    _leaves,
    _map,
    _norm,
    _prepare_direction,
    _prepare_x0,
    _random_unit,
    _scale_pairs,
    _separation,
    _unit,
)
from fpt_core.stats.checks import check_int

__all__ = ["LyapunovResult", "convergence", "lyapunov_benettin"]

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


def _renormalise(
    x: State,
    sep: State,
    d_end: torch.Tensor,
    d0: float,
    generator: torch.Generator,
    project: Callable[[State], State] | None,
) -> State:
    """Companion ← reference + d0 · sep/‖sep‖; a fresh random direction where ‖sep‖ = 0."""
    dead = d_end == 0
    scale = torch.where(dead, torch.zeros_like(d_end), d0 / d_end)
    diff = _map(lambda df: _scale_pairs(df, scale), sep)
    if bool(dead.any()):
        fresh = _random_unit(x, generator)
        fresh = fresh if project is None else _unit(project(fresh), x)
        diff = _map(
            lambda df, fr: torch.where(
                dead.to(df.device).view(-1, *([1] * (df.ndim - 1))), fr * d0, df
            ),
            diff,
            fresh,
        )
    return _map(lambda a, df: a + df, x, diff)


def _realised_separation(
    x: State, y: State, d0: float, t: int, project: Callable[[State], State] | None = None
) -> torch.Tensor:
    d = _norm(_separation(x, y, project))
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
    project: Callable[[State], State] | None = None,
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
    project : callable ``state -> state``, optional
        A linear projection ``Π`` applied to every separation: ``d_j = ‖Π(y − x)‖`` and the
        companion is reset to ``x + d0 Π(y − x)/d_j`` (the initial direction is projected too).
        If ``ker Π`` is invariant under every step's Jacobian (e.g. an exact symmetry of the loss,
        whose neutral direction has multiplier 1 at any hyperparameter), this is the largest
        exponent of the quotient map, i.e. with those directions removed. ``Π`` must act on
        each pair (row) independently.
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
    n_steps = check_int(n_steps, "n_steps", 1)
    renorm_every = check_int(renorm_every, "renorm_every", 1)
    transient = check_int(transient, "transient", 0)
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
    if project is not None:
        if not callable(project):
            raise ValueError("project must be a callable state -> state (a linear projection)")
        unit = _unit(project(unit), x)
    y = _map(lambda a, u: a + u * d0, x, unit)
    d_start = _realised_separation(x, y, d0, 0, project)
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
            sep = _separation(x, y, project)
            d_end = _norm(sep)
            if measuring:
                logs.append(torch.log(d_end) - torch.log(d_start))
                counts.append(t - transient + 1)
            since = 0
            if t < total - 1:
                y = _renormalise(x, sep, d_end, d0, generator, project)
                d_start = _realised_separation(x, y, d0, t + 1, project)

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


def convergence(result: LyapunovResult, n_groups: int = 1, *, z: float = 2.0) -> pd.DataFrame:
    """Is a Lyapunov estimate converged? The last half of the window against the whole window.

    Pairs are split into ``n_groups`` equal contiguous blocks (e.g. grid cells, pairs
    config-major). Per block, with ``λ_p`` the whole-window estimate of pair ``p`` and
    ``λ_p^{(2)} = Σ_{j ∈ 2nd half} ln(d_j/d^0_j) / (steps in the 2nd half)``,

        full = mean_p λ_p,   half = mean_p λ_p^{(2)},   converged ⇔ abs(half − full) ≤ z · se_half (+ rounding)

    with ``se_half = sd_p(λ_p^{(2)}) / sqrt(P_block)`` (ddof = 1). A transient that still drifts
    (e.g. a separation not yet aligned, or a reference still leaving its initial region) shows
    as a last half that differs from the whole by more than its own noise.

    Parameters
    ----------
    result : LyapunovResult
        Per step or per epoch (the estimates keep its unit).
    n_groups : int ≥ 1
        Must divide the number of pairs; each block needs ≥ 2 pairs for a standard error.
    z : float > 0
        Tolerance in standard errors.

    Returns
    -------
    DataFrame, one row per block: ``full``, ``full_se``, ``half``, ``half_se``, ``converged``.

    Examples
    --------
    >>> import torch
    >>> r = lyapunov_benettin(lambda x, t: 0.5 * x, torch.ones(4, 1), n_steps=20, d0=1e-3)
    >>> bool(convergence(r)["converged"].iloc[0]), round(float(convergence(r)["half"].iloc[0]), 4)
    (True, -0.6931)
    """
    n_groups = check_int(n_groups, "n_groups", 1)
    if not (isinstance(z, (int, float)) and z > 0):
        raise ValueError(f"z must be a number > 0, got {z!r}")
    P = result.n_pairs
    if P % n_groups or P // n_groups < 2:
        raise ValueError(f"n_groups={n_groups} must divide the {P} pairs into blocks of ≥ 2")
    steps = result.running_steps
    lengths = np.diff(np.r_[0, steps])
    second = steps > result.n_steps / 2
    if not second.any() or second.all():
        raise ValueError("the window needs ≥ 2 renormalisation intervals to compare its halves")
    k = result.steps_per_unit
    half = result.log_stretch[second].sum(axis=0) / lengths[second].sum() * k
    rows = []
    for g in range(n_groups):
        sl = slice(g * (P // n_groups), (g + 1) * (P // n_groups))
        f, h = result.per_pair[sl], half[sl]
        n = f.size
        row = {
            "full": float(np.mean(f)),
            "full_se": float(np.std(f, ddof=1) / math.sqrt(n)),
            "half": float(np.mean(h)),
            "half_se": float(np.std(h, ddof=1) / math.sqrt(n)),
        }
        ok = all(math.isfinite(v) for v in row.values())
        row["converged"] = bool(
            ok
            and abs(row["half"] - row["full"])
            <= z * row["half_se"] + 1e-9 * max(1.0, abs(row["full"]))
        )
        rows.append(row)
    return pd.DataFrame(rows)
