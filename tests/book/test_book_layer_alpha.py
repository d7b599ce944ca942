"""fpt_core.book.layer_alpha: layers, α over training, the HT-SR tests and estimator agreement."""

import numpy as np
import pandas as pd
import pytest

from fpt_core.book.layer_alpha import (
    alpha_by_epoch,
    alpha_heatmap,
    estimator_agreement,
    factor_chart,
    htsr_tests,
    htsr_words,
    layer_geometry,
    spread_over_noise,
    spread_words,
)

LAYERS = ["l0", "l1", "l2", "l3"]


def history(drop=(0.0, 0.5, 1.0, 0.0), runs=4, epochs=2):
    """α logged per arm, run, epoch and layer: α = 3 + layer + run/10 − drop · epoch/epochs."""
    rows = []
    for arm in ("SGD", "TB"):
        for r in range(runs):
            for ep in range(epochs + 1):
                for j, name in enumerate(LAYERS):
                    a = 3.0 + j + r / 10 - drop[j] * ep / epochs + (0.01 * r * ep if j else 0)
                    rows.append({"arm": arm, "run": r, "seed": r, "epoch": ep, "layer": name,
                                 "layer_index": j, "alpha": a, "factor": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_layer_geometry_counts_eigenvalues_and_drops_first_and_last():
    w = {
        f"{n}.weight": np.zeros(s)
        for n, s in zip(LAYERS, [(8, 4), (16, 8), (4, 16, 3, 3), (2, 4)], strict=True)
    }
    g = layer_geometry(history(), w, True)
    assert g["layer_order"] == LAYERS and g["tuned"] == ["l1", "l2"]
    assert g["n_eigs"] == {"l0": 4, "l1": 8, "l2": 36, "l3": 2}
    assert layer_geometry(history(), w, False)["tuned"] == LAYERS


def test_alpha_by_epoch_and_charts():
    m = alpha_by_epoch(history())
    row = m[(m["arm"] == "SGD") & (m["layer"] == "l0") & (m["epoch"] == 0)].iloc[0]
    assert row["alpha"] == pytest.approx(3.15) and row["alpha_sd"] == pytest.approx(
        np.std([0, 0.1, 0.2, 0.3], ddof=1)
    )
    assert alpha_heatmap(m, LAYERS).to_dict()["facet"]["row"]["field"] == "arm"
    assert factor_chart(m, "TB", ["l1"], LAYERS).to_dict()["mark"]["type"] == "line"


def test_spread_over_noise_is_spread_over_rms_hill_se():
    h = history(drop=(0, 0, 0, 0))
    geo = {"layer_order": LAYERS, "tuned": ["l1", "l2"], "shapes": {n: (100, 100) for n in LAYERS},
           "n_eigs": dict.fromkeys(LAYERS, 100)}  # fmt: skip
    s = spread_over_noise(h, geo, tuned_arm="TB", base_arm="SGD")

    # run r at epoch 0: α = 4 + r/10 and 5 + r/10, spread 1, Hill SE (α − 1)/√50 (n_tail = 50)
    def ratio(r):
        a = np.array([4.0, 5.0]) + r / 10
        return 1.0 / np.sqrt(np.mean(((a - 1) / np.sqrt(50)) ** 2))

    assert s["init"] == pytest.approx(np.median([ratio(r) for r in range(4)]))
    assert s["n_recomputations"] == 3
    assert list(s["table"].index) == LAYERS and list(s["table"]["tuned"]) == [
        False,
        True,
        True,
        False,
    ]
    w = spread_words(s)
    assert w["spread_ratio"] == f"{s['spread_ratio']:.1f}" and w["n_recomp"] == "3"
    assert w["spread_verdict"].startswith(
        "The layers' α differ" if s["spread_ratio"] > 2 else "The spread"
    )


def test_htsr_tests_detect_a_drop_and_a_missing_premise():
    h = history()
    est = pd.DataFrame({"arm": "SGD", "seed": [0, 1, 2] * 2, "layer": ["l1"] * 3 + ["l2"] * 3,
                        "clauset": [2.9, 3.0, 3.1, 1.5, 1.6, 1.7]})  # fmt: skip
    final = pd.DataFrame({"epoch": [2, 2], "train_loss": [0.01, 0.01], "test_loss": [1.0, 1.0],
                          "test_acc": [0.5, 0.5]})  # fmt: skip
    t = htsr_tests(h, est, ["l1", "l2"], final, arm="SGD")
    assert t["drop"]["l2"].mean == pytest.approx(-1.0 + 0.01 * np.mean([0, 2, 4, 6]))
    assert t["verdict_drop"] == "reproduced" and t["n_runs"] == 4
    assert t["clauset"].loc["l1", "mean"] == pytest.approx(3.0)
    assert t["band_raw"] == "not reproduced" and t["below"] == ["l2"]
    assert not t["premise_ok"] and t["verdict_band"] == "not tested at this preset"
    w = htsr_words(t, "SGD")
    assert w["band_text"].startswith("l1 3.00 [")
    assert (
        "memorises its training set" in w["htsr_words"]
        and "Layers below the band: l2." in w["htsr_words"]
    )
    ok = htsr_tests(h, est, ["l1", "l2"], final.assign(train_loss=0.5), arm="SGD")
    assert ok["premise_ok"] and ok["verdict_band"] == ok["band_raw"]


def test_estimator_agreement_compares_argmin_layers_and_checks_logged_alpha():
    est = pd.DataFrame({"arm": "SGD", "seed": [0, 0, 1, 1], "layer": ["l1", "l2"] * 2,
                        "hill": [2.0, 3.0, 3.0, 2.0], "hill_se": 0.1,
                        "clauset": [2.5, 3.0, 3.0, 2.0], "farms": [2.0, 3.0, 2.0, 3.0]})  # fmt: skip
    hist = pd.DataFrame({"arm": "SGD", "seed": [0, 0, 1, 1], "layer": ["l1", "l2"] * 2,
                         "epoch": 3, "alpha": [2.0, 3.0, 3.0, 2.05]})  # fmt: skip
    r = estimator_agreement(est, hist, ["l1", "l2"])
    assert r["agree"] == 0.5  # seed 0: both l1; seed 1: Hill l2, FARMS l1
    assert r["gap_hc"] == 0.0 and r["gap_hf"] == 0.5
    assert r["max_dev"] == pytest.approx(0.05)
    assert "in 50% of the kept runs" in r["words"]


def test_alpha_histories_stack_the_arms_in_order():
    from types import SimpleNamespace

    from fpt_core.book.layer_alpha import alpha_histories

    ev = lambda e, a: {"kind": "layer_alpha", "layers": ["fc1"], "alpha": [a], "step": e,  # noqa: E731
                       "epoch": e}  # fmt: skip
    ens = {"SGD": SimpleNamespace(records=[{"seed": 0, "events": [ev(0, 4.0), ev(1, 3.5)]}]),
           "TB": SimpleNamespace(records=[{"seed": 0, "events": [ev(0, 4.0)]}])}  # fmt: skip
    h = alpha_histories(ens)
    assert h["arm"].tolist() == ["SGD", "SGD", "TB"] and h["alpha"].tolist() == [4.0, 3.5, 4.0]
    assert list(h.index) == [0, 1, 2]
