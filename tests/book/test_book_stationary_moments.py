"""fpt_core.book.stationary_moments: theory table, moment comparison and agreement."""

from types import SimpleNamespace

import numpy as np
import pytest

from fpt_core.book import stationary_moments as sm

WR, WOR = "with replacement", "without replacement"
SIG = np.array([[4.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 9.0]])
CIRC = np.array([[0.0, 0.2, 0.0], [-0.2, 0.0, 0.3], [0.0, -0.3, 0.0]])


def _theory(mean=None):
    mean = np.zeros(3) if mean is None else mean
    return SimpleNamespace(sigma_chain=SIG, sigma=1.1 * SIG, circulation_chain=CIRC,
                           circulation=CIRC, mean=mean, irreversibility=0.05, ep_mean=0.02,
                           ep_mean_chain=0.021, ep_per_relaxation=30.0)  # fmt: skip


def _run(cov, circ, se=0.1, mean=None):
    mean = np.zeros(3) if mean is None else mean
    return SimpleNamespace(moments=SimpleNamespace(cov=cov, cov_se=np.full((3, 3), se),
                                                   circulation=circ,
                                                   circulation_se=np.full((3, 3), se), mean=mean))  # fmt: skip


def test_theory_table():
    t = sm.theory_table({WR: _theory(), WOR: _theory(np.array([0.0, 0.5, 0.0]))}, np.zeros(3), 20)
    assert t.loc[WR, "record"] == "step" and t.loc[WOR, "record"] == "epoch (20 steps)"
    assert t.loc[WOR, "⟨σ⟩ per step"] == pytest.approx(0.001)
    assert t.loc[WR, "√Σ_ii (median)"] == 2.0 and t.loc[WOR, "|mean − w*| / √Σ (max)"] == 0.5


def test_comparison_is_exact_when_the_measurement_is_the_theory():
    cmp = sm.moment_comparison({WR: _run(SIG, CIRC)}, {WR: _theory()})
    assert len(cmp) == 6 + 3  # Σ: upper triangle with diagonal; C: strictly upper
    assert (cmp["z"] == 0).all() and cmp.loc[0, "theory"] == 1.0  # Σ_11 / Σ_11
    c12 = cmp[(cmp["quantity"] == "C") & (cmp["i"] == 1) & (cmp["j"] == 2)].iloc[0]
    assert c12["theory"] == pytest.approx(0.2 / 2.0)  # scaled by √(Σ_11 Σ_22)
    chk = sm.comparison_checks(cmp)
    assert chk.loc[(WR, "Σ"), "rel. error (Frobenius)"] == 0
    assert chk.loc[(WR, "Σ"), "continuum rel. error"] == pytest.approx(0.1 / 1.1)


def test_comparison_measures_a_deviation():
    cmp = sm.moment_comparison({WR: _run(SIG, 1.5 * CIRC)}, {WR: _theory()})
    chk = sm.comparison_checks(cmp)
    assert chk.loc[(WR, "C"), "rel. error (Frobenius)"] == pytest.approx(0.5)
    assert chk.loc[(WR, "Σ"), "max |z|"] == 0 and chk.loc[(WR, "C"), "max |z|"] > 0
    shift = sm.mean_shift({WR: _run(SIG, CIRC, mean=np.array([0.0, 0.0, 1.5]))}, {WR: _theory()})
    assert shift == {WR: pytest.approx(0.5)}


def test_docstring_examples():
    import doctest

    import fpt_core.book.stationary_moments as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_permutation_errors_are_standard_errors_of_the_sets():
    splits = [
        SimpleNamespace(ep_mean_chain=m, irreversibility=0.1 * m) for m in (1.0, 2.0, 3.0, 6.0)
    ]
    ep_se, irr_se = sm.permutation_errors(splits)
    assert ep_se == pytest.approx(np.std([1, 2, 3, 6], ddof=1) / 2)
    assert irr_se == pytest.approx(0.1 * ep_se) and isinstance(ep_se, float)
