"""Tests of fpt_core.dynamics.chaos against known answers (maps with exact exponents, linear Jacobians)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from fpt_core.dynamics.chaos import (
    edge_contour,
    jacobian_norm,
    lyapunov_benettin,
    phase_grid,
    scaling_collapse,
)

F64 = torch.float64

# Non-normal 2-D map: upper triangular, eigenvalues 0.9 and 0.8, a large shear (5) so that the
# one-step stretch of a generic vector (up to ‖A‖₂ ≈ 5.2) is far from the asymptotic 0.9.
A_NONNORMAL = torch.tensor([[0.9, 5.0], [0.0, 0.8]], dtype=F64)


def _linear_step(a: torch.Tensor):
    return lambda x, t: x @ a.T


def _logistic(x: torch.Tensor, t: int) -> torch.Tensor:
    return 4.0 * x * (1.0 - x)


# ----------------------------------------------------------------------------- Lyapunov: maps


def test_logistic_r4_is_ln2():
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(64, generator=g, dtype=F64)
    res = lyapunov_benettin(_logistic, x0, n_steps=2000, transient=100)
    # ln|f'| of the r=4 map is ln 2 plus a coboundary, so per-pair errors are O(1)/n_steps and
    # the 64 independent pairs give an honest standard error; 4 SE is the tolerance.
    assert res.stderr < 1e-3
    assert abs(res.exponent - math.log(2)) < 4 * res.stderr
    assert res.per_pair.shape == (64,)
    assert res.running.shape == (2000,) and res.running_steps[-1] == 2000
    assert res.running[-1] == pytest.approx(res.exponent, rel=1e-12)


@pytest.mark.parametrize(("a", "d0"), [(0.5, 1e-8), (-0.5, 1e-8), (1.3, 1e-4)])
def test_scalar_linear_map_is_ln_abs_a(a, d0):
    x0 = torch.linspace(0.1, 1.0, 4, dtype=F64)
    step = _linear_step(torch.tensor([[a]], dtype=F64))
    res = lyapunov_benettin(step, x0[:, None], n_steps=50, d0=d0)
    # Exact up to rounding: the reference and companion are each rounded with absolute error
    # ≤ eps·|x| per step, so |ln(d/d^0) − ln|a|| ≲ 4 eps max|x| / d0 with max|x| = max(1, |a|^50).
    tol = 4 * np.finfo(np.float64).eps * max(1.0, abs(a) ** 50) / d0
    np.testing.assert_allclose(res.per_pair, math.log(abs(a)), rtol=0, atol=tol)


def test_renorm_every_and_remainder_interval():
    # k = 7 does not divide 50: the last interval has 1 step; a linear map is exact regardless.
    res = lyapunov_benettin(
        _linear_step(torch.tensor([[0.5]], dtype=F64)),
        torch.ones(3, 1, dtype=F64),
        n_steps=50,
        renorm_every=7,
    )
    assert res.running_steps.tolist() == [7, 14, 21, 28, 35, 42, 49, 50]
    np.testing.assert_allclose(res.log_stretch[:-1], 7 * math.log(0.5), atol=1e-7)
    assert res.exponent == pytest.approx(math.log(0.5), abs=5e-8)


def test_nonnormal_2d_map_is_log_spectral_radius():
    x0 = torch.randn(8, 2, generator=torch.Generator().manual_seed(2), dtype=F64)
    res = lyapunov_benettin(_linear_step(A_NONNORMAL), x0, n_steps=400, transient=400)
    # After the transient the direction is aligned with the leading eigenvector up to
    # (0.8/0.9)^400 ≈ 3e-21, so each step stretches by exactly 0.9 up to rounding.
    np.testing.assert_allclose(res.per_pair, math.log(0.9), atol=1e-9)
    # Without transient the estimate carries the non-normal transient growth. For a linear map
    # the renormalised sum telescopes to λ_n = (1/n) ln(‖Aⁿu‖/‖u‖) ≤ ln ρ + ln κ₂(V)/n
    # (V = eigenvector matrix), a rigorous upper bound; the excess is visible at n = 400.
    raw = lyapunov_benettin(_linear_step(A_NONNORMAL), x0, n_steps=400)
    evecs = np.linalg.eig(A_NONNORMAL.numpy())[1]
    bound = math.log(np.linalg.cond(evecs)) / 400
    assert np.all(raw.per_pair - math.log(0.9) <= bound + 1e-12)
    assert np.max(np.abs(raw.per_pair - math.log(0.9))) > 1e-3


def test_complex_eigenvalue_map_within_condition_bound():
    # Rotation–shear, eigenvalues 0.6 ± 0.775i of equal modulus ρ = sqrt(0.96): then
    # ρⁿ‖u‖/κ₂(V) ≤ ‖Aⁿu‖ ≤ κ₂(V) ρⁿ‖u‖, so |λ_n − ln ρ| ≤ ln κ₂(V)/n rigorously.
    a = torch.tensor([[0.6, -1.5], [0.4, 0.6]], dtype=F64)
    rho = float(np.max(np.abs(np.linalg.eigvals(a.numpy()))))
    x0 = torch.randn(6, 2, generator=torch.Generator().manual_seed(3), dtype=F64)
    res = lyapunov_benettin(_linear_step(a), x0, n_steps=500, renorm_every=5)
    bound = math.log(np.linalg.cond(np.linalg.eig(a.numpy())[1])) / 500
    assert np.all(np.abs(res.per_pair - math.log(rho)) <= bound + 1e-12)


def test_dict_state_gives_same_number_as_tensor():
    x0 = torch.randn(8, 2, generator=torch.Generator().manual_seed(2), dtype=F64)
    a = A_NONNORMAL

    def dict_step(s, t):
        u, v = s["layer"]["u"], s["v"]
        return {"layer": {"u": a[0, 0] * u + a[0, 1] * v}, "v": a[1, 0] * u + a[1, 1] * v}

    state = {"layer": {"u": x0[:, 0].clone()}, "v": x0[:, 1].clone()}
    res_d = lyapunov_benettin(dict_step, state, n_steps=400, transient=400)
    res_t = lyapunov_benettin(_linear_step(a), x0, n_steps=400, transient=400)
    np.testing.assert_allclose(res_d.per_pair, res_t.per_pair, atol=1e-9)
    assert res_d.exponent == pytest.approx(math.log(0.9), abs=1e-9)


def test_explicit_direction_matches_pytree_and_tensor():
    # With the same initial direction and no transient both representations are the same
    # arithmetic, so the results agree to rounding.
    x0 = torch.randn(5, 2, generator=torch.Generator().manual_seed(4), dtype=F64)
    u = torch.tensor([1.0, -2.0], dtype=F64)
    a = A_NONNORMAL
    res_t = lyapunov_benettin(_linear_step(a), x0, n_steps=30, direction=u)

    def dict_step(s, t):
        return {"p": a[0, 0] * s["p"] + a[0, 1] * s["q"], "q": a[1, 1] * s["q"]}

    state = {"p": x0[:, 0].clone(), "q": x0[:, 1].clone()}
    res_d = lyapunov_benettin(dict_step, state, n_steps=30, direction={"p": u[0], "q": u[1]})
    np.testing.assert_allclose(res_d.log_stretch, res_t.log_stretch, rtol=1e-7, atol=1e-9)


def test_one_call_per_step_with_stacked_batch_and_step_index():
    calls = []

    def step(x, t):
        calls.append((t, tuple(x.shape)))
        return 0.5 * x

    lyapunov_benettin(step, torch.ones(3, 2, dtype=F64), n_steps=6, transient=4)
    assert calls == [(t, (6, 2)) for t in range(10)]


def test_shared_noise_cancels_and_n_pairs_replicates_x0():
    # x ↦ 0.5 x + ξ_t with ξ_t the same for every row (the "same minibatch" of step t): the
    # separation obeys δ ↦ 0.5 δ exactly, so λ = ln 0.5 although each trajectory is noisy.
    def noisy(x, t):
        xi = torch.randn(x.shape[1:], generator=torch.Generator().manual_seed(t), dtype=F64)
        return 0.5 * x + xi

    res = lyapunov_benettin(noisy, torch.zeros(3, dtype=F64), n_steps=100, n_pairs=4)
    assert res.n_pairs == 4
    # |x| ≲ 2·4 (geometric sum of unit noise), so rounding error per step ≲ 2 eps·8/1e-8 ≈ 4e-7
    np.testing.assert_allclose(res.per_pair, math.log(0.5), atol=1e-6)


def test_float32_state_is_supported():
    x0 = torch.rand(4, 10, generator=torch.Generator().manual_seed(5))  # float32
    res = lyapunov_benettin(lambda x, t: 0.5 * x, x0, n_steps=20, d0=1e-3)
    # separations are measured in float64 from realised float32 states: rounding of a
    # 1e-3 perturbation on O(1) values (eps32 ≈ 1.2e-7) gives ≲ 1e-4 relative error per step
    assert res.exponent == pytest.approx(math.log(0.5), abs=1e-4)
    assert res.per_pair.dtype == np.float64
    # 1e-10 is far below the float32 spacing of O(1) values: the companion would equal the
    # reference, which must be refused rather than reported as λ = −inf.
    with pytest.raises(ValueError, match="d0"):
        lyapunov_benettin(lambda x, t: 0.5 * x, x0, n_steps=5, d0=1e-10)


def test_collapsed_separation_is_minus_inf():
    # x ↦ 0 is super-stable: the separation becomes exactly 0 after one step.
    res = lyapunov_benettin(lambda x, t: 0.0 * x, torch.ones(2, 3, dtype=F64), n_steps=5)
    assert np.all(res.per_pair == -np.inf)


def test_per_epoch_conversion():
    res = lyapunov_benettin(_logistic, torch.tensor([0.1, 0.2, 0.3], dtype=F64), n_steps=200)
    ep = res.per_epoch(50)
    assert ep.unit == "epoch" and ep.steps_per_unit == 50
    assert ep.exponent == pytest.approx(50 * res.exponent, rel=1e-14)
    np.testing.assert_allclose(ep.per_pair, 50 * res.per_pair, rtol=1e-14)
    assert ep.stderr == pytest.approx(50 * res.stderr, rel=1e-14)
    with pytest.raises(ValueError, match="per-step"):
        ep.per_epoch(2)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        res.per_epoch(0)


def test_reproducible_with_default_generator():
    x0 = torch.tensor([0.1, 0.2], dtype=F64)
    r1 = lyapunov_benettin(_logistic, x0, n_steps=100)
    r2 = lyapunov_benettin(_logistic, x0, n_steps=100)
    np.testing.assert_array_equal(r1.log_stretch, r2.log_stretch)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 10, "renorm_every": 0}, "renorm_every"),
        ({"n_steps": 10, "transient": -1}, "transient"),
        ({"n_steps": 10, "d0": 0.0}, "d0"),
        ({"n_steps": 10, "d0": float("nan")}, "d0"),
        ({"n_steps": 10, "n_pairs": 0}, "n_pairs"),
        ({"n_steps": 10, "generator": 3}, "generator"),
        ({"n_steps": 10, "direction": torch.zeros(2, dtype=F64)}, "direction"),
        ({"n_steps": 10, "d0": 1e-30}, "d0"),
    ],
)
def test_lyapunov_bad_inputs(kwargs, name):
    with pytest.raises(ValueError, match=name):
        lyapunov_benettin(_linear_step(A_NONNORMAL), torch.ones(3, 2, dtype=F64), **kwargs)


def test_lyapunov_bad_state_and_step():
    with pytest.raises(ValueError, match="x0"):
        lyapunov_benettin(_logistic, torch.tensor(0.3, dtype=F64), n_steps=5)  # no pair dim
    with pytest.raises(ValueError, match="x0"):
        lyapunov_benettin(_logistic, {"a": torch.ones(2), "b": torch.ones(3)}, n_steps=5)
    with pytest.raises(ValueError, match="x0"):
        lyapunov_benettin(_logistic, torch.ones(2, dtype=torch.int64), n_steps=5)
    with pytest.raises(ValueError, match="step"):
        lyapunov_benettin(lambda x, t: x[:, :1], torch.ones(2, 2, dtype=F64), n_steps=5)
    with pytest.raises(ValueError, match="step"):
        lyapunov_benettin(None, torch.ones(2, 2, dtype=F64), n_steps=5)


# ----------------------------------------------------------------------------- Jacobian norm


def test_jacobian_norm_of_linear_map():
    g = torch.Generator().manual_seed(6)
    w = torch.randn(3, 5, generator=g, dtype=F64)
    x = torch.randn(7, 5, generator=g, dtype=F64)
    sv = torch.linalg.svdvals(w)
    fro = jacobian_norm(lambda z: z @ w.T, x)
    assert fro.mean == pytest.approx(float(torch.linalg.norm(w)), rel=1e-12)
    assert fro.sd == pytest.approx(0.0, abs=1e-12)
    assert (fro.in_dim, fro.out_dim, fro.n) == (5, 3, 7)
    spec = jacobian_norm(lambda z: z @ w.T, x, ord="spectral")
    assert spec.mean == pytest.approx(float(sv[0]), rel=1e-12)
    rms = jacobian_norm(lambda z: w @ z, x, ord="rms", batched=False)
    assert rms.mean == pytest.approx(float(torch.linalg.norm(w)) / math.sqrt(5), rel=1e-12)


def test_jacobian_norm_nonlinear_per_input():
    # J(x) = diag(1 − tanh²(Wx)) W: varies per input; compare each value and the averages.
    g = torch.Generator().manual_seed(7)
    w = torch.randn(4, 3, generator=g, dtype=F64)
    x = torch.randn(9, 3, generator=g, dtype=F64)
    res = jacobian_norm(lambda z: torch.tanh(z @ w.T), x, chunk_size=4)
    expected = np.array(
        [
            np.linalg.norm((1 - np.tanh(w.numpy() @ xi) ** 2)[:, None] * w.numpy())
            for xi in x.numpy()
        ]
    )
    np.testing.assert_allclose(res.per_input, expected, rtol=1e-12)
    assert res.mean == pytest.approx(expected.mean(), rel=1e-12)
    assert res.sd == pytest.approx(expected.std(ddof=1), rel=1e-10)
    assert res.stderr == pytest.approx(expected.std(ddof=1) / 3, rel=1e-10)


def test_jacobian_norm_bad_inputs():
    x = torch.ones(2, 3, dtype=F64)
    with pytest.raises(ValueError, match="ord"):
        jacobian_norm(lambda z: z, x, ord="nuc")
    with pytest.raises(ValueError, match="x"):
        jacobian_norm(lambda z: z, torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="chunk_size"):
        jacobian_norm(lambda z: z, x, chunk_size=0)


# ----------------------------------------------------------------------------- phase grid/edge


def test_phase_grid_tidy_frame():
    df = phase_grid(
        lambda p: {"prod": p["a"] * p["b"]}, {"a": [1, 2], "b": [10, 20, 30]}, progress=False
    )
    assert list(df.columns) == ["a", "b", "prod"]
    assert len(df) == 6
    assert df["prod"].tolist() == [10, 20, 30, 20, 40, 60]
    with pytest.raises(ValueError, match="grid"):
        phase_grid(lambda p: {}, {"a": []}, progress=False)
    with pytest.raises(ValueError, match="clash"):
        phase_grid(lambda p: {"a": 1}, {"a": [1]}, progress=False)


def test_edge_contour_known_zero_line():
    xs = np.linspace(0.0, 1.0, 5)
    ys = np.linspace(0.0, 2.0, 11)
    # repeated cells (seeds) are averaged: per-seed offsets −0.1, 0.05, 0.35 have mean 0.1, while
    # first = −0.1, median = 0.05, max = 0.35 (and min = −0.1, last = 0.35) all differ from it
    offsets = (-0.1, 0.05, 0.35)
    rows = []
    for x in xs:
        edge = 0.5 + 0.3 * x if x < 1.0 else 5.0  # the last column has no crossing in [0, 2]
        for y in ys:
            for off in offsets:
                rows.append({"x": x, "y": y, "lyapunov": (y - edge) + off})
    df = pd.DataFrame(rows)
    out = edge_contour(df, "x", "y")
    # the seed mean (y − edge) + 0.1 is linear in y ⇒ linear interpolation is exact: y* = edge − 0.1
    np.testing.assert_allclose(out["y"].to_numpy()[:-1], 0.4 + 0.3 * xs[:-1], atol=1e-12)
    assert np.isnan(out["y"].iloc[-1])
    assert out["n_crossings"].tolist() == [1, 1, 1, 1, 0]
    # at level 0.3 the mean crosses at y* = edge + 0.2 (a sum over seeds would cross at y = edge)
    up = edge_contour(df, "x", "y", level=0.3)
    np.testing.assert_allclose(up["y"].to_numpy()[:-1], 0.7 + 0.3 * xs[:-1], atol=1e-12)
    assert np.isnan(up["y"].iloc[-1])


def test_edge_contour_log_y_and_level():
    lrs = np.logspace(-3, 0, 13)
    df = pd.DataFrame(
        [
            {"mu": m, "lr": lr, "v": np.log(lr) - np.log(0.01 * (1 + m))}
            for m in (0, 1)
            for lr in lrs
        ]
    )
    out = edge_contour(df, "mu", "lr", value="v", level=0.0, log_y=True)
    np.testing.assert_allclose(out["lr"], [0.01, 0.02], rtol=1e-12)
    shifted = edge_contour(df, "mu", "lr", value="v", level=math.log(2.0), log_y=True)
    np.testing.assert_allclose(shifted["lr"], [0.02, 0.04], rtol=1e-12)


def test_edge_contour_bad_inputs():
    df = pd.DataFrame({"x": [0, 0], "y": [0.0, 1.0], "lyapunov": [-1.0, 1.0]})
    with pytest.raises(ValueError, match="value"):
        edge_contour(df, "x", "y", value="missing")
    with pytest.raises(ValueError, match="log_y"):
        edge_contour(df, "x", "y", log_y=True)


# ----------------------------------------------------------------------------- scaling collapse


def _collapse_grid(time_fn, sigma=0.05, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for eta_eff in np.logspace(-2, 0, 5):
        for mu in (0.0, 0.5, 0.8, 0.9, 0.95):
            lr = eta_eff * (1 - mu)  # equal η_eff across momenta
            rows.append(
                {"lr": lr, "momentum": mu, "fpt": time_fn(lr, mu) * math.exp(sigma * rng.normal())}
            )
    return pd.DataFrame(rows)


def test_scaling_collapse_on_collapsing_data():
    df = _collapse_grid(lambda lr, mu: 3.0 * (lr / (1 - mu)) ** -1.0)
    res = scaling_collapse(df)
    assert res.n == 25 and res.n_tied_groups == 5
    assert abs(res.exponent + 1.0) < 4 * res.exponent_stderr
    assert res.r2_collapse > 0.99
    assert res.p_value > 0.01  # fixed seed; the restriction b₂ = −b₁ holds by construction
    # within-η_eff spread estimates the injected noise σ = 0.05 (20 dof ⇒ ±16% 1-sigma)
    assert 0.025 < res.within_sd < 0.08
    assert set(res.data.columns) >= {"eta_eff", "log_eta_eff", "log_time", "residual"}


def test_scaling_collapse_detects_non_collapsing_data():
    df = _collapse_grid(lambda lr, mu: 3.0 / lr)  # momentum irrelevant: depends on η alone
    res = scaling_collapse(df)
    assert res.p_value < 1e-6
    assert res.delta_r2 > 0.1
    assert res.within_sd > 10 * 0.05  # ln(1/(1−μ)) spans 0 … 3 within each η_eff group
    assert res.coef_lr == pytest.approx(-1.0, abs=0.05)
    assert res.coef_one_minus_mu == pytest.approx(0.0, abs=0.05)


def test_scaling_collapse_drops_unreached_and_validates():
    df = _collapse_grid(lambda lr, mu: 3.0 * (1 - mu) / lr)
    df.loc[0, "fpt"] = np.nan
    df.loc[1, "fpt"] = np.inf
    res = scaling_collapse(df)
    assert res.n_dropped == 2 and res.n == 23
    with pytest.raises(ValueError, match="momentum"):
        scaling_collapse(df.assign(momentum=1.0))
    with pytest.raises(ValueError, match="lr"):
        scaling_collapse(df.assign(lr=-1.0))
    with pytest.raises(ValueError, match="time"):
        scaling_collapse(df, time="missing")
    with pytest.raises(ValueError, match="vary"):
        scaling_collapse(df.assign(momentum=0.5))


def test_pair_that_loses_resolution_becomes_nan_others_go_on():
    # pair 0 grows by 1e12 per step in float32, so d0 = 1e-6 falls below its resolution;
    # pair 1 contracts by 1/2 and must still give ln(1/2)
    factor = torch.tensor([[1e12], [0.5]], dtype=torch.float32)

    def step(states, t):
        return states * torch.cat([factor, factor])

    x0 = torch.ones(2, 1, dtype=torch.float32)
    res = lyapunov_benettin(step, x0, n_steps=6, d0=1e-6)
    assert np.isnan(res.per_pair[0])
    assert res.per_pair[1] == pytest.approx(np.log(0.5), abs=1e-5)


def test_pairs_starting_from_nan_stay_nan():
    x0 = torch.tensor([[1.0], [float("nan")]], dtype=torch.float64)
    res = lyapunov_benettin(lambda s, t: 0.5 * s, x0, n_steps=5, d0=1e-6)
    assert np.isnan(res.per_pair[1])
    assert res.per_pair[0] == pytest.approx(np.log(0.5), abs=1e-9)
