"""fpt_core.book.fluctuation_results: the summary entries, from the synthetic page input."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from test_book_fluctuation_claims import WOR, WR, synthetic

from fpt_core.book.fluctuation_claims import fluctuation_claims
from fpt_core.book.fluctuation_results import (
    by_window,
    fluctuation_results,
    page_record,
    save_tables,
)
from fpt_core.book.fluctuation_words import detail_markdown


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


def test_page_record_assembles_words_claims_and_results():
    d = synthetic()
    theory = pd.DataFrame({"‖C‖/‖D‖": [0.05, 0.01], "⟨σ⟩ per slowest relaxation time": [36.0, 1.1],
                           "√Σ_ii (median)": [3.0, 1.0], "|mean − w*| / √Σ (max)": [0.1, 0.7]},
                          index=pd.Index([WR, WOR], name="policy"))  # fmt: skip
    scan = d["scan"]
    fits = dict(resolved=d["resolved"], resolved_all=d["resolved_all"], fit=d["fit"],
                fit_all=d["fit_all"], fit_pred={"slope": 2.1})  # fmt: skip
    ness = {WR: SimpleNamespace(functional=np.eye(2), D=np.diag([1.0, 2.0]))}
    runs = {WR: SimpleNamespace(steps=1000), WOR: SimpleNamespace(steps=50)}
    dft = dict(share=d["dft_share"], chi2=d["dft_chi2"], p=d["dft_p"])
    words, md, claims, results = page_record(
        params=dict(lr=1e-5, paper_lr=1e-7, n_chains=64), lam_max=2.75e4, steps_per_epoch=20,
        runs=runs, ness=ness, mu1=np.array([0.1, 0.0]), theory=theory, checks=d["ck"],
        mean_shift={WR: 0.1, WOR: 0.5}, ep=d["ep"], sur=d["sur"], toy_tab=d["toy_tab"],
        scan=scan, fits=fits, pred={1e-5: d["pr_main"]}, wor_ep_se=0.001, wor_irr_se=5e-4, dft=dft,
    )  # fmt: skip
    assert words["run_lengths"].startswith("with replacement: 1,000 SGD steps × 64 chains")
    assert words["centre_shift"] == "-0.01"  # −(Pᵀμ)ᵀ D (Pᵀμ) with P = I, μ = (0.1, 0)
    assert words["eta_m_lam"] == "5.50" and words["eps_meas"].startswith("1e-06 ±")
    # ε = 1: ⟨e^−σ⟩ = 1.01 without replacement, ⟨σ⟩ = 0.02 → the Gaussian relation's slope
    assert float(words["wor_dft_pred"]) == pytest.approx(0.02 / (0.02 + np.log(1.01)), abs=1e-3)
    assert md == detail_markdown(words) | {"claims_box": md["claims_box"]}
    assert "Adhikari" in md["claims_box"] or "claim" in md["claims_box"].lower()
    keys = ("lr", "paper_lr", "ck", "wr", "scan", "sur", "resolved", "resolved_all", "fit",
            "fit_all", "toy_tab", "dft_share", "dft_chi2", "dft_p")  # fmt: skip
    assert claims == fluctuation_claims(**{k: d[k] for k in keys})
    assert results["eps_loglog_slope"] == {"slope": 2.0, "slope_se": 0.1, "n_points": 2}
    assert results["ift_bias_eps"]["measured"] == pytest.approx(scan.iloc[2]["ε measured"])
    assert set(results["covariance_rel_error"]) == {WR, WOR}


def test_save_tables_writes_one_csv_per_table(tmp_path):
    tables = {"entropy": pd.DataFrame({"a": [1, 2]}), "scan": pd.DataFrame({"η": [1e-6]})}
    paths = save_tables(tmp_path / "05", "tiny", tables)
    assert [p.name for p in paths] == ["entropy_tiny.csv", "scan_tiny.csv"]
    assert pd.read_csv(paths[0])["a"].tolist() == [1, 2] and "Unnamed" not in paths[0].read_text()


def test_docstring_examples():
    import doctest

    import fpt_core.book.fluctuation_results as module

    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
