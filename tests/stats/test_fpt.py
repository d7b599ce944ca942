"""Tests of fpt_core.stats.fpt: first passage, Kaplan–Meier, hazard, mean/CV, survivor QSS, load_runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpt_core.stats.fpt import FirstPassage, first_passage, hazard, mean_fpt, survival
from fpt_core.stats.km import KaplanMeier
from fpt_core.stats.logs import load_runs
from fpt_core.stats.survivors import qss_relaxation, survivors

NAN = np.nan
HAND = np.array(
    [
        [0.1, 0.5, 0.9, 0.95],  # reaches at the 3rd evaluation
        [0.2, 0.3, 0.4, 0.5],  # never: censored
        [0.1, NAN, NAN, NAN],  # diverged: never
        [0.9, 0.2, 0.95, 1.0],  # reaches at once
        [0.1, 0.2, NAN, 0.99],  # NaN (no passage) then reaches
    ]
)


def z(level: float = 0.95) -> float:
    return stats.norm.ppf((1 + level) / 2)


def test_first_passage_hand_made() -> None:
    fp = first_passage(HAND, 0.9, times=[10, 20, 30, 40])
    np.testing.assert_array_equal(fp.times, [30, 40, 40, 10, 40])
    np.testing.assert_array_equal(fp.observed, [True, False, False, True, True])
    assert fp.horizon == 40 and fp.n == 5 and fp.n_observed == 3
    np.testing.assert_array_equal(fp.grid, [10, 20, 30, 40])
    # logs of unequal length: censor at the last finite evaluation instead
    fp = first_passage(HAND, 0.9, nan="censor")
    np.testing.assert_array_equal(fp.times, [3, 4, 1, 1, 4])
    # any real target is allowed
    assert first_passage(HAND, -5.0).times.tolist() == [1, 1, 1, 1, 1]
    assert not first_passage(HAND, 2.0).observed.any()


def test_bad_inputs_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="target"):
        first_passage(HAND, np.nan)
    with pytest.raises(ValueError, match="acc"):
        first_passage(HAND[0], 0.5)
    with pytest.raises(ValueError, match="times"):
        first_passage(HAND, 0.5, times=[1, 2, 3])
    with pytest.raises(ValueError, match="times"):
        first_passage(HAND, 0.5, times=[1, 3, 2, 4])
    with pytest.raises(ValueError, match="nan"):
        first_passage(HAND, 0.5, nan="drop")
    with pytest.raises(ValueError, match="horizon"):
        FirstPassage(np.array([1.0, 5.0]), np.array([True, False]), 4.0)
    with pytest.raises(ValueError, match="observed"):
        FirstPassage(np.array([1.0, 2.0]), np.array([1, 0]), 4.0)
    fp = first_passage(HAND, 0.9)
    with pytest.raises(ValueError, match="confidence_level"):
        survival(fp, confidence_level=1.5)
    with pytest.raises(ValueError, match="n_resamples"):
        mean_fpt(fp, n_resamples=0)
    with pytest.raises(ValueError, match="fp"):
        mean_fpt(HAND)


def test_km_is_empirical_survival_without_censoring() -> None:
    t = np.random.default_rng(0).exponential(size=500)
    sv = survival(FirstPassage(t, np.ones(t.size, bool), t.max()))
    grid = np.linspace(0, t.max(), 1000)
    np.testing.assert_allclose(sv.evaluate(grid), (t[None, :] > grid[:, None]).mean(axis=1))
    assert sv.reaches_zero


def test_internal_weighted_km_matches_scipy_with_ties() -> None:
    rng = np.random.default_rng(1)
    t = rng.integers(1, 15, size=300).astype(float)  # many ties, events and censorings mixed
    fp = FirstPassage(t, rng.random(300) < 0.7, 14.0)
    km = KaplanMeier(fp)
    sv = survival(fp)
    np.testing.assert_allclose(km.u, sv.times)
    np.testing.assert_allclose(km.sf()[0], sv.sf, atol=1e-12)
    # bootstrap weights are equivalent to repeating runs
    w = np.random.default_rng(2).integers(0, 3, size=(1, 300)).astype(float)
    rep = np.repeat(np.arange(300), w[0].astype(int))
    sv_rep = survival(FirstPassage(t[rep], fp.observed[rep], 14.0))
    np.testing.assert_allclose(km.at(km.sf(w), sv_rep.times)[0], sv_rep.sf, atol=1e-12)


def test_km_recovers_exponential_under_random_censoring() -> None:
    rng = np.random.default_rng(3)
    n, horizon = 4000, 3.0
    t, c = rng.exponential(1.0, n), np.minimum(rng.exponential(2.0, n), horizon)
    fp = FirstPassage(np.minimum(t, c), t <= c, horizon)
    assert 0.25 < 1 - fp.n_observed / n < 0.45  # censoring is substantial
    sv = survival(fp, method="linear")  # symmetric: its half-width is z · Greenwood's SE
    for x in (0.25, 0.5, 1.0, 2.0, 2.9):
        k = np.searchsorted(sv.times, x, side="right") - 1
        se = (sv.high[k] - sv.low[k]) / (2 * z())  # Greenwood
        assert abs(sv.evaluate(x) - np.exp(-x)) < 4.5 * se, (x, sv.evaluate(x), se)
    m = mean_fpt(fp, n_resamples=300, rng=4)
    assert not m.estimable and np.isnan(m.cv)  # S(3) = e^-3 > 0: only a restricted mean
    se = (m.high - m.low) / (2 * z())
    assert abs(m.mean - (1 - np.exp(-horizon))) < 4.5 * se, (m.mean, se)


def test_hazard_of_geometric_is_constant() -> None:
    p, n, horizon = 0.2, 5000, 30
    t = np.random.default_rng(5).geometric(p, size=n)
    acc = (np.arange(1, horizon + 1)[None, :] >= t[:, None]).astype(float)
    fp = first_passage(acc, 0.5)
    h = hazard(fp)
    np.testing.assert_array_equal(h.times, np.arange(1, horizon + 1))
    np.testing.assert_allclose(h.rate, h.probability)  # unit spacing
    ok = h.at_risk >= 50
    zscore = (h.probability[ok] - p) / np.sqrt(p * (1 - p) / h.at_risk[ok])
    assert np.all(np.abs(zscore) < 4.5), zscore
    assert np.sum(zscore**2) < stats.chi2.ppf(0.999, ok.sum())
    # the hazard rebuilds the Kaplan–Meier curve
    np.testing.assert_allclose(np.cumprod(1 - h.probability), survival(fp).evaluate(h.times))


def test_hazard_hand_count_on_uneven_grid() -> None:
    """Hand-counted hazard on the grid 0.5, 1.5, 2, 4, 7 (widths 0.5, 1, 0.5, 2, 3; t_0 = 0).

    Convention (docstring): interval k is (t_{k−1}, t_k]; events d_k = observed times in it;
    at_risk n_k = runs with T > t_{k−1} minus runs censored strictly inside (t_{k−1}, t_k) — a run
    censored exactly at t_k is still at risk in interval k (and gone from interval k+1);
    probability h_k = d_k/n_k; rate = h_k/(t_k − t_{k−1}); se = sqrt(h(1−h)/n).
    """
    # fmt: off
    times    = [0.3, 0.5, 0.5, 1.0, 1.5, 1.5, 1.8, 2.0, 3.0, 3.0, 4.0, 5.0, 7.0, 7.0, 7.0]
    observed = [0,   1,   0,   1,   1,   0,   0,   1,   0,   1,   0,   1,   0,   1,   0]
    # fmt: on
    fp = FirstPassage(np.array(times), np.array(observed, bool), 7.0, grid=[0.5, 1.5, 2, 4, 7])
    # (0, 0.5]:   15 alive, 0.3 censored inside → 14 at risk; event 0.5 (0.5 censored at t_1 stays)
    # (0.5, 1.5]: 12 alive (T > 0.5), none censored inside → 12; events 1.0, 1.5
    # (1.5, 2]:    9 alive, 1.8 censored inside → 8; event 2.0
    # (2, 4]:      7 alive, 3.0 censored inside → 6; event 3.0 (4.0 censored at t_4 stays)
    # (4, 7]:      4 alive (5, 7, 7, 7), none inside → 4; events 5.0, 7.0
    events = [1, 2, 1, 1, 2]
    at_risk = [14, 12, 8, 6, 4]
    prob = [1 / 14, 1 / 6, 1 / 8, 1 / 6, 1 / 2]
    rate = [(1 / 14) / 0.5, (1 / 6) / 1.0, (1 / 8) / 0.5, (1 / 6) / 2.0, (1 / 2) / 3.0]
    np.testing.assert_allclose(rate, [1 / 7, 1 / 6, 1 / 4, 1 / 12, 1 / 6], rtol=1e-15)
    # default grid (fp.grid) and an explicit grid whose point past the horizon (9) is dropped
    for h in (hazard(fp), hazard(fp, times=[0.5, 1.5, 2.0, 4.0, 7.0, 9.0])):
        np.testing.assert_array_equal(h.times, [0.5, 1.5, 2.0, 4.0, 7.0])
        np.testing.assert_array_equal(h.events, events)
        np.testing.assert_array_equal(h.at_risk, at_risk)
        np.testing.assert_allclose(h.probability, prob, rtol=1e-14)
        np.testing.assert_allclose(h.rate, rate, rtol=1e-14)
        p, n = np.array(prob), np.array(at_risk)
        np.testing.assert_allclose(h.se, np.sqrt(p * (1 - p) / n), rtol=1e-14)


def test_mean_and_cv_of_exponential() -> None:
    t = np.random.default_rng(6).exponential(2.0, size=3000)
    m = mean_fpt(FirstPassage(t, np.ones(t.size, bool), t.max()), n_resamples=400, rng=7)
    assert m.estimable and m.n_censored == 0
    np.testing.assert_allclose([m.mean, m.std], [t.mean(), t.std()])
    assert abs(m.mean - 2.0) < 4.5 * t.std() / np.sqrt(t.size)
    assert m.low < m.mean < m.high
    assert abs(m.cv - 1.0) < 4.5 * (m.cv_high - m.cv_low) / (2 * z()), (m.cv, m.cv_low, m.cv_high)


def test_cv_lower_bound_under_censoring_is_the_cv_of_the_restricted_time() -> None:
    """Exponential(1) censored at h: CV[min(T, h)]² = E[min²]/E[min]² − 1 with
    E[min] = 1 − e^{−h}, E[min²] = 2(1 − e^{−h}(1 + h)); it lies below the true CV of 1."""
    h = 1.5
    t = np.random.default_rng(9).exponential(1.0, size=4000)
    m = mean_fpt(FirstPassage(np.minimum(t, h), t <= h, h), n_resamples=400, rng=10)
    e1, e2 = 1 - np.exp(-h), 2 * (1 - np.exp(-h) * (1 + h))
    exact = np.sqrt(e2 / e1**2 - 1)
    assert not m.estimable and np.isnan(m.cv)
    np.testing.assert_allclose(
        m.cv_lower_bound, np.sqrt(np.minimum(t, h).var()) / np.minimum(t, h).mean()
    )
    half = m.cv_lower_bound - m.cv_lower_bound_low
    assert abs(m.cv_lower_bound - exact) < 2.5 * half and exact < 1.0
    assert m.cv_lower_bound_low < m.cv_lower_bound < 1.0
    # without censoring the bound is the CV itself
    full = mean_fpt(FirstPassage(t, np.ones(t.size, bool), t.max()), n_resamples=10, rng=0)
    assert full.cv_lower_bound == pytest.approx(full.cv) and full.cv_lower_bound_low == full.cv_low


def test_survivor_qss_relaxes_while_all_runs_do_not() -> None:
    """Runs sit in a stationary state (acc ~ N(0.5, 0.05)) and jump to 0.95 with hazard 0.05
    per epoch: the survivors are in QSS from the start, the whole ensemble is not."""
    rng = np.random.default_rng(8)
    n, n_eval = 400, 30
    t = rng.geometric(0.05, size=n)
    epochs = np.arange(1, n_eval + 1)
    acc = np.where(epochs[None] >= t[:, None], 0.95, rng.normal(0.5, 0.05, (n, n_eval)))
    masked = survivors(acc, 0.9)
    assert np.all(masked[np.isfinite(masked)] < 0.9)
    q = qss_relaxation(acc, 0.9, alpha=0.001)
    np.testing.assert_array_equal(q.n_survivors, (t[:, None] > epochs[None]).sum(axis=0))
    assert q.survivors.t_relax is not None and q.survivors.t_relax <= 3
    assert q.all_runs.t_relax is None or q.all_runs.t_relax >= 12


def test_load_runs_folder(tmp_path) -> None:
    rng = np.random.default_rng(9)
    lengths = {"seed_10": 4, "seed_2": 5, "seed_1": 3}
    for name, k in lengths.items():
        pd.DataFrame({"epoch": np.arange(k), "test_ACC": rng.random(k)}).to_csv(
            tmp_path / f"{name}.csv", index=False
        )
    log = load_runs(tmp_path)
    assert log.runs == ["seed_1", "seed_2", "seed_10"]
    np.testing.assert_array_equal(log.times, [1, 2, 3, 4, 5])
    assert log.acc.shape == (3, 5)
    np.testing.assert_array_equal(np.isfinite(log.acc).sum(axis=1), [3, 5, 4])
    first = pd.read_csv(tmp_path / "seed_2.csv")["test_ACC"].to_numpy()
    np.testing.assert_allclose(log.acc[1], first)
    np.testing.assert_array_equal(load_runs(tmp_path, time="epoch").times, [0, 1, 2, 3, 4])
    # fallback column name, and a missing column
    other = tmp_path / "lower"
    other.mkdir()
    pd.DataFrame({"test_acc": [0.1, 0.2]}).to_csv(other / "run.csv", index=False)
    np.testing.assert_allclose(load_runs(other).acc, [[0.1, 0.2]])
    with pytest.raises(ValueError, match="accuracy"):
        load_runs(other, accuracy="val_acc")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="path"):
        load_runs(empty)


def test_load_runs_long_table(tmp_path) -> None:
    rows = [("b", 2, 0.4), ("a10", 1, 0.2), ("a2", 1, 0.1), ("b", 1, 0.3), ("a2", 2, 0.9)]
    df = pd.DataFrame(rows, columns=["run", "time", "accuracy"])
    df.to_csv(tmp_path / "long.csv", index=False)
    log = load_runs(tmp_path / "long.csv")
    assert log.runs == ["a2", "a10", "b"]
    np.testing.assert_array_equal(log.times, [1, 2])
    np.testing.assert_allclose(log.acc, [[0.1, 0.9], [0.2, NAN], [0.3, 0.4]])
    df.columns = ["seed", "epoch", "acc"]
    df.to_csv(tmp_path / "named.csv", index=False)
    log2 = load_runs(tmp_path / "named.csv", run="seed", time="epoch", accuracy="acc")
    np.testing.assert_allclose(log2.acc, log.acc)
    fp = first_passage(log.acc, 0.5, log.times)
    np.testing.assert_array_equal(fp.observed, [True, False, False])
    pd.concat([df, df.iloc[:1]]).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(ValueError, match="time"):
        load_runs(tmp_path / "dup.csv", run="seed", time="epoch", accuracy="acc")
    with pytest.raises(ValueError, match="path"):
        load_runs(tmp_path / "missing.csv")
    # a DataFrame in the same long layout (TensorBoard / W&B exports) reads the same
    frame = load_runs(df, run="seed", time="epoch", accuracy="acc")
    np.testing.assert_allclose(frame.acc, log.acc)
    assert frame.runs == log.runs
    with pytest.raises(ValueError, match="accuracy: none of .*the DataFrame"):
        load_runs(df, run="seed", time="epoch", accuracy="val_acc")


def test_qss_onset_reference_and_fallbacks():
    from fpt_core.stats.survivors import qss_onset

    rng = np.random.default_rng(3)
    # stationary ensemble: accuracies iid around 0.6; target 0.62 is reached by some runs
    acc = 0.6 + 0.01 * rng.standard_normal((200, 30))
    onset = qss_onset(acc, 0.62, alpha=0.01, min_survivors=10, fallback=7.0)
    n_surv = np.isfinite(survivors(acc, 0.62)).sum(axis=0)
    assert n_surv[onset.reference] >= 10
    assert onset.reference == len(n_surv) - 1 or n_surv[onset.reference + 1] < 10
    assert onset.source == "survivors in QSS" and onset.t_relax <= 5
    # a drifting ensemble has no QSS at all: the fallback is used and said so
    drift = 0.3 + 0.01 * np.arange(30) + 0.001 * rng.standard_normal((200, 30))
    onset = qss_onset(drift, 0.9, fallback=7.0)
    assert onset.t_relax == 7.0 and "fallback" in onset.source
    with pytest.raises(ValueError, match="min_survivors"):
        qss_onset(acc, 0.62, min_survivors=1, fallback=1.0)


def test_default_band_is_log_log_and_stays_inside_zero_one_for_small_ensembles() -> None:
    t = np.arange(1.0, 11.0)
    fp = FirstPassage(t, np.ones(10, bool), 10.0)
    lin, loglog = survival(fp, method="linear"), survival(fp)
    inner = slice(0, 9)  # S > 0
    assert (lin.low[inner] == 0).any()  # the linear band hits 0 with S still ≥ 0.2
    assert (loglog.low[inner] > 0).all() and (loglog.high[inner] < 1).all()
    np.testing.assert_array_equal(loglog.sf, lin.sf)
    # the log-log band is that of scipy's ecdf, method "log-log"
    ci = stats.ecdf(fp.to_censored_data()).sf.confidence_interval(0.95, method="log-log")
    np.testing.assert_allclose(loglog.low[inner], ci.low.probabilities[inner])
