"""fpt_core.book.fluctuation_results: the summary entries, from the synthetic page input."""

import pandas as pd
import pytest
from test_book_fluctuation_claims import WOR, WR, synthetic

from fpt_core.book.fluctuation_results import by_window, fluctuation_results


def _results():
    d = synthetic()
    theory = pd.DataFrame({"‖C‖/‖D‖": [0.05, 0.01], "⟨σ⟩ per slowest relaxation time": [36.0, 1.1]},
                          index=pd.Index([WR, WOR], name="policy"))  # fmt: skip
    return fluctuation_results(
        lr=1e-5, ep=d["ep"], sur=d["sur"], pr_main=d["pr_main"], main=d["scan"].iloc[2],
        toy_tab=d["toy_tab"], fit=d["fit"], resolved=d["resolved"], fit_pred={"slope": 2.1},
        wor_ep_se=0.001, theory=theory, ck=d["ck"], policies=[WR, WOR], scan=d["scan"],
    )  # fmt: skip


def test_by_window():
    assert by_window("x", pd.DataFrame({"k": [1, 3], "x": [0.5, 2.0]})) == {"1": 0.5, "3": 2.0}


def test_summary_entries():
    r = _results()
    assert r["ift"][WR] == pytest.approx({"1": 1.01, "2": 1.0201, "3": 1.030301})
    assert r["ep_mean_measured"][WOR]["3"] == pytest.approx(0.06)
    assert r["ift_surrogate_exact"] == {WR: {"1": 1.0}, WOR: {"1": 1.0}}
    assert r["ift_surrogate_continuum"] == {WR: {"1": 1.0}, WOR: {}}
    assert r["surrogate_max_abs_z"] == 2.0
    assert r["ift_bias_predicted"][WOR] == {"1": None, "2": None, "3": None}
    assert r["ift_bias_predicted"][WR]["2"] == pytest.approx(1.0201)
    assert r["ift_bias_eps"]["predicted"] == 0.01 and r["ift_bias_eps"][
        "measured_se"
    ] == pytest.approx(1e-7)
    assert r["eps_loglog_slope"] == {"slope": 2.0, "slope_se": 0.1, "n_points": 2}
    assert r["eps_loglog_slope_predicted"] == 2.1
    assert r["covariance_rel_error"] == {WR: 0.03, WOR: 0.03}
    assert r["circulation_rel_error"] == {WR: 0.05, WOR: 0.05}
    assert r["irreversibility"] == {WR: 0.05, WOR: 0.01}
    assert len(r["lr_scan_with_replacement"]) == 3 and len(r["ift_bias_toy"]) == 2


def test_docstring_examples():
    import doctest

    import fpt_core.book.fluctuation_results as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
