"""fpt_core.book.period_optimum: the best measured period, its speedup, ties and wording."""

import numpy as np
import pandas as pd
import pytest

from fpt_core.book.period_optimum import (
    best_period_table,
    best_period_text,
    best_scanned,
    optimum_vs_relaxation,
    scanned_text,
)
from fpt_core.stats.fpt import first_passage, mean_fpt
from fpt_core.stats.logs import RunLog

TIMES = np.arange(1.0, 61.0)


def _log(first_times):
    acc = (TIMES[None, :] >= np.asarray(first_times, float)[:, None]).astype(float)
    return RunLog(TIMES, acc, [])


def test_best_period_speedup_and_ties():
    m0 = mean_fpt(first_passage(_log([20, 30, 40]).acc, 1.0, TIMES), n_resamples=19, rng=0)
    logs = {"p": {1: _log([12, 14, 16]), 2: _log([5, 6, 7]), 3: _log([5, 6, 8]),
                  9: _log([20, 22, 24])}}  # fmt: skip
    pred = pd.DataFrame({"protocol": ["p"] * 4, "tau": [1, 2, 3, 9], "predicted": [9, 8, 7, 9]})
    row = best_period_table(m0, logs, 1.0, pred, n_resamples=19, rng=0).iloc[0]
    assert row["tau_star"] == 2 and row["tau_star_interior"]
    assert row["mean_at_tau_star"] == pytest.approx(6.0)
    assert row["speedup"] == pytest.approx(30.0 / 6.0) and row["speedup_is"] == "estimate"
    assert row["speedup_low"] <= row["speedup"] <= row["speedup_high"]
    assert row["indistinguishable"] == [3] and row["predicted_tau_star"] == 3
    # the smallest mean at the grid's edge is not interior
    edge = best_period_table(m0, {"p": {2: logs["p"][2], 9: logs["p"][9]}}, 1.0, pred,
                             n_resamples=19, rng=0).iloc[0]  # fmt: skip
    assert edge["tau_star"] == 2 and not edge["tau_star_interior"]


def test_censored_unperturbed_runs_make_the_speedup_a_lower_bound():
    m0 = mean_fpt(first_passage(_log([20, 99, 99]).acc, 1.0, TIMES), n_resamples=9, rng=0)
    pred = pd.DataFrame({"protocol": [], "tau": [], "predicted": []})
    row = best_period_table(m0, {"p": {2: _log([5, 7])}}, 1.0, pred, n_resamples=9, rng=0).iloc[0]
    assert row["speedup_is"] == "lower bound" and row["predicted_tau_star"] is None


def test_best_scanned_and_its_sentence():
    b = best_scanned({1: np.array([9.0, 9.2]), 2: np.array([2.0, 4.0]), 5: np.array([3.0, 5.0])})
    assert b["k_star"] == 2 and b["mean"] == pytest.approx(3.0)
    assert b["half_width"] == pytest.approx(1.96) and b["ties"] == [5]
    assert b["where"] == "interior to"
    assert scanned_text(b).startswith("Smallest mean first-passage time at K = 2, 3.00 ± 1.96, ")
    assert "K = 5 is indistinguishable" in scanned_text(b)
    alone = best_scanned({1: np.array([1.0, 1.2]), 2: np.array([9.0, 9.2])})
    assert alone["where"] == "on the edge of" and alone["ties"] == []
    assert scanned_text(alone).endswith("every other K is slower beyond the 95 % intervals.")


def test_wording_of_the_best_period():
    opt = pd.DataFrame([dict(protocol="p", tau_star=4, tau_star_interior=False,
                             mean_at_tau_star=11.56, speedup=6.656, speedup_is="estimate",
                             indistinguishable=[3], predicted_tau_star=1)])  # fmt: skip
    assert best_period_text(opt) == (
        "p: τ* = 4 (edge of the grid, ⟨T⟩ = 11.6, speedup 6.66, indistinguishable from τ = [3]; "
        "the prediction from τ0 puts it at τ = 1)"
    )
    assert optimum_vs_relaxation(opt, 16.0).startswith("The optimum lies below")
    assert optimum_vs_relaxation(opt, None).startswith("The optimum does not lie below")


def test_docstring_examples():
    import doctest

    import fpt_core.book.period_optimum as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
