"""fpt_core.book.qss_evidence: the QSS is reached only when all three checks pass, and each
check is worded with its own numbers."""

import doctest
from dataclasses import replace

import numpy as np
import pytest

from fpt_core.book import qss_evidence
from fpt_core.book.qss_evidence import (
    ks_pvalue_chart,
    qss_verdict,
    reference_text,
    tail_share_chart,
)
from fpt_core.stats.qss import KSRelaxation, RelaxationByReference, TailStationarity

KS = KSRelaxation(np.arange(1.0, 5), np.zeros(4), np.array([1e-5, 0.01, 0.2, 1.0]), 4.0, 0.05,
                  3.0, np.full(4, 10))  # fmt: skip
REFS = RelaxationByReference({2.0: 3.0, 4.0: 3.0}, 3.0, 0.0, 0.2)
TAIL = TailStationarity(0.6, np.array([[1.0, 1], [2, 2], [3, 3], [4, 4]]),
                        np.array([0.25, 0.25, 0.3, 0.2]), np.full(4, 0.01), -0.012, 0.004, 0.3,
                        0.05, 10)  # fmt: skip
PLATEAU = np.array([[0.5, 0.6], [0.7, 0.8]])


def verdict(ks=KS, refs=REFS, tail=TAIL):
    return qss_verdict(ks, refs, tail, tail_quantile=0.8, t_start=3.0, plateau=PLATEAU,
                       plateau_window="epochs ≥ 3")  # fmt: skip


def test_docstring_examples():
    res = doctest.testmod(qss_evidence, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_reached_when_all_three_checks_pass():
    v = verdict()
    assert v.reached and v.claim["verdict"] == "reproduced"
    assert v.phrases["qss_verdict"] == "QSS reached at this preset"
    assert v.phrases["ks_outcome"] == "every p-value from epoch 3 on is at least α = 0.05"
    assert v.phrases["tail_outcome"] == "no drift detected at α = 0.05"
    assert v.phrases["ref_outcome"].startswith("within ±0% of their median (allowed ±20%)")


@pytest.mark.parametrize(
    "change, key, text",
    [
        (dict(ks=replace(KS, t_relax=None)), "ks_outcome", "below α = 0.05 at the last"),
        (dict(refs=RelaxationByReference({2.0: 2.0, 4.0: 4.0}, 3.0, 1 / 3, 0.2)), "ref_outcome",
         "up to ±33% from their median (allowed ±20%): the relaxation time depends"),
        (dict(refs=RelaxationByReference({2.0: None, 4.0: 3.0}, 3.0, 0.0, 0.2)), "ref_outcome",
         "not found against every reference"),
        (dict(tail=replace(TAIL, pvalue=0.01)), "tail_outcome", "the upper tail drifts"),
    ],
)  # fmt: skip
def test_any_failed_check_means_not_reached(change, key, text):
    v = verdict(**change)
    assert not v.reached and v.claim["verdict"] == "not reproduced"
    assert v.phrases["qss_verdict"] == "QSS not reached at this preset"
    assert text in v.phrases[key]


def test_numbers_in_the_phrases_and_the_claim():
    p = verdict().phrases
    assert p["plateau"] == "0.6500 ± 0.1118"  # mean and population sd of the four values
    assert p["run_sd"] == "0.1000"  # per-run means 0.55 and 0.75
    assert p["tail_shares"] == "0.250 → 0.250 → 0.300 → 0.200"
    assert p["tail_difference"] == "-0.012 ± 0.004" and p["tail_pvalue"] == "0.3"
    assert p["tail_level"] == "0.6000" and p["ks_reference"] == "4"
    assert verdict().claim["measured"] == (
        "KS relaxation time 3 (reference 2), 3 (reference 4); upper-tail share late − early "
        "-0.012 ± 0.004 (Wilcoxon p = 0.3)"
    )


def test_reference_text():
    refs = RelaxationByReference({60.0: 25.0, 120.0: None}, 25.0, 0.0, 0.2)
    assert reference_text(refs) == "25 (reference 60), none (reference 120)"


def test_ks_chart_marks_t_relax_only_when_reached():
    assert len(ks_pvalue_chart(KS).to_dict()["layer"]) == 3
    assert len(ks_pvalue_chart(replace(KS, t_relax=None)).to_dict()["layer"]) == 2


def test_tail_chart_has_one_point_per_window():
    spec = tail_share_chart(TAIL).to_dict()
    data = next(iter(spec["datasets"].values()))
    assert [d["window"] for d in data] == ["1–1", "2–2", "3–3", "4–4"]
    assert [d["hi"] - d["lo"] for d in data] == pytest.approx([0.02] * 4)
