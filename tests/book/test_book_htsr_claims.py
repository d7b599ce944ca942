"""fpt_core.book.htsr_claims: the HT-SR / TempBalance ledger rows and summary keys."""

from types import SimpleNamespace

import pandas as pd

from fpt_core.book.htsr_claims import htsr_claims, htsr_summary
from fpt_core.stats.paired import paired_difference

DIFF = paired_difference([0.70, 0.71, 0.72, 0.69], [0.701, 0.712, 0.719, 0.692])
HT = {"n_runs": 4, "clauset": pd.DataFrame({"mean": [3.0], "low": [2.5], "high": [3.5],
                                             "n": [4]}, index=["l1"]),
      "verdict_drop": "reproduced", "verdict_band": "reproduced", "premise_ok": True,
      "fit_gap": {"test_acc": 0.7, "train_loss": 0.5, "test_loss": 0.9},
      "drop": {"l1": DIFF}}  # fmt: skip
WORDS = {"drop_text": "l1 -0.10 [-0.2, -0.0]", "band_text": "l1 3.00 [2.50, 3.50]"}
RANDOM = {"kind": "random", "hill_change": 2.3, "hill_ci95": [2.1, 2.5], "farms_change": 0.01,
          "farms_ci95": [-0.02, 0.04], "n": 16, "verdict": "reproduced"}  # fmt: skip


def test_rows_carry_the_verdicts_and_the_undecided_gain_caveat():
    pl = {"diff": DIFF, "verdict": "not tested at this preset"}
    trained = dict(RANDOM, kind="trained", verdict="not reproduced")
    rows = htsr_claims(HT, WORDS, pl, 3.8, 4, 0.005, {"random": RANDOM, "trained l5": trained},
                       [1, 2, 4, 8], "l5")  # fmt: skip
    assert [r["verdict"] for r in rows] == ["reproduced", "reproduced",
                                           "not tested at this preset", "reproduced",
                                           "not reproduced"]  # fmt: skip
    assert (
        rows[0]["measured"] == "median-Hill Δα per tuned layer, 4 SGD runs: " + WORDS["drop_text"]
    )
    assert f"{DIFF.mean:+.4f}" in rows[2]["measured"] and "a gain above" in rows[2]["measured"]
    assert rows[4]["measured"].startswith("l5, α(Q=8) − α(Q=1): Hill +2.30, FARMS +0.010")
    memorises = htsr_claims(dict(HT, premise_ok=False), WORDS, dict(pl, verdict="reproduced"),
                            3.8, 4, 0.005, {"random": RANDOM}, [1, 8], None)  # fmt: skip
    assert memorises[1]["measured"].endswith("(memorises: premise fails)")
    assert "a gain above" not in memorises[2]["measured"]
    assert memorises[4]["verdict"] == "not tested at this preset"


def test_summary_sums_the_ensembles_and_takes_the_last_epoch():
    e = SimpleNamespace(n_runs=4, n_trained=1, n_reused=3, n_diverged=0, device="cpu")
    hist = pd.DataFrame({"arm": ["A"] * 4, "layer": ["l1", "l1", "l2", "l2"],
                         "epoch": [0, 2, 0, 2], "alpha": [4.0, 3.0, 5.0, float("nan")]})  # fmt: skip
    agreement = {"mean": pd.DataFrame({"hill": [3.0]}, index=pd.MultiIndex.from_tuples([("A", "l1")])),
                 "gap_hc": 0.1, "gap_hf": 0.2, "agree": 1.0, "max_dev": 0.0}  # fmt: skip
    s = htsr_summary(p={"target": 0.6, "farms_size": 32, "farms_windows_per_dim": 9, "epochs": 2},
                     ens={"A": e, "B": e}, hist=hist, shapes={"l1": (4, 2)}, tuned=["l1"],
                     spectra_seeds=[0], retrained={"A": [0], "B": []},
                     spread={"spread_ratio": 3.0, "init": 2.0, "base_final": 4.0},
                     fp={"fpt": {}, "logrank_pvalue": 0.5},
                     plateau={"stats": {}, "diff": DIFF, "corr": 0.9, "verdict": "x"}, ht=HT,
                     agreement=agreement, bias={}, ratios=(1, 8))  # fmt: skip
    assert (s["n_runs"], s["n_trained"], s["n_reused"]) == (8, 2, 6)
    assert s["final_alpha_mean"] == {"A": {"l1": 3.0}}  # NaN dropped
    assert s["plateau_diff_ci95"] == [DIFF.low, DIFF.high] and s["aspect_ratios"] == [1, 8]
    assert s["tuned_layers"] == {"l1": (4, 2)} and s["n_tuned_layers"] == 1
    assert s["estimators_mean"] == {"A/l1": {"hill": 3.0}} and s["device"] == "cpu"


def test_verdict_words_name_the_first_four_claims():
    from fpt_core.book.htsr_claims import verdict_words

    rows = [{"verdict": f"v{i}"} for i in range(5)]
    assert verdict_words(rows) == {"v_drop": "v0", "v_band": "v1", "v_tb": "v2", "v_farms": "v3"}


def test_page_summary_wraps_the_science_keys_with_the_page_and_provenance():
    from fpt_core.book.htsr_claims import tempbalance_summary

    e = SimpleNamespace(n_runs=4, n_trained=1, n_reused=3, n_diverged=0, device="cpu")
    hist = pd.DataFrame({"arm": ["A"], "layer": ["l1"], "epoch": [2], "alpha": [3.0]})
    agreement = {"mean": pd.DataFrame(), "gap_hc": 0.1, "gap_hf": 0.2, "agree": 1.0, "max_dev": 0.0}
    p = {"target": 0.6, "farms_size": 32, "farms_windows_per_dim": 9, "epochs": 2}
    science = dict(ens={"A": e}, hist=hist, shapes={"l1": (4, 2)}, tuned=["l1"],
                   spectra_seeds=[0], retrained={"A": []},
                   spread={"spread_ratio": 3.0, "init": 2.0, "base_final": 4.0},
                   fp={"fpt": {}, "logrank_pvalue": 0.5},
                   plateau={"stats": {}, "diff": DIFF, "corr": 0.9, "verdict": "x"}, ht=HT,
                   agreement=agreement, bias={}, ratios=(1, 8))  # fmt: skip
    s = tempbalance_summary("06_t", "tiny", p, {"kind": "tempbalance"}, [{"verdict": "x"}], 7.5,
                            **science)  # fmt: skip
    assert {k: s[k] for k in ("notebook", "preset", "params", "tempbalance_spec", "wall_time_s")} == {
        "notebook": "06_t", "preset": "tiny", "params": p,
        "tempbalance_spec": {"kind": "tempbalance"}, "wall_time_s": 7.5}  # fmt: skip
    assert s["claims"] == [{"verdict": "x"}] and s["provenance"]["device"] == "cpu"
    science_keys = htsr_summary(p=p, **science)
    assert {k: s[k] for k in science_keys} == science_keys
