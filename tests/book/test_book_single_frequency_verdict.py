"""fpt_core.book.single_frequency_verdict: the premise and verdict in words, the claims rows and
the summary fields follow from the test's own numbers."""

import doctest
from dataclasses import replace

import numpy as np
import pytest

from fpt_core.book import single_frequency_verdict as words
from fpt_core.stats.fpt import MeanFPT
from fpt_core.stats.single_frequency import single_frequency_test

NAN = float("nan")


@pytest.fixture(scope="module")
def sf():
    rng = np.random.default_rng(0)
    times = np.arange(0.0, 41)

    def acc(n):
        return np.minimum(0.5 + 0.02 * rng.standard_normal((n, times.size)), times / 20)

    periodic = {10.0: acc(40), 15.0: acc(40), 20.0: acc(40)}
    return single_frequency_test(acc(40), acc(40), periodic, times, target=0.52, tau0=10.0,
                                 n_resamples=19)  # fmt: skip


def mean(estimable, cv=NAN, cv_low=NAN, cv_high=NAN, bound=0.9, bound_low=0.8, censored=0):
    return MeanFPT(20.0, 19.0, 21.0, estimable, NAN, cv, cv_low, cv_high, bound, bound_low, 100.0,
                   200, censored, 0.95)  # fmt: skip


def test_docstring_examples():
    res = doctest.testmod(words, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


@pytest.mark.parametrize(
    "m, text, verdict",
    [
        (mean(True, 1.5, 1.2, 1.8), "CV = 1.50 (95 % CI 1.20–1.80)", "reproduced"),
        (mean(True, 0.5, 0.4, 0.6), "CV = 0.50 (95 % CI 0.40–0.60)", "not reproduced"),
        (mean(True, 1.0, 0.8, 1.2), "CV = 1.00 (95 % CI 0.80–1.20)", "not tested at this preset"),
        (mean(False, censored=50), "25.0% of runs censored: CV ≥ 0.90 (95 % lower end 0.80)",
         "not tested at this preset"),
        (mean(False, bound=1.4, bound_low=1.1, censored=2), "1.0% of runs censored: CV ≥ 1.40 "
         "(95 % lower end 1.10)", "reproduced"),
    ],
)  # fmt: skip
def test_cv_claim(m, text, verdict):
    assert words.cv_claim(m) == (text, verdict)


def test_premise_phrases_follow_the_test(sf):
    p = words.premise_phrases(sf)
    m0 = sf.unperturbed
    assert p["n_reached"] == str(m0.n - m0.n_censored) and p["n_unperturbed"] == "40"
    assert p["target"] == "0.52" and p["horizon"] == "40" and p["tp_dof"] == "3"
    assert p["mean_T"] == (f"= {m0.mean:.1f}" if m0.estimable else
                           f"≥ {m0.mean:.1f} (restricted mean)")  # fmt: skip
    held = replace(sf, reasons=[])
    assert words.premise_phrases(held)["premise_word"] == "holds"
    assert (
        words.premise_phrases(held)["premise_detail"] == f"QSS from epoch {sf.t_relax:g} ≤ τ0 = 10"
    )
    failed = replace(sf, reasons=["reason one", "reason two"])
    assert words.premise_phrases(failed)["premise_word"] == "fails"
    assert words.premise_phrases(failed)["premise_detail"] == "reason one; reason two"


def test_verdict_phrases_and_claims(sf):
    failed = replace(sf, reasons=["x"])
    held = replace(sf, reasons=[])
    v = words.verdict_phrases(held, {0.5: failed, 0.52: held})
    assert v["n_held_out"] == "2" and v["verdict"] == held.verdict != "not tested at this preset"
    n_ok = sum(p.agreement.consistent for p in held.periods if p.held_out)
    assert v["n_consistent"] == str(n_ok)
    assert v["sweep_verdicts"] == f"a* = 0.5: not tested at this preset; a* = 0.52: {held.verdict}"
    assert v["sweep_premise"] == "The premise fails at a* = 0.5."
    assert words.verdict_phrases(held, {0.52: held})["sweep_premise"].startswith(
        "The premise holds"
    )
    rows = words.single_frequency_claims(failed, alpha=0.05)
    assert [r["verdict"] for r in rows][0] == "not tested at this preset"
    assert rows[0]["measured"].startswith("premise fails; held-out relative errors ")
    assert rows[0]["measured"].endswith(f"at τ = 15, 20 ({n_ok} of 2 within the 95 % interval)")
    lr = sf.tp_logrank
    assert rows[1]["verdict"] == ("reproduced" if lr.pvalue >= 0.05 else "not reproduced")
    assert rows[2]["measured"] == words.cv_claim(sf.unperturbed)[0]


def test_summary_fields(sf):
    s = words.summary_fields(sf)
    assert s["premise"] == sf.premise and s["verdict"] == sf.verdict
    assert s["perturbed_censored_max"] == max(p.censored for p in sf.periods)
    assert [r["tau"] for r in s["per_tau"]] == [10.0, 15.0, 20.0]
    assert s["unperturbed_censored"] == sf.unperturbed.n_censored / 40
    assert (s["unperturbed_cv"] is None) == (not sf.unperturbed.estimable)
