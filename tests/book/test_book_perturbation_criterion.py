"""fpt_core.book.perturbation_criterion: the criterion's table and claim."""

import doctest
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from fpt_core.book import perturbation_criterion as pc
from fpt_core.stats.fpt import FirstPassage


def test_docstring_examples_run():
    res = doctest.testmod(pc, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_table_of_a_perturbation_that_finishes_every_survivor():
    # unperturbed: half at 1, half never (h = 20); perturbed once at τ0 = 2: survivors reach the
    # target 1 epoch later. At τ = 5: ⟨T_p⟩ = 1 < (E[min(T,20)] − E[min(T,5)])/S(5) = 15.
    t0 = np.array([1.0] * 10 + [20.0] * 10)
    fp0 = FirstPassage(t0, t0 < 20, 20.0)
    t1 = np.array([1.0] * 10 + [3.0] * 10)
    fp1 = FirstPassage(t1, np.ones(20, bool), 20.0)
    m0 = NS(mean=10.5, low=10.0, high=11.0)
    periods = [NS(tau=5.0, in_qss=True, measured=NS(mean=3.0, low=2.5, high=3.5))]
    crit = pc.criterion_table(fp0, fp1, 2.0, [5.0], periods, m0)
    r = crit.iloc[0]
    assert r["renewal_mean_tp"] == pytest.approx(1.0)
    assert r["residual_lower_bound"] == pytest.approx((10.5 - 3.0) / 0.5)
    assert r["criterion"] == "helps" and r["measured_effect"] == "faster"


def crit(effects, criterion="helps"):
    return pd.DataFrame([dict(tau=30.0 + i, renewal_mean_tp=5.0, residual_lower_bound=9.0,
                              criterion=criterion, measured=15.0, meas_low=14.0, meas_high=16.0,
                              measured_effect=e) for i, e in enumerate(effects)])  # fmt: skip


@pytest.mark.parametrize("effects, criterion, premise, verdict", [
    (["faster", "indistinguishable"], "helps", True, "reproduced"),
    (["faster", "slower"], "helps", True, "not reproduced"),
    (["indistinguishable"], "helps", True, "not tested at this preset"),
    (["faster"], "undecided (bound)", True, "not tested at this preset"),
    (["faster"], "helps", False, "not tested at this preset"),
])  # fmt: skip
def test_claim_verdicts(effects, criterion, premise, verdict):
    c = pc.criterion_claim(crit(effects, criterion), NS(mean=20.0, low=19.0, high=21.0), premise)
    assert c["verdict"] == verdict
    n = len(effects) if criterion == "helps" else 0
    assert f"at {effects.count('faster') if n else 0} of {n} periods" in c["measured"]
