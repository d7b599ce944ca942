"""Entropy production along SGD trajectories and the fluctuation theorems.

Two functionals of a trajectory are computed here.

* :func:`entropy_production` — the **continuum (Itô-discretised) functional** of Adhikari et al.
  2023 (arXiv:2306.03521): σ_n = [−CΣ⁻¹(w_n − c)]ᵀ D⁻¹ (w_{n+1} − w_n) with the continuum
  Lyapunov C, Σ and the diffusion D of the linear theory, centred at c (the drift's fixed
  point). It is the total entropy production of the Fokker–Planck model of SGD evaluated on the
  discrete trajectory — *not* the log ratio of forward and backward path probabilities of the
  discrete chain (for plain SGD that ratio does not exist: each step is a mixture of point
  masses, one per minibatch).
* :func:`gaussian_chain_log_ratio` — the **exact discrete-time** total entropy production of the
  linear-Gaussian surrogate δ' = Fδ + ε, ε ~ N(0, Q), started in its stationary law N(0, Σ):
  σ_n = ln[π(δ_n) p(δ_{n+1} | δ_n)] − ln[π(δ_{n+1}) p(δ_n | δ_{n+1})] (Seifert 2012). Its
  integral and detailed fluctuation theorems hold exactly for windows of any length.

:class:`EntropyAccumulator` streams k-step sums σ^(k) and estimates ⟨σ^(k)⟩, the IFT
⟨e^{−σ}⟩ = 1 and the DFT slope of ln[P(σ)/P(−σ)] against σ, with chain-group standard errors;
:func:`surrogate_entropy` runs the surrogate and evaluates both functionals on it.
"""

from __future__ import annotations

import numpy as np
import torch

from fpt_core.train.device import small_tensor_threads

__all__ = [
    "entropy_production",
    "EntropyAccumulator",
    "gaussian_chain_log_ratio",
    "gaussian_chain_ep_mean",
    "surrogate_entropy",
]


def entropy_production(traj: torch.Tensor, mean, P) -> torch.Tensor:
    """The authors' continuum functional σ_n = (w_n − c)ᵀ P (w_{n+1} − w_n), per step.

    With P = (−CΣ⁻¹)ᵀD⁻¹ (:attr:`fpt_core.langevin.noneq.LinearNESS.functional`) this is
    σ_n = [−CΣ⁻¹(w_n − c)]ᵀ D⁻¹ (w_{n+1} − w_n) (Adhikari et al. 2023, their Eq. for the total
    entropy production of the Fokker–Planck model, Itô-discretised), centred at ``mean`` = c.

    Parameters
    ----------
    traj : (T, C, d) tensor, T records of C chains.
    mean : (d,) the centre c (the drift's fixed point).
    P : (d, d) the functional's matrix.

    Returns
    -------
    (T − 1, C) tensor of σ_n.

    Examples
    --------
    >>> traj = torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]]], dtype=torch.float64)
    >>> entropy_production(traj, [0.0, 0.0], [[0.0, 2.0], [0.0, 0.0]]).tolist()
    [[2.0]]
    """
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


def _check_chain(F, Q):
    F, Q = np.atleast_2d(np.asarray(F, float)), np.atleast_2d(np.asarray(Q, float))
    if F.shape != Q.shape or F.shape[0] != F.shape[1]:
        raise ValueError(f"F and Q must be square of equal size, got {F.shape}, {Q.shape}")
    if not np.allclose(Q, Q.T) or np.linalg.eigvalsh(Q)[0] <= 0:
        raise ValueError("Q must be symmetric positive definite")
    if np.abs(np.linalg.eigvals(F)).max() >= 1:
        raise ValueError("F must have spectral radius < 1 (stable chain)")
    return F, Q


def _stationary_cov(F, Q):
    import scipy.linalg as sla

    S = sla.solve_discrete_lyapunov(F, Q)
    return 0.5 * (S + S.T)


def gaussian_chain_log_ratio(traj: torch.Tensor, F, Q, mean=None) -> torch.Tensor:
    """Exact total entropy production per step of the stationary linear-Gaussian chain.

    For δ' = Fδ + ε, ε ~ N(0, Q), with stationary law π = N(0, Σ), Σ = FΣFᵀ + Q,

    σ_n = ln π(δ_n) + ln p(δ_{n+1} | δ_n) − ln π(δ_{n+1}) − ln p(δ_n | δ_{n+1})
        = ½δ_{n+1}ᵀΣ⁻¹δ_{n+1} − ½δ_nᵀΣ⁻¹δ_n
          + ½(δ_n − Fδ_{n+1})ᵀQ⁻¹(δ_n − Fδ_{n+1}) − ½(δ_{n+1} − Fδ_n)ᵀQ⁻¹(δ_{n+1} − Fδ_n),

    the log ratio of the probabilities of a path and of its time reverse (Seifert 2012). For a
    stationary start ⟨e^{−σ^(k)}⟩ = 1 and P(σ^(k))/P(−σ^(k)) = e^{σ^(k)} hold exactly for every k.

    Parameters
    ----------
    traj : (T, C, d) tensor of states (δ = traj − mean).
    F, Q : (d, d) transition matrix (spectral radius < 1) and noise covariance (SPD).
    mean : (d,) the fixed point (default 0).

    Examples
    --------
    >>> x = torch.tensor([[[0.3]], [[-0.2]]], dtype=torch.float64)  # 1-D: always reversible
    >>> float(gaussian_chain_log_ratio(x, [[0.5]], [[1.0]]).abs().max()) < 1e-15
    True
    """
    F, Q = _check_chain(F, Q)
    S = _stationary_cov(F, Q)
    t = lambda a: torch.as_tensor(a, dtype=traj.dtype, device=traj.device)  # noqa: E731
    Si, Qi, Ft = t(np.linalg.inv(S)), t(np.linalg.inv(Q)), t(F)
    z = traj if mean is None else traj - t(np.asarray(mean, float))
    x, y = z[:-1], z[1:]

    def quad(v, M):
        return 0.5 * ((v @ M) * v).sum(-1)

    return quad(y, Si) - quad(x, Si) + quad(x - y @ Ft.T, Qi) - quad(y - x @ Ft.T, Qi)


def gaussian_chain_ep_mean(F, Q) -> float:
    """Mean of :func:`gaussian_chain_log_ratio` per step in the stationary state.

    ⟨σ⟩ = ½ tr Q⁻¹(Σ − ΣFᵀFᵀ − FFΣ + FΣFᵀ) − d/2 ≥ 0 (a Kullback–Leibler divergence between
    the forward and reversed two-step laws); 0 iff FΣ = ΣFᵀ (detailed balance).

    Examples
    --------
    >>> round(gaussian_chain_ep_mean(np.diag([0.5, 0.8]), np.eye(2)), 12)  # reversible
    0.0
    >>> gaussian_chain_ep_mean([[0.5, 0.3], [-0.3, 0.5]], np.eye(2)) > 0  # rotating drift
    True
    """
    F, Q = _check_chain(F, Q)
    S = _stationary_cov(F, Q)
    M = S - S @ F.T @ F.T - F @ F @ S + F @ S @ F.T
    return float(0.5 * np.trace(np.linalg.solve(Q, M)) - 0.5 * F.shape[0])


@small_tensor_threads()
def surrogate_entropy(
    K,
    D,
    P,
    n_chains: int = 256,
    steps: int = 10000,
    n_groups: int = 8,
    windows=(1, 2, 3),
    chunk: int = 1000,
    seed: int = 0,
) -> dict:
    """Simulate the linear-Gaussian surrogate δ' = (I − K)δ + ε, ε ~ N(0, 2D), from its
    stationary law and evaluate both functionals on the same trajectories.

    Returns ``{"continuum": rows, "exact": rows}`` (rows of :meth:`EntropyAccumulator.result`):
    ``continuum`` is :func:`entropy_production` with matrix ``P`` (centred at the fixed point 0),
    ``exact`` is :func:`gaussian_chain_log_ratio`. Both satisfy ⟨e^{−σ^(k)}⟩ = 1 exactly
    (the continuum one because K − CΣ⁻¹ = DΣ⁻¹ makes E[e^{−σ_n} | δ_n] = 1 for every δ_n).

    Examples
    --------
    >>> K = 0.05 * np.array([[1.0, 0.5], [-0.5, 1.0]]); D = 0.01 * np.eye(2)
    >>> out = surrogate_entropy(K, D, np.zeros((2, 2)), n_chains=16, steps=50, n_groups=4)
    >>> float(out["continuum"][0]["ift"]), out["exact"][0]["count"]
    (1.0, 800)
    """
    K, D = np.asarray(K, float), np.asarray(D, float)
    F, Q = _check_chain(np.eye(K.shape[0]) - K, 2 * D)
    if not (isinstance(steps, int | np.integer) and steps >= 2):
        raise ValueError(f"steps={steps!r} must be an integer ≥ 2")
    S = _stationary_cov(F, Q)
    d = K.shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    t = lambda a: torch.as_tensor(np.asarray(a, float), dtype=torch.float64)  # noqa: E731
    LQ, Ft = t(np.linalg.cholesky(Q)), t(F)
    x = torch.randn(n_chains, d, generator=gen, dtype=torch.float64) @ t(np.linalg.cholesky(S)).T
    m_exact = max(gaussian_chain_ep_mean(F, Q), 1e-300)
    Pm = np.asarray(P, float)
    m_cont = max(float(np.trace(Pm @ (-K) @ S)), 1e-300)
    accs = {
        name: EntropyAccumulator(n_chains, n_groups,
                                 [6 * np.sqrt(2 * k * m) + k * m for k in windows], windows)
        for name, m in (("continuum", m_cont), ("exact", m_exact))
    }  # fmt: skip
    traj = torch.empty(chunk + 1, n_chains, d, dtype=torch.float64)
    traj[0] = x
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        noise = torch.randn(n, n_chains, d, generator=gen, dtype=torch.float64) @ LQ.T
        for j in range(1, n + 1):
            traj[j] = torch.addmm(noise[j - 1], traj[j - 1], Ft.T)
        accs["continuum"].update(entropy_production(traj[: n + 1], np.zeros(d), Pm))
        accs["exact"].update(gaussian_chain_log_ratio(traj[: n + 1], F, Q))
        traj[0] = traj[n]
        done += n
    return {name: acc.result() for name, acc in accs.items()}
