"""fpt_core.book.qss_wording: the text of a QSS paragraph and of an unperturbed ⟨T⟩."""

from types import SimpleNamespace

import numpy as np

from fpt_core.book.qss_wording import mean_fpt_words, qss_words, reference_times
from fpt_core.stats.qss import RelaxationByReference


def test_reference_times():
    refs = RelaxationByReference({100.0: 16.0, 133.0: None, 200.0: 178.5}, 16.0, 0.5, 0.2)
    assert (
        reference_times(refs) == "16 (reference 100), none (reference 133), 178.5 (reference 200)"
    )


def test_words_follow_the_verdicts():
    robust = RelaxationByReference({100.0: 16.0, 200.0: 17.0}, 16.5, 0.05, 0.2)
    tail = SimpleNamespace(share=[0.5, 0.49], difference=-0.01, difference_se=0.02, pvalue=0.4,
                           stationary=True)  # fmt: skip
    plateau = np.array([[70.0, np.nan], [72.0, 74.0]])
    w = qss_words(plateau, 20.0, robust, tail, 72.0, 16.0, True)
    assert w["plateau"] == "72.00 ± 1.63" and w["stable"] == "stable" and w["spread"] == "±5%"
    assert w["tail_share"] == "0.500 → 0.490" and w["tail_diff"] == "-0.010 ± 0.020"
    assert (w["tail_drift"], w["qss"], w["qss_caveat"]) == ("no drift detected", "reached", "")
    assert w["t_relax"] == "16" and w["target"] == "72" and w["tail_p"] == "0.4"
    fragile = RelaxationByReference({100.0: 16.0, 200.0: 178.0}, 97.0, 0.84, 0.2)
    w = qss_words(plateau, 20.0, fragile, SimpleNamespace(**{**vars(tail), "stationary": False}),
                  72.0, None, False)  # fmt: skip
    assert (w["stable"], w["tail_drift"], w["qss"]) == ("not stable", "it drifts", "not reached")
    assert w["t_relax"] == "(none found)" and w["qss_caveat"].startswith("The KS test")


def test_mean_fpt_words():
    est = SimpleNamespace(mean=10.04, low=9.0, high=11.5, cv=0.8, estimable=True)
    assert mean_fpt_words(est) == "= 10.0 (9.0–11.5) and CV = 0.80"
    bound = SimpleNamespace(mean=76.96, estimable=False, cv_lower_bound=1.0909,
                            cv_lower_bound_low=1.031)  # fmt: skip
    assert mean_fpt_words(bound) == (
        "≥ 77.0 (restricted mean; not estimable) and CV ≥ 1.09 (95 % lower end 1.03)"
    )


def test_docstring_examples():
    import doctest

    import fpt_core.book.qss_wording as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
