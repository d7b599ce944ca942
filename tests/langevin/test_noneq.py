"""Lyapunov theory, circulation, entropy production and the fluctuation theorems."""

import numpy as np
import pytest
import scipy.optimize as sopt
import torch

from fpt_core.langevin import noneq
from fpt_core.langevin import samplers as langevin

pytestmark = pytest.mark.usefixtures("one_thread")


# a 2-D nonequilibrium linear chain: non-normal drift, anisotropic diffusion
K2 = np.array([[0.1, 0.1], [-0.05, 0.15]])
D2 = np.array([[0.02, 0.002], [0.002, 0.004]])


def _simulate_chain(K, D, n_chains, steps, seed):
    """δ' = (I − K)δ + ε, Cov ε = 2D, Gaussian; started from the exact stationary law."""
    gen = torch.Generator().manual_seed(seed)
    F = torch.tensor(np.eye(len(K)) - K)
    L = torch.tensor(np.linalg.cholesky(2 * D))
    S0 = noneq.lyapunov_covariance(K, D, discrete=True)
    x = (
        torch.randn(n_chains, len(K), generator=gen, dtype=torch.float64)
        @ torch.tensor(np.linalg.cholesky(S0)).T
    )
    out = torch.empty(steps + 1, n_chains, len(K), dtype=torch.float64)
    out[0] = x
    for t in range(steps):
        x = x @ F.T + torch.randn(x.shape, generator=gen, dtype=torch.float64) @ L.T
        out[t + 1] = x
    return out


def test_lyapunov_solver_against_direct_simulation():
    traj = _simulate_chain(K2, D2, n_chains=512, steps=600, seed=0)
    acc = langevin.ChainGroupMoments(512, 2, 8, center=np.zeros(2))
    acc.update_many(traj)
    res = acc.result()
    ness = noneq.linear_ness(K2, D2)
    assert np.abs((res.cov - ness.sigma_chain) / res.cov_se).max() < 5
    C_meas, C_se = res.circulation, res.circulation_se
    np.testing.assert_allclose(C_meas, 0.5 * (res.lag1 - res.lag1.T), atol=1e-15)
    z = (C_meas[0, 1] - ness.circulation_chain[0, 1]) / C_se[0, 1]
    assert abs(z) < 5 and abs(ness.circulation_chain[0, 1]) > 10 * C_se[0, 1]  # C ≠ 0 resolved
    # the continuum solution solves its equation; it is the small-step limit of the chain
    S = ness.sigma
    np.testing.assert_allclose(K2 @ S + S @ K2.T, 2 * D2, atol=1e-14)
    eps = 1e-4
    small = noneq.linear_ness(eps * K2, eps * D2)
    np.testing.assert_allclose(small.sigma_chain, small.sigma, rtol=1e-3)


def test_lyapunov_rejects_bad_input():
    with pytest.raises(ValueError, match="D must be symmetric"):
        noneq.lyapunov_covariance(K2, -D2)
    with pytest.raises(ValueError, match="K must"):
        noneq.lyapunov_covariance(-K2, D2)
    with pytest.raises(ValueError, match="discrete"):
        noneq.lyapunov_covariance(3 * np.eye(2), np.eye(2), discrete=True)
    with pytest.raises(ValueError, match="square"):
        noneq.lyapunov_covariance(np.ones((2, 3)), D2)


def test_entropy_production_rotating_ou_known_answer():
    """K = κ(aI + bJ), D = dI: Σ = d/(κa)·I, C = (db/a)·J, ⟨σ⟩ = −tr(CD⁻¹CΣ⁻¹) = 2κb²/a."""
    kappa, a, b, d = 0.02, 1.0, 0.6, 0.01
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    K = kappa * (a * np.eye(2) + b * J)
    ness = noneq.linear_ness(K, d * np.eye(2))
    np.testing.assert_allclose(ness.sigma, d / (kappa * a) * np.eye(2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ness.circulation, d * b / a * J, rtol=1e-12, atol=1e-15)
    assert ness.ep_mean == pytest.approx(2 * kappa * b**2 / a, rel=1e-12)
    # equilibrium (b = 0): no current, no entropy production
    eq = noneq.linear_ness(kappa * np.eye(2), d * np.eye(2))
    assert eq.ep_mean == pytest.approx(0, abs=1e-15) and eq.irreversibility < 1e-12


def test_integral_fluctuation_theorem_ou():
    """⟨e^{−σ}⟩ = 1 for 1-, 2-, 3-step windows; ⟨σ⟩ = exact-chain mean of the functional."""
    K, D = 0.05 * np.array([[1.0, 0.8], [-0.8, 1.0]]), np.array([[0.02, 0.0], [0.0, 0.005]])
    ness = noneq.linear_ness(K, D)
    traj = _simulate_chain(K, D, n_chains=512, steps=800, seed=1)
    sig = noneq.entropy_production(traj, np.zeros(2), ness.functional)
    m = ness.ep_mean
    acc = noneq.EntropyAccumulator(512, 8, [6 * np.sqrt(2 * k * m) for k in (1, 2, 3)])
    acc.update(sig[:300])
    acc.update(sig[300:])  # windows straddling the two calls are counted once
    rows = acc.result()
    for r in rows:
        k = r["window"]
        assert r["count"] == 512 * (800 - k + 1)
        assert abs(r["ift"] - 1) < 5 * r["ift_se"]
        assert abs(r["mean"] - k * ness.ep_mean_chain) < 5 * r["mean_se"]
        assert r["mean"] > 20 * r["mean_se"]  # the mean is resolved: the IFT check has power
        assert abs(r["dft_slope"] - 1) < 5 * r["dft_slope_se"] + 0.02
    # brute-force window sums
    s = sig.numpy()
    w3 = s[:-2] + s[1:-1] + s[2:]
    assert rows[2]["mean"] == pytest.approx(w3.mean(), rel=1e-10)
    assert rows[2]["ift"] == pytest.approx(np.exp(-w3).mean(), rel=1e-10)


def test_minibatch_diffusion_matches_sampled_batches():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((30, 3)) * [1.0, 2.0, 0.5]
    G -= G.mean(0)  # at a minimum the per-example gradients sum to zero
    lr, B = 0.01, 6
    D = noneq.minibatch_diffusion(G, lr, B)
    n = 30
    alt = lr**2 * (n - B) / (2 * B * (n - 1)) * (n * G.T @ G - np.outer(G.sum(0), G.sum(0)))
    np.testing.assert_allclose(D, alt, rtol=1e-12)
    pol = langevin.WithReplacement(n, B, buffer_steps=4000)
    gen = torch.Generator().manual_seed(0)
    _, state = pol.next(pol.init(20, gen, "cpu"), gen)
    idx = state.buffer.reshape(-1, B)  # 80 000 independent batches
    gb = (n / B) * torch.tensor(G)[idx].sum(1).numpy()
    emp = 0.5 * lr**2 * np.cov(gb.T)
    se = np.sqrt((np.outer(np.diag(D), np.diag(D)) + D**2) / idx.shape[0])
    assert np.abs((emp - D) / se).max() < 5
    # without the finite-population factor (N−B)/(N−1) the diagonal would be off by ≫ 5 SE
    assert np.abs(np.diag(emp - D * (n - 1) / (n - B)) / np.diag(se)).max() > 5
    with pytest.raises(ValueError, match="batch_size"):
        noneq.minibatch_diffusion(G, lr, 30)


def test_tanh_net_gradients():
    net = noneq.make_tanh_net(n=20, x_min=-3.0, dx=0.3, seed=0, device="cpu")
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 7))
    idx = torch.tensor(rng.integers(0, 20, (3, 5)))
    got = net.minibatch_grad(torch.tensor(w), idx)
    for c in range(3):
        wc = torch.tensor(w[c], requires_grad=True)
        loss = sum(net._example_loss(wc, net.x[i], net.y[i]) for i in idx[c]) * (20 / 5)
        (g,) = torch.autograd.grad(loss, wc)
        np.testing.assert_allclose(got[c].numpy(), g.numpy(), rtol=1e-10)
    G = net.per_example_grads(w[0])
    full = torch.func.grad(net.loss)(torch.tensor(w[0])).numpy()
    np.testing.assert_allclose(G.sum(0), full, rtol=1e-10)
    with pytest.raises(ValueError, match="sigma"):
        noneq.make_tanh_net(sigma=0.0)


def test_epoch_map_without_replacement_scaling():
    """At a minimum (Σ G_i = 0) the epoch noise is O(η²): E[ξ] ∝ η², Cov ξ ∝ η⁴; E[Φ] ≈ I − ηMH."""
    rng = np.random.default_rng(2)
    n, d, B = 20, 3, 5
    G = rng.standard_normal((n, d))
    G -= G.mean(0)
    A = rng.standard_normal((n, d, 2))
    h = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(d)  # PSD per-example Hessians
    H = h.sum(0)
    lr = 1e-4 / np.linalg.eigvalsh(H)[-1]
    F1, x1, Q1 = noneq.epoch_map(G, h, lr, B, n_perm=4000, seed=0)
    F2, x2, Q2 = noneq.epoch_map(G, h, 2 * lr, B, n_perm=4000, seed=0)  # same permutations
    np.testing.assert_allclose(x2 / x1, 4, rtol=1e-3)
    np.testing.assert_allclose(np.trace(Q2) / np.trace(Q1), 16, rtol=1e-3)
    np.testing.assert_allclose((np.eye(d) - F1) / lr, (n / B) * H, rtol=1e-3)
    # the O(η²) noise is far below the with-replacement noise over the same M steps
    D_wr = noneq.minibatch_diffusion(G, lr, B)
    assert np.trace(Q1) < 1e-3 * np.trace(2 * D_wr * (n / B))
    with pytest.raises(ValueError, match="batch_size"):
        noneq.epoch_map(G, h, lr, 3)
    pooled, parts = noneq.reshuffled_ness(G, h, lr, B, np.zeros(d), n_perm=2000, n_split=4)
    assert len(parts) == 4
    np.testing.assert_allclose(pooled.mean, np.mean([p.mean for p in parts], 0), rtol=0.05)
    with pytest.raises(ValueError, match="n_split"):
        noneq.reshuffled_ness(G, h, lr, B, np.zeros(d), n_perm=2000, n_split=1)


def test_tanh_net_minimum_is_the_lowest_of_its_starts():
    """With weight decay 1e-2 the 20-point net has two kinds of minimum: both units used
    (U ≈ 44.61) and one unit switched off (U ≈ 104.46, w2 = w4 = w6 = 0, still a minimum: its
    Hessian is positive definite). Of the 6 starts drawn from default_rng(0) — 7 N(0, 1) numbers
    per start — the first and the last reach the poor one, so returning the first or the last
    start's result instead of the lowest would fail. The returned w must be a polished minimum
    (∇U = 0 to 1e-12 of the per-example gradients, positive-definite Hessian) no higher than any
    start's local minimum."""
    net = noneq.make_tanh_net(n=20, x_min=-3.0, dx=0.3, weight_decay=1e-2, seed=0, device="cpu")

    def t(v):
        return torch.tensor(v, dtype=torch.float64)

    def fun(v):
        return float(net.loss(t(v)))

    def jac(v):
        return torch.func.grad(net.loss)(t(v)).numpy()

    def hess(v):
        return torch.func.hessian(net.loss)(t(v)).numpy()

    rng = np.random.default_rng(0)
    local = []
    for _ in range(6):  # each start's own local minimum, the way the docstring describes
        r = sopt.minimize(fun, rng.standard_normal(7), jac=jac, hess=hess, method="trust-exact",
                          options={"gtol": 1e-9, "maxiter": 3000})  # fmt: skip
        local.append(r.fun)
    local = np.array(local)
    best = local.min()
    # the landscape has distinct minima and the first and last starts miss the best one
    assert best == pytest.approx(44.6111622607, rel=1e-9)
    assert local[0] > best + 50 and local[-1] > best + 50
    # the replicated starts are the method's: one start gives the first start's minimum
    assert fun(net.minimum(n_starts=1, seed=0)) == pytest.approx(local[0], rel=1e-10)

    w = net.minimum(n_starts=6, seed=0)
    assert fun(w) <= best * (1 + 1e-10)
    g = jac(w)
    scale = np.linalg.norm(net.per_example_grads(w), axis=1).sum()
    assert np.linalg.norm(g) < 1e-12 * scale, (np.linalg.norm(g), scale)  # Newton-polished
    np.testing.assert_allclose(net.per_example_grads(w).sum(0), g, atol=1e-10 * scale)
    assert np.linalg.eigvalsh(hess(w))[0] > 1.0  # positive definite (λ_min ≈ 30.6)


# --- simulate_ness on a linear model with a known exact answer ----------------------------------


class _QuadraticModel:
    """Duck-typed model for ``simulate_ness``: per-example gradients g_i(w) = A(w − w*) + b_i,
    Σ b_i = 0, so ∇Ũ_b = N·A(w − w*) + (N/B)·Σ_{i∈b} b_i carries additive (state-independent)
    minibatch noise and the SGD chain is exactly linear: δ' = (I − ηNA)δ − η(N/B)Σ_{i∈b} b_i.
    With ``gaussian_seed`` the minibatch term is replaced by Gaussian noise of the same covariance
    2D/η² (D = minibatch_diffusion), drawn from the model's own generator (idx is ignored)."""

    def __init__(self, A, b, w_star, lr=None, batch_size=None, gaussian_seed=None):
        self.A, self.b = torch.tensor(A), torch.tensor(b)
        self.w_star = torch.tensor(w_star)
        self.x = self.b  # only its device is used
        self.n = len(b)
        self.gen = None
        if gaussian_seed is not None:
            self.gen = torch.Generator().manual_seed(gaussian_seed)
            cov = 2 * noneq.minibatch_diffusion(b, lr, batch_size) / lr**2
            self.L = torch.tensor(np.linalg.cholesky(cov))

    def minibatch_grad(self, w, idx):
        g = self.n * (w - self.w_star) @ self.A.T
        if self.gen is not None:
            return g + torch.randn(w.shape, generator=self.gen, dtype=w.dtype) @ self.L.T
        return g + (self.n / idx.shape[1]) * self.b[idx].sum(1)


def _quadratic_case():
    """N = 12 examples, B = 3 (4 steps per epoch), d = 2; the noise (b_i) is anisotropic and
    rotated against A, so D and K = ηNA do not commute and the stationary state carries a current."""
    n, b_size = 12, 3
    rng = np.random.default_rng(0)
    A = np.array([[1.0, 0.4], [0.4, 0.6]])
    rot = np.array([[np.cos(1.0), -np.sin(1.0)], [np.sin(1.0), np.cos(1.0)]])
    b = rng.standard_normal((n, 2)) * [1.0, 0.5] @ rot.T
    b -= b.mean(0)
    lr = 0.3 / (n * np.linalg.eigvalsh(A)[-1])  # ηN·λ_max(A) = 0.3
    return n, b_size, A, b, np.array([0.5, -1.0]), lr


def _check_moments(res, ness, F, w_star):
    """Recorded moments against the exact chain: mean w*, Σ_chain, lag-1 Σ_chain Fᵀ, C_chain."""
    mom = res.moments
    assert np.all(np.abs(mom.mean - w_star) < 5 * mom.mean_se)
    assert np.all(np.abs(res.pilot_mean - w_star) < 0.05 * np.sqrt(np.diag(ness.sigma_chain)))
    assert np.abs((mom.cov - ness.sigma_chain) / mom.cov_se).max() < 5
    assert np.abs((mom.lag1 - ness.sigma_chain @ F.T) / mom.lag1_se).max() < 5
    c, c_se = mom.circulation[0, 1], mom.circulation_se[0, 1]
    assert abs(c - ness.circulation_chain[0, 1]) < 5 * c_se
    assert abs(ness.circulation_chain[0, 1]) > 50 * c_se  # the current is resolved


def test_simulate_ness_with_replacement_is_the_exact_linear_chain():
    """Independent batches: the chain is δ' = (I − K)δ + ε, K = ηNA, Cov ε = η²Cov(∇Ũ_b) = 2D with
    D = minibatch_diffusion(b, η, B), so linear_ness(K, D)'s ``*_chain`` values are exact for
    second moments (whatever the noise law) and so is ⟨σ⟩ = ep_mean_chain per step (k·… for a
    k-step window). ⟨e^{−σ}⟩ = 1 is exact only for Gaussian noise: it is checked on the Gaussian
    variant (the discrete minibatch noise violates it by tens of SE here)."""
    n, b_size, A, b, w_star, lr = _quadratic_case()
    K = lr * n * A
    ness = noneq.linear_ness(K, noneq.minibatch_diffusion(b, lr, b_size), mean=w_star)
    F = np.eye(2) - K
    policy = langevin.WithReplacement(n, b_size)
    kw = dict(n_chains=512, burn_records=300, records=2500, chunk=100, progress=False)
    res = noneq.simulate_ness(_QuadraticModel(A, b, w_star), policy, lr, ness,
                              windows=(1, 2), seed=1, **kw)  # fmt: skip
    assert res.every == 1 and res.steps == 2800
    _check_moments(res, ness, F, w_star)
    for r in res.ep:
        assert r["count"] == 512 * (2500 - r["window"] + 1)
        assert abs(r["mean"] - r["window"] * ness.ep_mean_chain) < 5 * r["mean_se"]
        assert r["mean"] > 50 * r["mean_se"]
    # Gaussian noise of the same covariance: the same exact moments, and the IFT holds exactly
    gauss = _QuadraticModel(A, b, w_star, lr, b_size, gaussian_seed=3)
    res = noneq.simulate_ness(gauss, policy, lr, ness, windows=(1, 2, 3), seed=2, **kw)
    _check_moments(res, ness, F, w_star)
    for r in res.ep:
        assert abs(r["mean"] - r["window"] * ness.ep_mean_chain) < 5 * r["mean_se"]
        assert abs(r["ift"] - 1) < 5 * r["ift_se"] and r["ift_se"] < 0.05
        assert r["mean"] > 50 * r["mean_se"]  # the mean is resolved: the IFT check has power


def test_simulate_ness_without_replacement_is_the_exact_epoch_chain():
    """Reshuffling, recorded once per epoch (M = N/B = 4 steps). All per-example Hessians are A, so
    the epoch map is exact: δ_M = F^M δ_0 + ξ, F = I − ηNA, ξ = Σ_k F^{M−1−k} e_k with
    e_k = −η(N/B)Σ_{i∈b_k} b_i. For a random permutation Cov(e_j, e_l) = c(Mδ_jl − 1)/(M − 1),
    c = 2D (the batch sums add up to zero over an epoch), hence
    Cov ξ = M/(M−1)·Σ_j F^j c F^j − (Σ_j F^j) c (Σ_j F^j)/(M−1), E ξ = 0, and the epoch chain is
    linear_ness(I − F^M, Cov ξ / 2) exactly (second moments and ⟨σ⟩)."""
    n, b_size, A, b, w_star, lr = _quadratic_case()
    m = n // b_size
    F = np.eye(2) - lr * n * A
    c = 2 * noneq.minibatch_diffusion(b, lr, b_size)
    powers = [np.linalg.matrix_power(F, j) for j in range(m)]
    S = sum(powers)
    Q = m / (m - 1) * sum(f @ c @ f for f in powers) - S @ c @ S / (m - 1)
    FM = np.linalg.matrix_power(F, m)
    ness = noneq.linear_ness(np.eye(2) - FM, Q / 2, mean=w_star)
    # the permutation-averaged epoch map finds the same chain (D up to its Monte Carlo error)
    pooled, parts = noneq.reshuffled_ness(b, np.repeat(A[None], n, 0), lr, b_size, w_star,
                                          n_perm=32000, n_split=8)  # fmt: skip
    np.testing.assert_allclose(pooled.K, ness.K, atol=1e-14)
    d_se = np.std([p.D for p in parts], 0, ddof=1) / np.sqrt(len(parts))
    assert np.all(np.abs(pooled.D - ness.D) < 5 * d_se) and np.all(d_se < 0.01 * np.abs(ness.D))
    assert np.all(np.abs(pooled.mean - w_star) < 0.05 * np.sqrt(np.diag(ness.sigma_chain)))

    policy = langevin.WithoutReplacement(n, b_size)
    res = noneq.simulate_ness(_QuadraticModel(A, b, w_star), policy, lr, ness, n_chains=512,
                              burn_records=200, records=1500, windows=(1, 2), chunk=100,
                              progress=False, seed=4)  # fmt: skip
    assert res.every == policy.steps_per_epoch == 4
    assert res.steps == (200 + 1500) * 4
    _check_moments(res, ness, FM, w_star)
    for r in res.ep:
        assert abs(r["mean"] - r["window"] * ness.ep_mean_chain) < 5 * r["mean_se"]
        assert r["mean"] > 50 * r["mean_se"]


def test_simulate_ness_started_in_the_stationary_law_needs_no_burn_in():
    """With ``start_cov`` = Σ_chain the exact linear chain is stationary from the first record;
    σ is centred at the drift's fixed point (ness.mean) unless ``center`` is given."""
    n, b_size, A, b, w_star, lr = _quadratic_case()
    K = lr * n * A
    ness = noneq.linear_ness(K, noneq.minibatch_diffusion(b, lr, b_size), mean=w_star)
    res = noneq.simulate_ness(_QuadraticModel(A, b, w_star), langevin.WithReplacement(n, b_size),
                              lr, ness, start_cov=ness.sigma_chain, n_chains=4096,
                              burn_records=2, records=20, chunk=100, progress=False, seed=5)  # fmt: skip
    np.testing.assert_array_equal(res.center, w_star)
    mom = res.moments
    assert np.abs((mom.cov - ness.sigma_chain) / mom.cov_se).max() < 5
    far = noneq.simulate_ness(_QuadraticModel(A, b, w_star), langevin.WithReplacement(n, b_size),
                              lr, ness, n_chains=4096, burn_records=2, records=20, chunk=100,
                              progress=False, seed=5)  # fmt: skip
    # started at a point, the covariance is still far from stationary over the first 20 steps
    assert np.abs((far.moments.cov - ness.sigma_chain) / far.moments.cov_se).max() > 5
    shifted = noneq.simulate_ness(_QuadraticModel(A, b, w_star), langevin.WithReplacement(n, b_size),
                                  lr, ness, start_cov=ness.sigma_chain, center=w_star + 1.0,
                                  n_chains=64, burn_records=2, records=50, chunk=50,
                                  progress=False, seed=5)  # fmt: skip
    np.testing.assert_array_equal(shifted.center, w_star + 1.0)
