"""fpt_core.book.periodic_brute_force: restricted means per period, texts and the claim."""

import doctest
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from fpt_core.book import periodic_brute_force as pbf
from fpt_core.stats.optimum import MeasuredOptimum


def test_docstring_examples_run():
    res = doctest.testmod(pbf, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def reach(first, times):
    """Accuracy 1 from each run's first-passage epoch on, 0 before."""
    return (times[None, :] >= np.asarray(first, float)[:, None]).astype(float)


def test_restricted_means_at_a_common_horizon():
    times = np.arange(1.0, 21.0)  # long ensembles run to 20, cut here at 10
    short = {2.0: reach([3.0] * 20, times[:10])}
    long = {5: reach([2.0] * 20, times), 8: reach([9.0] * 10 + [15.0] * 10, times)}
    bf, opt = pbf.brute_force_periods(short, long, times, 0.5, 10.0, n_resamples=20)
    assert bf["tau"].tolist() == [2.0, 5.0, 8.0]
    assert bf["source"].tolist() == ["short", "notebook 02", "notebook 02"]
    assert bf["measured"].tolist() == pytest.approx([3.0, 2.0, 9.5])  # 15 is censored at 10
    assert bf["censored"].tolist() == [0.0, 0.0, 0.5] and bf["runs"].tolist() == [20, 20, 20]
    assert opt.tau == 5.0 and opt.above_left == [2.0] and opt.above_right == [8.0]
    assert opt.interior


def test_texts_and_claim():
    bf = pd.DataFrame({"tau": [10.0, 30.0, 45.0, 60.0]})
    opt = MeasuredOptimum(30.0, [10.0], [60.0], True)
    t = pbf.brute_force_texts(bf, opt, NS(mean=24.861, low=23.46, high=26.3), 60.0)
    assert t["bf_interior"] == "an interior optimum" and t["bf_tied"] == "45"
    assert t["bf_unperturbed"] == "24.86 (23.46–26.30)" and t["bf_horizon"] == "60"
    row = dict(speedup=1.2, tau_star=40.0, tau_low=35.0, tau_high=45.0, tau_star_interior=False,
               edge="lower", grid_low=40.0, grid_high=90.0, speedup_low=1.1, speedup_high=1.3,
               rise_right=3.0, rise_right_low=1.5)  # fmt: skip
    c = pbf.optimal_period_claim(bf, MeasuredOptimum(30.0, [10.0], [], False), 60.0, row, True)
    assert c["verdict"] == "not tested at this preset"
    assert (
        "rises from τ = 40 (the relaxation time) to 90 by 3.0 epochs (lower end 1.5)"
        in (c["measured"])
    )
    interior = {**row, "tau_star_interior": True, "edge": None}
    c = pbf.optimal_period_claim(bf, MeasuredOptimum(30.0, [10.0], [], False), 60.0, interior,
                                 True)  # fmt: skip
    assert c["verdict"] == "reproduced" and "rises" not in c["measured"]
    c = pbf.optimal_period_claim(bf, MeasuredOptimum(60.0, [10.0], [], False), 60.0, row, True)
    assert c["verdict"] == "not reproduced"
