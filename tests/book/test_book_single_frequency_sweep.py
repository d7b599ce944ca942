"""fpt_core.book.single_frequency_sweep: one row per target, in the given order, with the
test's own numbers; one point per period and target in the chart."""

import doctest
from dataclasses import replace

import numpy as np
import pytest

from fpt_core.book import single_frequency_sweep
from fpt_core.book.single_frequency_sweep import sweep_error_chart, sweep_table
from fpt_core.stats.single_frequency import single_frequency_test


@pytest.fixture(scope="module")
def sweep():
    rng = np.random.default_rng(0)
    times = np.arange(0.0, 41)

    def acc(n):
        return np.minimum(0.5 + 0.02 * rng.standard_normal((n, times.size)), times / 20)

    a0, once, periodic = acc(30), acc(30), {10.0: acc(30), 15.0: acc(30)}
    return {a: single_frequency_test(a0, once, periodic, times, target=a, tau0=10.0,
                                     n_resamples=19) for a in (0.52, 0.53)}  # fmt: skip


def test_docstring_examples():
    res = doctest.testmod(single_frequency_sweep, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_table_rows(sweep):
    t = sweep_table(sweep)
    assert t["target"].tolist() == [0.52, 0.53]
    for (_, row), r in zip(t.iterrows(), sweep.values(), strict=True):
        assert row["unperturbed censored"] == r.unperturbed.n_censored / 30
        assert row["t_relax"] == r.t_relax and row["tail p"] == r.tail.pvalue
        assert row["T_p log-rank p"] == r.tp_logrank.pvalue and row["verdict"] == r.verdict
        errs = [p.agreement.relative_error for p in r.periods if p.held_out]
        assert row["errors (held out)"] == ", ".join(f"{e:+.1%}" for e in errs)
    # censoring can only grow with the target (the same runs, a higher bar)
    assert t["unperturbed censored"].is_monotonic_increasing


def test_table_follows_the_premise(sweep):
    a = next(iter(sweep))
    t = sweep_table({a: replace(sweep[a], reasons=["x"])})
    assert not t["premise"].iloc[0] and t["verdict"].iloc[0] == "not tested at this preset"


def test_chart_one_point_per_period_and_target(sweep):
    data = sweep_error_chart(sweep).data
    assert len(data) == 4 and sorted(set(data["target"])) == ["0.52", "0.53"]
