"""fpt_core.book.heldout_prediction: the table of predicted against measured ⟨T_τ⟩."""

import numpy as np
import pandas as pd
import pytest

from fpt_core.book.heldout_prediction import (
    display_table,
    perturbing_periods,
    prediction_table,
    tau0_matrix,
    worst_error,
)
from fpt_core.stats.fpt import first_passage
from fpt_core.stats.logs import RunLog
from fpt_core.stats.restart import predict_mean_fpt

TIMES = np.arange(1.0, 41.0)


def _log(first_times):
    """Runs that reach 1.0 at the given epochs (0 before)."""
    acc = (TIMES[None, :] >= np.asarray(first_times, float)[:, None]).astype(float)
    return RunLog(TIMES, acc, [str(i) for i in range(len(first_times))])


def test_periods_not_shorter_than_the_runs_are_dropped():
    short = RunLog(TIMES, np.where(TIMES[None, :] <= 10, 1.0, np.nan).repeat(2, 0), ["a", "b"])
    kept = perturbing_periods({"p": {5: short, 10: short, 20: _log([3, 4])}})
    assert list(kept["p"]) == [5, 20]  # 10 is the last epoch with a score: never perturbs


def test_measured_means_predictions_and_errors():
    fp0 = first_passage(_log([4, 8, 12, 16, 20, 24]).acc, 1.0, TIMES)
    logs = {"p": {5: _log([3, 7, 9, 11]), 10: _log([4, 6, 8, 12]), 15: _log([2, 4, 6, 30])},
            "q": {10: _log([5, 5])}}  # fmt: skip
    t = prediction_table(fp0, logs, 5, 1.0, t_relax=10.0, n_resamples=19, rng=0)
    assert set(t["protocol"]) == {"p"}  # q has no ensemble at τ0 = 5
    single = t[t["form"] == "single"].set_index("tau")
    # no censoring: the measured mean is the sample mean of the first-passage times
    assert single["measured"].tolist() == pytest.approx([7.5, 7.5, 10.5])
    assert not single["measured_is_bound"].any() and (single["censored"] == 0).all()
    assert single.loc[5, "role"] == "tau0" and set(single.loc[[10, 15], "role"]) == {"held out"}
    assert single["in_qss"].tolist() == [False, True, True]
    direct = predict_mean_fpt(fp0, first_passage(logs["p"][5].acc, 1.0, TIMES), 5,
                              np.array([5.0, 10.0, 15.0]), n_resamples=19, rng=0)  # fmt: skip
    assert single["predicted"].tolist() == pytest.approx(direct.mean)
    assert single["rel_error"].tolist() == pytest.approx(
        single["predicted"] / single["measured"] - 1
    )
    assert (single["runs"] == 4).all()


def test_without_relaxation_time_nothing_is_in_qss():
    fp0 = first_passage(_log([4, 8, 12]).acc, 1.0, TIMES)
    t = prediction_table(fp0, {"p": {5: _log([6, 7]), 9: _log([3, 4])}}, 5, 1.0, t_relax=None,
                         n_resamples=9, rng=1)  # fmt: skip
    assert len(t) and not t["in_qss"].any()


def test_tau0_matrix_scores_each_source_period():
    fp0 = first_passage(_log([4, 8, 12, 16]).acc, 1.0, TIMES)
    logs = {"p": {5: _log([3, 7, 9]), 10: _log([4, 6, 8]), 30: _log([2, 3, 4])}}
    m = tau0_matrix(fp0, logs, 1.0)
    assert 30 not in set(m["tau0"])  # no run passes after its first perturbation at 30
    row = m[(m["tau0"] == 5) & (m["tau"] == 10)].iloc[0]
    pred = predict_mean_fpt(fp0, first_passage(logs["p"][5].acc, 1.0, TIMES), 5.0,
                            np.array([5.0, 10.0, 30.0]), n_resamples=1, rng=0).mean[1]  # fmt: skip
    assert row["rel_error"] == pytest.approx(pred / 6.0 - 1)


def test_worst_error_and_display_table():
    rows = pd.DataFrame({"protocol": ["a", "a", "b"], "rel_error": [0.3, -0.41, -0.05]})
    assert worst_error(rows) == "a -41.0%, b -5.0%"
    res = pd.DataFrame(dict(protocol=["p", "p"], tau=[2, 3], form=["single"] * 2,
                            role=["tau0", "held out"], predicted=[5.126, 6.0],
                            measured=[5.0, 6.5], measured_is_bound=[False, True],
                            rel_error=[0.02, -0.0769], consistent=[True, False], runs=[10, 10],
                            censored=[0.0, 0.25]))  # fmt: skip
    shown = display_table(res)
    assert shown["measured"].tolist() == ["5.00", "6.50 (≥)"]
    assert shown["rel_error"].tolist() == ["+2.0%", "-7.7%"]
    assert shown["censored"].tolist() == ["0.0%", "25.0%"] and shown["predicted"].iloc[0] == 5.13


def test_docstring_examples():
    import doctest

    import fpt_core.book.heldout_prediction as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
