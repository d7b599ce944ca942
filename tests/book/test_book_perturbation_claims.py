"""fpt_core.book.perturbation_claims: the page's claims, in order."""

import doctest
from types import SimpleNamespace as NS

import pandas as pd

from fpt_core.book import perturbation_claims as pcl
from fpt_core.stats.optimum import MeasuredOptimum


def test_docstring_examples_run():
    res = doctest.testmod(pcl, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_four_claims_with_a_reset_check():
    base = dict(speedup=1.2, tau_star=3.0, tau_low=2.0, tau_high=4.0, tau_star_interior=True,
                edge=None, grid_low=1.0, grid_high=30.0, speedup_low=1.1, speedup_high=1.3)  # fmt: skip
    table = pd.DataFrame([{"protocol": "shrink_perturb", **base}, {"protocol": "reset", **base}])
    crit = pd.DataFrame([dict(tau=30.0, renewal_mean_tp=5.0, residual_lower_bound=9.0,
                              criterion="helps", measured=25.0, meas_low=24.0, meas_high=26.0,
                              measured_effect="slower")])  # fmt: skip
    check = dict(tau=40.0, predicted=10.0, pred_low=9.0, pred_high=11.0, measured=10.5,
                 meas_low=9.5, meas_high=11.5, measured_censored=0.2, rel_error=-0.047,
                 consistent=True, resolution=0.1)  # fmt: skip
    bf = pd.DataFrame({"tau": [10.0, 30.0]})
    cs = pcl.perturbation_claims(table, bf, MeasuredOptimum(10.0, [], [30.0], False), 60.0, crit,
                                 NS(mean=20.0, low=19.0, high=21.0), True, check)  # fmt: skip
    assert [c["verdict"] for c in cs] == ["reproduced", "not reproduced",
                                          "not tested at this preset", "reproduced"]  # fmt: skip
    assert cs[2]["claim"].startswith("A full reset to a fresh start")
