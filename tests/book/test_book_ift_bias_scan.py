"""fpt_core.book.ift_bias_scan: toy table, learning-rate scan table and the fits of ε ∝ η^s."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fpt_core.book import ift_bias_scan as bs
from fpt_core.langevin import ift_bias


def test_toy_table():
    t = bs.toy_table([{"ε predicted": 0.01, "SE(pred.)": 0.0003, "ε simulated": 0.0096,
                       "SE(sim.)": 0.0004}])  # fmt: skip
    assert t["z"].iloc[0] == pytest.approx(-0.8) and t["sim./pred."].iloc[0] == pytest.approx(0.96)


def test_scan_table_columns():
    e1 = dict(count=400, mean=0.05, ift=1.002, ift_se=5e-4, dft_slope=0.97, dft_slope_se=0.01)
    runs = {
        v: (SimpleNamespace(ep=[e1]), SimpleNamespace(ep_mean_chain=0.04)) for v in (1e-6, 2e-6)
    }
    pred = {v: SimpleNamespace(eps=0.001, even_se=0.0, skew=0.0004) for v in runs}
    s = bs.scan_table(runs, pred, 2e4)
    assert s["ηλ_max"].tolist() == pytest.approx([0.02, 0.04])
    assert s["ε measured"].iloc[0] == pytest.approx(0.002) and s["z(ε)"].iloc[0] == pytest.approx(2)
    assert s["⟨σ⟩ / theory (chain)"].iloc[0] == pytest.approx(1.25)
    assert s["chain-steps to resolve"].iloc[0] == pytest.approx(9 * 1e-4 / 1e-6)
    assert s["DFT slope predicted"].iloc[0] == pytest.approx(
        ift_bias.dft_slope_from_bias(0.05, 0.001)
    )


def test_premise_fits_select_resolved_points_within_the_premise():
    eta = np.array([1e-4, 2e-4, 4e-4, 4e-3, 1e-5])
    eps = 1e6 * eta**2
    se = np.where(eta < 5e-5, eps, eps / 10)  # the smallest η is not resolved
    scan = pd.DataFrame({"η": eta, "ηλ_max": 100 * eta, "ε measured": eps, "SE": se,
                         "ε predicted": eps, "SE(pred.)": eps / 10})  # fmt: skip
    f = bs.premise_fits(scan)
    assert sorted(f["resolved"]["η"]) == [1e-4, 2e-4, 4e-4]  # ηλ_max = 0.4 is outside
    assert len(f["resolved_all"]) == 4
    assert f["fit"]["slope"] == pytest.approx(2.0) and f["fit_pred"]["slope"] == pytest.approx(2.0)
    assert bs.premise_fits(scan.iloc[[0, 3, 4]])["fit"] is None  # one point within the premise


PARAMS = dict(lr=1e-6, paper_lr=1e-7, scan_lrs=[2e-6, 1e-5], n_chains=64, toy_chains=64,
              surrogate_chains=64, n_groups=8, burn_relax=1.5, measure_relax=3.0,
              paper_steps=4000, surrogate_steps=10, n_mc=8)  # fmt: skip


@pytest.mark.parametrize(
    "bad, needle",
    [({"lr": 0.0}, "must be finite and > 0"), ({"scan_lrs": [np.inf]}, "must be finite and > 0"),
     ({"toy_chains": 60}, "must divide"), ({"measure_relax": 0.0}, "must be > 0"),
     ({"paper_steps": -1}, "paper_steps must be"), ({"n_mc": 1}, "n_mc ≥ 2")],
)  # fmt: skip
def test_check_parameters_names_the_bad_value(bad, needle):
    bs.check_parameters(PARAMS)
    with pytest.raises(ValueError, match=needle):
        bs.check_parameters(PARAMS | bad)


def test_scan_learning_rates_and_lengths():
    assert bs.scan_learning_rates(PARAMS) == [1e-7, 1e-6, 2e-6, 1e-5]
    assert bs.scan_learning_rates(PARAMS | {"paper_steps": 0}) == [1e-6, 2e-6, 1e-5]
    lam_min = 10.0  # 1/(η λ_min) = 1e5 steps at η = 1e-6
    assert bs.scan_lengths(1e-6, lam_min, PARAMS) == (150000, 300000)
    assert bs.scan_lengths(1e-5, lam_min, PARAMS) == (15000, 30000)
    assert bs.scan_lengths(1e-7, lam_min, PARAMS) == (2000, 4000)  # the paper's η: fixed lengths
    # the paper's η as the main learning rate is not a short scan point
    main = PARAMS | {"lr": 1e-7, "paper_lr": 1e-7}
    assert bs.scan_lengths(1e-7, lam_min, main) == (1500000, 3000000)
    assert bs.scan_lengths(1.0, 1e9, PARAMS) == (2, 2)  # at least two of each


def test_with_replacement_theory_rescales_with_the_learning_rate():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(20, 2))
    grads -= grads.mean(0)
    hessian = np.array([[2.0, 0.3], [0.3, 1.0]])
    m1 = -0.01 * hessian
    cum = ift_bias.IncrementCumulants(m1, 0.001 * np.ones((2, 2, 2)), 1e-4 * np.eye(2),
                                      np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))  # fmt: skip
    th = bs.WithReplacementTheory(grads, hessian, np.ones(2), 5, 0.01, cum)
    n_v, cum_v, (S, mu1, M3) = th.at(0.02)
    assert np.allclose(cum_v.m1, 2 * m1) and np.allclose(cum_v.V0, 4e-4 * np.eye(2))
    from fpt_core.langevin import noneq

    direct = noneq.linear_ness(
        0.02 * hessian, noneq.minibatch_diffusion(grads, 0.02, 5), np.ones(2)
    )
    assert np.allclose(n_v.sigma, direct.sigma) and np.allclose(n_v.mean, np.ones(2))
    S_direct, mu_direct, _ = ift_bias.stationary_moments(cum.scaled(2.0))
    assert np.allclose(S, S_direct) and np.allclose(mu1, mu_direct) and M3.shape == (2, 2, 2)


def test_toy_check_is_seeded_and_matches_the_prediction():
    kw = dict(n_mc=256, n_chains=400, n_groups=8, seed=0, sim_seed=3)
    t = bs.toy_check([0.04], **kw)
    assert t.equals(bs.toy_check([0.04], **kw))  # reproducible
    row = t.iloc[0]
    assert row["η (toy)"] == 0.04 and row["ε predicted"] == pytest.approx(
        row["even part"] + row["skew part"]
    )
    assert abs(row["z"]) < 4 and 0.5 < row["sim./pred."] < 1.5


def test_centre_shift_and_gaussian_dft_slope():
    n = SimpleNamespace(functional=np.array([[1.0, 0.0], [0.0, 2.0]]), D=np.diag([1.0, 0.5]))
    assert bs.centre_shift(n, np.array([1.0, 1.0])) == pytest.approx(-(1.0 + 4 * 0.5))
    rows = pd.DataFrame({"⟨σ⟩": [0.02, 0.04], "⟨e^−σ⟩": [1.001, 1.0]})
    assert bs.gaussian_dft_slope(rows) == pytest.approx(0.02 / (0.02 + np.log(1.001)))
    assert np.isnan(bs.gaussian_dft_slope(rows.assign(**{"⟨e^−σ⟩": [0.0, 1.0]})))


def test_docstring_examples():
    import doctest

    import fpt_core.book.ift_bias_scan as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_dft_slope_test_against_scipy():
    from scipy import stats

    r = pd.DataFrame(
        {"DFT slope": [0.9, 0.7, 0.95], "DFT slope predicted": [0.92, 0.75, 0.95],
         "z(slope)": [-0.5, -2.0, 0.0]}
    )  # fmt: skip
    t = bs.dft_slope_test(r)
    assert t["share"].tolist() == pytest.approx([80.0, 250.0 / 3, 100.0])
    assert t["chi2"] == pytest.approx(4.25)
    assert t["p"] == pytest.approx(stats.chi2.sf(4.25, 3))
    empty = bs.dft_slope_test(r.iloc[:0])
    assert empty["chi2"] == 0.0 and np.isnan(empty["p"])
