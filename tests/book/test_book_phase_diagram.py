"""fpt_core.book.phase_diagram: grid checks, phase counts, boundary rows and training-map signs."""

import pandas as pd
import pytest

from fpt_core.book.phase_diagram import (
    cell_scatter,
    check_grid,
    grid_cells,
    heatmap,
    phase_boundary,
    running_chart,
    training_map_signs,
)

GRID = dict(lrs=[0.1, 0.2, 0.4], momenta=[0.0, 0.5], wd_lrs=[0.2], wd_momentum=0.5,
            weight_decays=[0.01, 0.1])  # fmt: skip


def cells(lam_by_row):
    """A weight-decay-0 grid: one row per momentum, λ_net along lrs 0.1, 0.2, 0.4."""
    rows = []
    for m, lams in lam_by_row.items():
        for lr, lam in zip([0.1, 0.2, 0.4], lams, strict=True):
            phase = "ordered" if lam < -0.2 else "chaotic" if lam > 0.2 else "edge"
            rows.append({"lr": lr, "momentum": m, "lam_net": lam, "lam_train": -lam,
                         "net_converged": True, "phase": phase, "eta_eff": lr / (1 - m),
                         "weight_decay": 0.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_grid_cells_lists_weight_decay_zero_then_the_weight_decay_grid():
    g = grid_cells(GRID)
    assert g[:6] == [(lr, m, 0.0) for lr in (0.1, 0.2, 0.4) for m in (0.0, 0.5)]
    assert g[6:] == [(0.2, 0.5, 0.01), (0.2, 0.5, 0.1)]


@pytest.mark.parametrize(
    "change, needle",
    [(dict(lrs=[0.1, 0.1]), "without repeats"), (dict(momenta=[1.0]), "[0, 1)"),
     (dict(weight_decays=[0.0]), "> 0"), (dict(wd_lrs=[0.3]), "wd_lrs ⊆ lrs")],
)  # fmt: skip
def test_check_grid_names_the_broken_parameter(change, needle):
    check_grid(GRID)
    with pytest.raises(ValueError, match=needle.replace("[", r"\[").replace(")", r"\)")):
        check_grid(dict(GRID, **change))


def test_boundary_collapses_on_the_effective_learning_rate():
    # row μ = 0 crosses between η = 0.1 and 0.2 at √0.02; row μ = 0.5 between 0.2 and 0.4 at
    # √0.08, so η/(1 − μ) differs by a factor 4: not one value
    b = phase_boundary(cells({0.0: [-1.0, 1.0, 2.0], 0.5: [-1.0, -1.0, 1.0]}))
    assert b["counts"] == {"ordered": 3, "edge": 0, "chaotic": 3}
    assert [round(c["at"], 6) for c in b["crossings"]] == [0.141421, 0.282843]
    assert b["boundary_ok"] and b["words"]["b_collapse"].startswith("not one value")
    assert not phase_boundary(cells({0.0: [-1.0, 1.0, 2.0], 0.5: [-1.0, 1.0, 2.0]}))["boundary_ok"]
    # a row at μ = 0.5 crossing at half the learning rate collapses
    d = cells({0.0: [-1.0, -1.0, 1.0], 0.5: [-1.0, 1.0, 2.0]})
    b = phase_boundary(d)
    assert b["words"]["b_eta_eff_at"] == "0.283, 0.283"
    assert b["words"]["b_collapse"].startswith("close to one value")
    assert b["boundary_ok"] and b["words"]["b_boundary"] == "lies inside the grid"
    assert b["words"]["n_cross_train"] == "2"  # λ_train = −λ_net changes sign in both rows


def test_a_single_crossing_says_so():
    b = phase_boundary(cells({0.0: [-1.0, 1.0, 2.0], 0.5: [1.0, 1.0, 2.0]}))
    assert b["words"]["b_collapse"] == "only one row crosses."
    assert b["words"]["b_at"] == "μ = 0 at η ≈ 0.141"


def test_training_map_signs_settled_only_for_chaotic_drift():
    d = pd.DataFrame({"lr": [0.1, 0.2, 0.4], "momentum": [0.0] * 3,
                      "phase": ["ordered", "edge", "chaotic"],
                      "lam_train": [-1.0, 0.05, 2.0], "lam_train_se": [0.1] * 3,
                      "lam_train_half": [-1.0, 0.05, 3.0], "lam_train_half_se": [0.1] * 3,
                      "train_converged": [True, True, False]})  # fmt: skip
    t = training_map_signs(d, net_conv=True)
    assert t["counts"] == {"negative": 1, "≈ 0": 1, "positive": 1}
    assert (t["n_conv"], t["train_conv"], t["drift_ok"], t["lyap_conv"]) == (2, False, True, True)
    assert "the one that does not is η = 0.4, μ = 0 (chaotic" in t["words"]["t_drifting"]
    # an edge cell that fails the check has no settled sign
    t = training_map_signs(d.assign(train_converged=[True, False, True]), net_conv=True)
    assert not t["lyap_conv"] and t["words"]["t_lyap_conv"] == "not converged"
    assert not training_map_signs(d, net_conv=False)["lyap_conv"]


def test_charts_build():
    d = cells({0.0: [-1.0, 1.0, 2.0]}).assign(edge_region=False)
    assert heatmap(d, "lam_net", "t").to_dict()["layer"][0]["mark"]["type"] == "rect"
    run = pd.DataFrame({"cell": [0, 0, 1], "step": [5, 10, 5], "running": [0.1, 0.2, 0.3]})
    assert len(running_chart(run, d).data) == 3
    assert (
        cell_scatter(d, "lam_net", "lr", "x", "y", "t", log=True).to_dict()["mark"]["type"]
        == "point"
    )


def test_heatmap_pair_draws_both_values_on_independent_scales():
    from fpt_core.book.phase_diagram import heatmap_pair

    d = pd.DataFrame({"lr": [0.1, 0.2], "momentum": [0.0, 0.0], "eta_eff": [0.1, 0.2],
                      "phase": ["ordered", "chaotic"], "v": [-1.0, 1.0], "w": [0.5, 0.7]})  # fmt: skip
    c = heatmap_pair(d, ("v", "λ"), ("w", "acc", ".3f", False)).to_dict()
    left, right = c["hconcat"]
    assert (left["title"], right["title"]) == ("λ", "acc")
    assert c["resolve"]["scale"]["color"] == "independent"
    assert left["layer"][0]["encoding"]["color"]["scale"]["scheme"] == "redblue"
    assert right["layer"][0]["encoding"]["color"]["scale"]["scheme"] == "viridis"
    assert right["layer"][1]["encoding"]["text"]["field"] == "label"
