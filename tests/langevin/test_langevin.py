"""SGLD/SGD sampler, minibatch policies, stationary moments and the exact linear-regression theory."""

import numpy as np
import pytest
import torch

from fpt_core.langevin import linreg
from fpt_core.langevin import samplers as langevin

pytestmark = pytest.mark.usefixtures("one_thread")


# --- minibatch policies ---------------------------------------------------------------------


def _draw(policy, n_chains, steps, seed=0):
    gen = torch.Generator().manual_seed(seed)
    state = policy.init(n_chains, gen, "cpu")
    out = []
    for _ in range(steps):
        idx, state = policy.next(state, gen)
        out.append(idx)
    return torch.stack(out)  # (steps, C, B)


def test_without_replacement_uses_every_example_once_per_epoch():
    pol = langevin.WithoutReplacement(30, 5, buffer_steps=7)  # buffer not a multiple of an epoch
    idx = _draw(pol, n_chains=4, steps=6 * 3)
    epochs = idx.view(3, 6, 4, 5).permute(0, 2, 1, 3).reshape(3, 4, 30)
    for e in range(3):
        for c in range(4):
            assert sorted(epochs[e, c].tolist()) == list(range(30))
    assert not torch.equal(epochs[0], epochs[1])  # a fresh permutation each epoch
    assert not torch.equal(epochs[0, 0], epochs[0, 1])  # chains are independent


@pytest.mark.parametrize("n,b", [(50, 5), (12, 8)])  # rejection path and permutation path
def test_with_replacement_batches_distinct_and_uniform(n, b):
    idx = _draw(langevin.WithReplacement(n, b, buffer_steps=50), n_chains=40, steps=400)
    s, _ = idx.sort(-1)
    assert not (s[..., 1:] == s[..., :-1]).any()
    counts = np.bincount(idx.flatten().numpy(), minlength=n)
    expected = idx.numel() / n
    chi2 = ((counts - expected) ** 2 / expected).sum()
    # chi-square with n−1 dof (batch draws are slightly negatively dependent): mean n−1, sd √(2(n−1))
    assert chi2 < (n - 1) + 5 * np.sqrt(2 * (n - 1))


def test_policy_rejects_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        langevin.WithReplacement(10, 11)
    with pytest.raises(ValueError, match="batch_size"):
        langevin.WithoutReplacement(10, 3)
    with pytest.raises(ValueError, match="policy"):
        langevin.minibatch_policy("bootstrap", 10, 2)
    pol = langevin.WithReplacement(10, 2)
    with pytest.raises(ValueError, match="lr"):
        langevin.sgld(lambda p, i: p, pol, lr=-1.0)
    with pytest.raises(ValueError, match="temperature"):
        langevin.sgld(lambda p, i: p, pol, lr=0.1, temperature=-1)
    with pytest.raises(ValueError, match="params"):
        langevin.sgld(lambda p, i: p, pol, lr=0.1).init(torch.zeros(3))


# --- SGLD stationary law ----------------------------------------------------------------------


def _run_moments(sampler, x0, steps, burn, gen, n_groups=8):
    state = sampler.init(x0, gen)
    acc = langevin.ChainGroupMoments(x0.shape[0], x0.shape[1], n_groups)
    for k in range(burn + steps):
        state = sampler.update(state, gen)
        if k >= burn and k % 5 == 0:
            acc.update(state.params)
    return acc.result()


def test_sgld_stationary_law_1d_gaussian():
    """Target N(m, s²): at ηs⁻² = 2e-3 the Euler bias of the variance (0.1 %) is below the error."""
    m, s, lr = 1.5, 0.7, 2e-3 * 0.49
    gen = torch.Generator().manual_seed(1)
    pol = langevin.WithReplacement(1, 1)
    sampler = langevin.sgld(lambda th, idx: (th - m) / s**2, pol, lr)
    x0 = torch.zeros(2000, 1, dtype=torch.float64)
    res = _run_moments(sampler, x0, steps=10000, burn=3000, gen=gen)
    assert abs(res.mean[0] - m) < 5 * res.mean_se[0]
    assert abs(res.cov[0, 0] - s**2) < 5 * res.cov_se[0, 0]
    assert res.cov_se[0, 0] < 0.01 * s**2  # the test has power: a √2 noise error would fail
    # plain SGD (T = 0) collapses onto the minimum
    sgd = langevin.sgd(lambda th, idx: (th - m) / s**2, pol, lr=0.1)
    st = sgd.init(x0.clone(), gen)
    for _ in range(500):
        st = sgd.update(st, gen)
    assert torch.allclose(st.params, torch.full_like(st.params, m), atol=1e-8)


def test_sgld_minibatch_covariance_matches_exact_linear_theory():
    """SGLD with independent minibatches on linear regression: Σ = FΣF + 2ηI + η²C_b(Σ) exactly."""
    model = linreg.make_regression(n=40, dim=2, noise_std=1.0, prior_std=2.0, seed=3, device="cpu")
    H = model.hessian()
    lr = 0.05 / np.linalg.eigvalsh(H)[-1]
    mu, post = model.posterior()
    theory = linreg.sgld_covariance(model, lr, batch_size=4)
    assert np.linalg.norm(theory - post) > 0.15 * np.linalg.norm(post)  # minibatch noise matters
    gen = torch.Generator().manual_seed(2)
    sampler = langevin.sgld(model.minibatch_grad, langevin.WithReplacement(40, 4), lr)
    x0 = torch.tensor(mu).repeat(1024, 1)
    tau = int(1 / (lr * np.linalg.eigvalsh(H)[0]))
    res = _run_moments(sampler, x0, steps=25 * tau, burn=4 * tau, gen=gen)
    z = (res.cov - theory) / res.cov_se
    assert np.abs(z).max() < 5, z
    assert np.abs((res.mean - mu) / res.mean_se).max() < 5


def test_group_moments_bulk_equals_stepwise_and_lag1():
    gen = torch.Generator().manual_seed(0)
    a = 0.8
    x = torch.zeros(64, 2, dtype=torch.float64)
    xs = []
    for _ in range(3000):  # AR(1): x' = a x + ε, Var = 1/(1 − a²), lag-1 = a·Var
        x = a * x + torch.randn(x.shape, generator=gen, dtype=torch.float64)
        xs.append(x)
    xs = torch.stack(xs[500:])
    one, bulk = langevin.ChainGroupMoments(64, 2, 8), langevin.ChainGroupMoments(64, 2, 8)
    for t in range(xs.shape[0]):
        one.update(xs[t])
    bulk.update_many(xs[:1000])
    bulk.update_many(xs[1000:])
    r1, r2 = one.result(), bulk.result()
    np.testing.assert_allclose(r1.cov, r2.cov, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1.lag1, r2.lag1, rtol=1e-10, atol=1e-12)
    var = 1 / (1 - a**2)
    assert np.all(np.abs(np.diag(r1.cov) - var) < 5 * np.diag(r1.cov_se))
    assert np.all(np.abs(np.diag(r1.lag1) - a * var) < 5 * np.diag(r1.lag1_se))


# --- exact posterior ---------------------------------------------------------------------------


def test_exact_posterior_matches_sequential_bayes_update():
    """Closed form against one-observation-at-a-time conjugate updates (precision form)."""
    model = linreg.make_regression(n=25, dim=3, noise_std=0.5, prior_std=1.5, seed=4, device="cpu")
    X, y = model.X.numpy(), model.y.numpy()
    prec, h = np.eye(3) / 1.5**2, np.zeros(3)
    for xi, yi in zip(X, y, strict=True):
        prec = prec + np.outer(xi, xi) / 0.5**2
        h = h + xi * yi / 0.5**2
    mu, cov = model.posterior()
    np.testing.assert_allclose(cov, np.linalg.inv(prec), rtol=1e-10)
    np.testing.assert_allclose(mu, np.linalg.solve(prec, h), rtol=1e-10)
    # the mean is the stationary point of the minibatch gradient averaged over all batches
    idx = torch.arange(25).view(5, 5)
    g = model.minibatch_grad(torch.tensor(mu).repeat(5, 1), idx).mean(0)
    assert g.abs().max() < 1e-9
    _, cov_t = model.posterior(temperature=2.0)
    np.testing.assert_allclose(cov_t, 2 * cov)


def test_gaussian_kl_known_values():
    assert linreg.gaussian_kl([0, 0], np.eye(2), [0, 0], np.eye(2)) == pytest.approx(0, abs=1e-14)
    # 1-D: KL = ln(s_p/s_q) + (s_q² + Δ²)/(2 s_p²) − ½
    kl = linreg.gaussian_kl([1.0], [[0.25]], [0.0], [[4.0]])
    assert kl == pytest.approx(np.log(2 / 0.5) + (0.25 + 1) / 8 - 0.5, rel=1e-12)


def test_sgworld_theory_small_step_limit_and_ula():
    """Phase-averaged SGWORLD covariance → Σ_ULA + η²C_b(M+1)/6 for ηHM ≪ 1."""
    model = linreg.make_regression(n=60, dim=2, seed=5, device="cpu")
    H = model.hessian()
    lr = 1e-4 / np.linalg.eigvalsh(H)[-1]
    ula = linreg.ula_covariance(model, lr)
    np.testing.assert_allclose(ula, np.linalg.inv(H - 0.5 * lr * H @ H), rtol=1e-12)
    got = linreg.sgworld_covariance(model, lr, batch_size=6)
    c = lr**2 * model.minibatch_noise_cov(6, np.linalg.inv(H))
    np.testing.assert_allclose(got - ula, c * (10 + 1) / 6, rtol=2e-2)
    sgld_excess = linreg.sgld_covariance(model, lr, 6) - ula
    assert np.linalg.norm(got - ula) < 1e-2 * np.linalg.norm(sgld_excess)
    with pytest.raises(ValueError, match="lr"):
        linreg.sgld_covariance(model, 10.0, 6)


def test_loglog_slope():
    x = np.logspace(-3, -1, 5)
    s, se = linreg.loglog_slope(x, 3 * x**2)
    assert s == pytest.approx(2.0) and se < 1e-10
