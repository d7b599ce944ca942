"""Nonequilibrium stationary state of SGD near a minimum: Lyapunov theory, circulation, entropy.

Near a minimum w* the SGD chain is linear to good approximation: per recorded step
δ_{n+1} = (I − K)δ_n + ε_n with drift matrix K (K = ηH per step with H the Hessian; per epoch
for minibatches without replacement) and noise covariance Cov ε = 2D. The stationary covariance Σ
and the circulation C then follow from the Lyapunov equation (Adhikari et al. 2023,
arXiv:2306.03521, the continuum form of their Fokker–Planck analysis):

    KΣ + ΣKᵀ = 2D      (K = ηH:  HΣ + ΣH = (2/η) D),       C = ½(KΣ − ΣKᵀ) = (η/2)(HΣ − ΣH).

C ≠ 0 is a persistent probability current; C is also the antisymmetric part of the lag-one
covariance E[δ_n δ_{n+1}ᵀ]. The discrete-time chain is solved exactly by Σ = (I−K)Σ(I−K)ᵀ + 2D
("chain" values below). Along a trajectory the total entropy production per step is

    σ_n = [−C Σ⁻¹ (w_n − μ)]ᵀ D⁻¹ (w_{n+1} − w_n),    ⟨σ⟩ = −tr(C D⁻¹ C Σ⁻¹),

and for linear dynamics with Gaussian noise E[e^{−σ_n} | w_n] = 1 exactly (because
K − CΣ⁻¹ = DΣ⁻¹ and Σ⁻¹CΣ⁻¹ is antisymmetric), so the integral fluctuation theorem ⟨e^{−σ}⟩ = 1
holds for trajectories of any length (Seifert 2012); its violations measure anharmonicity and
non-Gaussian minibatch noise. The model of the seed paper is :class:`TanhNet`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt
import torch
from tqdm.auto import tqdm

from .device import resolve_device, small_tensor_threads
from .langevin import ChainGroupMoments, MinibatchPolicy, WithoutReplacement, sgd

__all__ = [
    "lyapunov_covariance",
    "LinearNESS",
    "linear_ness",
    "entropy_production",
    "EntropyAccumulator",
    "TanhNet",
    "make_tanh_net",
    "minibatch_diffusion",
    "epoch_map",
    "reshuffled_ness",
    "simulate_ness",
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


def entropy_production(traj: torch.Tensor, mean, P) -> torch.Tensor:
    """σ_n = (w_n − μ)ᵀ P (w_{n+1} − w_n) for a trajectory (T, C, d) → (T − 1, C)."""
    P = torch.as_tensor(P, dtype=traj.dtype, device=traj.device)
    mu = torch.as_tensor(mean, dtype=traj.dtype, device=traj.device)
    return ((traj[:-1] - mu) @ P * (traj[1:] - traj[:-1])).sum(-1)


class EntropyAccumulator:
    """Streaming statistics of k-step entropy production σ^(k) (sums of k consecutive σ_n).

    Per window k and chain group: count, Σσ, Σσ², Σe^{−σ} and a histogram on symmetric bins
    (edges ±``half_width[k]``), for the IFT ⟨e^{−σ}⟩ = 1 and the DFT ln[P(σ)/P(−σ)] = σ.
    Windows overlap (one ends at every record); chain groups give the standard errors.
    """

    def __init__(self, n_chains: int, n_groups: int, half_width, windows=(1, 2, 3), n_bins=40):
        if n_chains % n_groups:
            raise ValueError(f"n_groups={n_groups} must divide n_chains={n_chains}")
        self.c, self.g, self.windows = int(n_chains), int(n_groups), tuple(int(k) for k in windows)
        self.edges = {
            k: np.linspace(-h, h, 2 * n_bins + 1)
            for k, h in zip(
                self.windows, np.broadcast_to(half_width, len(self.windows)), strict=True
            )
        }
        self.sums = {k: np.zeros((4, self.g)) for k in self.windows}  # n, Σσ, Σσ², Σe^{−σ}
        self.hist = {k: np.zeros((self.g, 2 * n_bins), dtype=np.int64) for k in self.windows}
        self.tail = np.zeros((0, self.c))

    def update(self, sig) -> None:
        """Add per-step σ_n of all chains, shape (T, C), consecutive to the previous call."""
        new = np.asarray(torch.as_tensor(sig).detach().cpu(), dtype=float)
        start = self.tail.shape[0]
        s = np.concatenate([self.tail, new])
        cs = np.concatenate([np.zeros((1, self.c)), s.cumsum(0)])
        for k in self.windows:
            j0 = max(start, k - 1)
            w = (cs[j0 + 1 :] - cs[j0 + 1 - k : cs.shape[0] - k]).reshape(
                -1, self.g, self.c // self.g
            )
            self.sums[k] += [
                np.full(self.g, w.shape[0] * w.shape[2]),
                w.sum((0, 2)),
                (w * w).sum((0, 2)),
                np.exp(-w).sum((0, 2)),
            ]
            for gi in range(self.g):
                self.hist[k][gi] += np.histogram(w[:, gi], self.edges[k])[0]
        self.tail = s[s.shape[0] - (max(self.windows) - 1) :]

    def result(self, min_count: int = 100) -> list[dict]:
        """Per window: mean, var, ⟨e^{−σ}⟩ and DFT slope, each with its chain-group error."""
        out = []
        for k in self.windows:
            n, s1, s2, se = self.sums[k]
            m = s1 / n
            per_group = {"mean": m, "var": s2 / n - m**2, "ift": se / n}
            per_group["dft_slope"] = np.array(
                [_dft_slope(h, self.edges[k], min_count) for h in self.hist[k]]
            )
            tot = n.sum()
            row = {
                "window": k,
                "count": int(tot),
                "mean": s1.sum() / tot,
                "var": s2.sum() / tot - (s1.sum() / tot) ** 2,
                "ift": se.sum() / tot,
                "dft_slope": _dft_slope(self.hist[k].sum(0), self.edges[k], min_count),
            }
            for key, vals in per_group.items():
                v = np.asarray(vals)[np.isfinite(vals)]  # a sparse group may have no DFT pairs
                row[f"{key}_se"] = (
                    float(np.std(v, ddof=1) / np.sqrt(v.size)) if v.size > 1 else np.nan
                )
            out.append(row)
        return out

    def dft_points(self, k: int, min_count: int = 100):
        """(σ at bin centres > 0, ln[P(σ)/P(−σ)], its Poisson SE) from the pooled histogram."""
        return _dft_points(self.hist[k].sum(0), self.edges[k], min_count)


def _dft_points(counts, edges, min_count):
    centres = 0.5 * (edges[1:] + edges[:-1])
    half = counts.size // 2
    pos, neg = counts[half:], counts[:half][::-1]
    ok = (pos >= min_count) & (neg >= min_count)
    x = centres[half:][ok]
    y = np.log(pos[ok] / neg[ok])
    return x, y, np.sqrt(1.0 / pos[ok] + 1.0 / neg[ok])


def _dft_slope(counts, edges, min_count):
    x, y, se = _dft_points(counts, edges, min_count)
    w = 1.0 / se**2  # weighted least squares through the origin
    return float((w * x * y).sum() / (w * x * x).sum()) if x.size else float("nan")


@dataclass(frozen=True)
class TanhNet:
    """The seed paper's 1–2–1 tanh regression network with 7 weights (w[0..6] = w1…w7).

    f(x) = w5·tanh(w1·x + w3) + w6·tanh(w2·x + w4) + w7; per-example loss
    ℓ_i = (y_i − f(x_i))²/(2σ²) plus the prior share λ‖w‖²/(2σ²), so that the full loss is
    U(w) = Σ_i (y_i − f(x_i))²/(2σ²) + (N/(2σ²))·λ‖w‖² and the minibatch estimate is
    Ũ = (N/B)·Σ_{i∈b} ℓ_i (Adhikari et al. 2023).
    """

    x: torch.Tensor
    y: torch.Tensor
    sigma: float
    weight_decay: float

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def _example_loss(self, w, xi, yi):
        f = w[4] * torch.tanh(w[0] * xi + w[2]) + w[5] * torch.tanh(w[1] * xi + w[3]) + w[6]
        return ((yi - f) ** 2 + self.weight_decay * (w * w).sum()) / (2 * self.sigma**2)

    def predict(self, w, x) -> np.ndarray:
        """f(x) for one weight vector w (7,) at points x (numpy)."""
        w, x = np.asarray(w, float), np.asarray(x, float)
        return w[4] * np.tanh(w[0] * x + w[2]) + w[5] * np.tanh(w[1] * x + w[3]) + w[6]

    def loss(self, w: torch.Tensor) -> torch.Tensor:
        """Full loss U(w) for one weight vector (7,)."""
        return torch.vmap(self._example_loss, in_dims=(None, 0, 0))(w, self.x, self.y).sum()

    def per_example_grads(self, w) -> np.ndarray:
        """∇ℓ_i(w) including the prior share, shape (N, 7); they sum to ∇U."""
        w = torch.as_tensor(w, dtype=torch.float64, device=self.x.device)
        g = torch.func.grad(self._example_loss)
        return torch.vmap(g, in_dims=(None, 0, 0))(w, self.x, self.y).cpu().numpy()

    def per_example_hessians(self, w) -> np.ndarray:
        """∇²ℓ_i(w) including the prior share, shape (N, 7, 7)."""
        w = torch.as_tensor(w, dtype=torch.float64, device=self.x.device)
        h = torch.func.hessian(self._example_loss)
        return torch.vmap(h, in_dims=(None, 0, 0))(w, self.x, self.y).cpu().numpy()

    def minibatch_grad(self, w: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """∇Ũ for weights (C, 7) and batch indices (C, B), in closed form."""
        xb, yb = self.x[idx], self.y[idx]
        t1 = torch.addcmul(w[:, 2:3], w[:, 0:1], xb).tanh_()
        t2 = torch.addcmul(w[:, 3:4], w[:, 1:2], xb).tanh_()
        r = torch.addcmul(w[:, 6:7], w[:, 4:5], t1).addcmul_(w[:, 5:6], t2).sub_(yb)
        u1, u2 = 1 - t1 * t1, 1 - t2 * t2
        feats = torch.stack([u1 * xb, u2 * xb, u1, u2, t1, t2, torch.ones_like(r)], -1)
        g = torch.bmm(r.unsqueeze(1), feats).squeeze(1)  # (C, 7)
        g[:, :4] *= w[:, [4, 5, 4, 5]]
        scale = self.n / (idx.shape[1] * self.sigma**2)
        return torch.add(g * scale, w, alpha=self.n * self.weight_decay / self.sigma**2)

    def minimum(self, n_starts: int = 8, seed: int = 0) -> np.ndarray:
        """Lowest of ``n_starts`` trust-region Newton minimisations from N(0, I) starts."""
        dev = self.x.device
        as_t = lambda v: torch.tensor(v, dtype=torch.float64, device=dev)  # noqa: E731
        fun = lambda v: float(self.loss(as_t(v)))  # noqa: E731
        jac = lambda v: torch.func.grad(self.loss)(as_t(v)).cpu().numpy()  # noqa: E731
        hess = lambda v: torch.func.hessian(self.loss)(as_t(v)).cpu().numpy()  # noqa: E731
        rng = np.random.default_rng(seed)
        best = None
        for _ in range(n_starts):
            r = sopt.minimize(fun, rng.standard_normal(7), jac=jac, hess=hess,
                              method="trust-exact", options={"gtol": 1e-9, "maxiter": 3000})  # fmt: skip
            if best is None or r.fun < best.fun:
                best = r
        w = best.x
        for _ in range(5):  # polish with Newton steps
            w = w - np.linalg.solve(hess(w), jac(w))
        return w


def make_tanh_net(
    n: int = 200,
    x_min: float = -3.0,
    dx: float = 0.03,
    data_noise: float = 0.1,
    sigma: float = 0.1,
    weight_decay: float = 1e-3,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> TanhNet:
    """Data of the seed paper: x = x_min, x_min + dx, …; y = exp(−x²) + data_noise·ε."""
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ValueError(f"n={n!r} must be an integer ≥ 2")
    for name, v in (("dx", dx), ("sigma", sigma)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name}={v!r} must be a finite number > 0")
    for name, v in (("data_noise", data_noise), ("weight_decay", weight_decay)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name}={v!r} must be a finite number ≥ 0")
    x = x_min + dx * np.arange(n)
    y = np.exp(-(x**2)) + data_noise * np.random.default_rng(seed).standard_normal(n)
    dev = resolve_device(device)
    t = lambda a: torch.tensor(a, dtype=torch.float64, device=dev)  # noqa: E731
    return TanhNet(t(x), t(y), float(sigma), float(weight_decay))


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
) -> dict:
    """Run SGD chains and measure the stationary state and entropy production.

    Chains start at ``start`` (default ``ness.mean``, the linear theory's stationary mean: w* for
    independent batches, the effective minimum for reshuffling, which lies several stationary
    standard deviations from w*; starting there spares the slow relaxation of the mean, and a
    wrong prediction would still relax away during burn-in).

    A record is taken every step for independent minibatches and once per epoch (stroboscopic,
    at epoch boundaries) for :class:`~fpt_core.langevin.WithoutReplacement`: there the batch
    sequence is periodic, the epoch-to-epoch map is a time-homogeneous Markov chain, and within an
    epoch the weights make an O(η) excursion that cancels at the epoch's end. After
    ``burn_records`` records the centre μ is the mean over chains of the second half of burn-in;
    then ``records`` records give moments and k-step entropy production σ_n computed with the
    functional of ``ness`` (continuum C, Σ, D). Returns ``moments`` (StationaryMoments), ``ep``
    (one dict per window), ``entropy`` (the accumulator, for histograms), ``center``, ``every``.
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
        state = sampler.init(w0.repeat(n_chains, 1).contiguous(), gen)
        total = (burn_records + records) * every
        bar = tqdm(total=total, desc=f"SGD {policy.name}", disable=not progress, mininterval=1.0)
        pilot = torch.zeros_like(w0)
        for r in range(burn_records):
            for _ in range(every):
                state = sampler.update(state, gen)
            if r >= burn_records // 2:
                pilot += state.params.mean(0)
            bar.update(every)
        mu = (pilot / (burn_records - burn_records // 2)).cpu().numpy()
        m = max(ness.ep_mean, 1e-300)
        half = [6 * np.sqrt(2 * k * m) + k * m for k in windows]
        ent = EntropyAccumulator(n_chains, n_groups, half, windows)
        mom = ChainGroupMoments(n_chains, w0.numel(), n_groups, center=mu)
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
    return {"moments": mom.result(), "ep": ent.result(), "entropy": ent, "center": mu,
            "every": every, "steps": total}  # fmt: skip
