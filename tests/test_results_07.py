"""Notebook 07 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/test_results_02.py for the conventions."""

import pytest
from results_helpers import summary


def test_07_phases_follow_from_the_measured_exponents(tiny_book):
    s = summary(tiny_book, "07_edge_of_chaos")
    p, cells = s["params"], s["cells"]
    counts = {}
    for c in cells:
        counts[c["phase"]] = counts.get(c["phase"], 0) + 1
        if c["phase"] == "chaotic":
            assert c["lyapunov"] > 2 * c["lyapunov_stderr"] > 0, c
        elif c["phase"] == "ordered":
            assert c["lyapunov"] < 0, c
        elif c["phase"] == "dead":
            assert c["jacobian"] <= 1e-2 and c["plateau_acc"] < 0.2, c
        assert c["n_trained"] + c["n_reused"] == p["n_runs"]
    assert counts == s["phase_counts"]
    by_phase = {r["phase"]: r for r in s["accuracy_by_phase"]}
    assert {k: r["cells"] for k, r in by_phase.items()} == counts
    best = max(c["plateau_acc"] for c in cells)
    assert s["best_cell"]["plateau_acc"] == pytest.approx(best)
    lrs = p["lrs"]
    for row in s["edge_momentum_grid"]:
        assert row["momentum"] in p["momenta"]
        if row["n_crossings"]:
            assert min(lrs) <= row["lr"] <= max(lrs), row
        else:
            assert row["lr"] is None
    for row in s["edge_weight_decay_grid"]:
        if row["n_crossings"]:
            assert min(p["weight_decays"]) <= row["weight_decay"] <= max(p["weight_decays"])
        else:
            assert row["weight_decay"] is None
