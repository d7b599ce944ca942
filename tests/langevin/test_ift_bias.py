"""The predicted IFT bias: exact minibatch cumulants, stationary moments, and a known answer by
simulation."""

import itertools

import numpy as np
import pytest
import torch

from fpt_core.langevin import ift_bias, noneq

pytestmark = pytest.mark.usefixtures("one_thread")


def test_log_mean_subset_product_is_the_mean_over_all_subsets():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(8) * 0.7
    for k in (1, 3, 8):
        ref = np.log(
            np.mean([np.exp(v[list(b)].sum()) for b in itertools.combinations(range(8), k)])
        )
        got = float(ift_bias.log_mean_subset_product(torch.tensor(v), k))
        assert got == pytest.approx(ref, rel=1e-12, abs=1e-12)
    with pytest.raises(ValueError, match="k="):
        ift_bias.log_mean_subset_product(torch.tensor(v), 9)


@pytest.fixture(scope="module")
def small_net():
    net = noneq.make_tanh_net(n=12, x_min=-3.0, dx=0.5, seed=0, device="cpu")
    return net, net.minimum(n_starts=3, seed=0)


def test_sgd_cumulants_match_brute_force_over_all_batches(small_net):
    """m1 = −ηH, V0 = 2·minibatch_diffusion, κ = third central moment of Δ over all B-subsets."""
    net, w_star = small_net
    lr, B = 1e-4, 3
    cum = ift_bias.increment_cumulants(ift_bias.sgd_cgf(net, lr, B), w_star)
    G = net.per_example_grads(w_star)
    H = net.per_example_hessians(w_star).sum(0)
    np.testing.assert_allclose(cum.m1, -lr * H, rtol=1e-9)
    np.testing.assert_allclose(cum.V0, 2 * noneq.minibatch_diffusion(G, lr, B), rtol=1e-9)
    deltas = np.array([-lr * (12 / B) * G[list(b)].sum(0)
                       for b in itertools.combinations(range(12), B)])  # fmt: skip
    c = deltas - deltas.mean(0)
    k3 = np.einsum("ni,nj,nk->ijk", c, c, c) / len(c)
    np.testing.assert_allclose(cum.kappa, k3, rtol=1e-7, atol=1e-12 * np.abs(k3).max())
    # rescaling: SGD's increment is proportional to η
    cum2 = ift_bias.increment_cumulants(ift_bias.sgd_cgf(net, 3 * lr, B), w_star)
    for a, b in zip(vars(cum2).values(), vars(cum.scaled(3.0)).values(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-14 * np.abs(b).max())
    with pytest.raises(ValueError, match="fixed point"):
        ift_bias.increment_cumulants(ift_bias.sgd_cgf(net, lr, B), w_star + 0.1)
    with pytest.raises(ValueError, match="batch_size"):
        ift_bias.sgd_cgf(net, lr, 12)


def test_linear_gaussian_chain_has_no_bias():
    """No curvature, state-independent Gaussian noise: the surrogate, ε = 0, μ₁ = 0, M₃ = 0."""
    toy = ift_bias.AnharmonicToy(lr=0.05, curvature=0.0, noise_slope=0.0)
    pr = ift_bias.predict_ift_bias(toy.cgf, np.zeros(2), toy.functional(), n_mc=256)
    assert abs(pr.eps) < 1e-13 and pr.quadratic_residual < 1e-14
    assert np.abs(pr.mean_shift).max() < 1e-15 and np.abs(pr.third_moment).max() < 1e-15
    # a functional that is not the continuum one has a quadratic part: O(η) bias, flagged
    wrong = noneq.linear_ness(toy.lr * toy.H, 0.5 * toy.lr**2 * toy.S0 @ toy.S0.T)
    P_chain = (-wrong.circulation_chain @ np.linalg.inv(wrong.sigma_chain)).T @ np.linalg.inv(
        wrong.D
    )
    bad = ift_bias.predict_ift_bias(toy.cgf, np.zeros(2), P_chain, n_mc=256)
    assert bad.quadratic_residual > 1e-4


def test_stationary_moments_match_simulation():
    """Mean shift μ₁ and third moment M₃ of the anharmonic toy against a direct simulation."""
    toy = ift_bias.AnharmonicToy(lr=0.04)
    S, mu1, M3 = ift_bias.stationary_moments(ift_bias.increment_cumulants(toy.cgf, np.zeros(2)))
    gen = torch.Generator().manual_seed(0)
    w = torch.zeros(4000, 2, dtype=torch.float64)
    m1 = torch.zeros(2, dtype=torch.float64)
    m3 = torch.zeros(2, 2, 2, dtype=torch.float64)
    n = 0
    for t in range(1500):
        z = torch.randn(w.shape, generator=gen, dtype=torch.float64)
        w = w + toy.drift(w) + (toy.sqrt_cov(w) @ z.unsqueeze(-1)).squeeze(-1)
        if t >= 300:
            m1 += w.mean(0)
            m3 += torch.einsum("ni,nj,nk->ijk", w, w, w) / len(w)
            n += 1
    m1, m3 = (m1 / n).numpy(), (m3 / n).numpy()
    np.testing.assert_allclose(m1, mu1, rtol=0.1)
    np.testing.assert_allclose(m3, M3, rtol=0.15, atol=0.05 * np.abs(M3).max())
    assert np.abs(mu1).max() > 0.05 * np.sqrt(np.diag(S)).max()  # a real shift


def test_predicted_bias_matches_simulated_toy():
    """Anharmonic drift + state-dependent, skewed (Bernoulli) noise: simulated ⟨e^{−σ}⟩ − 1
    agrees with the prediction up to its O(η) relative correction, and ε scales as η²."""
    preds = {}
    for lr in (0.02, 0.04):
        toy = ift_bias.AnharmonicToy(lr=lr, noise="bernoulli")
        preds[lr] = ift_bias.predict_ift_bias(toy.cgf, np.zeros(2), toy.functional(), n_mc=4096)
    sim = ift_bias.AnharmonicToy(lr=0.04, noise="bernoulli").simulate(8000, steps=250, burn=125)
    p = preds[0.04]
    assert sim["eps"] > 10 * sim["eps_se"]  # resolved
    assert abs(sim["eps"] - p.eps) < 4 * np.hypot(sim["eps_se"], p.even_se) + 0.15 * p.eps
    assert 3.0 < preds[0.04].eps / preds[0.02].eps < 5.5  # ≈ 2² up to O(η)


def test_dft_slope_from_bias_is_exact_for_gaussian_sigma():
    for m, v in ((0.002, 0.0042), (0.1, 0.25), (0.5, 0.9)):
        eps = np.exp(-m + v / 2) - 1  # ⟨e^{−σ}⟩ − 1 for σ ~ N(m, v)
        assert ift_bias.dft_slope_from_bias(m, eps) == pytest.approx(2 * m / v, rel=1e-12)
    with pytest.raises(ValueError, match="mean"):
        ift_bias.dft_slope_from_bias(0.0, 0.1)


def test_power_law_fit_recovers_slope_and_error():
    rng = np.random.default_rng(1)
    x = np.array([1e-6, 2e-6, 4e-6, 1e-5])
    slopes = []
    for _ in range(300):
        y_true = 1e8 * x**2
        se = 0.05 * y_true
        fit = ift_bias.power_law_fit(x, y_true + se * rng.standard_normal(4), se)
        slopes.append((fit["slope"] - 2) / fit["slope_se"])
    z = np.array(slopes)
    assert abs(z.mean()) < 0.2 and 0.7 < z.std() < 1.4  # unbiased, honest error bar
    with pytest.raises(ValueError, match="> 0"):
        ift_bias.power_law_fit([1, 2], [1.0, -1.0], [0.1, 0.1])
