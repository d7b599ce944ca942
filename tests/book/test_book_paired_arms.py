"""fpt_core.book.paired_arms: first passage and plateau accuracy of two arms paired by seed."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from fpt_core.book.paired_arms import (
    arms_words,
    first_passage_by_arm,
    fpt_words,
    plateau_comparison,
    plateau_histogram,
    plateau_words,
    survival_chart,
)

T = np.arange(1.0, 6.0)
# runs reach 0.5 at epochs 2, 3 and never (censored at 5)
A = np.array([[0.1, 0.6, 0.6, 0.7, 0.7], [0.1, 0.2, 0.5, 0.6, 0.7], [0.1, 0.2, 0.3, 0.3, 0.4]])


def test_first_passage_counts_censored_runs_and_starts_survival_at_one():
    r = first_passage_by_arm({"A": (T, A), "B": (T, A + 0.3)}, 0.5, "A", "B")
    a, b = r["fpt"]["A"], r["fpt"]["B"]
    assert (a["n_reached"], a["n"], a["mean_fpt_estimable"]) == (2, 3, False)
    assert (b["n_reached"], b["mean_fpt"], b["mean_fpt_estimable"]) == (
        3,
        2.0,
        True,
    )  # all at epoch 2
    s = r["survival"]
    assert s.groupby("arm")["S"].first().tolist() == [1.0, 1.0]
    assert s[s["arm"] == "B"]["S"].iloc[-1] == 0.0
    assert 0 < r["logrank_pvalue"] < 1
    w = fpt_words(r, 0.5)
    assert "**A**: 2/3 runs reached 0.5; restricted mean FPT ≥" in w
    assert w.endswith("at the 5 % level).")
    assert survival_chart(s, 0.5).to_dict()["title"].endswith("accuracy 0.5")


def test_plateau_comparison_is_the_paired_t_interval():
    rng = np.random.default_rng(1)
    base = rng.normal(0.7, 0.02, size=(10, 4))
    treated = base + rng.normal(0.01, 0.005, size=(10, 4))
    c = plateau_comparison({"SGD": (T[:4], base), "TB": (T[:4], treated)}, 2, 0.005, "SGD", "TB")
    d = treated[:, -2:].mean(1) - base[:, -2:].mean(1)
    hw = stats.t.ppf(0.975, 9) * d.std(ddof=1) / np.sqrt(10)
    assert c["diff"].mean == pytest.approx(d.mean())
    assert c["diff"].high - c["diff"].low == pytest.approx(2 * hw)
    assert c["stats"]["SGD"]["mean"] == pytest.approx(base[:, -2:].mean())
    assert c["verdict"] == "reproduced" and c["powered"]
    w = plateau_words(c, 0.005, 2, ("SGD", "TB"), "TB improves")
    assert w.endswith('"TB improves": *reproduced* — the interval lies above 0.')
    assert "within the 0.005" in w
    assert plateau_histogram(c, "SGD", "TB").to_dict()["mark"]["type"] == "bar"


def test_plateau_words_explain_an_undecided_interval():
    rng = np.random.default_rng(2)
    base = rng.normal(0.7, 0.02, size=(5, 3))
    treated = base + rng.normal(0.0, 0.03, size=(5, 3))
    c = plateau_comparison({"A": (T[:3], base), "B": (T[:3], treated)}, 1, 0.005, "A", "B")
    assert c["verdict"] == "not tested at this preset" and not c["powered"]
    w = plateau_words(c, 0.005, 1, ("A", "B"), "B helps")
    assert "cannot decide between no effect and an effect of that size" in w
    assert "**above** the 0.005" in w


def test_arms_words_mention_retrained_seeds_only_when_there_are_some():
    e = SimpleNamespace(n_runs=4, device="cpu", n_trained=0, n_reused=4, n_diverged=1)
    w = arms_words({"A": e, "B": e}, {"A": [0, 1], "B": []})
    assert w == ("**A**: 4 runs on `cpu`, 0 trained, 4 reused from the store, 1 diverged; seeds "
                 "[0, 1] retrained for their final weights. **B**: 4 runs on `cpu`, 0 trained, 4 "
                 "reused from the store, 1 diverged.")  # fmt: skip


def test_check_pairing_needs_the_same_seeds_in_the_same_order():
    from fpt_core.book.paired_arms import check_pairing

    arm = lambda seeds: SimpleNamespace(records=[{"seed": s} for s in seeds])  # noqa: E731
    check_pairing({"SGD": arm([0, 1, 2]), "TempBalance": arm([0, 1, 2])})
    for other in ([0, 2, 1], [0, 1]):
        with pytest.raises(RuntimeError, match="same seeds in the same order"):
            check_pairing({"SGD": arm([0, 1, 2]), "TempBalance": arm(other)})
