"""Tests of fpt_core.spectra.htsr: ESDs, Hill / Clauset power-law fits, FARMS, layer_alphas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, optimize, stats
from torch import nn

from fpt_core.spectra.farms import FarmsFit, farms_alpha, farms_esd
from fpt_core.spectra.htsr import PowerLawFit, clauset_alpha, esd, hill_alpha, weight_layer_names
from fpt_core.spectra.layers import layer_alphas


def pareto(rng: np.random.Generator, alpha: float, n: int, xmin: float = 1.0) -> np.ndarray:
    """Samples of p(x) ∝ x^(−α), x ≥ xmin, by inversion: x = xmin · U^(−1/(α−1))."""
    return xmin * rng.random(n) ** (-1.0 / (alpha - 1.0))


def mp_hill_alpha(y: float) -> float:
    """Large-N limit of the median Hill α of a Gaussian matrix's ESD (Marchenko–Pastur, y ≤ 1).

    α∞ = 1 + (1/2) / ∫_{med}^{b} ln(x/med) ρ(x) dx, ρ the MP density of ratio y = cols/rows on
    [a, b] = [(1 − √y)², (1 + √y)²], med its median (half of the mass lies in the tail).
    """
    a, b = (1 - math.sqrt(y)) ** 2, (1 + math.sqrt(y)) ** 2

    def rho(x):
        return math.sqrt(max((b - x) * (x - a), 0.0)) / (2 * math.pi * y * x)

    med = optimize.brentq(lambda t: integrate.quad(rho, a, t, limit=200)[0] - 0.5, a + 1e-12, b)
    tail = integrate.quad(lambda x: math.log(x / med) * rho(x), med, b, limit=200)[0]
    return 1.0 + 0.5 / tail


# ----------------------------------------------------------------------------- estimators


@pytest.mark.parametrize("n", [1_000, 100_000])
def test_hill_recovers_pareto_alpha_at_true_xmin(n):
    # MLE: α̂ − 1 = n / Gamma(n, α − 1), standard error (α − 1)/√n; 4 SE ≈ 6e-5 two-sided.
    alpha = 2.5
    x = pareto(np.random.default_rng(1), alpha, n)
    fit = hill_alpha(x, xmin=1.0)
    assert isinstance(fit, PowerLawFit)
    assert fit.n_tail == fit.n == n and fit.xmin == 1.0
    assert abs(fit.alpha - alpha) < 4 * (alpha - 1) / math.sqrt(n)
    # the fitted law is the true one: KS distance below the 0.1 % Kolmogorov critical value
    assert fit.ks_distance < 1.95 / math.sqrt(n)


def test_hill_median_convention_by_hand():
    # N = 4, xmin_pos = 2: i = 2, xmin = 4, tail {4, 8} (λ_xmin counted), Σ ln = ln 2
    fit = hill_alpha([8.0, 1.0, 4.0, 2.0])
    assert fit.xmin == 4.0 and fit.n_tail == 2 and fit.n == 4
    assert fit.alpha == pytest.approx(1 + 2 / math.log(2), rel=1e-14)
    # xmin_pos = 4: i = 1, xmin = 2, tail {2, 4, 8}, Σ ln = ln 2 + ln 4 = 3 ln 2
    fit = hill_alpha([1.0, 2.0, 4.0, 8.0], xmin_pos=4)
    assert fit.alpha == pytest.approx(1 + 1 / math.log(2), rel=1e-14)
    # KS: F(x) = 1 − (x/2)^(−1/ln 2) = 0, 1 − e^−1, 1 − e^−2 at x = 2, 4, 8 against the steps
    # 0→1/3, 1/3→2/3, 2/3→1: deviations 1/3, 0.299, 0.198 → D = 1/3
    assert fit.ks_distance == pytest.approx(1 / 3, rel=1e-12)
    # degenerate tail (all values equal): α = inf, KS undefined
    flat = hill_alpha(np.ones(10))
    assert flat.alpha == math.inf and math.isnan(flat.ks_distance)


@pytest.mark.parametrize("n, n_candidates", [(1_000, None), (100_000, 200)])
def test_clauset_recovers_pareto_alpha(n, n_candidates):
    alpha = 2.5
    fit = clauset_alpha(pareto(np.random.default_rng(2), alpha, n), n_candidates=n_candidates)
    assert fit.n == n and 10 <= fit.n_tail <= n
    assert abs(fit.alpha - alpha) < 4 * (alpha - 1) / math.sqrt(fit.n_tail)
    assert fit.n_tail > n // 10  # a pure power law: KS keeps a large tail


def test_clauset_finds_xmin_of_body_plus_tail():
    # 7000 uniform values on (0.2, 1) below a Pareto tail (α = 3, xmin = 1) of 3000 values.
    rng = np.random.default_rng(0)
    alpha = 3.0
    x = np.r_[rng.uniform(0.2, 1.0, 7000), pareto(rng, alpha, 3000)]
    fit = clauset_alpha(rng.permutation(x))
    # xmin = 0.9 would put ~875 uniform values into the tail; the KS fit must stay out of them
    assert fit.xmin >= 0.9
    assert abs(fit.alpha - alpha) < 4 * (alpha - 1) / math.sqrt(fit.n_tail)


def test_clauset_matches_brute_force_ks_scan():
    x = np.sort(
        pareto(np.random.default_rng(3), 2.0, 300) * np.r_[np.ones(150), 1.5 * np.ones(150)]
    )
    fit = clauset_alpha(x, min_tail=10)
    best = (math.inf, None)
    for i in range(x.size - 9):
        tail = x[i:]
        a = 1 + tail.size / np.sum(np.log(tail / tail[0]))
        d = stats.kstest(tail, lambda t, a=a, m=tail[0]: 1 - (t / m) ** (1 - a)).statistic
        best = min(best, (d, (a, tail[0], tail.size)), key=lambda b: b[0])
    d, (a, xmin, n_tail) = best
    assert fit.ks_distance == pytest.approx(d, rel=1e-9)
    assert (fit.alpha, fit.xmin, fit.n_tail) == (pytest.approx(a, rel=1e-9), xmin, n_tail)


# -------------------------------------------------------------------------------------- ESD


def test_esd_orthogonal_and_diagonal():
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.standard_normal((80, 50)))  # orthonormal columns: WᵀW = I
    np.testing.assert_allclose(esd(q), np.ones(50), atol=1e-12)
    np.testing.assert_allclose(esd(torch.from_numpy(q.T.copy())), np.ones(50), atol=1e-12)
    d = np.array([3.0, -0.5, 2.0, 1.0, 0.25])
    np.testing.assert_allclose(esd(np.diag(d)), np.sort(d**2), rtol=1e-13)
    w = rng.standard_normal((30, 70))  # out < in: the 30 non-zero eigenvalues of WᵀW
    np.testing.assert_allclose(esd(w), np.linalg.eigvalsh(w.T @ w)[-30:], rtol=1e-9)


def test_esd_conv_slices_pooled_and_scaled():
    # Conv2d weight (out=6, in=4, 2, 3) whose slice (i, j) is diag(d_ij) padded: known spectrum
    rng = np.random.default_rng(5)
    w = np.zeros((6, 4, 2, 3))
    expected = []
    for i in range(2):
        for j in range(3):
            d = rng.uniform(0.5, 2.0, 4)
            w[:4, :, i, j] = np.diag(d)
            expected.append(0.5 * d**2)  # scaled by √0.5 → eigenvalues × 0.5
    got = esd(torch.tensor(w, dtype=torch.float32))
    assert got.dtype == np.float64 and got.shape == (24,)
    assert np.all(np.diff(got) >= 0)
    np.testing.assert_allclose(got, np.sort(np.concatenate(expected)), rtol=1e-6)
    np.testing.assert_allclose(esd(w, conv_norm=1.0), 2 * got, rtol=1e-6)
    # Conv1d (out, in, k): k slices
    w1 = np.zeros((3, 3, 2))
    w1[:, :, 0], w1[:, :, 1] = np.diag([1.0, 2.0, 3.0]), 2 * np.eye(3)
    np.testing.assert_allclose(esd(w1), np.sort(0.5 * np.r_[1.0, 4.0, 9.0, 4.0, 4.0, 4.0]))


# ------------------------------------------------------------------------------------ FARMS


def test_farms_removes_aspect_ratio_bias():
    # Gaussian 1000 × n: the plain median-Hill α follows the Marchenko–Pastur shape of ratio
    # y = n/1000; FARMS (square windows) sees y = 1 for every n. Tolerance 4 (α − 1)/√n_tail is
    # the iid-sample standard error ×4 (eigenvalues are more rigid than iid samples).
    # Measured (seed 0): plain 5.065 / 2.718 / 2.135, FARMS 2.132 / 2.123 / 2.135 for
    # n = 100 / 500 / 1000; MP limits 4.873 / 2.706 / 2.122.
    rng = np.random.default_rng(0)
    square = mp_hill_alpha(1.0)  # 2.1217
    plain, farms = [], []
    for n in (100, 500, 1000):
        w = rng.standard_normal((1000, n))
        p = hill_alpha(esd(w))
        f = farms_alpha(w)
        assert isinstance(f, FarmsFit) and f.window == (n, n) and f.n == 1000
        assert f.n_windows == 1000 // n
        limit = mp_hill_alpha(n / 1000)
        assert abs(p.alpha - limit) < 4 * (limit - 1) / math.sqrt(p.n_tail)
        assert abs(f.alpha - square) < 4 * (square - 1) / math.sqrt(f.n / 2)
        plain.append(p.alpha)
        farms.append(f.alpha)
    assert farms[-1] == pytest.approx(plain[-1], rel=1e-12)  # square: one window = the matrix
    spread_plain, spread_farms = np.ptp(plain), np.ptp(farms)
    assert spread_plain > 2.0  # measured 2.93
    assert spread_farms < 0.05 * spread_plain  # measured 0.013


def test_farms_grid_and_conv_blocks():
    w = np.arange(40, dtype=float).reshape(4, 10) ** 0.5  # oriented to 10 × 4: windows 4 × 4
    blocks_default = farms_esd(w)  # row starts 0, 3, 6 (step ≤ 4, end included)
    manual = np.concatenate([esd(w.T[i : i + 4]) for i in (0, 3, 6)])
    np.testing.assert_allclose(blocks_default, np.sort(manual), rtol=1e-10)
    manual2 = np.concatenate([esd(w.T[i : i + 4]) for i in (0, 2, 4, 6)])  # stride 2
    np.testing.assert_allclose(farms_esd(w, stride=2), np.sort(manual2), rtol=1e-10)
    wide = farms_alpha(np.random.default_rng(6).standard_normal((100, 20)), aspect_ratio=2)
    assert wide.window == (40, 20) and wide.n_windows == 3
    # Conv2d: one fit per window position, pooled over the 9 kernel slices, then averaged
    conv = torch.nn.Conv2d(8, 32, 3)
    fit = farms_alpha(conv.weight)
    assert fit.window == (8, 8) and fit.n_windows == 4 and fit.block_alphas.shape == (4,)
    assert fit.alpha == pytest.approx(float(np.mean(fit.block_alphas)))
    slices = conv.weight.detach().double().flatten(2).permute(2, 0, 1) * math.sqrt(0.5)
    block0 = torch.linalg.svdvals(slices[:, 0:8, :]).square().flatten().numpy()
    assert fit.block_alphas[0] == pytest.approx(hill_alpha(block0).alpha, rel=1e-10)


# ----------------------------------------------------------------------------------- models


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)  # 9 slices × 3 = 27 eigenvalues
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv1d(8, 16, 3)  # 3 slices × 8 = 24
        self.tiny = nn.Conv2d(1, 2, 1)  # 1 eigenvalue: skipped
        self.fc1 = nn.Linear(64, 32)  # 32
        self.fc2 = nn.Linear(32, 5)  # 5: skipped at min_eigs = 10


def test_layer_alphas_names_skipping_and_values():
    torch.manual_seed(0)
    model = SmallCNN()
    assert weight_layer_names(model) == ["conv1", "conv2", "tiny", "fc1", "fc2"]
    expected = ["conv1", "conv2", "fc1"]
    for method in ("hill", "clauset", "farms"):
        res = layer_alphas(model, method)
        assert list(res) == expected
        assert all(np.isfinite(r.alpha) and r.alpha > 1 for r in res.values())
    res = layer_alphas(model)
    assert res["fc1"].alpha == hill_alpha(esd(model.fc1.weight)).alpha
    assert list(layer_alphas(model, min_eigs=5)) == ["conv1", "conv2", "fc1", "fc2"]


# ------------------------------------------------------------------------------- bad input


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="weight"):
        esd(np.ones(5))
    with pytest.raises(ValueError, match="weight"):
        esd(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="conv_norm"):
        esd(np.ones((3, 3)), conv_norm=0)
    with pytest.raises(ValueError, match="xmin_pos"):
        hill_alpha([1.0, 2.0, 3.0], xmin_pos=1)
    with pytest.raises(ValueError, match="eigenvalues"):
        hill_alpha([])
    with pytest.raises(ValueError, match="eigenvalues"):
        hill_alpha([1.0, -2.0, 3.0])
    with pytest.raises(ValueError, match="eigenvalues"):
        clauset_alpha([])
    with pytest.raises(ValueError, match="min_tail"):
        clauset_alpha(np.arange(1.0, 20.0), min_tail=1)
    with pytest.raises(ValueError, match="xmin"):
        hill_alpha([1.0, 2.0], xmin=-1.0)
    with pytest.raises(ValueError, match="aspect_ratio"):
        farms_alpha(np.ones((10, 4)), aspect_ratio=0.5)
    with pytest.raises(ValueError, match="size"):
        farms_esd(np.ones((10, 4)), size=5)
    with pytest.raises(ValueError, match="method"):
        layer_alphas(nn.Linear(20, 20), "median")
    with pytest.raises(ValueError, match="min_eigs"):
        layer_alphas(nn.Linear(20, 20), min_eigs=1)
