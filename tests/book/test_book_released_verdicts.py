"""fpt_core.book.released_verdicts: the three verdicts on Meir et al. from released runs."""

from types import SimpleNamespace

import pandas as pd

from fpt_core.book.released_verdicts import released_claims

TAIL = SimpleNamespace(share=[0.443, 0.442, 0.4], pvalue=3.1e-15)


def _opt(interior=True, low=6.13):
    return pd.DataFrame([dict(protocol="partial", tau_star=4, tau_star_interior=interior,
                              speedup=6.66, speedup_low=low, speedup_high=7.38,
                              speedup_is="lower bound")])  # fmt: skip


def _claims(held, outside, qss=False, opt=None):
    return released_claims(ref_text="16 (reference 100)", tail=TAIL, qss_reached=qss, tau0=20,
                           held=held, outside=outside, t_relax_text="16",
                           opt=_opt() if opt is None else opt)  # fmt: skip


def test_evidence_and_verdicts():
    held = pd.DataFrame({"protocol": ["a", "a", "b"], "rel_error": [0.01, 0.034, 0.062],
                         "consistent": [True, True, True]})  # fmt: skip
    outside = pd.DataFrame({"protocol": ["a"], "rel_error": [-0.414], "consistent": [False]})
    c = _claims(held, outside)
    assert [r["verdict"] for r in c] == ["not reproduced", "reproduced", "reproduced"]
    assert c[0]["measured"] == (
        "released runs: KS relaxation time 16 (reference 100); upper tail 0.443 → 0.400 "
        "(p = 3.1e-15)"
    )
    assert c[1]["measured"] == (
        "3 of 3 held-out periods τ ≥ 16 consistent (largest error a +3.4%, b +6.2%); below "
        "τ = 16: largest error a -41.4%"
    )
    assert c[2]["measured"] == "partial: τ* = 4, speedup ≥ 6.66 (6.13–7.38)"
    assert _claims(held, outside, qss=True)[0]["verdict"] == "reproduced"


def test_failures_and_untested_cases():
    held = pd.DataFrame({"protocol": ["a"], "rel_error": [0.3], "consistent": [False]})
    c = _claims(held, held.iloc[:0], opt=_opt(interior=False))
    assert c[1]["verdict"] == "not reproduced" and c[1]["measured"].endswith("largest error none")
    assert c[2]["verdict"] == "not tested at this preset" and "(grid edge)" in c[2]["measured"]
    assert _claims(held.iloc[:0], held.iloc[:0])[1]["verdict"] == "not reproduced"  # nothing held
    assert _claims(held, held, opt=_opt(low=0.9))[2]["verdict"] == "not tested at this preset"


def test_docstring_examples():
    import doctest

    import fpt_core.book.released_verdicts as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
