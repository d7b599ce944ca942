"""Bayesian linear regression: exact posterior, SGLD/SGWORLD stationary theory, error scans.

Model: y_i = x_iᵀθ + σ ε_i (i = 1…N, ε_i ~ N(0, 1)), prior θ ~ N(0, s² I). The negative log
posterior U(θ) = Σ_i (y_i − x_iᵀθ)²/(2σ²) + ‖θ‖²/(2s²) is quadratic, so the posterior is Gaussian,

    Σ_post = H⁻¹,  H = XᵀX/σ² + I/s²,    μ_post = Σ_post Xᵀy/σ²,

and at temperature T the target is N(μ_post, T·Σ_post) (Bishop 2006, §3.3).

Because the dynamics is linear, the stationary covariance of SGLD with step η (Welling & Teh 2011)
is available in closed form (:func:`sgld_covariance`), and so, to leading order in the minibatch
noise, is the phase-averaged covariance of SGWORLD (:func:`sgworld_covariance`; Adhikari et al.
2023; Shaw & Whalley 2025). :func:`error_scan` measures both samplers against the posterior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg as sla
import torch
from tqdm.auto import tqdm

from fpt_core.langevin.samplers import POLICIES, ChainGroupMoments, minibatch_policy, sgld
from fpt_core.train.device import resolve_device, small_tensor_threads

__all__ = [
    "LinearRegression",
    "make_regression",
    "gaussian_kl",
    "moment_errors",
    "sgld_covariance",
    "sgworld_covariance",
    "ula_covariance",
    "loglog_slope",
    "error_scan",
]


@dataclass(frozen=True)
class LinearRegression:
    """Data ``X`` (N, d), ``y`` (N,) as float64 tensors, noise std σ, prior std s."""

    X: torch.Tensor
    y: torch.Tensor
    noise_std: float
    prior_std: float

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[1]

    def hessian(self) -> np.ndarray:
        """H = XᵀX/σ² + I/s² (the posterior precision)."""
        X = self.X.cpu().numpy()
        return X.T @ X / self.noise_std**2 + np.eye(self.dim) / self.prior_std**2

    def posterior(self, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Exact posterior mean μ = H⁻¹Xᵀy/σ² and covariance T·H⁻¹ (float64 numpy)."""
        H = self.hessian()
        b = self.X.cpu().numpy().T @ self.y.cpu().numpy() / self.noise_std**2
        cov = np.linalg.inv(H)
        return cov @ b, temperature * 0.5 * (cov + cov.T)

    def minibatch_grad(self, theta: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """∇Ũ = (N/B) Σ_{i∈b} x_i (x_iᵀθ − y_i)/σ² + θ/s² for params (C, d), batch idx (C, B)."""
        xb = self.X[idx]  # (C, B, d)
        r = torch.bmm(xb, theta.unsqueeze(-1)).squeeze(-1) - self.y[idx]  # (C, B)
        scale = self.n / (idx.shape[1] * self.noise_std**2)
        g = torch.bmm(r.unsqueeze(1), xb).squeeze(1)  # (C, d)
        return torch.add(g * scale, theta, alpha=1.0 / self.prior_std**2)

    def minibatch_noise_cov(self, batch_size: int, cov: np.ndarray | None = None) -> np.ndarray:
        """Covariance of ∇Ũ over batches of B distinct examples, averaged over θ ~ N(μ, cov).

        With g_i(θ) = x_i(x_iᵀθ − y_i)/σ² = g_i(μ) + A_i(θ − μ), A_i = x_i x_iᵀ/σ²:
        ``N²(N−B)/(B(N−1)) · (1/N) Σ_i [c_i c_iᵀ + (A_i − Ā) cov (A_i − Ā)]``, c_i = g_i(μ) − ḡ(μ).
        """
        X, y = self.X.cpu().numpy(), self.y.cpu().numpy()
        mu, _ = self.posterior()
        n, b = self.n, batch_size
        g = X * ((X @ mu - y) / self.noise_std**2)[:, None]
        c = g - g.mean(0)
        s = c.T @ c / n
        if cov is not None:
            A = np.einsum("ni,nj->nij", X, X) / self.noise_std**2
            A = A - A.mean(0)
            s = s + np.einsum("nij,jk,nkl->il", A, cov, A) / n
        return n**2 * (n - b) / (b * (n - 1)) * s


def make_regression(
    n: int = 200,
    dim: int = 3,
    noise_std: float = 1.0,
    prior_std: float = 1.0,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> LinearRegression:
    """Synthetic data: x_i ~ N(0, I_d), θ* ~ N(0, s²I), y_i = x_iᵀθ* + σ ε_i (float64)."""
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ValueError(f"n={n!r} must be an integer ≥ 2")
    if not (isinstance(dim, int | np.integer) and dim >= 1):
        raise ValueError(f"dim={dim!r} must be an integer ≥ 1")
    for name, v in (("noise_std", noise_std), ("prior_std", prior_std)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name}={v!r} must be a finite number > 0")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dim))
    theta = prior_std * rng.standard_normal(dim)
    y = X @ theta + noise_std * rng.standard_normal(n)
    dev = resolve_device(device)
    t = lambda a: torch.tensor(a, dtype=torch.float64, device=dev)  # noqa: E731
    return LinearRegression(t(X), t(y), float(noise_std), float(prior_std))


def gaussian_kl(mean_q, cov_q, mean_p, cov_p) -> float:
    """KL(N(m_q, S_q) ‖ N(m_p, S_p)) = ½[tr(S_p⁻¹S_q) + Δᵀ S_p⁻¹ Δ − d + ln det S_p − ln det S_q]."""
    mean_q, mean_p = np.asarray(mean_q, float), np.asarray(mean_p, float)
    cov_q, cov_p = np.asarray(cov_q, float), np.asarray(cov_p, float)
    d = mean_p.size
    lp = sla.cho_factor(cov_p)
    sq, lq = np.linalg.slogdet(cov_q)
    if sq <= 0:
        return float("inf")
    diff = mean_q - mean_p
    tr = np.trace(sla.cho_solve(lp, cov_q))
    quad = diff @ sla.cho_solve(lp, diff)
    logdet_p = 2.0 * np.log(np.diag(lp[0])).sum()
    return float(0.5 * (tr + quad - d + logdet_p - lq))


def moment_errors(mean, cov, mean_p, cov_p) -> dict[str, float]:
    """KL of N(mean, cov) from N(mean_p, cov_p), ‖Δμ‖/‖μ_p‖ and ‖ΔΣ‖_F/‖Σ_p‖_F."""
    return {
        "kl": gaussian_kl(mean, cov, mean_p, cov_p),
        "mean_rel": float(np.linalg.norm(mean - mean_p) / np.linalg.norm(mean_p)),
        "cov_rel": float(np.linalg.norm(cov - cov_p) / np.linalg.norm(cov_p)),
    }


def _check_lr(model: LinearRegression, lr: float) -> np.ndarray:
    H = model.hessian()
    lam = np.linalg.eigvalsh(H)
    if not (np.isfinite(lr) and 0 < lr < 2.0 / lam[-1]):
        raise ValueError(
            f"lr={lr!r} must lie in (0, 2/λ_max(H) = {2.0 / lam[-1]:.4g}) for stability"
        )
    return H


def ula_covariance(model: LinearRegression, lr: float, temperature: float = 1.0) -> np.ndarray:
    """Full-batch Langevin (ULA) stationary covariance T·[H(I − ηH/2)]⁻¹ (exact, linear model)."""
    H = _check_lr(model, lr)
    return temperature * np.linalg.inv(H - 0.5 * lr * H @ H)


def sgld_covariance(
    model: LinearRegression,
    lr: float,
    batch_size: int,
    temperature: float = 1.0,
    discrete: bool = True,
    iters: int = 30,
) -> np.ndarray:
    """Stationary covariance of SGLD with independent minibatches on the linear model.

    Discrete time (exact for this linear chain): Σ = FΣF + 2ηT·I + η²·C_b(Σ), F = I − ηH, with
    C_b(Σ) the minibatch-gradient covariance averaged over θ ~ N(μ, Σ) (solved by fixed-point
    iteration). ``discrete=False`` gives the continuum Lyapunov equation of the issue,
    HΣ + ΣH = (2/η)D with D = ηT·I + (η²/2)·C_b(Σ), which drops the η²HΣH term (the
    time-discretisation bias of the Euler step).
    """
    H = _check_lr(model, lr)
    d = model.dim
    F = np.eye(d) - lr * H
    cov = temperature * np.linalg.inv(H)
    for _ in range(iters):
        cb = model.minibatch_noise_cov(batch_size, cov)
        if discrete:
            cov = sla.solve_discrete_lyapunov(F, 2 * lr * temperature * np.eye(d) + lr**2 * cb)
        else:
            cov = sla.solve_continuous_lyapunov(H, 2 * temperature * np.eye(d) + lr * cb)
        cov = 0.5 * (cov + cov.T)
    return cov


def sgworld_covariance(
    model: LinearRegression, lr: float, batch_size: int, temperature: float = 1.0
) -> np.ndarray:
    """Phase-averaged stationary covariance of SGWORLD (without-replacement SGLD), linear model.

    Within an epoch of M = N/B steps, δ_{k+1} = Fδ_k + e_k + ζ_k with F = I − ηH, injected noise
    Cov ζ = 2ηT·I and minibatch noise e_k = −η(∇Ũ_{b_k} − ∇U) at the posterior mean. For a random
    permutation, Cov(e_j, e_l) = c·(Mδ_jl − 1)/(M − 1) with c = η²C_b: the minibatch noise sums to
    zero over an epoch. Then P_k = F^k P_0 F^k + M/(M−1)·R_k − s_k c s_k/(M−1) + W_k with
    R_{k+1} = F R_k F + c, s_{k+1} = F s_k + I, W_{k+1} = F W_k F + 2ηT·I (R_0 = W_0 = s_0 = 0),
    P_0 = F^M P_0 F^M + (P_M evaluated at P_0 = 0); the result is (1/M)Σ_{k<M} P_k. The θ-dependence of the
    minibatch noise (its multiplicative part) is neglected. Small ηH·M: P̄ ≈ Σ_ULA + c·(M+1)/6.
    """
    H = _check_lr(model, lr)
    n, b, d = model.n, int(batch_size), model.dim
    if n % b:
        raise ValueError(f"batch_size={batch_size} must divide n={n}")
    m = n // b
    F = np.eye(d) - lr * H
    c = lr**2 * model.minibatch_noise_cov(b, temperature * np.linalg.inv(H))
    q = 2 * lr * temperature * np.eye(d)
    R = np.zeros((d, d))
    W = np.zeros((d, d))
    s = np.zeros((d, d))
    Fk = np.eye(d)
    parts = []
    for _ in range(m + 1):
        noise = (m / (m - 1)) * R - s @ c @ s / (m - 1) + W if m > 1 else W
        parts.append((Fk.copy(), noise))
        R, W, s, Fk = F @ R @ F + c, F @ W @ F + q, F @ s + np.eye(d), F @ Fk
    FM, QM = parts[m]
    P0 = sla.solve_discrete_lyapunov(FM, QM)
    P = sum(Fk @ P0 @ Fk.T + noise for Fk, noise in parts[:m]) / m
    return 0.5 * (P + P.T)


def loglog_slope(x, y) -> tuple[float, float]:
    """Least-squares slope of log y against log x and its standard error."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if lx.size < 3:
        raise ValueError("need at least three points for a slope and its error")
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, res, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    s2 = resid @ resid / (lx.size - 2)
    se = np.sqrt(s2 / ((lx - lx.mean()) ** 2).sum())
    return float(coef[0]), float(se)


def error_scan(
    model: LinearRegression,
    lrs,
    batch_size: int,
    n_chains: int = 1024,
    n_groups: int = 8,
    burn_relax: float = 3.0,
    measure_relax: float = 20.0,
    temperature: float = 1.0,
    policies=POLICIES,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Stationary error of SGLD and SGWORLD against the exact posterior, one row per (policy, η).

    Every chain starts from an exact posterior draw; it runs ``burn_relax`` and then
    ``measure_relax`` relaxation times 1/(η λ_min(H)), recording every step (phase average).
    Alongside each chain runs the full-batch Langevin chain driven by the same Gaussian noise ξ
    (a coupled control variate). Its stationary law N(μ, Σ_ULA) is exact
    (:func:`ula_covariance`), so the "coupled" estimates μ + (m̂ − m̂_ULA) and
    Σ_ULA + (Σ̂ − Σ̂_ULA) are consistent for the sampler's stationary moments with far smaller
    variance than the "plain" sample moments m̂, Σ̂ (which are reported too). Columns: ``policy,
    lr, steps`` and, for ``est`` in (plain, coupled), ``kl_<est>, mean_rel_<est>, cov_rel_<est>``
    with ``*_se`` from chain groups, and the linear theory ``cov_rel_theory, kl_theory`` and the
    continuum (Lyapunov) theory ``kl_continuum``.
    """
    lrs = [float(v) for v in np.atleast_1d(lrs)]
    for v in lrs:
        _check_lr(model, v)
    for p in policies:
        if p not in POLICIES:
            raise ValueError(f"policy={p!r} is unknown; allowed: {list(POLICIES)}")
    if not (burn_relax >= 0 and measure_relax > 0):
        raise ValueError("burn_relax must be ≥ 0 and measure_relax > 0")
    mu, cov_p = model.posterior(temperature)
    lam_min = np.linalg.eigvalsh(model.hessian())[0]
    dev = model.X.device
    rows = []
    jobs = [(p, v) for p in policies for v in lrs]
    with small_tensor_threads(dev):
        for job, (pol, lr) in enumerate(tqdm(jobs, desc="error scan", disable=not progress)):
            rows.append(_scan_one(model, pol, lr, job, batch_size, n_chains, n_groups, burn_relax,
                                  measure_relax, temperature, seed, mu, cov_p, lam_min))  # fmt: skip
    return pd.DataFrame(rows)


def _scan_one(model, pol, lr, job, batch_size, n_chains, n_groups, burn_relax, measure_relax,
              temperature, seed, mu, cov_p, lam_min) -> dict:  # fmt: skip
    """One (policy, η) job of :func:`error_scan`."""
    dev = model.X.device
    Ht = torch.tensor(model.hessian(), device=dev)
    mut = torch.tensor(mu, device=dev)
    chol = torch.tensor(np.linalg.cholesky(cov_p), device=dev)
    gen = torch.Generator(device=dev).manual_seed(int(seed) * 7919 + job)
    policy = minibatch_policy(pol, model.n, batch_size)
    sampler = sgld(model.minibatch_grad, policy, lr, temperature)
    start = (
        mut
        + torch.randn(n_chains, model.dim, generator=gen, dtype=torch.float64, device=dev) @ chol.T
    )
    state, ref = sampler.init(start.clone(), gen), start.clone()
    tau = 1.0 / (lr * lam_min)
    n_burn, n_meas = int(np.ceil(burn_relax * tau)), int(np.ceil(measure_relax * tau))
    acc = ChainGroupMoments(n_chains, model.dim, n_groups, center=mu)
    acc_ref = ChainGroupMoments(n_chains, model.dim, n_groups, center=mu)
    scale = float(np.sqrt(2 * lr * temperature))
    for step in range(n_burn + n_meas):
        xi = torch.randn(start.shape, generator=gen, dtype=torch.float64, device=dev)
        state = sampler.update(state, gen, noise=xi)
        ref = ref - lr * (ref - mut) @ Ht + scale * xi
        if step >= n_burn:
            acc.update(state.params)
            acc_ref.update(ref)
    row = {"policy": pol, "lr": lr, "steps": n_burn + n_meas}
    (m_g, c_g), (mr_g, cr_g) = acc.group_stats()[:2], acc_ref.group_stats()[:2]
    cov_ula = ula_covariance(model, lr, temperature)
    for est, mg, cg in (
        ("plain", m_g, c_g),
        ("coupled", mu + (m_g - mr_g), cov_ula + (c_g - cr_g)),
    ):
        pooled = moment_errors(mg.mean(0), cg.mean(0), mu, cov_p)
        groups = [moment_errors(a, b, mu, cov_p) for a, b in zip(mg, cg, strict=True)]
        for k, v in pooled.items():
            row[f"{k}_{est}"] = v
            row[f"{k}_{est}_se"] = np.std([g[k] for g in groups], ddof=1) / np.sqrt(n_groups)
    if pol == "with_replacement":
        th = sgld_covariance(model, lr, batch_size, temperature)
        cont = sgld_covariance(model, lr, batch_size, temperature, discrete=False)
    else:
        th = sgworld_covariance(model, lr, batch_size, temperature)
        cont = cov_p  # the minibatch noise cancels over an epoch at leading order
    th_err = moment_errors(mu, th, mu, cov_p)
    row.update(cov_rel_theory=th_err["cov_rel"], kl_theory=th_err["kl"])
    row["kl_continuum"] = gaussian_kl(mu, cont, mu, cov_p)
    return row
