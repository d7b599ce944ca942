"""Lyapunov theory, circulation, entropy production and the fluctuation theorems."""

import numpy as np
import pytest
import torch

from fpt_core import langevin, noneq

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
