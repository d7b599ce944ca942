"""Notebook 07 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/book/test_results_02.py for the conventions."""

import math

import pytest
from results_helpers import inside, summary

from fpt_core.dynamics.tanh_mlp import weight_decay_floor


def test_07_phases_and_crossings_follow_from_the_cells(tiny_book):
    s = summary(tiny_book, "07_edge_of_chaos")
    p, cells = s["params"], s["cells"]
    assert len(cells) == len(p["lrs"]) * len(p["momenta"]) + len(p["wd_lrs"]) * len(
        p["weight_decays"]
    )
    wd0 = [c for c in cells if c["weight_decay"] == 0]
    counts = {k: sum(c["phase"] == k for c in wd0) for k in ("ordered", "edge", "chaotic")}
    assert counts == s["phase_counts_wd0"] and sum(counts.values()) == len(wd0)
    for c in cells:
        lam, se = c["lam_net"], c["lam_net_se"]
        if c["phase"] == "chaotic":
            assert lam > 2 * se > 0, c
        elif c["phase"] == "ordered":
            assert lam < -2 * se, c
        # the network map is a tanh layer: its growth rate is below ln ‖W1‖ ≤ a few nats
        assert -50 < lam < 5, c
        assert 0.05 < c["plateau_acc"] < 1 and c["eta_eff"] == pytest.approx(
            c["lr"] / (1 - c["momentum"])
        )
        # the weight-decay floor is the exact contraction of a loss-flat direction, per epoch
        spe = s["steps_per_epoch"]
        floor = weight_decay_floor(c["lr"], c["momentum"], c["weight_decay"]) * spe
        assert c["wd_floor"] == pytest.approx(floor, rel=1e-9, abs=1e-12)
        assert c["lam_excess"] == pytest.approx(c["lam_train"] - c["wd_floor"])
        if c["n_censored"] == 0:
            assert 0 < c["fpt"] <= (p["warmup"] + p["transient"] + p["n_steps"]) / spe
    rows = {m: sorted((c for c in wd0 if c["momentum"] == m), key=lambda c: c["lr"]) for m in p["momenta"]}  # fmt: skip
    for x in s["edge_crossings_wd0"]:
        row = rows[x["momentum"]]
        assert inside(row[0]["lr"], x["at"], row[-1]["lr"]) and x["n_changes"] >= 1
        signs = [math.copysign(1, c["lam_net"]) for c in row]
        assert sum(a != b for a, b in zip(signs, signs[1:], strict=False)) == x["n_changes"]


def test_07_training_map_exponents_are_finite_and_converged_flags_consistent(tiny_book):
    s = summary(tiny_book, "07_edge_of_chaos")
    wd0 = [c for c in s["cells"] if c["weight_decay"] == 0]
    assert s["training_map_converged_all"] == all(c["train_converged"] for c in wd0)
    # converged: every network-map exponent, and every training-map exponent except chaotic
    # cells whose whole-window and last-half exponents both lie > 2 SE above 0
    settled = [
        c["train_converged"]
        or (c["phase"] == "chaotic" and c["lam_train"] > 2 * c["lam_train_se"]
            and c["lam_train_half"] > 2 * c["lam_train_half_se"])
        for c in wd0
    ]  # fmt: skip
    want = all(c["net_converged"] for c in wd0) and all(settled)
    assert s["lyapunov_converged"] == want
    assert s["lyapunov_converged_cells"] == sum(c["train_converged"] for c in wd0)
    for c in s["cells"]:
        assert math.isfinite(c["lam_train"]) and c["lam_train_se"] >= 0, c
        # the softmax shift is projected out: nothing pins λ_train at exactly 0 or at the floor
        assert c["lam_train"] != 0.0


def test_07_claims_and_scaling(tiny_book):
    s = summary(tiny_book, "07_edge_of_chaos")
    claims = s["claims"]
    assert len(claims) == 5 and all(r["paper"] == "Edge of chaos" for r in claims)
    sc = s["scaling_ordered"]
    if sc["exponent"] is not None:
        assert inside(sc["ci"][0], sc["exponent"], sc["ci"][1]) and sc["exponent_stderr"] >= 0
        assert claims[3]["verdict"] == (
            "reproduced" if sc["ci"][0] <= 1 <= sc["ci"][1] else "not reproduced"
        )
    else:
        assert claims[3]["verdict"] == "not tested at this preset"
    ch = s["scaling_chaotic"]
    if ch["exponent"] is not None:  # "the scaling disappears": reproduced iff the CI excludes 1
        assert claims[4]["verdict"] == (
            "not reproduced" if ch["ci"][0] <= 1 <= ch["ci"][1] else "reproduced"
        )
    boundary = (
        s["phase_counts_wd0"]["ordered"] >= 3
        and s["phase_counts_wd0"]["chaotic"] >= 3
        and len(s["edge_crossings_wd0"]) >= 2
    )
    if not boundary:
        assert claims[0]["verdict"] == claims[1]["verdict"] == "not tested at this preset"
    # the best cell is the most accurate of the weight-decay-0 cells that are no longer learning
    done = [c for c in s["cells"] if c["weight_decay"] == 0
            and not c["acc_drift"] > 2 * c["acc_drift_se"]]  # fmt: skip
    opt = s["edge_optimum"]
    assert opt["n_left_out"] == sum(c["weight_decay"] == 0 for c in s["cells"]) - len(done)
    if done:
        best = max(done, key=lambda c: c["plateau_acc"])
        assert opt["best"]["plateau_acc"] == pytest.approx(best["plateau_acc"])
