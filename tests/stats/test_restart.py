"""Tests of fpt_core.stats.restart against processes with known answers.

Brownian motion (BM) on a line, diffusion D, started at x0 from an absorbing target at 0, is
simulated with a vectorised Euler scheme plus the Brownian-bridge crossing correction: a walker
that stays positive at both ends of a step crossed 0 in between with probability
exp(−x_n x_{n+1} / (D dt)). This removes the O(sqrt(dt)) overshoot bias of a plain Euler scheme
and leaves O(dt) errors only (hit times rounded up to the step end, resets applied at step
ends).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from fpt_core.stats.fpt import FirstPassage, mean_fpt
from fpt_core.stats.predicted_law import predicted_survival
from fpt_core.stats.restart import (
    RestartPrediction,
    best_perturbation,
    optimal_tau,
    poisson_restart_mean,
    post_perturbation,
    predict_mean_fpt,
    sharp_restart_mean,
)

DT = 0.005
B = 300  # bootstrap resamples: enough for a CI used as ±2·SE
Z95 = stats.norm.ppf(0.975)


def se_ci(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Standard error read off a 95% percentile CI."""
    return (np.asarray(high) - np.asarray(low)) / (2 * Z95)


def bm_first_passage(
    n: int,
    rng: np.random.Generator,
    *,
    n_steps: int,
    x0: float = 1.0,
    D: float = 1.0,
    rate: float = 0.0,
    every: int = 0,
    once: int = 0,
) -> FirstPassage:
    """FPT of BM to 0, censored after n_steps; reset to x0 at Poisson ``rate``, every ``every``
    steps, or once after step ``once``. At a reset step the hit is checked first."""
    x, alive = np.full(n, x0), np.arange(n)
    k_hit = np.zeros(n, dtype=np.int64)
    sig = np.sqrt(2 * D * DT)
    for k in range(1, n_steps + 1):
        xn = x + sig * rng.standard_normal(x.size)
        bridge = np.exp(-np.maximum(x * xn, 0.0) / (D * DT))
        hit = (xn <= 0) | (rng.random(x.size) < bridge)
        k_hit[alive[hit]] = k
        x, alive = xn[~hit], alive[~hit]
        if alive.size == 0:
            break
        if rate:
            x[rng.random(x.size) < rate * DT] = x0
        if (every and k % every == 0) or k == once:
            x[:] = x0
    obs = k_hit > 0
    return FirstPassage(np.where(obs, k_hit, n_steps) * DT, obs, n_steps * DT)


def bm_survival(t: float, x0: float = 1.0, D: float = 1.0) -> float:
    return float(special.erf(x0 / np.sqrt(4 * D * t)))


# ------------------------------------------------------------------ Poisson resetting


@pytest.mark.parametrize("r", [1.0, 2.0])
def test_bm_poisson_resetting_simulation_matches_evans_majumdar(r: float) -> None:
    """<T_r> = (exp(x0 sqrt(r/D)) − 1)/r. Bias allowance 1%: hit times are rounded up to the
    step end (dt/2 = 0.15% of <T_r>) and resets delayed to step ends (≲ r·dt per reset, about
    r<T_r> ≈ 2–3 resets); the measured drift between dt = 0.02 and 0.005 is below 0.5%."""
    fp = bm_first_passage(20000, np.random.default_rng(10), n_steps=8000, rate=r)
    assert fp.n_observed == fp.n
    exact = np.expm1(np.sqrt(r)) / r
    se = fp.times.std() / np.sqrt(fp.n)
    assert abs(fp.times.mean() - exact) < 5 * se + 0.01 * exact, (fp.times.mean(), se, exact)


def test_poisson_restart_from_censored_free_bm_samples() -> None:
    """Free BM has an infinite mean FPT (Lévy–Smirnov law, T = x0²/(2D Z²)); censored at a
    large horizon H the censored runs can add at most e^{−rH} S(H) to T̃(r), i.e. nothing."""
    n = 20000
    t = 1.0 / (2 * np.random.default_rng(11).standard_normal(n) ** 2)
    rates = np.array([0.5, 1.0, 2.0])
    exact = np.expm1(np.sqrt(rates)) / rates
    res = {}
    for horizon in (1e4, 50.0, 2.0):
        fp = FirstPassage(np.minimum(t, horizon), t <= horizon, horizon)
        res[horizon] = poisson_restart_mean(fp, rates, n_resamples=B, rng=12)
    big = res[1e4]
    assert np.all(big.tail < 1e-300) and not big.bound.any()
    assert np.all(res[50.0].tail < 1e-10)
    np.testing.assert_allclose(res[50.0].mean, big.mean, rtol=1e-9)
    assert res[2.0].bound[0]  # e^{-1} S(2) ≈ 0.14: censoring matters and is flagged
    # delta-method standard error of (1 − L)/(r L) with L the sample mean of e^{−rT}
    e = np.exp(-np.outer(t, rates))
    lap = e.mean(axis=0)
    se = e.std(axis=0) / np.sqrt(n) / (rates * lap**2)
    np.testing.assert_allclose(big.laplace, lap, rtol=1e-10)
    assert np.all(np.abs(big.mean - exact) < 5 * se), (big.mean, exact, se)
    assert np.all((0.7 < se_ci(big.low, big.high) / se) & (se_ci(big.low, big.high) / se < 1.4))


# ------------------------------------------------------------------- sharp restart


@pytest.fixture(scope="module")
def bm() -> dict:
    """Unperturbed BM (horizon 6), direct sharp restart every τ, and BM restarted once at 1."""
    rng = np.random.default_rng(13)
    n = 10000
    direct = {
        tau: bm_first_passage(n, rng, n_steps=8000, every=round(tau / DT)) for tau in (0.5, 1, 2)
    }
    return {
        "unperturbed": bm_first_passage(n, rng, n_steps=1200),
        "direct": direct,
        "once": bm_first_passage(n, rng, n_steps=1400, once=round(1.0 / DT)),
    }


def direct_mean(fp: FirstPassage) -> tuple[float, float]:
    assert fp.n_observed == fp.n
    return fp.times.mean(), fp.times.std() / np.sqrt(fp.n)


def test_sharp_restart_from_unperturbed_matches_direct_simulation(bm: dict) -> None:
    taus = np.array([0.5, 1.0, 2.0])
    pred = sharp_restart_mean(bm["unperturbed"], taus, n_resamples=B, rng=14)
    for i, tau in enumerate(taus):
        m, se = direct_mean(bm["direct"][tau])
        tol = 5 * np.hypot(se, se_ci(pred.low[i], pred.high[i]))
        assert abs(pred.mean[i] - m) < tol, (tau, pred.mean[i], m, tol)
        # and the continuous-time formula, up to the O(dt) time rounding (1%)
        emin = integrate.quad(bm_survival, 0, tau)[0]
        exact = emin / (1 - bm_survival(tau))
        assert abs(m - exact) < 5 * se + 0.01 * exact, (tau, m, exact)
    assert np.isnan(sharp_restart_mean(bm["unperturbed"], [7.0], n_resamples=2).mean[0])


def test_renewal_prediction_from_one_tau0_matches_other_taus(bm: dict) -> None:
    """After a sharp restart the process is a fresh copy (T_p ~ T): ensembles restarted once at
    τ0 = 1, or every τ0 = 2, predict restart every τ by the renewal form."""
    taus = np.array([0.5, 1.0, 2.0])
    once = predict_mean_fpt(
        bm["unperturbed"],
        bm["once"],
        1.0,
        taus,
        form="renewal",
        schedule="once",
        n_resamples=B,
        rng=15,
    )
    periodic = predict_mean_fpt(
        bm["unperturbed"],
        bm["direct"][2],
        2.0,
        np.array([0.5, 1.0, 3.0]),
        form="renewal",
        n_resamples=B,
        rng=16,
    )
    for pred, check in ((once, taus), (periodic, taus[:2])):
        assert not pred.bound.any()
        for i, tau in enumerate(check):
            m, se = direct_mean(bm["direct"][tau])
            tol = 5 * np.hypot(se, se_ci(pred.low[i], pred.high[i]))
            assert abs(pred.mean[i] - m) < tol, (pred.schedule, tau, pred.mean[i], m, tol)
    # periodic at τ0: the single-perturbation law is seen only up to τ0, so τ = 3 > τ0 is NaN
    assert np.isnan(periodic.mean[2])
    # the single form needs <T_p> = <T> = ∞ here: only a flagged lower bound
    single = predict_mean_fpt(
        bm["unperturbed"], bm["once"], 1.0, taus, schedule="once", n_resamples=2
    )
    assert single.bound.all()
    # predicted law of T_0.5 against the direct simulation (two-sample KS bound, α = 0.001)
    law = predicted_survival(
        bm["unperturbed"], bm["once"], 1.0, 0.5, form="renewal", schedule="once"
    )
    t_direct = np.sort(bm["direct"][0.5].times)
    ks = np.max(np.abs(law.cdf(t_direct) - np.arange(1, t_direct.size + 1) / t_direct.size))
    assert ks < 1.95 * np.sqrt(2 / t_direct.size), ks
    assert stats.kstest(t_direct, law.cdf).pvalue > 1e-3


# ------------------------------------------------- single form on a discrete model


def discrete_model(n: int, rng: np.random.Generator, tau: float | None, u_mean: float = 4.0):
    """Per-epoch FPT T0 = ceil(lognormal(0.5, 1.5)); a single perturbation at τ finishes
    training after U ~ Geometric(1/u_mean) epochs. Horizon 150 (censoring)."""
    t0 = np.ceil(rng.lognormal(0.5, 1.5, n))
    t = t0 if tau is None else np.where(t0 <= tau, t0, tau + rng.geometric(1 / u_mean, n))
    return FirstPassage(np.minimum(t, 150.0), t <= 150, 150.0, grid=np.arange(1.0, 151))


@pytest.fixture(scope="module")
def discrete() -> dict:
    rng = np.random.default_rng(17)
    n = 8000
    return {
        "unperturbed": discrete_model(n, rng, None),
        "perturbed": discrete_model(n, rng, 6.0),
        "slow": discrete_model(n, rng, 6.0, u_mean=40.0),
        "direct": {tau: discrete_model(n, rng, tau) for tau in (3.0, 10.0, 20.0)},
    }


def test_single_form_predicts_single_perturbation_at_other_tau(discrete: dict) -> None:
    taus = np.array([3.0, 10.0, 20.0])
    pred = predict_mean_fpt(
        discrete["unperturbed"],
        discrete["perturbed"],
        6.0,
        taus,
        schedule="once",
        n_resamples=B,
        rng=18,
    )
    assert not pred.bound.any()
    for i, tau in enumerate(taus):
        m = mean_fpt(discrete["direct"][tau], n_resamples=B, rng=19)
        assert m.estimable
        tol = 5 * np.hypot(se_ci(m.low, m.high), se_ci(pred.low[i], pred.high[i]))
        assert abs(pred.mean[i] - m.mean) < tol, (tau, pred.mean[i], m.mean, tol)
        law = predicted_survival(
            discrete["unperturbed"], discrete["perturbed"], 6.0, tau, schedule="once"
        )
        grid = np.arange(0.0, 151)
        measured = (discrete["direct"][tau].times[None] > grid[:, None]).mean(axis=1)
        assert np.nanmax(np.abs(law.sf(grid) - measured)) < 1.95 * np.sqrt(2 / 8000)


def test_hazard_criterion_at_the_optimum(discrete: dict) -> None:
    """On the epoch grid ⟨T_τ⟩ − ⟨T_{τ−1}⟩ = S(τ−1)(1 − h(τ)⟨T_p⟩) exactly, so the predicted
    curve decreases exactly where h(τ) > 1/⟨T_p⟩, and at τ*: h(τ*) ≥ 1/⟨T_p⟩ ≥ h(τ*+1)."""
    taus = np.arange(1.0, 41)
    pred = predict_mean_fpt(
        discrete["unperturbed"],
        discrete["perturbed"],
        6.0,
        taus,
        schedule="once",
        n_resamples=B,
        rng=20,
    )
    inv = 1 / pred.mean_tp[0]
    np.testing.assert_array_equal(np.diff(pred.mean) < 0, pred.hazard[1:] > inv)
    opt = optimal_tau(pred)
    i = int(opt.tau) - 1
    assert 1 < opt.tau < 40  # an interior optimum
    assert pred.hazard[i] >= inv >= pred.hazard[i + 1]
    assert opt.hazard == pred.hazard[i] and opt.inverse_mean_tp == pytest.approx(inv)
    assert opt.tau_low <= opt.tau <= opt.tau_high and opt.low <= opt.mean <= opt.high
    assert opt.speedup > 1 and opt.baseline == pred.baseline.mean
    # QSS restriction: only τ ≥ t_relax are eligible
    late = predict_mean_fpt(
        discrete["unperturbed"],
        discrete["perturbed"],
        6.0,
        taus,
        schedule="once",
        t_relax=opt.tau + 5,
        n_resamples=20,
        rng=20,
    )
    assert optimal_tau(late).tau >= opt.tau + 5


def test_best_perturbation_picks_the_faster_kind(discrete: dict) -> None:
    taus = np.arange(1.0, 41)
    kinds = {
        name: predict_mean_fpt(
            discrete["unperturbed"],
            discrete[name],
            6.0,
            taus,
            schedule="once",
            n_resamples=50,
            rng=21,
        )
        for name in ("slow", "perturbed")
    }
    best = best_perturbation(kinds)
    assert best.name == "perturbed" and list(best.table["kind"]) == ["perturbed", "slow"]
    assert best.optimum == optimal_tau(kinds["perturbed"])
    assert best.table["mean"].is_monotonic_increasing


# ------------------------------------------------------- when restart helps (CV > 1)


def test_restart_cannot_help_exponential_but_helps_lognormal() -> None:
    """Exponential (CV = 1): <T_τ> = <T> for every τ. Lognormal σ = 1.5 (CV ≈ 2.9): restart
    helps; the sharp-restart curve also matches E[min(T, τ)]/P(T ≤ τ) from the exact law."""
    rng = np.random.default_rng(22)
    n = 8000
    taus, rates = np.geomspace(0.1, 5, 8), np.array([0.1, 0.5, 1.0, 3.0])
    for name, t in (("exp", rng.exponential(1.0, n)), ("lognormal", rng.lognormal(0, 1.5, n))):
        fp = FirstPassage(np.minimum(t, 400.0), t <= 400, 400.0)
        base = mean_fpt(fp, n_resamples=B, rng=23)
        sharp = sharp_restart_mean(fp, taus, n_resamples=B, rng=24)
        poisson = poisson_restart_mean(fp, rates, n_resamples=B, rng=25)
        fresh = predict_mean_fpt(  # renewal prediction, perturbed = restarted once at 0.5
            fp,
            FirstPassage(*_restart_once(t, 0.5, rng), 400.0),
            0.5,
            taus,
            form="renewal",
            schedule="once",
            n_resamples=B,
            rng=26,
        )
        curves = [(c.mean, se_ci(c.low, c.high)) for c in (sharp, poisson, fresh)]
        if name == "exp":
            assert abs(base.cv - 1) < 5 * se_ci(base.cv_low, base.cv_high)
            for mean, se in curves:
                assert np.all(mean > base.mean - 4 * se), (mean, base.mean, se)
        else:
            assert base.cv_low > 1.5
            for mean, se in curves:
                assert np.min(mean + 5 * se) < base.mean, (mean, base.mean, se)
            ln = stats.lognorm(1.5)
            for tau, m, se in zip(taus, *curves[0], strict=True):
                exact = integrate.quad(ln.sf, 0, tau)[0] / ln.cdf(tau)
                assert abs(m - exact) < 5 * se, (tau, m, exact, se)


def _restart_once(t: np.ndarray, tau0: float, rng: np.random.Generator):
    """Same law, restarted at tau0 with a fresh copy: T = T if T ≤ tau0 else tau0 + T'."""
    fresh = rng.permutation(t)
    out = np.minimum(np.where(t <= tau0, t, tau0 + fresh), 400.0)
    return out, np.where(t <= tau0, t, tau0 + fresh) <= 400


# ------------------------------------------------------------------------ bad input


def test_bad_inputs_name_the_parameter(discrete: dict) -> None:
    unp, per = discrete["unperturbed"], discrete["perturbed"]
    with pytest.raises(ValueError, match="taus"):
        sharp_restart_mean(unp, [-1.0, 2.0])
    with pytest.raises(ValueError, match="rates"):
        poisson_restart_mean(unp, [0.0])
    with pytest.raises(ValueError, match="tau0"):
        predict_mean_fpt(unp, per, 150.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="taus"):
        predict_mean_fpt(unp, per, 6.0, [2.0, 1.0])
    with pytest.raises(ValueError, match="form"):
        predict_mean_fpt(unp, per, 6.0, [1.0], form="double")
    with pytest.raises(ValueError, match="schedule"):
        post_perturbation(per, 6.0, schedule="sometimes")
    with pytest.raises(ValueError, match="perturbed"):
        predict_mean_fpt(unp, "runs", 6.0, [1.0])
    with pytest.raises(ValueError, match="prediction"):
        optimal_tau("best")
    with pytest.raises(ValueError, match="predictions"):
        best_perturbation({})
    assert isinstance(predict_mean_fpt(unp, per, 6.0, [1.0], n_resamples=1), RestartPrediction)
