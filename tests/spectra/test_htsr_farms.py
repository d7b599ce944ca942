"""Tests of fpt_core.spectra.farms (sub-matrix windows as in the FARMS reference code, the aspect-ratio
table) and of the Hill standard error fpt_core.spectra.htsr.hill_se."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_htsr import mp_hill_alpha, pareto

from fpt_core.spectra.farms import FarmsFit, aspect_ratio_table, farms_alpha, farms_esd
from fpt_core.spectra.htsr import esd, hill_alpha, hill_se
from fpt_core.spectra.layers import layer_alphas


def test_windows_per_dim_places_evenly_spaced_overlapping_windows():
    w = np.random.default_rng(1).standard_normal((30, 30))
    # 3 positions per dimension of a 10-wide window over 30: starts 0, 10, 20 (exact tiling)
    manual = np.concatenate(
        [esd(w[i : i + 10, j : j + 10]) for i in (0, 10, 20) for j in (0, 10, 20)]
    )
    np.testing.assert_allclose(
        farms_esd(w, size=10, windows_per_dim=3), np.sort(manual), rtol=1e-10
    )
    # overlapping: 4 positions of a 12-wide window over 30: starts 0, 6, 12, 18
    fit = farms_alpha(w, size=12, windows_per_dim=4)
    assert isinstance(fit, FarmsFit) and fit.n_windows == 16 and fit.n == 16 * 12
    manual = np.concatenate(
        [esd(w[i : i + 12, j : j + 12]) for i in (0, 6, 12, 18) for j in (0, 6, 12, 18)]
    )
    assert fit.alpha == pytest.approx(hill_alpha(manual).alpha, rel=1e-12)
    # one position per dimension: the top-left window only
    one = farms_alpha(w, size=12, windows_per_dim=1)
    assert one.n_windows == 1 and one.alpha == pytest.approx(hill_alpha(esd(w[:12, :12])).alpha)
    # layer_alphas passes the window through
    import torch

    lin = torch.nn.Linear(30, 30)
    got = layer_alphas(lin, "farms", size=12, windows_per_dim=4)[""]
    assert got.n_windows == 16


def test_subwindow_farms_is_shape_free_on_random_matrices():
    # Gaussian (64·Q) × 64: plain median-Hill α follows the Marchenko–Pastur limit of ratio 1/Q
    # (2.12 at Q = 1, ≈ 4.4 at Q = 8), FARMS with 32 × 32 windows sees ratio 1 at every Q.
    # Measured (seed 0): FARMS 2.09–2.11, Hill 2.16 → 4.54.
    rng = np.random.default_rng(0)
    t = aspect_ratio_table(rng.standard_normal((512, 64)), [1, 2, 4, 8], cols=64, size=32)
    assert list(t["Q"]) == [1, 2, 4, 8] and list(t["rows"]) == [64, 128, 256, 512]
    for _, r in t.iterrows():
        limit = mp_hill_alpha(1.0 / r["Q"])
        assert abs(r["hill"] - limit) < 4 * r["hill_se"], (r["Q"], r["hill"], limit)
    assert np.all(np.diff(t["hill"]) > 0)
    square = mp_hill_alpha(1.0)
    # 81 windows of 32 eigenvalues pooled; windows overlap, so use the SE of one window's tail
    assert np.all(np.abs(t["farms"] - square) < 4 * (square - 1) / math.sqrt(16))
    assert np.ptp(t["farms"]) < 0.1 * (t["hill"].iloc[-1] - t["hill"].iloc[0])


def test_aspect_ratio_table_rejects_bad_input():
    w = np.ones((40, 10))
    with pytest.raises(ValueError, match="ratios"):
        aspect_ratio_table(w, [1, 8], cols=10, size=5)
    with pytest.raises(ValueError, match="cols"):
        aspect_ratio_table(w, [1], cols=11, size=5)
    with pytest.raises(ValueError, match="2-D"):
        aspect_ratio_table(np.ones((2, 3, 4)), [1], cols=2, size=1)
    with pytest.raises(ValueError, match="at most one"):
        farms_esd(w, size=5, stride=2, windows_per_dim=3)
    with pytest.raises(ValueError, match="windows_per_dim"):
        farms_esd(w, size=5, windows_per_dim=0)


def test_hill_se_matches_the_spread_of_the_estimator():
    # Pareto α = 2.5 at known xmin, n = 400: sd of α̂ over draws ≈ (α − 1)/√n = 0.075
    rng = np.random.default_rng(3)
    fits = [hill_alpha(pareto(rng, 2.5, 400), xmin=1.0) for _ in range(1000)]
    sd = float(np.std([f.alpha for f in fits], ddof=1))
    se = float(np.mean([hill_se(f) for f in fits]))
    assert se == pytest.approx(1.5 / 20, rel=0.05)
    assert sd == pytest.approx(se, rel=0.1)  # measured ratio ≈ 1.0
    assert math.isnan(hill_se(hill_alpha(np.ones(10))))
