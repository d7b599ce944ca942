"""Notebook 04 at the `tiny` preset: headline numbers against bounds a broken pipeline misses.

See tests/book/test_results_02.py for the conventions."""

import math

from results_helpers import summary


def test_04_sgworld_beats_sgld_and_matches_its_theory(tiny_book):
    s = summary(tiny_book, "04_sgworld_vs_sgld")
    per = s["errors_per_lr"]
    assert set(per) == {"SGLD", "SGWORLD"} and len(per["SGLD"]) == s["params"]["n_lr"]
    for sampler, rows in per.items():
        for lr, r in rows.items():
            # the control-variate estimate agrees with the linear theory within 4 SE
            assert abs(r["kl_coupled"] - r["kl_theory"]) < 4 * r["kl_coupled_se"], (sampler, lr)
            assert r["kl_coupled"] > 0 and r["kl_coupled_se"] > 0
    smallest = min(per["SGLD"], key=float)
    a, b = per["SGLD"][smallest], per["SGWORLD"][smallest]
    gap = a["kl_coupled"] - b["kl_coupled"]
    assert gap > 2 * math.hypot(a["kl_coupled_se"], b["kl_coupled_se"])
    assert s["kl_ratio_sgld_over_sgworld_smallest_lr"] - 2 * s["kl_ratio_se"] > 1
    # SGWORLD's error falls faster with the step size than SGLD's
    diff = s["slope_kl_sgworld"] - s["slope_kl_sgld"]
    assert diff > 3 * math.hypot(s["slope_kl_sgworld_se"], s["slope_kl_sgld_se"])
    assert s["slope_kl_sgld"] > 1
