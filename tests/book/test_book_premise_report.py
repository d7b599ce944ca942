"""fpt_core.book.premise_report: the premise in words."""

import doctest
from types import SimpleNamespace as NS

from fpt_core.book import premise_report


def test_docstring_examples_run():
    res = doctest.testmod(premise_report, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


def test_estimable_mean_and_holding_premise():
    m0 = NS(n=256, n_censored=0, mean=28.634, low=25.9, high=31.7, estimable=True)
    sf = NS(unperturbed=m0, t_relax=25.0, premise=True, reasons=[], tp_logrank=NS(pvalue=0.931))
    t = premise_report.premise_texts(sf, 120.0)
    assert t == {"reached": "256 of 256", "horizon": "120", "m0": "28.63 (CI 25.90–31.70)",
                 "m0_kind": "= ⟨T⟩", "t_relax": "25", "premise": "the premise holds",
                 "premise_why": "shrink & perturb's T_p log-rank p = 0.93"}  # fmt: skip
    failing = premise_report.premise_texts(NS(**{**vars(sf), "premise": False,
                                                 "reasons": ["a", "b"]}), 120.0)  # fmt: skip
    assert failing["premise"] == "the premise fails" and failing["premise_why"] == "a; b"
