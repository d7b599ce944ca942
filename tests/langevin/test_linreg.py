"""Known-answer tests of fpt_core.langevin.linreg: Gaussian KL, moment errors, the error scan's estimators.

(The older linreg tests — posterior, SGLD/SGWORLD theory — live in tests/langevin/test_langevin.py.)
"""

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from fpt_core.langevin import linreg

pytestmark = pytest.mark.usefixtures("one_thread")


# --- KL and moment errors against hand-computed closed forms -----------------------------------


def test_gaussian_kl_1d_against_numerical_integration():
    """KL(q‖p) = ∫ q ln(q/p) by quadrature, both directions (they differ)."""
    mq, sq, mp, sp = 3.0, 1.0, 2.0, 2.0
    q, p = stats.norm(mq, sq), stats.norm(mp, sp)
    num_qp = integrate.quad(lambda x: q.pdf(x) * (q.logpdf(x) - p.logpdf(x)), -30, 30)[0]
    num_pq = integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), -40, 40)[0]
    kl_qp = linreg.gaussian_kl([mq], [[sq**2]], [mp], [[sp**2]])
    kl_pq = linreg.gaussian_kl([mp], [[sp**2]], [mq], [[sq**2]])
    assert kl_qp == pytest.approx(num_qp, rel=1e-9)
    assert kl_pq == pytest.approx(num_pq, rel=1e-9)
    assert abs(kl_qp - kl_pq) > 0.5  # the direction matters here


def test_moment_errors_hand_computed_1d():
    """q = N(3, 1) measured against p = N(2, 4):
    KL(q‖p) = ½[1/4 + 1²/4 − 1 + ln 4 − ln 1] = ½(ln 4 − ½) = 0.44314718…
    (the reverse, KL(p‖q) = ½[4 + 1 − 1 − ln 4] = 1.30685282…, must NOT come out);
    mean_rel = |3 − 2|/|2| = 0.5; cov_rel = |1 − 4|/|4| = 0.75."""
    err = linreg.moment_errors(np.array([3.0]), np.array([[1.0]]), np.array([2.0]), [[4.0]])
    assert err["kl"] == pytest.approx(0.5 * (np.log(4.0) - 0.5), rel=1e-12)
    assert err["kl"] == pytest.approx(0.4431471805599453, rel=1e-12)
    assert err["mean_rel"] == pytest.approx(0.5, rel=1e-14)
    assert err["cov_rel"] == pytest.approx(0.75, rel=1e-14)


def test_moment_errors_hand_computed_2d():
    """q = N((2, 1), diag(1, 4)) against p = N((1, 0), [[2, 1], [1, 2]]), Δ = (1, 1):
    S_p⁻¹ = ⅓[[2, −1], [−1, 2]], det S_p = 3, det S_q = 4;
    tr(S_p⁻¹S_q) = ⅓(2·1 + 2·4) = 10/3, ΔᵀS_p⁻¹Δ = ⅓(2 − 1 − 1 + 2) = 2/3,
    KL(q‖p) = ½[10/3 + 2/3 − 2 + ln 3 − ln 4] = 1 + ½ ln(3/4) = 0.85615896…
    (reverse: ½[2 + ½ + 1 + ¼ − 2 + ln(4/3)] = 1.01884103…);
    mean_rel = ‖(1, 1)‖/‖(1, 0)‖ = √2; cov_rel = ‖[[−1, −1], [−1, 2]]‖_F/‖S_p‖_F = √(7/10)."""
    mq, Sq = np.array([2.0, 1.0]), np.diag([1.0, 4.0])
    mp, Sp = np.array([1.0, 0.0]), np.array([[2.0, 1.0], [1.0, 2.0]])
    err = linreg.moment_errors(mq, Sq, mp, Sp)
    assert err["kl"] == pytest.approx(1 + 0.5 * np.log(0.75), rel=1e-12)
    assert err["kl"] == pytest.approx(0.8561589637741096, rel=1e-12)
    assert err["mean_rel"] == pytest.approx(np.sqrt(2.0), rel=1e-14)
    assert err["cov_rel"] == pytest.approx(np.sqrt(0.7), rel=1e-14)
    # gaussian_kl itself, reverse direction, against the hand value
    assert linreg.gaussian_kl(mp, Sp, mq, Sq) == pytest.approx(
        0.5 * (1.75 + np.log(4 / 3)), rel=1e-12
    )


# --- error_scan: the coupled control variate ----------------------------------------------------


def test_error_scan_coupled_estimate_matches_exact_sgld_theory():
    """With independent minibatches the linear SGLD chain's stationary covariance is known exactly
    (``sgld_covariance``: Σ = FΣF + 2ηI + η²C_b(Σ), the θ-dependent minibatch noise included),
    and its stationary mean is μ. So the coupled estimates of ``kl`` and ``cov_rel`` must agree
    with ``kl_theory``/``cov_rel_theory`` within a few SE, with a smaller SE than the plain ones.
    The minibatch excess Σ − Σ_ULA is many SE here, so Σ_ULA − (Σ̂ − Σ̂_ULA) (a flipped control
    variate) would fail. (SGWORLD's theory neglects the multiplicative noise — its coupled values
    resolve that, typically lying several SE off — so it is checked for the SE reduction only.)"""
    model = linreg.make_regression(n=40, dim=2, noise_std=1.0, prior_std=2.0, seed=3, device="cpu")
    lam = np.linalg.eigvalsh(model.hessian())
    lrs = [0.1 / lam[-1], 0.3 / lam[-1]]
    df = linreg.error_scan(model, lrs, batch_size=20, n_chains=512, progress=False, seed=1)
    assert len(df) == 4
    wr = df[df.policy == "with_replacement"]
    for _, r in wr.iterrows():
        for key in ("kl", "cov_rel"):
            z = (r[f"{key}_coupled"] - r[f"{key}_theory"]) / r[f"{key}_coupled_se"]
            assert abs(z) < 4, (key, r["lr"], z)
        # the test has power: the minibatch excess over ULA is resolved
        ula = linreg.ula_covariance(model, r["lr"])
        th = linreg.sgld_covariance(model, r["lr"], 20)
        post = model.posterior()[1]
        assert np.linalg.norm(th - ula) / np.linalg.norm(post) > 10 * r["cov_rel_coupled_se"]
    # the reference chain shares the injected noise, not the minibatch noise: the SE drops a lot
    # for SGWORLD (minibatch noise cancels over an epoch), less with independent batches
    wor = df[df.policy == "without_replacement"]
    for key in ("kl", "cov_rel", "mean_rel"):
        assert np.all(wr[f"{key}_coupled_se"] < wr[f"{key}_plain_se"]), key
        assert np.all(wor[f"{key}_coupled_se"] < 0.5 * wor[f"{key}_plain_se"]), key


@dataclass(frozen=True)
class _BiasedRegression(linreg.LinearRegression):
    """Linear regression whose minibatch gradient carries a constant offset b: SGLD then has the
    exact stationary mean θ* = μ − H⁻¹b (E[θ'] = E[θ] − η(H(E[θ] − μ) + b) is exact, since the
    batches are unbiased and independent of θ), while the ULA reference still targets μ."""

    offset: torch.Tensor | None = None

    def minibatch_grad(self, theta, idx):
        return super().minibatch_grad(theta, idx) + self.offset


def test_error_scan_coupled_mean_has_the_sampler_stationary_mean(monkeypatch):
    """The scan's outputs see the mean error only through ‖Δ‖ and ΔᵀΣ⁻¹Δ, which are blind to the
    sign of the control variate; so the coupled mean μ + (m̂ − m̂_ULA) is read where it is passed to
    ``moment_errors`` and compared with the known stationary mean θ* of a biased sampler."""
    base = linreg.make_regression(n=40, dim=2, noise_std=1.0, prior_std=2.0, seed=3, device="cpu")
    H = base.hessian()
    mu, post = base.posterior()
    shift = 0.2 * np.sqrt(np.diag(post)) * np.array([1.0, -1.0])  # θ* − μ
    model = _BiasedRegression(
        base.X, base.y, base.noise_std, base.prior_std, offset=torch.tensor(-H @ shift)
    )
    calls = []
    real = linreg.moment_errors

    def spy(mean, cov, mean_p, cov_p):
        calls.append(np.array(mean, dtype=float))
        return real(mean, cov, mean_p, cov_p)

    monkeypatch.setattr(linreg, "moment_errors", spy)
    G = 8
    lr = 0.1 / np.linalg.eigvalsh(H)[-1]
    linreg.error_scan(model, [lr], 20, n_chains=512, n_groups=G, burn_relax=8.0,
                      policies=("with_replacement",), progress=False, seed=2)  # fmt: skip
    # calls per job: plain pooled, G plain groups, coupled pooled, G coupled groups, theory
    assert len(calls) == 2 * G + 3
    target = mu + shift
    for pooled, groups in ((calls[0], calls[1 : G + 1]), (calls[G + 1], calls[G + 2 : 2 * G + 2])):
        np.testing.assert_allclose(pooled, np.mean(groups, 0), rtol=1e-12)
        se = np.std(groups, 0, ddof=1) / np.sqrt(G)
        assert np.all(np.abs(pooled - target) < 5 * se), (pooled, target, se)
    se_coupled = np.std(calls[G + 2 : 2 * G + 2], 0, ddof=1) / np.sqrt(G)
    assert np.all(np.abs(shift) > 20 * se_coupled)  # a sign error (μ − shift) would be many SE off
