"""Predicted bias of the integral fluctuation theorem for the continuum entropy functional.

The authors' functional σ_n = (w_n − c)ᵀP(w_{n+1} − w_n) (:func:`fpt_core.langevin.entropy.
entropy_production`, P = (−CΣ⁻¹)ᵀD⁻¹, centred at the drift's fixed point c) satisfies
E[e^{−σ_n} | w_n] = 1 exactly on the linear-Gaussian surrogate. On a real chain write the
conditional cumulant generating function of the increment Δ = w' − w,

    K(t; w) = ln E[exp(tᵀΔ) | w],         L(w) = ln E[e^{−σ_n} | w_n = w] = K(−Pᵀ(w − c); w).

Expanding around c in powers of δ = w − c (δ ~ η^{1/2} for SGD), L has no constant, linear or
quadratic part (the quadratic part is the surrogate's, identically 0); its cubic part (quadratic
drift, linear state dependence of the noise covariance, third cumulant of the noise) is
O(η^{3/2}) and odd, its quartic part O(η²). Hence, per step,

    ε = E_π[e^{L}] − 1 = E_{N(0,Σ)}[(e^{L(δ)} + e^{L(−δ)})/2 − 1] + (1/6) ∂³L(0) : M₃ + O(η³),

where the first (even) term is a Gaussian average over the chain's stationary covariance Σ
(Monte Carlo with antithetic pairs) and M₃ = E_π[δ⊗δ⊗δ] is the stationary raw third moment,
O(η²), from the moment equation of the chain to leading order (F = I + ∂m, m(w) = E[Δ|w],
V(w) = Cov[Δ|w], κ = third cumulant of Δ at c, μ₁ = E_π δ = (−∂m)⁻¹ ½∂²m : Σ):

    M₃ = F^{⊗3} M₃ + 3 Sym E[(Fδ)⊗(Fδ)⊗½∂²m[δ,δ]] + 3 Sym E[(Fδ)⊗V(δ)] + κ.

Both terms are O(η²): ε ∝ η² at small η. Over k records ⟨e^{−σ^(k)}⟩ ≈ (1 + ε)^k. All
derivatives come from K by automatic differentiation, so one routine serves any chain:
:func:`sgd_cgf` gives K exactly for SGD with independent minibatches of B distinct examples,
:class:`AnharmonicToy` a test process with a known answer by simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import torch
from torch.func import jacfwd, jacrev, vmap

from fpt_core.train.device import small_tensor_threads

__all__ = [
    "log_mean_subset_product",
    "sgd_cgf",
    "IncrementCumulants",
    "increment_cumulants",
    "stationary_moments",
    "IFTBias",
    "predict_ift_bias",
    "AnharmonicToy",
    "dft_slope_from_bias",
    "power_law_fit",
]

Cgf = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def log_mean_subset_product(v: torch.Tensor, k: int) -> torch.Tensor:
    """ln E_b exp(Σ_{i∈b} v_i) over uniformly random k-subsets b of the n entries of ``v``.

    Exact, by the recursion for f_j^{(m)} = e_j(x_1…x_m)/C(m, j) (elementary symmetric
    polynomials of x_i = e^{v_i − v̄}, a convex combination at each step):
    f_j^{(m)} = ((m − j)/m) f_j^{(m−1)} + (j/m) x_m f_{j−1}^{(m−1)}. Differentiable, vmap-able.

    Examples
    --------
    >>> v = torch.tensor([0.1, -0.3, 0.7], dtype=torch.float64)  # all 3 pairs: brute force
    >>> pairs = torch.stack([v[0] + v[1], v[0] + v[2], v[1] + v[2]])
    >>> bool(torch.isclose(log_mean_subset_product(v, 2), pairs.exp().mean().log()))
    True
    """
    n = v.shape[-1]
    if not (isinstance(k, int | np.integer) and 1 <= k <= n):
        raise ValueError(f"k={k!r} must be an integer in [1, {n}]")
    c = v.mean(-1, keepdim=True)
    x = torch.exp(v - c)
    j = torch.arange(1, k + 1, dtype=v.dtype, device=v.device)
    f = torch.cat([torch.ones(1, dtype=v.dtype, device=v.device), torch.zeros_like(j)])
    for m in range(1, n + 1):
        a, b = (m - j).clamp(min=0) / m, torch.where(j <= m, j / m, 0.0)
        f = torch.cat([f[:1], a * f[1:] + b * x[m - 1] * f[:-1]])
    return k * c[0] + torch.log(f[k])


def sgd_cgf(model, lr: float, batch_size: int) -> Cgf:
    """K(t; w) = ln E_b exp(tᵀΔ) for one SGD step Δ = −η(N/B)Σ_{i∈b}∇ℓ_i(w), b a uniformly
    random set of B distinct examples (the with-replacement policy), exactly.

    ``model`` needs ``_example_loss(w, x_i, y_i)``, ``x``, ``y`` and ``n`` (as
    :class:`fpt_core.langevin.tanhnet.TanhNet`). Returns a function of single vectors t, w (d,).
    """
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} must be a finite number > 0")
    if not (isinstance(batch_size, int | np.integer) and 1 <= batch_size < model.n):
        raise ValueError(f"batch_size={batch_size!r} must be an integer in [1, {model.n})")
    grad = vmap(torch.func.grad(model._example_loss), in_dims=(None, 0, 0))
    scale = lr * model.n / batch_size

    def cgf(t, w):
        return log_mean_subset_product(-scale * (grad(w, model.x, model.y) @ t), batch_size)

    return cgf


@dataclass(frozen=True)
class IFTBias:
    """Predicted per-step IFT bias ε = ``even`` + ``skew`` (see the module docstring).

    ``even_se``: Monte Carlo error of ``even``; ``quadratic_residual``: the absolute value of E_{N(0,Σ)} of
    the quadratic part of L (0 for the continuum functional at the fixed point: the check that the
    functional is the surrogate's); ``sigma``, ``mean_shift`` μ₁, ``third_moment`` M₃: the
    stationary moments used."""

    even: float
    even_se: float
    skew: float
    quadratic_residual: float
    sigma: np.ndarray
    mean_shift: np.ndarray
    third_moment: np.ndarray

    @property
    def eps(self) -> float:
        return self.even + self.skew

    def windows(self, ks=(1, 2, 3)) -> dict[int, float]:
        """Predicted ⟨e^{−σ^(k)}⟩ ≈ (1 + ε)^k."""
        return {int(k): float((1 + self.eps) ** k) for k in ks}


def _sym3(X):
    """Sum over the 3 placements of the first index of X_ijk (X symmetric in j, k)."""
    return X + X.transpose(1, 0, 2) + X.transpose(2, 1, 0)


@dataclass(frozen=True)
class IncrementCumulants:
    """Taylor coefficients at the fixed point c of the increment's conditional cumulants:
    mean m(c + δ) = m1 δ + ½ m2[δ, δ] + …, covariance V(c + δ) = V0 + V1[δ] + …, third cumulant
    ``kappa`` at c. ``m2[k, p, q]``, ``V1[j, k, l] = ∂V_jk/∂δ_l``."""

    m1: np.ndarray
    m2: np.ndarray
    V0: np.ndarray
    V1: np.ndarray
    kappa: np.ndarray

    def scaled(self, r: float) -> IncrementCumulants:
        """The cumulants of r·Δ (plain SGD at learning rate rη: Δ is proportional to η)."""
        return IncrementCumulants(r * self.m1, r * self.m2, r**2 * self.V0, r**2 * self.V1,
                                  r**3 * self.kappa)  # fmt: skip


@small_tensor_threads()
def increment_cumulants(cgf: Cgf, center) -> IncrementCumulants:
    """:class:`IncrementCumulants` of ``cgf`` at ``center`` by automatic differentiation.

    Examples
    --------
    >>> cum = increment_cumulants(AnharmonicToy(lr=0.1).cgf, np.zeros(2))
    >>> np.allclose(cum.m1, -0.1 * AnharmonicToy(lr=0.1).H)
    True
    """
    c = torch.as_tensor(np.asarray(center, float), dtype=torch.float64)
    zero = torch.zeros(c.numel(), dtype=torch.float64)
    dK = jacrev(cgf, argnums=0)

    def mean(w):
        return dK(zero, w)

    def cov(w):
        return jacfwd(dK, argnums=0)(zero, w)

    npy = lambda a: a.detach().cpu().numpy()  # noqa: E731
    if torch.linalg.vector_norm(mean(c)) > 1e-8 * float(torch.linalg.vector_norm(jacfwd(mean)(c))):
        raise ValueError("center must be the drift's fixed point: E[Δ | center] ≠ 0")
    return IncrementCumulants(
        m1=npy(jacfwd(mean)(c)),
        m2=npy(jacfwd(jacfwd(mean))(c)),
        V0=npy(cov(c)),
        V1=npy(jacfwd(cov)(c)),
        kappa=npy(jacfwd(jacfwd(dK, argnums=0), argnums=0)(zero, c)),
    )


def stationary_moments(cum: IncrementCumulants):
    """Leading-order stationary moments of the chain: covariance Σ = FΣFᵀ + V0 (F = I + m1),
    mean shift μ₁ = (−m1)⁻¹ ½ m2 : Σ, raw third moment M₃ (module docstring)."""
    d = cum.m1.shape[0]
    F = np.eye(d) + cum.m1
    if np.abs(np.linalg.eigvals(F)).max() >= 1:
        raise ValueError("the linearised chain is unstable (spectral radius of I + m1 ≥ 1)")
    S = sla.solve_discrete_lyapunov(F, cum.V0)
    S = 0.5 * (S + S.T)
    mu1 = np.linalg.solve(-cum.m1, 0.5 * np.einsum("kpq,pq->k", cum.m2, S))
    FS = F @ S
    A = 0.5 * (np.einsum("ij,kpq,pq->kij", FS @ F.T, cum.m2, S)
               + 2 * np.einsum("ip,jq,kpq->kij", FS, FS, cum.m2))  # fmt: skip
    B = np.einsum("i,jk->ijk", F @ mu1, cum.V0) + np.einsum("il,jkl->ijk", FS, cum.V1)
    src = _sym3(A) + _sym3(B) + cum.kappa
    FFF = np.kron(F, np.kron(F, F))
    M3 = np.linalg.solve(np.eye(d**3) - FFF, src.reshape(-1)).reshape(d, d, d)
    return S, mu1, M3


@small_tensor_threads()
def predict_ift_bias(
    cgf: Cgf, center, P, cumulants: IncrementCumulants | None = None, n_mc: int = 4096,
    seed: int = 0,
) -> IFTBias:  # fmt: skip
    """Per-step bias ε of ⟨e^{−σ}⟩ for the functional σ = (w − c)ᵀP(w' − w) on the chain whose
    increment has conditional cumulant generating function ``cgf(t, w)`` (module docstring).

    Parameters
    ----------
    cgf : K(t; w) for single vectors (d,), differentiable with ``torch.func``.
    center : (d,) the drift's fixed point c (E[Δ | c] = 0).
    P : (d, d) the functional's matrix.
    cumulants : :func:`increment_cumulants` of ``cgf`` at ``center`` (computed if None).
    n_mc : antithetic pairs for the Gaussian (even) part.

    Examples
    --------
    >>> toy = AnharmonicToy(lr=0.02)
    >>> pred = predict_ift_bias(toy.cgf, np.zeros(2), toy.functional(), n_mc=2000)
    >>> 0 < pred.eps < 0.05 and pred.quadratic_residual < 1e-12
    True
    """
    if not (isinstance(n_mc, int | np.integer) and n_mc >= 2):
        raise ValueError(f"n_mc={n_mc!r} must be an integer ≥ 2")
    cum = increment_cumulants(cgf, center) if cumulants is None else cumulants
    S, mu1, M3 = stationary_moments(cum)
    P = np.asarray(P, float)
    Tm = -P.T  # t = Tm δ
    # cubic part of L(δ) = K(Tm δ; c + δ): tᵀ½m2[δδ] + ½tᵀV1[δ]t + κ[t,t,t]/6, averaged with M₃
    skew = (0.5 * np.einsum("ka,kpq,apq->", Tm, cum.m2, M3)
            + 0.5 * np.einsum("ja,kb,jkl,abl->", Tm, Tm, cum.V1, M3)
            + np.einsum("ia,jb,kc,ijk,abc->", Tm, Tm, Tm, cum.kappa, M3) / 6)  # fmt: skip
    Q = Tm.T @ cum.m1 + 0.5 * Tm.T @ cum.V0 @ Tm  # quadratic part δᵀQδ (0 for the continuum P)
    c = torch.as_tensor(np.asarray(center, float), dtype=torch.float64)
    Pt = torch.as_tensor(P.T)

    def L(delta):
        return cgf(-(Pt @ delta), c + delta)

    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n_mc, c.numel(), generator=gen, dtype=torch.float64)
    delta = z @ torch.as_tensor(np.linalg.cholesky(S)).T
    with torch.no_grad():
        e = 0.5 * (torch.expm1(vmap(L)(delta)) + torch.expm1(vmap(L)(-delta)))
    return IFTBias(
        even=float(e.mean()),
        even_se=float(e.std() / np.sqrt(n_mc)),
        skew=float(skew),
        quadratic_residual=float(abs(np.einsum("ij,ij->", Q, S))),
        sigma=S,
        mean_shift=mu1,
        third_moment=M3,
    )


@dataclass(frozen=True)
class AnharmonicToy:
    """A 2-D chain with a known-by-simulation IFT bias, for validating :func:`predict_ift_bias`.

    Δ = −η(Hδ + ½T[δ, δ]) + η S(δ) ζ with S(δ) = S₀ + s₁ δ₁ I (state-dependent noise) and ζ
    i.i.d. standard normal (``noise="gaussian"``) or a standardised Bernoulli(1/5) variable
    (``"bernoulli"``: skewed and discrete, like minibatch noise). H and S₀S₀ᵀ do not commute, so the stationary state carries a current.
    """

    lr: float
    curvature: float = 1.5  # T[0,0,0] = T[1,0,1] = T[1,1,0] scale (quadratic drift)
    noise_slope: float = 0.5  # s₁
    noise: str = "gaussian"

    def __post_init__(self):
        if not (np.isfinite(self.lr) and 0 < self.lr <= 0.2):
            raise ValueError(f"lr={self.lr!r} must lie in (0, 0.2]")
        if self.noise not in ("gaussian", "bernoulli"):
            raise ValueError(f"noise={self.noise!r} must be 'gaussian' or 'bernoulli'")

    @property
    def H(self) -> np.ndarray:
        return np.array([[1.0, 0.0], [0.0, 3.0]])

    @property
    def S0(self) -> np.ndarray:
        return np.array([[1.0, 0.0], [0.8, 0.6]])

    def drift(self, w: torch.Tensor) -> torch.Tensor:
        """E[Δ | w] = −η(Hw + ½T[w, w]) for w (..., 2); T[0,0,0] = T[1,0,1] = T[1,1,0] = a."""
        a = self.curvature
        q0 = 0.5 * a * w[..., 0] * w[..., 0]
        q1 = a * w[..., 0] * w[..., 1]
        return -self.lr * torch.stack([w[..., 0] + q0, 3.0 * w[..., 1] + q1], -1)

    def sqrt_cov(self, w: torch.Tensor) -> torch.Tensor:
        """η S(w) = η(S₀ + s₁w₁I), shape (..., 2, 2)."""
        S0 = torch.as_tensor(self.S0, dtype=w.dtype)
        return self.lr * (S0 + self.noise_slope * w[..., :1, None] * torch.eye(2, dtype=w.dtype))

    def cgf(self, t: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        u = self.sqrt_cov(w).T @ t
        if self.noise == "gaussian":
            k = 0.5 * (u * u).sum()
        else:  # ζ = (b − p)/s, b ~ Bernoulli(p), s = √(p(1 − p))
            p, s = 0.2, 0.4
            k = (torch.log1p(p * torch.expm1(u / s)) - p * u / s).sum()
        return t @ self.drift(w) + k

    def functional(self) -> np.ndarray:
        """P of the continuum functional built from the linearisation at 0 (K = ηH, D)."""
        from fpt_core.langevin.noneq import linear_ness

        return linear_ness(self.lr * self.H, 0.5 * self.lr**2 * self.S0 @ self.S0.T).functional

    @small_tensor_threads()
    def simulate(self, n_chains: int, steps: int, burn: int, n_groups: int = 8, seed: int = 0,
                 conditional: bool = False) -> dict:  # fmt: skip
        """Run the chain from 0 and measure the IFT bias after ``burn`` steps: ``eps`` =
        ⟨e^{−σ}⟩ − 1 over ``steps`` steps, ``eps_se`` from chain groups; with ``conditional``
        also the Rao-Blackwell estimate E[e^{L(w_n)}] − 1 (``eps_cond``, ``eps_cond_se``)."""
        if not (n_chains % n_groups == 0 and steps >= 1 and burn >= 0):
            raise ValueError("need n_chains divisible by n_groups, steps ≥ 1 and burn ≥ 0")
        gen = torch.Generator().manual_seed(int(seed))
        P = torch.as_tensor(self.functional())
        w = torch.zeros(n_chains, 2, dtype=torch.float64)
        S0T = torch.as_tensor(self.S0.T)
        acc = {"eps": torch.zeros(n_chains, dtype=torch.float64)}
        if conditional:
            acc["eps_cond"] = torch.zeros(n_chains, dtype=torch.float64)
            L = vmap(lambda x: self.cgf(-(P.T @ x), x))
        for n in range(burn + steps):
            z = torch.randn(n_chains, 2, generator=gen, dtype=torch.float64)
            if self.noise != "gaussian":
                z = ((torch.rand(z.shape, generator=gen, dtype=z.dtype) < 0.2).double() - 0.2) / 0.4
            w1 = w + self.drift(w) + self.lr * (z @ S0T + self.noise_slope * w[:, :1] * z)
            if n >= burn:
                acc["eps"] += torch.exp(-((w @ P) * (w1 - w)).sum(-1))
                if conditional:
                    acc["eps_cond"] += torch.exp(L(w))
            w = w1
        out = {}
        for key, a in acc.items():
            g = (a / steps).view(n_groups, -1).mean(1).numpy() - 1.0
            out[key], out[key + "_se"] = float(g.mean()), float(g.std(ddof=1) / np.sqrt(n_groups))
        return out


def dft_slope_from_bias(mean: float, eps: float) -> float:
    """DFT slope implied by the IFT bias if σ is Gaussian: m / (m + ln(1 + ε)).

    For σ ~ N(m, v): ln⟨e^{−σ}⟩ = −m + v/2 and ln[P(σ)/P(−σ)] = (2m/v)σ, so with
    ln(1 + ε) = v/2 − m the slope is 2m/v = m/(m + ln(1 + ε)); ε > 0 (excess variance) gives a
    slope below 1, and 1 − slope ≈ ε/m. ``mean`` = ⟨σ⟩ over the same window as ε.

    Examples
    --------
    >>> round(dft_slope_from_bias(0.002, 1e-4), 4)
    0.9524
    """
    if not (np.isfinite(mean) and mean > 0):
        raise ValueError(f"mean={mean!r} must be a finite number > 0")
    if not (np.isfinite(eps) and eps > -1):
        raise ValueError(f"eps={eps!r} must be a finite number > −1")
    return float(mean / (mean + np.log1p(eps)))


def power_law_fit(x, y, se) -> dict:
    """Slope of ln y against ln x by weighted least squares (weights from se/y, delta method).

    Returns ``slope``, ``slope_se`` (inflated by √(χ²/dof) when the scatter exceeds the error
    bars, dof ≥ 1), ``intercept``, ``chi2``, ``dof``. Needs ≥ 2 points with y > 0, se > 0.

    Examples
    --------
    >>> fit = power_law_fit([1, 2, 4], [3.0, 12.0, 48.0], [0.1, 0.4, 1.6])
    >>> round(fit["slope"], 10), fit["dof"]
    (2.0, 1)
    """
    x, y, se = (np.asarray(a, float) for a in (x, y, se))
    if not (x.shape == y.shape == se.shape and x.ndim == 1 and x.size >= 2):
        raise ValueError("x, y, se must be 1-D of equal length ≥ 2")
    if np.any(x <= 0) or np.any(y <= 0) or np.any(se <= 0):
        raise ValueError("x, y and se must be > 0 (fit only resolved points)")
    lx, ly, w = np.log(x), np.log(y), (y / se) ** 2
    xm = (w * lx).sum() / w.sum()
    sxx = (w * (lx - xm) ** 2).sum()
    slope = float((w * (lx - xm) * (ly - (w * ly).sum() / w.sum())).sum() / sxx)
    icpt = float((w * ly).sum() / w.sum() - slope * xm)
    chi2 = float((w * (ly - icpt - slope * lx) ** 2).sum())
    dof = x.size - 2
    infl = max(1.0, np.sqrt(chi2 / dof)) if dof > 0 else 1.0
    return {"slope": slope, "slope_se": float(infl / np.sqrt(sxx)), "intercept": icpt,
            "chi2": chi2, "dof": dof}  # fmt: skip
