"""fpt_core.book.fluctuation_words: the page's words follow the numbers."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
from test_book_fluctuation_claims import WOR, WR, synthetic

from fpt_core.book.fluctuation_words import (
    current_text,
    detail_markdown,
    ep_text,
    fluctuation_words,
    minimum_words,
    run_lengths,
    value_vs,
)


def test_helpers():
    assert value_vs(1.012, 0.001, 1.0) == "1.01200 ± 0.001 (12 SE from 1)"
    assert value_vs(1.001, 0.001, 1.0, ".3f") == "1.001 ± 0.001 (within 3 SE of 1)"
    assert value_vs(0.5, 0.0, 1.0, ".3f").endswith("(no error bar: too few counts per chain group)")
    assert current_text(5.0).startswith("resolved") and current_text(4.9).startswith("not resolved")
    g = pd.DataFrame({"⟨σ⟩": [0.002], "SE": [0.001], "SE(theory)": [0.0], "theory (chain)": [0.003],
                      "theory": [0.0025]})  # fmt: skip
    assert ep_text(g) == "0.002 ± 0.001 (not resolved; continuum theory 0.0025, chain theory 0.003)"


def _words(**over):
    d = synthetic()
    th = pd.DataFrame({"‖C‖/‖D‖": [0.05, 0.01], "⟨σ⟩ per slowest relaxation time": [36.6, 1.08],
                       "√Σ_ii (median)": [3.0, 1.0], "|mean − w*| / √Σ (max)": [0.1, 0.7]},
                      index=[WR, WOR])  # fmt: skip
    scan = d["scan"]
    kw = dict(lr=1e-5, eta_m_lam=5.5, ck=d["ck"], th=th, ep=d["ep"],
              mean_shift={WR: 0.1, WOR: 0.78}, wor_irr_se=5e-4, pr_main=d["pr_main"],
              main=scan.iloc[2], sur=d["sur"], toy_tab=d["toy_tab"], scan=scan,
              fits=dict(resolved=d["resolved"], fit=d["fit"], fit_all=None,
                        fit_pred={"slope": 2.13}), centre_shift=-0.0018,
              dft=dict(share=pd.Series([91.0, 108.0]), chi2=0.5, p=0.79, wor_pred=0.66))  # fmt: skip
    return fluctuation_words(**{**kw, **over})


def test_words():
    w = _words()
    assert w["lr"] == "1e-05" and w["cov_wr"] == "3.0" and w["closer"] == "closer to"
    assert w["irr_wor"] == "0.0100 ± 0.0005" and w["spread_ratio"] == "3"
    assert w["sur_every"] == "every" and w["sur_dft_all"] == "all" and w["sur_z"] == "2.0"
    assert w["fit_all"] == "n/a" and w["fit_pred"] == "2.13"
    assert w["fit_txt"] == "2.00 ± 0.10 over 2 resolved learning rates (1e-06–2e-06)"
    assert w["dft_share"] == "91–108" and w["dft_signif"] == "within the errors"
    assert w["ift_pred"] == "1.01000, 1.02010, 1.03030" and w["toy_z"] == "1.2, 0.1"
    assert all(isinstance(v, str) for v in w.values())


def test_words_that_depend_on_the_data():
    d = synthetic()
    w = _words(sur=d["sur"].assign(**{"z(IFT)": [0.5, 3.5, 0.0], "DFT slope": [1.2, 1.0, 1.0]}),
               dft=dict(share=pd.Series([50.0]), chi2=20.0, p=1e-4, wor_pred=np.nan))  # fmt: skip
    assert w["sur_every"] == "not every" and w["sur_dft_all"] == "not all"
    assert w["dft_signif"] == "significant" and w["wor_dft_pred"] == "nan"
    scan = d["scan"].assign(**{"ε measured": [1e-9, 4e-8, 1e-6]})
    assert _words(scan=scan)["ratio_txt"].startswith("unresolved (1e-09 ± 1e-09) (η = 1e-06)")


def test_minimum_words_and_run_lengths():
    w = minimum_words(3.14159, np.array([3e-10, 4e-10]), np.array([0.02, 1.0, 250.0]))
    assert w == {"u_star": "3.1416", "grad_star": "5e-10", "eig_h": "0.02, 1, 250",
                 "cond_h": "12500"}  # fmt: skip
    runs = {WR: SimpleNamespace(steps=1500), WOR: SimpleNamespace(steps=20)}
    assert run_lengths(runs, 64) == (
        "with replacement: 1,500 SGD steps × 64 chains; without replacement: 20 SGD steps × 64 chains"
    )


def test_detail_markdown_fills_every_word():
    w = _words()
    md = detail_markdown(w)
    assert set(md) == {"wor_words", "sur_words", "bias_words", "dft_words"}
    assert all("{" not in v and "}" not in v for v in md.values())  # no unfilled placeholder
    assert f"‖C‖/‖D‖ = {w['irr_wor']} (Monte Carlo" in md["wor_words"]
    assert md["sur_words"].startswith("Every ⟨e^−σ^(k)⟩") and w["sur_dft"] in md["sur_words"]
    assert f"ε = {w['eps_pred']} (even part {w['eps_even']}" in md["bias_words"]
    assert f"{w['dft_share']} % of 1 − slope" in md["dft_words"]
    assert "w\\*" in md["wor_words"]  # the star is escaped for Markdown
    bad = _words(sur=synthetic()["sur"].assign(**{"z(IFT)": [0.5, 3.5, 0.0]}))
    assert detail_markdown(bad)["sur_words"].startswith("Not every")


def test_docstring_examples():
    import doctest

    import fpt_core.book.fluctuation_words as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
