"""The exact discrete-time log ratio of the linear-Gaussian chain and the continuum functional."""

import numpy as np
import pytest
import torch

from fpt_core.langevin import entropy, noneq

pytestmark = pytest.mark.usefixtures("one_thread")

# non-normal drift and anisotropic noise: out of equilibrium, and the two functionals differ
K2 = np.array([[0.12, 0.08], [-0.03, 0.2]])
D2 = np.array([[0.02, 0.004], [0.004, 0.006]])


def _gaussian_kl(m0, S0, m1, S1):
    """KL(N(m0, S0) ‖ N(m1, S1)) in closed form."""
    d = len(m0)
    S1i = np.linalg.inv(S1)
    dm = m1 - m0
    return 0.5 * (np.trace(S1i @ S0) + dm @ S1i @ dm - d
                  + np.log(np.linalg.det(S1) / np.linalg.det(S0)))  # fmt: skip


def test_log_ratio_mean_is_the_kl_of_forward_and_reversed_pairs():
    """⟨σ⟩ = KL(law of (δ_n, δ_{n+1}) ‖ law of (δ_{n+1}, δ_n)) for the stationary chain."""
    F, Q = np.eye(2) - K2, 2 * D2
    S = noneq.lyapunov_covariance(K2, D2, discrete=True)
    joint = np.block([[S, S @ F.T], [F @ S, S]])
    swap = np.block([[np.zeros((2, 2)), np.eye(2)], [np.eye(2), np.zeros((2, 2))]])
    kl = _gaussian_kl(np.zeros(4), joint, np.zeros(4), swap @ joint @ swap)
    assert entropy.gaussian_chain_ep_mean(F, Q) == pytest.approx(kl, rel=1e-10)
    assert kl > 1e-4
    # detailed balance (F symmetric, Q ∝ I): no entropy production
    Fs = np.array([[0.8, 0.1], [0.1, 0.7]])
    assert abs(entropy.gaussian_chain_ep_mean(Fs, 0.3 * np.eye(2))) < 1e-12


def test_log_ratio_matches_the_definition_pointwise():
    """σ = ln π(x) + ln p(y|x) − ln π(y) − ln p(x|y) with scipy's Gaussian log densities."""
    from scipy.stats import multivariate_normal as mvn

    F, Q = np.eye(2) - K2, 2 * D2
    S = noneq.lyapunov_covariance(K2, D2, discrete=True)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(2) * 0.3, rng.standard_normal(2) * 0.3
    ref = (mvn(np.zeros(2), S).logpdf(x) + mvn(F @ x, Q).logpdf(y)
           - mvn(np.zeros(2), S).logpdf(y) - mvn(F @ y, Q).logpdf(x))  # fmt: skip
    traj = torch.tensor(np.stack([x, y])[:, None, :])
    assert float(entropy.gaussian_chain_log_ratio(traj, F, Q)[0, 0]) == pytest.approx(ref)
    shifted = entropy.gaussian_chain_log_ratio(traj + 5.0, F, Q, mean=[5.0, 5.0])
    assert float(shifted[0, 0]) == pytest.approx(ref)
    # the continuum functional is a different functional of the same path
    cont = entropy.entropy_production(traj, np.zeros(2), noneq.linear_ness(K2, D2).functional)
    assert abs(float(cont[0, 0]) - ref) > 0.01 * abs(ref)


def test_surrogate_fluctuation_theorems_hold_for_both_functionals():
    """Stationary surrogate: IFT exact for both functionals, DFT exact for the log ratio, and
    the log ratio's mean is gaussian_chain_ep_mean; the two functionals differ."""
    ness = noneq.linear_ness(K2, D2)
    out = entropy.surrogate_entropy(K2, D2, ness.functional, n_chains=2048, steps=400, seed=3)
    m_exact = entropy.gaussian_chain_ep_mean(np.eye(2) - K2, 2 * D2)
    for name, rows in out.items():
        for r in rows:
            assert abs(r["ift"] - 1) < 4 * r["ift_se"] and r["ift_se"] < 0.01, (name, r)
            assert r["mean"] > 20 * r["mean_se"], (name, r)  # resolved: the IFT has power
    for r in out["exact"]:
        assert abs(r["mean"] - r["window"] * m_exact) < 4 * r["mean_se"]
        assert abs(r["dft_slope"] - 1) < 4 * r["dft_slope_se"] + 0.01
    for r in out["continuum"]:
        assert abs(r["mean"] - r["window"] * ness.ep_mean_chain) < 4 * r["mean_se"]


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="spectral radius"):
        entropy.gaussian_chain_ep_mean(1.5 * np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="Q must be symmetric"):
        entropy.gaussian_chain_ep_mean(0.5 * np.eye(2), -np.eye(2))
    with pytest.raises(ValueError, match="square"):
        entropy.gaussian_chain_ep_mean(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="steps"):
        entropy.surrogate_entropy(K2, D2, np.zeros((2, 2)), steps=1)
