"""fpt_core.book.edge_report: the edge-of-chaos phrases, ledger rows and summary keys."""

import math

import pandas as pd

from fpt_core.book.edge_report import (
    LYAPUNOV_CRITERION,
    edge_claims,
    edge_summary,
    fit_text,
    optimum_words,
    ordered_caveat,
    weight_decay_words,
)

CELL = {"lr": 0.16, "momentum": 0.5, "phase": "edge", "lam_net": -0.012, "lam_net_se": 0.03,
        "plateau_acc": 0.7251, "plateau_acc_se": 0.0042}  # fmt: skip
FIT = {"phase": "ordered", "exponent": 0.95, "exponent_stderr": 0.05, "ci": [0.84, 1.06],
       "n": 6, "n_censored_cells": 1, "offset": 2.04, "offset_stderr": 0.5,
       "verdict": "reproduced"}  # fmt: skip
BOUNDARY = {"counts": {"ordered": 5, "edge": 4, "chaotic": 12}, "crossings": [{}, {}, {}],
            "crossings_train": [{}], "n_rows": 3, "boundary_ok": True, "net_conv": True}  # fmt: skip
EFF = {"n": 6, "n_down": 4, "n_up": 0, "rows": [], "verdict": "reproduced"}


def test_optimum_words_name_the_best_cells_and_the_verdict():
    opt = {"n_left_out": 2, "left_out_phases": {"ordered": 2}, "best": CELL, "best_interior": True,
           "best_in_edge_region": True, "edge_best": CELL,
           "outside_best": dict(CELL, phase="chaotic", plateau_acc=0.70),
           "verdict": "reproduced", "reason": "the edge region's best beats every other cell"}  # fmt: skip
    w = optimum_words(opt)
    assert w.startswith("2 cells are still learning and left out (2 ordered).")
    assert "Best cell: η = 0.16, μ = 0.5 (edge, λ_net = -0.01 ± 0.03): 0.725 ± 0.004; inside" in w
    assert "Best outside it: η = 0.16, μ = 0.5 (chaotic, λ_net = -0.01 ± 0.03): 0.700" in w
    assert w.endswith("Verdict: **reproduced** (the edge region's best beats every other cell).")


def test_ordered_caveat_counts_learning_and_censored_cells():
    d = pd.DataFrame({"phase": ["ordered", "ordered", "chaotic"], "eta_eff": [0.01, 0.04, 1.0],
                      "acc_drift": [0.05, 0.0, 0.5], "acc_drift_se": [0.01, 0.01, 0.01],
                      "n_censored": [2, 1, 0]})  # fmt: skip
    text, n = ordered_caveat(d, 10, 52.4)
    assert n == 1  # the chaotic cell's drift is not counted
    assert "(η/(1 − μ) ≤ 0.04): 1 of 2 are still learning" in text
    assert "2 have a seed that never reached the target in 52 epochs" in text
    assert ordered_caveat(d[d["phase"] == "chaotic"], 10, 52.4) == ("", 0)


def test_fit_text_and_weight_decay_words():
    assert fit_text(FIT) == (
        "ordered: β = 0.950 ± 0.050 (95 % CI 0.840 to 1.060, 6 cells, 1 left out as censored; "
        "affine fit T = a + c(1 − μ)/η: a = 2.0 ± 0.5 epochs)"
    )
    assert fit_text(dict(FIT, exponent=math.nan, n=2)).endswith("too few to fit")
    acc = {"rows": [{"weight_decay": 0.001, "lr": 0.04, "diff": 0.0123, "se": 0.004}]}
    w = weight_decay_words(acc, EFF, dict(EFF, n_down=1, n_up=2))
    assert w == {"wd_acc": "γ = 0.001, η = 0.04: +0.012 ± 0.004", "net_n": "6",
                 "net_n_down": "4", "net_n_up": "0", "exc_n": "6", "exc_n_down": "1",
                 "exc_n_up": "2"}  # fmt: skip


def test_claims_follow_the_verdicts_they_are_given():
    opt = {
        "reason": "the intervals of the two best cells overlap",
        "verdict": "not tested at this preset",
    }
    cha = dict(FIT, phase="chaotic", verdict="not reproduced")
    rows = edge_claims(BOUNDARY, 4, opt, EFF, dict(EFF, n_down=0), FIT, cha)
    assert [r["verdict"] for r in rows] == ["reproduced", "not tested at this preset",
                                           "reproduced", "reproduced", "reproduced"]  # fmt: skip
    assert rows[0]["measured"] == ("weight decay 0: 5 ordered, 4 edge, 12 chaotic cells (λ_net vs "
                                   "2 SE over 4 seeds); sign change inside 3 of 3 momentum rows")  # fmt: skip
    assert rows[1]["measured"] == opt["reason"]
    assert "lower in 0 of 6" in rows[2]["measured"]
    assert rows[3]["measured"] == fit_text(FIT)
    unresolved = edge_claims(dict(BOUNDARY, net_conv=False), 4, opt, EFF, EFF, FIT, cha)
    assert unresolved[0]["verdict"] == "not tested at this preset"


def test_summary_keeps_the_keys_and_writes_infinities_as_nan():
    signs = {"lyap_conv": False, "n_conv": 3, "train_conv": False}
    s = edge_summary(BOUNDARY, signs, ordered_still_learning=2, sc_ord=FIT, sc_cha=FIT,
                     opt={"verdict": "x"}, eff_net=EFF, eff_exc=EFF,
                     cells=pd.DataFrame({"fpt": [float("inf"), 3.0]}), claims=[])  # fmt: skip
    assert s["cells"][0]["fpt"] != s["cells"][0]["fpt"] and s["cells"][1]["fpt"] == 3.0
    assert s["edge_optimum"]["verdict"] == "x" and s["edge_optimum"]["best"] is None
    assert s["scaling_ordered"] == {k: FIT[k] for k in s["scaling_ordered"]}
    assert "phase" not in s["scaling_ordered"]
    assert (s["lyapunov_converged"], s["lyapunov_converged_cells"]) == (False, 3)
    assert s["lyapunov_criterion"] == LYAPUNOV_CRITERION and s["ordered_still_learning"] == 2


def test_page_summary_wraps_edge_summary_in_order():
    from fpt_core.book.edge_report import FIT_KEYS, edge_page_summary, edge_summary

    b = {"counts": {"ordered": 1}, "crossings": [], "crossings_train": [], "net_conv": True}
    t = {"lyap_conv": True, "n_conv": 2, "train_conv": False}
    fit = dict.fromkeys(FIT_KEYS)
    science = dict(ordered_still_learning=1, sc_ord=fit, sc_cha=fit, opt={}, eff_net={"n": 1},
                   eff_exc={}, cells=pd.DataFrame({"x": [1.0]}), claims=[{"verdict": "x"}])  # fmt: skip
    s = edge_page_summary("tiny", {"seeds": 2}, n_replicas=4, steps_per_epoch=8,
                          wall_time_s=1.5, boundary=b, signs=t, **science)  # fmt: skip
    inner = edge_summary(b, t, **science)
    assert list(s) == ["notebook", "preset", "params", *inner, "n_replicas", "steps_per_epoch",
                       "wall_time_s", "cpu_time_s", "provenance"]  # fmt: skip
    assert {k: s[k] for k in inner} == inner and s["notebook"] == "07_edge_of_chaos"
    assert (s["n_replicas"], s["steps_per_epoch"], s["wall_time_s"]) == (4, 8, 1.5)
    assert s["cpu_time_s"] > 0 and s["provenance"]["device"] == "cpu"
