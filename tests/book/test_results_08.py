"""Notebook 08 at the `tiny` preset, on the vendored released runs of Meir et al. (2025).

The data are fixed, so the point estimates are too: these are the paper's own numbers, recomputed
(SOURCE.md of the release: the prediction from τ0 = 20 within 4.4 % at τ = 10, 15, 30, 50)."""

import pytest
from results_helpers import summary


def test_08_released_runs_reproduce_the_single_frequency_prediction(tiny_book):
    s = summary(tiny_book, "08_released_runs")
    assert s["params"]["protocols"] == ["partial", "s_and_p"] and s["n_trained"] == 0
    assert s["censored_fraction"] == pytest.approx(0.293)  # 293 of 1000 never reach 72 %
    rows = {(r["protocol"], r["tau"]): r for r in s["per_tau"]}
    for p in ("partial", "s_and_p"):
        assert rows[(p, 20)]["role"] == "tau0"
        for tau in (10, 15, 30, 50):
            r = rows[(p, tau)]
            assert r["role"] == "held out" and abs(r["rel_error"]) < 0.06, r
            assert r["rel_error"] == pytest.approx(r["predicted"] / r["measured"] - 1)
        assert abs(rows[(p, 1)]["rel_error"]) > 0.2  # far below the relaxation time it fails
    assert s["t_relax"] == min(v for v in s["t_relax_by_reference"].values() if v is not None)
    assert all(r["in_qss"] == (r["tau"] >= s["t_relax"]) for r in rows.values())
    for r in s["protocols"]:
        assert s["tau_star"][r["protocol"]] == r["tau_star"]
        assert r["speedup_low"] <= r["speedup"] <= r["speedup_high"]
        assert r["mean_low"] <= r["mean_at_tau_star"] <= r["mean_high"]
