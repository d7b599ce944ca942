"""Nonequilibrium stationary state of SGD near a minimum: Lyapunov theory, circulation, entropy.

Near a minimum w* the SGD chain is linear to good approximation: per recorded step
δ_{n+1} = (I − K)δ_n + ε_n with drift matrix K (K = ηH per step with H the Hessian; per epoch
for minibatches without replacement) and noise covariance Cov ε = 2D. The stationary covariance Σ
and the circulation C then follow from the Lyapunov equation (Adhikari et al. 2023,
arXiv:2306.03521, the continuum form of their Fokker–Planck analysis):

    KΣ + ΣKᵀ = 2D      (K = ηH:  HΣ + ΣH = (2/η) D),       C = ½(KΣ − ΣKᵀ) = (η/2)(HΣ − ΣH).

C ≠ 0 is a persistent probability current; C is also the antisymmetric part of the lag-one
covariance E[δ_n δ_{n+1}ᵀ]. The discrete-time chain is solved exactly by Σ = (I−K)Σ(I−K)ᵀ + 2D
("chain" values below). The authors' entropy production per step is the continuum
(Itô-discretised Fokker–Planck) functional

    σ_n = [−C Σ⁻¹ (w_n − c)]ᵀ D⁻¹ (w_{n+1} − w_n),    ⟨σ⟩ = −tr(C D⁻¹ C Σ⁻¹),

centred at the drift's fixed point c (:func:`fpt_core.langevin.entropy.entropy_production`); it is not a
log ratio of path probabilities of the discrete chain (:mod:`fpt_core.langevin.entropy` has that ratio for
the linear-Gaussian surrogate). For linear dynamics with Gaussian noise E[e^{−σ_n} | w_n] = 1
exactly (because K − CΣ⁻¹ = DΣ⁻¹ and Σ⁻¹CΣ⁻¹ is antisymmetric), so the integral fluctuation
theorem ⟨e^{−σ}⟩ = 1 holds for trajectories of any length (Seifert 2012); on a network it is
violated by ε ∝ η² per step (:mod:`fpt_core.langevin.ift_bias` predicts ε). The model of the seed paper
is :class:`~fpt_core.langevin.tanhnet.TanhNet` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
import torch
from tqdm.auto import tqdm

# re-exported (defined in their own modules, documented there; importable from here as before)
from fpt_core.langevin.entropy import EntropyAccumulator, entropy_production  # noqa: F401
from fpt_core.langevin.samplers import ChainGroupMoments, MinibatchPolicy, WithoutReplacement, sgd
from fpt_core.langevin.tanhnet import TanhNet, make_tanh_net  # noqa: F401
from fpt_core.train.device import small_tensor_threads

__all__ = [
    "lyapunov_covariance",
    "LinearNESS",
    "linear_ness",
    "minibatch_diffusion",
    "epoch_map",
    "reshuffled_ness",
    "simulate_ness",
    "NESSRun",
]


def lyapunov_covariance(K, D, discrete: bool = False) -> np.ndarray:
    """Σ solving KΣ + ΣKᵀ = 2D, or with ``discrete=True`` Σ = (I − K)Σ(I − K)ᵀ + 2D.

    Raises ``ValueError`` if K, D are not square of equal size, D is not symmetric positive
    definite, or the dynamics is unstable (continuous: Re eig K ≤ 0; discrete: spectral radius of
    I − K ≥ 1).
    """
    K, D = np.atleast_2d(np.asarray(K, float)), np.atleast_2d(np.asarray(D, float))
    if K.ndim != 2 or K.shape[0] != K.shape[1] or D.shape != K.shape:
        raise ValueError(f"K and D must be square matrices of equal size, got {K.shape}, {D.shape}")
    if not np.allclose(D, D.T, rtol=1e-10, atol=0) or np.linalg.eigvalsh(D)[0] <= 0:
        raise ValueError("D must be symmetric positive definite")
    ev = np.linalg.eigvals(K)
    if discrete:
        F = np.eye(K.shape[0]) - K
        if np.abs(np.linalg.eigvals(F)).max() >= 1:
            raise ValueError("discrete=True needs all |eig(I − K)| < 1 (stable chain)")
        S = sla.solve_discrete_lyapunov(F, 2 * D)
    else:
        if ev.real.min() <= 0:
            raise ValueError("K must have eigenvalues with positive real part (stable drift)")
        S = sla.solve_continuous_lyapunov(K, 2 * D)
    return 0.5 * (S + S.T)


@dataclass(frozen=True)
class LinearNESS:
    """Stationary state of δ' = (I − K)δ + ε, Cov ε = 2D, around ``mean``.

    ``sigma``/``circulation``: continuum Lyapunov values; ``sigma_chain``/``circulation_chain``:
    exact for the discrete linear chain (C = ½(ΣFᵀ − FΣ), F = I − K).
    """

    K: np.ndarray
    D: np.ndarray
    mean: np.ndarray
    sigma: np.ndarray
    circulation: np.ndarray
    sigma_chain: np.ndarray
    circulation_chain: np.ndarray

    @property
    def functional(self) -> np.ndarray:
        """P with σ_n = (w_n − μ)ᵀ P (w_{n+1} − w_n): P = (−CΣ⁻¹)ᵀD⁻¹ (continuum C, Σ)."""
        A = -self.circulation @ np.linalg.inv(self.sigma)
        return A.T @ np.linalg.inv(self.D)

    @property
    def ep_mean(self) -> float:
        """Continuum mean entropy production per step, −tr(C D⁻¹ C Σ⁻¹)."""
        C, S = self.circulation, self.sigma
        return float(-np.trace(C @ np.linalg.solve(self.D, C) @ np.linalg.inv(S)))

    @property
    def ep_mean_chain(self) -> float:
        """Mean of the same functional on the exact linear chain: tr(P(F − I)Σ_chain)."""
        return float(np.trace(self.functional @ (-self.K) @ self.sigma_chain))

    @property
    def irreversibility(self) -> float:
        """‖C‖_F / ‖D‖_F: 0 in equilibrium (detailed balance), larger = stronger current."""
        return float(np.linalg.norm(self.circulation) / np.linalg.norm(self.D))

    @property
    def ep_per_relaxation(self) -> float:
        """Mean entropy production per slowest relaxation time, ⟨σ⟩ / min Re eig K."""
        return self.ep_mean / float(np.linalg.eigvals(self.K).real.min())


def linear_ness(K, D, mean=None) -> LinearNESS:
    """Continuum and exact-chain stationary covariance and circulation for drift K, diffusion D."""
    K, D = np.asarray(K, float), np.asarray(D, float)
    S = lyapunov_covariance(K, D)
    Sd = lyapunov_covariance(K, D, discrete=True)
    F = np.eye(K.shape[0]) - K
    mean = np.zeros(K.shape[0]) if mean is None else np.asarray(mean, float)
    return LinearNESS(K, D, mean, S, 0.5 * (K @ S - S @ K.T), Sd, 0.5 * (Sd @ F.T - F @ Sd))


def minibatch_diffusion(grads, lr: float, batch_size: int) -> np.ndarray:
    """D = (η²/2)·Cov(∇Ũ_b) for batches of B distinct examples drawn independently each step.

    With G_i the per-example gradients (N, d) and S their population covariance,
    Cov(∇Ũ_b) = N²(N − B)/(B(N − 1))·S (the finite-population factor for drawing without
    replacement inside a batch); equivalently η²(N − B)/(2B(N − 1))·(N·ΣG_iG_iᵀ − ggᵀ), g = ΣG_i.
    """
    G = np.asarray(grads, float)
    n = G.shape[0]
    if not (1 <= batch_size < n):
        raise ValueError(f"batch_size={batch_size} must lie in [1, n={n})")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} must be a finite number > 0")
    c = G - G.mean(0)
    return 0.5 * lr**2 * n**2 * (n - batch_size) / (batch_size * (n - 1)) * (c.T @ c / n)


@small_tensor_threads()
def epoch_map(grads, hessians, lr: float, batch_size: int, n_perm: int = 20000, seed: int = 0,
              chunk: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Linearised one-epoch map of SGD without replacement, averaged over random permutations.

    Per step δ ← (I − ηH_b)δ − ηg_b with g_b = (N/B)Σ_{i∈b}G_i, H_b = (N/B)Σ_{i∈b}h_i (per-example
    gradients G (N, d) and Hessians h (N, d, d) at w*). Over an epoch δ_M = Φ δ_0 + ξ; returns
    (E[Φ], E[ξ], Cov ξ) from ``n_perm`` permutations. The first-order part of ξ, −ηΣ_b g_b, is
    zero at a minimum: ξ = O(η²), so Cov ξ = O(η⁴) and E[ξ] shifts the stationary mean to
    w* + (I − E[Φ])⁻¹E[ξ] (the minimum of the effective without-replacement landscape).
    """
    G = torch.as_tensor(np.asarray(grads, float))
    h = torch.as_tensor(np.asarray(hessians, float))
    n, d = G.shape
    if n % batch_size:
        raise ValueError(f"batch_size={batch_size} must divide n={n}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} must be a finite number > 0")
    if n_perm < 2 or chunk < 1:
        raise ValueError(f"n_perm={n_perm} must be ≥ 2 and chunk={chunk} ≥ 1")
    m, scale = n // batch_size, n / batch_size
    gen = torch.Generator().manual_seed(int(seed))
    xs, phis = [], torch.zeros(d, d, dtype=torch.float64)
    for start in range(0, n_perm, chunk):
        p = min(chunk, n_perm - start)
        perm = torch.rand(p, n, generator=gen).argsort(1).view(p, m, batch_size)
        a = torch.zeros(p, d, dtype=torch.float64)
        phi = torch.eye(d, dtype=torch.float64).expand(p, d, d).clone()
        for k in range(m):
            Hb, gb = scale * h[perm[:, k]].sum(1), scale * G[perm[:, k]].sum(1)
            a = a - lr * (torch.bmm(Hb, a.unsqueeze(-1)).squeeze(-1) + gb)
            phi = phi - lr * torch.bmm(Hb, phi)
        xs.append(a)
        phis += phi.sum(0)
    xi = torch.cat(xs).numpy()
    F = (phis / n_perm).numpy()
    return 0.5 * (F + F.T), xi.mean(0), np.cov(xi.T)


def reshuffled_ness(grads, hessians, lr: float, batch_size: int, w_star, n_perm: int = 80000,
                    n_split: int = 8, seed: int = 0) -> tuple[LinearNESS, list[LinearNESS]]:  # fmt: skip
    """Per-epoch linear NESS of SGD without replacement from :func:`epoch_map`.

    K = I − E[Φ], D = ½Cov ξ, mean w* + K⁻¹E[ξ]. The permutations are drawn in ``n_split``
    independent sets: the pooled estimate is returned with the per-set ones, whose spread
    (divided by √n_split) is the Monte Carlo error of the theory. That error matters: near
    equilibrium C is a small difference, and a 1 % error in D can change ⟨σ⟩ by tens of percent.
    """
    if not (isinstance(n_split, int | np.integer) and 2 <= n_split <= n_perm // 2):
        raise ValueError(f"n_split={n_split!r} must be an integer in [2, n_perm/2]")
    parts = [epoch_map(grads, hessians, lr, batch_size, n_perm // n_split, seed=seed + s)
             for s in range(n_split)]  # fmt: skip
    w_star = np.asarray(w_star, float)

    def build(F, xi, Q):
        K = np.eye(F.shape[0]) - F
        return linear_ness(K, Q / 2, w_star + np.linalg.solve(K, xi))

    pooled = build(*(np.mean([p[i] for p in parts], 0) for i in range(3)))
    return pooled, [build(*p) for p in parts]


@dataclass(frozen=True, eq=False)
class NESSRun:
    """Output of :func:`simulate_ness`: ``moments`` (the chains' stationary moments, with SEs over
    chain groups), ``ep`` (one dict per window of k-step entropy production: ``window``, ``mean``,
    ``mean_se``, ``ift``, ...), ``entropy`` (the accumulator, for histograms), ``center`` (the
    centre of σ), ``pilot_mean`` (mean over chains of the second half of burn-in), ``every``
    (steps per record) and ``steps`` (steps simulated per chain)."""

    moments: Any
    ep: list[dict[str, Any]]
    entropy: EntropyAccumulator
    center: np.ndarray
    pilot_mean: np.ndarray
    every: int
    steps: int


def simulate_ness(
    model: TanhNet,
    policy: MinibatchPolicy,
    lr: float,
    ness: LinearNESS,
    start=None,
    n_chains: int = 256,
    burn_records: int = 1000,
    records: int = 1000,
    n_groups: int = 8,
    windows=(1, 2, 3),
    chunk: int = 500,
    seed: int = 0,
    progress: bool = True,
    center=None,
    start_cov=None,
) -> NESSRun:
    """Run SGD chains and measure the stationary state and entropy production.

    Chains start at ``start`` (default ``ness.mean``, the linear theory's stationary mean: w* for
    independent batches, the effective minimum for reshuffling, which lies several stationary
    standard deviations from w*; starting there spares the slow relaxation of the mean, and a
    wrong prediction would still relax away during burn-in). With ``start_cov`` each chain starts
    at an independent draw from N(start, start_cov) — e.g. the theory's stationary covariance, so
    that burn-in only has to relax the small non-Gaussian corrections.

    A record is taken every step for independent minibatches and once per epoch (stroboscopic,
    at epoch boundaries) for :class:`~fpt_core.langevin.samplers.WithoutReplacement`: there the batch
    sequence is periodic, the epoch-to-epoch map is a time-homogeneous Markov chain, and within an
    epoch the weights make an O(η) excursion that cancels at the epoch's end. After
    ``burn_records`` records, ``records`` records give moments and k-step entropy production σ_n
    computed with the continuum functional of ``ness`` (continuum C, Σ, D), centred at
    ``center`` (default ``ness.mean``: the drift's fixed point — w* for independent batches, the
    linear theory's effective minimum for reshuffling; ``"pilot"``: the measured mean of the
    second half of burn-in). Returns a :class:`NESSRun`.
    """
    if not (isinstance(n_chains, int | np.integer) and n_chains % n_groups == 0):
        raise ValueError(f"n_chains={n_chains!r} must be a multiple of n_groups={n_groups}")
    if burn_records < 2 or records < 2:
        raise ValueError("burn_records and records must be ≥ 2")
    with small_tensor_threads(model.x.device):
        every = policy.steps_per_epoch if isinstance(policy, WithoutReplacement) else 1
        dev = model.x.device
        gen = torch.Generator(device=dev).manual_seed(int(seed))
        sampler = sgd(model.minibatch_grad, policy, lr)
        w0 = torch.as_tensor(np.asarray(ness.mean if start is None else start, float), device=dev)
        w_init = w0.repeat(n_chains, 1).contiguous()
        if start_cov is not None:
            Lc = torch.as_tensor(np.linalg.cholesky(np.asarray(start_cov, float)), device=dev)
            z = torch.randn(w_init.shape, generator=gen, dtype=torch.float64, device=dev)
            w_init = w_init + z @ Lc.T
        state = sampler.init(w_init, gen)
        total = (burn_records + records) * every
        bar = tqdm(total=total, desc=f"SGD {policy.name}", disable=not progress, mininterval=1.0)
        pilot = torch.zeros_like(w0)
        for r in range(burn_records):
            for _ in range(every):
                state = sampler.update(state, gen)
            if r >= burn_records // 2:
                pilot += state.params.mean(0)
            bar.update(every)
        pilot = (pilot / (burn_records - burn_records // 2)).cpu().numpy()
        if isinstance(center, str):
            if center != "pilot":
                raise ValueError(f"center={center!r} must be None, 'pilot' or a vector")
            mu = pilot
        else:
            mu = np.asarray(ness.mean if center is None else center, float)
        m = max(ness.ep_mean, 1e-300)
        half = [6 * np.sqrt(2 * k * m) + k * m for k in windows]
        ent = EntropyAccumulator(n_chains, n_groups, half, windows)
        mom = ChainGroupMoments(n_chains, w0.numel(), n_groups, center=pilot)
        P = ness.functional
        traj = torch.empty(chunk + 1, n_chains, w0.numel(), dtype=torch.float64, device=dev)
        traj[0] = state.params
        done = 0
        while done < records:
            t = min(chunk, records - done)
            for j in range(1, t + 1):
                for _ in range(every):
                    state = sampler.update(state, gen)
                traj[j] = state.params
            bar.update(t * every)
            ent.update(entropy_production(traj[: t + 1], mu, P))
            mom.update_many(traj[1 : t + 1])
            traj[0] = traj[t]
            done += t
        bar.close()
    return NESSRun(moments=mom.result(), ep=ent.result(), entropy=ent, center=mu,
                   pilot_mean=pilot, every=every, steps=total)  # fmt: skip
