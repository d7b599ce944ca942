"""fpt_core.book.entropy_tables: entropy-production rows, σ distributions, surrogate rows."""

from types import SimpleNamespace

import numpy as np
import pytest

from fpt_core.book import entropy_tables as et


def _e(k):
    return dict(window=k, mean=0.02 * k, mean_se=0.001, var=0.04 * k, ift=1.01**k, ift_se=0.002,
                dft_slope=0.6, dft_slope_se=0.02, count=1000)  # fmt: skip


def test_entropy_table_scales_theory_with_the_window():
    th = SimpleNamespace(ep_mean=0.021, ep_mean_chain=0.022)
    runs = {
        "with replacement": SimpleNamespace(ep=[_e(1), _e(3)]),
        "without replacement": SimpleNamespace(ep=[_e(2)]),
    }
    t = et.entropy_table(runs, {p: th for p in runs}, 0.004).set_index(["policy", "k"])
    assert t.loc[("with replacement", 3), "theory"] == pytest.approx(0.063)
    assert t.loc[("with replacement", 3), "SE(theory)"] == 0.0
    assert t.loc[("without replacement", 2), "SE(theory)"] == pytest.approx(0.008)
    assert t.loc[("without replacement", 2), "Var/2"] == pytest.approx(0.04)


def test_sigma_distributions_normalise_the_density():
    edges = np.linspace(-2.0, 2.0, 5)
    ent = SimpleNamespace(windows=[1, 2], hist={1: np.array([[1, 2, 3, 4]]), 2: np.ones((2, 4))},
                          edges={1: edges, 2: edges},
                          dft_points=lambda k: (np.array([0.5]), np.array([0.5 * k]), np.array([0.1])))  # fmt: skip
    hist, dft = et.sigma_distributions({"p": SimpleNamespace(entropy=ent)})
    for k, g in hist.groupby("k"):
        assert (g["P(σ)"] * 1.0).sum() == pytest.approx(1.0), k  # bins of width 1
    assert hist["σ"].tolist()[:4] == [-1.5, -0.5, 0.5, 1.5]
    assert dft["ln P(σ)/P(−σ)"].tolist() == [0.5, 1.0] and dft["hi"].tolist() == [0.7, 1.2]


def test_surrogate_rows():
    out = {"exact": [_e(1), _e(2)], "continuum": [_e(1)]}
    rows = et.surrogate_rows(out, "p", 1e-5, np.array([[0.5, 1.0], [0.0, 0.25]]))
    assert [(r["functional"], r["k"]) for r in rows] == [
        ("exact", 1),
        ("exact", 2),
        ("continuum", 1),
    ]
    assert {r["max |eig K| per record"] for r in rows} == {0.5}


def test_surrogate_table_runs_every_case_and_keeps_the_ift():
    K = 0.05 * np.array([[1.0, 0.5], [-0.5, 1.0]])
    D = 0.01 * np.eye(2)
    from fpt_core.langevin.noneq import linear_ness

    n_ = linear_ness(K, D)
    cases = {("p", 1e-3): n_, ("q", 2e-3): n_}
    t = et.surrogate_table(cases, n_chains=64, steps=200, n_groups=8, seed=1)
    assert sorted(set(zip(t["policy"], t["η"], strict=True))) == [("p", 1e-3), ("q", 2e-3)]
    assert set(t["k"]) == {1, 2, 3} and set(t["functional"]) == {"exact", "continuum"}
    assert np.allclose(t["z(IFT)"], (t["⟨e^−σ⟩"] - 1) / t["SE(IFT)"])
    assert (t["z(IFT)"].abs() < 5).all()  # both functionals satisfy the IFT on the surrogate
    # the same seed for every case: identical rows for identical theories
    p_rows = t[t["policy"] == "p"].drop(columns=["policy", "η"]).reset_index(drop=True)
    q_rows = t[t["policy"] == "q"].drop(columns=["policy", "η"]).reset_index(drop=True)
    assert p_rows.equals(q_rows)


def test_docstring_examples():
    import doctest

    import fpt_core.book.entropy_tables as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
