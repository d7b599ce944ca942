"""Stochastic-gradient Langevin dynamics (SGLD) and SGD over many chains, with minibatch policies.

The sampler follows the posteriors/blackjax pattern: :func:`sgld` returns a small ``Sampler``
with ``init(params) -> state`` and ``update(state) -> state`` acting on plain tensors. ``params``
has a leading chain dimension ``(C, d)``: C independent chains advance as one vectorised
computation. The update (Welling & Teh 2011) is

    θ_{n+1} = θ_n − η ∇Ũ(θ_n; b_n) + sqrt(2 η T) ξ_n,     ξ_n ~ N(0, I),
    Ũ(θ; b) = (N/B) Σ_{i∈b} ℓ_i(θ) + R(θ),

with ℓ_i the per-example negative log-likelihood, R the negative log-prior, b_n the minibatch of
step n (B examples of N) and T the temperature (T = 1: the Bayesian posterior; T = 0: plain SGD).

The minibatch policy decides b_n:

* :class:`WithReplacement` — an independent batch every step (B distinct examples, uniformly
  among the B-subsets), as in SGLD;
* :class:`WithoutReplacement` — a fresh random permutation per chain and epoch, cut into N/B
  consecutive batches, so that every example is used exactly once per epoch (SGWORLD, Adhikari
  et al. 2023, arXiv:2306.03521).

:class:`ChainGroupMoments` accumulates stationary statistics over time and chains, with standard
errors from independent groups of chains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from fpt_core.train.device import resolve_device, small_tensor_threads

__all__ = [
    "BatchState",
    "MinibatchPolicy",
    "WithReplacement",
    "WithoutReplacement",
    "minibatch_policy",
    "SGLDState",
    "Sampler",
    "sgld",
    "sgd",
    "ChainGroupMoments",
    "StationaryMoments",
    "small_tensor_threads",
]

POLICIES = ("with_replacement", "without_replacement")


class BatchState(NamedTuple):
    """Minibatch indices for the next ``buffer.shape[0]`` steps, ``(K, C, B)``, and the cursor."""

    buffer: torch.Tensor
    pos: int


class MinibatchPolicy:
    """Base class: draws ``(C, B)`` example indices per step, one row per chain.

    Indices are drawn ``buffer_steps`` steps at a time (one tensor operation for many steps).
    """

    name = "policy"

    def __init__(self, n: int, batch_size: int, buffer_steps: int = 200) -> None:
        if not (isinstance(n, int | np.integer) and n >= 1):
            raise ValueError(f"n={n!r} must be an integer ≥ 1 (number of examples)")
        if not (isinstance(batch_size, int | np.integer) and 1 <= batch_size <= n):
            raise ValueError(f"batch_size={batch_size!r} must be an integer in [1, n={n}]")
        if not (isinstance(buffer_steps, int | np.integer) and buffer_steps >= 1):
            raise ValueError(f"buffer_steps={buffer_steps!r} must be an integer ≥ 1")
        self.n, self.batch_size, self.buffer_steps = int(n), int(batch_size), int(buffer_steps)

    def _fill(self, n_chains: int, generator: torch.Generator | None, device) -> torch.Tensor:
        raise NotImplementedError

    def init(
        self,
        n_chains: int,
        generator: torch.Generator | None = None,
        device: str | torch.device | None = None,
    ) -> BatchState:
        """Empty state for ``n_chains`` chains (the buffer is filled on the first draw)."""
        if not (isinstance(n_chains, int | np.integer) and n_chains >= 1):
            raise ValueError(f"n_chains={n_chains!r} must be an integer ≥ 1")
        dev = resolve_device(device)
        return BatchState(
            torch.empty((0, int(n_chains), self.batch_size), dtype=torch.long, device=dev), 0
        )

    def next(
        self, state: BatchState, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, BatchState]:
        """Indices ``(C, B)`` for this step and the advanced state."""
        buf, pos = state
        if pos >= buf.shape[0]:
            buf, pos = self._fill(buf.shape[1], generator, buf.device), 0
        return buf[pos], BatchState(buf, pos + 1)


class WithReplacement(MinibatchPolicy):
    """Independent minibatch each step: B distinct examples, uniform over the B-subsets.

    Drawn by rejection: B indices uniform in [0, N); rows with a repeated index are redrawn (the
    accepted rows are uniform over ordered B-tuples of distinct indices); for B² > 4N, the first B
    entries of a random permutation. Between steps the
    batches are independent ("with replacement" across steps), so the minibatch gradient noise is
    white with covariance ``N²(N−B)/(B(N−1))·S``, S the population covariance of the
    per-example gradients.
    """

    name = "with_replacement"

    def _fill(self, n_chains, generator, device):
        rows = self.buffer_steps * n_chains
        if self.batch_size**2 > 4 * self.n:  # rejection would be slow: first B of a permutation
            keys = torch.rand((rows, self.n), generator=generator, device=device)
            idx = keys.argsort(dim=1)[:, : self.batch_size]
            return idx.reshape(self.buffer_steps, n_chains, self.batch_size)
        idx = torch.randint(0, self.n, (rows, self.batch_size), generator=generator, device=device)
        check = torch.arange(rows, device=device)  # rows whose distinctness is not yet known
        while self.batch_size > 1 and check.numel():
            s, _ = idx[check].sort(dim=1)
            check = check[(s[:, 1:] == s[:, :-1]).any(dim=1)]
            idx[check] = torch.randint(
                0, self.n, (check.numel(), self.batch_size), generator=generator, device=device
            )
        return idx.view(self.buffer_steps, n_chains, self.batch_size)


class WithoutReplacement(MinibatchPolicy):
    """Random reshuffling: each chain draws a permutation per epoch and takes consecutive batches.

    Requires ``n % batch_size == 0``; an epoch is ``n // batch_size`` steps and every example is
    used once per epoch; the first step of a run starts an epoch. The batch sequence is periodic
    in law with that period, so stationary statistics are either averaged over the phase (all
    steps) or taken stroboscopically, once per epoch (as :func:`fpt_core.langevin.noneq.simulate_ness`
    does).
    """

    name = "without_replacement"

    def __init__(self, n: int, batch_size: int, buffer_steps: int = 200) -> None:
        super().__init__(n, batch_size, buffer_steps)
        if self.n % self.batch_size:
            raise ValueError(
                f"batch_size={batch_size} must divide n={n} for without-replacement minibatching"
            )
        self.steps_per_epoch = self.n // self.batch_size
        self.epochs_per_fill = max(1, -(-self.buffer_steps // self.steps_per_epoch))

    def _fill(self, n_chains, generator, device):
        e, m, b = self.epochs_per_fill, self.steps_per_epoch, self.batch_size
        keys = torch.rand((e, n_chains, self.n), generator=generator, device=device)
        perm = keys.argsort(dim=2)  # (E, C, N): one permutation per chain and epoch
        return perm.view(e, n_chains, m, b).permute(0, 2, 1, 3).reshape(e * m, n_chains, b)


def minibatch_policy(
    name: str, n: int, batch_size: int, buffer_steps: int = 200
) -> MinibatchPolicy:
    """``"with_replacement"`` → :class:`WithReplacement`, ``"without_replacement"`` → SGWORLD."""
    if name == "with_replacement":
        return WithReplacement(n, batch_size, buffer_steps)
    if name == "without_replacement":
        return WithoutReplacement(n, batch_size, buffer_steps)
    raise ValueError(f"policy={name!r} is unknown; allowed: {list(POLICIES)}")


class SGLDState(NamedTuple):
    """Sampler state: ``params`` (C, d), the minibatch state and the step counter."""

    params: torch.Tensor
    batch: BatchState
    step: int


class Sampler(NamedTuple):
    """``init(params, generator=None) -> SGLDState``; ``update(state, generator=None, noise=None)``."""

    init: Callable[..., SGLDState]
    update: Callable[..., SGLDState]


GradFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def sgld(grad_fn: GradFn, policy: MinibatchPolicy, lr: float, temperature: float = 1.0) -> Sampler:
    """SGLD sampler over many chains (Welling & Teh 2011, ICML).

    ``θ ← θ − η·∇Ũ(θ; b) + sqrt(2ηT)·ξ``, ξ ~ N(0, I), b drawn by ``policy`` independently per
    chain. ``grad_fn(params (C, d), idx (C, B)) -> (C, d)`` returns ∇Ũ, the minibatch estimate
    ``(N/B) Σ_{i∈b} ∇ℓ_i + ∇R`` of the gradient of the negative log posterior. With
    ``temperature = 0`` this is plain SGD with the same minibatch policy.

    ``update(state, generator=None, noise=None)``: ``noise`` (C, d) replaces the draw of ξ — used to
    drive two samplers with common random numbers (a coupled control variate).
    """
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} must be a finite number > 0")
    if not (np.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature={temperature!r} must be a finite number ≥ 0")
    if not isinstance(policy, MinibatchPolicy):
        raise ValueError(f"policy must be a MinibatchPolicy, got {type(policy).__name__}")
    scale = float(np.sqrt(2.0 * lr * temperature))

    def init(params: torch.Tensor, generator: torch.Generator | None = None) -> SGLDState:
        if not (
            isinstance(params, torch.Tensor) and params.ndim == 2 and params.is_floating_point()
        ):
            raise ValueError("params must be a floating tensor of shape (chains, dim)")
        return SGLDState(params, policy.init(params.shape[0], generator, params.device), 0)

    def update(
        state: SGLDState,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
    ) -> SGLDState:
        idx, batch = policy.next(state.batch, generator)
        theta = state.params - lr * grad_fn(state.params, idx)
        if scale > 0:
            if noise is None:
                noise = torch.randn(
                    theta.shape, generator=generator, dtype=theta.dtype, device=theta.device
                )
            theta = theta + scale * noise
        return SGLDState(theta, batch, state.step + 1)

    return Sampler(init, update)


def sgd(grad_fn: GradFn, policy: MinibatchPolicy, lr: float) -> Sampler:
    """Plain SGD ``θ ← θ − η·∇Ũ(θ; b)`` over many chains: :func:`sgld` with ``temperature = 0``."""
    return sgld(grad_fn, policy, lr, temperature=0.0)


class StationaryMoments(NamedTuple):
    """Stationary moments pooled over time and chains, with standard errors over chain groups.

    ``lag1[i, j] = E[δ_n,i δ_{n+1},j]`` (δ = x − mean, consecutive recorded states) and
    ``circulation`` its antisymmetric part ½(lag1 − lag1ᵀ), with its own group error (the errors
    of lag1[i, j] and lag1[j, i] are strongly correlated); ``n`` is the number of records.
    """

    mean: np.ndarray
    mean_se: np.ndarray
    cov: np.ndarray
    cov_se: np.ndarray
    lag1: np.ndarray
    lag1_se: np.ndarray
    circulation: np.ndarray
    circulation_se: np.ndarray
    n: int
    n_groups: int


class ChainGroupMoments:
    """Streaming first, second and lag-1 moments of a (C, d) state, per group of chains.

    Chains are split into ``n_groups`` equal groups of consecutive chains; each group gives an
    independent estimate and the standard error of the pooled estimate is the standard deviation
    over groups divided by sqrt(groups). Sums are taken relative to ``center`` (float64) to avoid
    cancellation when fluctuations are small compared with the state.
    """

    def __init__(self, n_chains: int, dim: int, n_groups: int = 8, center=None) -> None:
        if not (isinstance(n_groups, int | np.integer) and 2 <= n_groups <= n_chains):
            raise ValueError(
                f"n_groups={n_groups!r} must be an integer in [2, n_chains={n_chains}]"
            )
        if n_chains % n_groups:
            raise ValueError(f"n_groups={n_groups} must divide n_chains={n_chains}")
        self.g, self.d = int(n_groups), int(dim)
        self.center = None if center is None else torch.as_tensor(center, dtype=torch.float64)
        self.n = 0
        self.n_lag = 0
        self.s1 = self.s2 = self.sl = None
        self.prev = None

    def update(self, x: torch.Tensor) -> None:
        """Record one state ``x`` (C, d) of every chain."""
        x = x.to(torch.float64)
        if self.center is None:
            self.center = x.mean(0).detach().clone()
        z = (x - self.center.to(x.device)).view(self.g, -1, self.d)
        if self.s1 is None:
            self.s1 = torch.zeros(self.g, self.d, dtype=torch.float64, device=x.device)
            self.s2 = torch.zeros(self.g, self.d, self.d, dtype=torch.float64, device=x.device)
            self.sl = torch.zeros_like(self.s2)
        self.s1 += z.sum(1)
        zt = z.transpose(1, 2)
        self.s2 += torch.bmm(zt, z)
        if self.prev is not None:
            self.sl += torch.bmm(self.prev.transpose(1, 2), z)
            self.n_lag += 1
        self.prev = z
        self.n += 1

    def update_many(self, xs: torch.Tensor) -> None:
        """Record consecutive states ``xs`` (T, C, d), as T calls of :meth:`update`."""
        xs = xs.to(torch.float64)
        if self.center is None:
            self.center = xs[0].mean(0).detach().clone()
        t = xs.shape[0]
        z = (xs - self.center.to(xs.device)).view(t, self.g, -1, self.d)
        if self.s1 is None:
            self.update(xs[0])
            z = z[1:]
            t -= 1
            if t == 0:
                return
        zz = z.permute(1, 0, 2, 3).reshape(self.g, -1, self.d)  # (G, T·c, d)
        self.s1 += zz.sum(1)
        self.s2 += torch.bmm(zz.transpose(1, 2), zz)
        prev = (
            torch.cat([self.prev.unsqueeze(0), z[:-1]])
            .permute(1, 0, 2, 3)
            .reshape(self.g, -1, self.d)
        )
        self.sl += torch.bmm(prev.transpose(1, 2), zz)
        self.prev = z[-1]
        self.n += t
        self.n_lag += t

    def group_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-group mean (G, d), covariance (G, d, d) and lag-1 cross-covariance (G, d, d)."""
        if self.n < 2:
            raise ValueError("need at least two recorded states")
        per = self.n * self.prev.shape[1]  # records × chains per group
        m = (self.s1 / per).cpu().numpy()  # relative to center
        mm = m[:, :, None] * m[:, None, :]
        cov = (self.s2 / per).cpu().numpy() - mm
        lag = (self.sl / (self.n_lag * self.prev.shape[1])).cpu().numpy() - mm
        return m + self.center.cpu().numpy(), cov, lag

    def result(self) -> StationaryMoments:
        """Means, covariances and lag-1 cross-covariances pooled, with their chain-group errors."""
        g = self.g
        m, c, lag = self.group_stats()
        out = []
        for a in (m, c, lag, 0.5 * (lag - lag.transpose(0, 2, 1))):
            out += [a.mean(0), a.std(0, ddof=1) / np.sqrt(g)]
        return StationaryMoments(*out, self.n, g)
