"""Restricted mean of the predicted law against simulated periodic and single perturbations."""

import numpy as np
import pytest

from fpt_core.stats.fpt import FirstPassage, mean_fpt
from fpt_core.stats.rmst import predicted_restricted_mean


def _observe(t, horizon):
    return FirstPassage(np.minimum(t, horizon), t <= horizon, float(horizon))


def _process(rng, n):
    """T: lognormal (CV > 1 tail), T_p: exponential of mean 8, independent of everything."""
    return rng.lognormal(2.5, 1.0, n), lambda size: rng.exponential(8.0, size)


def _periodic(t, tp, tau, horizon):
    """T_τ under perturbation every τ: each perturbation renews the remaining time with T_p."""
    out = t.copy()
    left = t > tau
    start = np.full(t.size, tau)
    while left.any() and (start[left] < horizon).any():
        draw = tp(left.sum())
        done = draw <= tau
        idx = np.flatnonzero(left)
        out[idx[done]] = start[idx[done]] + draw[done]
        left[idx[done]] = False
        start[idx[~done]] += tau
        out[idx[~done]] = start[idx[~done]] + tau  # provisional: beyond the next perturbation
    return out


@pytest.mark.parametrize("tau", [12.0, 20.0])
def test_renewal_prediction_matches_simulated_periodic_perturbation(tau):
    rng = np.random.default_rng(0)
    tau0, h = 10.0, 40.0
    t, tp = _process(rng, 600)
    fp0 = _observe(t, 200.0)
    t1, tp1 = _process(rng, 600)
    once = np.where(t1 <= tau0, t1, tau0 + tp1(t1.size))
    fp1 = _observe(once, 200.0)
    pred = predicted_restricted_mean(fp0, fp1, tau0, tau, h, n_resamples=300, rng=1)
    big_t, big_tp = _process(np.random.default_rng(2), 200_000)
    truth = np.minimum(_periodic(big_t, big_tp, tau, h), h).mean()
    se = (pred.high - pred.low) / (2 * 1.96)
    assert abs(pred.mean - truth) < 3.5 * se, (pred.mean, truth, se)
    assert pred.low < pred.mean < pred.high and se < 0.05 * truth
    # brute force with the same number of runs: its restricted mean (mean_fpt at the horizon)
    bf = mean_fpt(_observe(_periodic(*_process(rng, 600), tau, h), h), n_resamples=300, rng=3)
    se_bf = (bf.high - bf.low) / (2 * 1.96)
    assert abs(bf.mean - truth) < 3.5 * se_bf


def test_single_form_matches_simulated_single_perturbation():
    rng = np.random.default_rng(4)
    tau0, tau, h = 10.0, 15.0, 50.0
    t, tp = _process(rng, 800)
    t1, tp1 = _process(rng, 800)
    fp1 = _observe(np.where(t1 <= tau0, t1, tau0 + tp1(t1.size)), 200.0)
    pred = predicted_restricted_mean(
        _observe(t, 200.0), fp1, tau0, tau, h, form="single", n_resamples=300, rng=5
    )
    big_t, big_tp = _process(np.random.default_rng(6), 200_000)
    truth = np.minimum(np.where(big_t <= tau, big_t, tau + big_tp(big_t.size)), h).mean()
    assert abs(pred.mean - truth) < 3.5 * (pred.high - pred.low) / (2 * 1.96)


def test_on_an_epoch_grid_the_integral_is_the_exact_sum():
    """T ∈ {1, …, 6} observed on integer epochs, T_p = 1 for everyone: perturbing every τ = 2
    from the start, every survivor at 2 reaches at 3; E[min(T_τ, 5)] by hand."""
    t = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    fp0 = FirstPassage(t, np.ones(6, bool), 6.0)
    fp1 = FirstPassage(np.array([1.0, 2.0, 3.0, 3.0, 3.0, 3.0]), np.ones(6, bool), 6.0)
    r = predicted_restricted_mean(fp0, fp1, 2.0, 2.0, 5.0, n_resamples=10, rng=0)
    # P(T_τ > t): 1 on [0, 1), 5/6 on [1, 2), 4/6 on [2, 3), 0 after: 1 + 5/6 + 4/6
    assert r.mean == pytest.approx(1 + 5 / 6 + 4 / 6)


def test_renewal_jumps_after_later_perturbations_count():
    """T_p ∈ {1, 3} (half each), perturbation every τ = 2 from an ensemble that never reaches
    the target unperturbed: P(T_τ > t) is 1 to 3, then halves at 3, 5, 7, …: ∫_0^9 by hand."""
    fp0 = FirstPassage(np.full(4, 10.0), np.ones(4, bool), 10.0)
    fp1 = FirstPassage(np.array([3.0, 3.0, 5.0, 5.0]), np.ones(4, bool), 10.0)
    r = predicted_restricted_mean(fp0, fp1, 2.0, 2.0, 9.0, n_resamples=10, rng=0)
    assert r.mean == pytest.approx(3 + 2 * 0.5 + 2 * 0.25 + 2 * 0.125)


def test_bad_input_is_named():
    fp = FirstPassage(np.array([1.0, 2.0]), np.ones(2, bool), 3.0)
    for kw, match in (
        ({"tau": -1.0}, "tau"),
        ({"horizon": 0.0}, "horizon"),
        ({"form": "x"}, "form"),
    ):
        args = {"tau": 2.0, "horizon": 3.0, **kw}
        with pytest.raises(ValueError, match=match):
            predicted_restricted_mean(fp, fp, 1.0, args.pop("tau"), args.pop("horizon"), **args)
