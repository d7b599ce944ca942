"""Tests of the projected Benettin method, the tanh-MLP replicas and the edge grid (known answers)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import optimize

from fpt_core.dynamics.chaos import convergence, lyapunov_benettin
from fpt_core.dynamics.edge_claims import (
    edge_optimum,
    edge_region,
    scaling_absent,
    scaling_in_phase,
    weight_decay_effect,
)
from fpt_core.dynamics.edge_grid import classify, power_law, run_edge_grid, sign_change_rows
from fpt_core.dynamics.tanh_mlp import (
    ReplicaSGD,
    init_tanh_mlp,
    network_map_exponent,
    project_softmax_shift,
    tanh_mlp_logits,
    weight_decay_floor,
)

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny matrices: one thread avoids stalls of a shared, loaded CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _data(n=200, d=6, c=3, seed=0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=dtype)
    y = torch.randint(0, c, (n,), generator=g)
    return x, y


# ----------------------------------------------------------------- projection and convergence


def test_projection_removes_a_neutral_direction():
    # e1 is invariant with multiplier 1 (neutral); e2 contracts by 0.5 but feeds e1 (shear)
    a = torch.tensor([[1.0, 1.0], [0.0, 0.5]], dtype=F64)
    step = lambda x, t: x @ a.T  # noqa: E731
    x0 = torch.ones(3, 2, dtype=F64)
    plain = lyapunov_benettin(step, x0, n_steps=200, d0=1e-6)
    keep2 = torch.tensor([0.0, 1.0], dtype=F64)  # Π: remove e1 (ker Π = span e1, invariant)
    proj = lyapunov_benettin(step, x0, n_steps=200, d0=1e-6, project=lambda d: d * keep2)
    assert plain.exponent == pytest.approx(0.0, abs=0.05)  # ln|u·e1| / n: a transient
    assert proj.exponent == pytest.approx(math.log(0.5), abs=1e-10)  # the quotient map


def test_projection_of_the_whole_direction_fails_fast():
    with pytest.raises(ValueError, match="nonzero"):
        lyapunov_benettin(lambda x, t: x, torch.ones(2, 1), n_steps=3, project=lambda d: 0 * d)


def test_convergence_flags_a_drifting_exponent():
    x0 = torch.ones(4, 1, dtype=F64)
    steady = lyapunov_benettin(lambda x, t: 0.7 * x, x0, n_steps=100, renorm_every=5, d0=1e-6)
    c = convergence(steady)
    assert bool(c["converged"].iloc[0]) and c["half"].iloc[0] == pytest.approx(math.log(0.7))
    # multiplier e^{-1 + 2t/n}: whole-window mean 0, last half +0.5: not converged
    drift = lyapunov_benettin(
        lambda x, t: x * math.exp(-1 + 2 * t / 100), x0, n_steps=100, renorm_every=5, d0=1e-6
    )
    c = convergence(drift)
    assert not bool(c["converged"].iloc[0])
    assert c["half"].iloc[0] > c["full"].iloc[0] + 0.4
    with pytest.raises(ValueError, match="n_groups"):
        convergence(steady, 3)


# ----------------------------------------------------------------- replicas against torch.optim


def test_replica_sgd_equals_torch_sgd():
    x, y = _data()
    lr, mu, wd, batch = 0.3, 0.8, 0.01, 20
    p0 = init_tanh_mlp([6, 5, 5, 3], [4], dtype=F64)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 5), torch.nn.Tanh(),
        torch.nn.Linear(5, 3),
    ).double()  # fmt: skip
    with torch.no_grad():
        for i, layer in enumerate([net[0], net[2], net[4]]):
            layer.weight.copy_(p0[f"W{i}"][0])
            layer.bias.copy_(p0[f"b{i}"][0])
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=mu, weight_decay=wd)
    smap = ReplicaSGD(x, y, lr=[lr], momentum=[mu], weight_decay=[wd], seeds=[4], batch_size=batch)
    state = smap.x0(p0)
    for t in range(25):
        idx = smap.batch_indices(t)[0]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
        opt.step()
        state = smap(state, t)
    assert torch.allclose(state["params"]["W1"][0], net[2].weight, atol=1e-10)
    assert torch.allclose(state["params"]["b2"][0], net[4].bias, atol=1e-10)
    buf = opt.state[net[4].bias]["momentum_buffer"]
    assert torch.allclose(state["velocity"]["b2"][0], lr * buf, atol=1e-10)


def test_bad_hyperparameters_fail_fast():
    x, y = _data()
    with pytest.raises(ValueError, match="momentum"):
        ReplicaSGD(x, y, lr=[0.1], momentum=[1.0], weight_decay=[0.0], seeds=[0], batch_size=10)
    with pytest.raises(ValueError, match="one value per replica"):
        ReplicaSGD(x, y, lr=[0.1, 0.2], momentum=[0.0], weight_decay=[0.0], seeds=[0], batch_size=1)
    with pytest.raises(ValueError, match="momentum"):
        weight_decay_floor(0.1, -0.1, 0.0)


# ----------------------------------------------------------------- the softmax shift and weight decay


def _shift_run(wd, mu, lr=0.2, n_steps=300, project=None):
    x, y = _data()
    seeds = [0, 1]
    smap = ReplicaSGD(x, y, lr=[lr] * 2, momentum=[mu] * 2, weight_decay=[wd] * 2, seeds=seeds,
                      batch_size=20)  # fmt: skip
    state = smap.x0(init_tanh_mlp([6, 5, 5, 3], seeds, dtype=F64))
    direction = {n: {k: torch.zeros_like(v) for k, v in d.items()} for n, d in state.items()}
    direction["params"]["b2"] = torch.ones_like(state["params"]["b2"])  # all output biases up
    return lyapunov_benettin(smap, state, n_steps=n_steps, renorm_every=10, d0=1e-6,
                             direction=direction, project=project)  # fmt: skip


def test_softmax_shift_is_exactly_neutral_without_weight_decay():
    assert _shift_run(0.0, 0.5).exponent == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("wd, mu", [(0.05, 0.5), (0.5, 0.0), (3.0, 0.9)])
def test_weight_decay_floor_is_the_exponent_of_the_shift(wd, mu):
    measured = _shift_run(wd, mu, n_steps=600).exponent
    assert measured == pytest.approx(weight_decay_floor(0.2, mu, wd), abs=2e-3)


def test_projection_removes_the_shift():
    s = {"params": {"b0": torch.randn(2, 3)}, "velocity": {"b0": torch.randn(2, 3)}}
    p = project_softmax_shift(s)
    assert torch.allclose(p["params"]["b0"].sum(-1), torch.zeros(2), atol=1e-6)
    assert torch.allclose(project_softmax_shift(p)["velocity"]["b0"], p["velocity"]["b0"])
    with pytest.raises(ValueError, match="nonzero"):
        _shift_run(0.0, 0.5, n_steps=5, project=project_softmax_shift)


def test_weight_decay_floor_closed_forms():
    assert weight_decay_floor(0.1, 0.9, 0.0) == 0.0
    assert weight_decay_floor(0.1, 0.0, 2.0) == pytest.approx(math.log(0.8))
    # complex eigenvalues: |z| = sqrt(μ)
    assert weight_decay_floor(1.0, 0.5, 1.0) == pytest.approx(0.5 * math.log(0.5))
    eps = 1e-5  # small ηγ: ≈ −ηγ/(1 − μ)
    assert weight_decay_floor(0.1, 0.75, eps) == pytest.approx(-0.1 * eps / 0.25, rel=1e-3)


# ----------------------------------------------------------------- the network-map exponent


def _params_with_w1(w1):
    h = w1.shape[0]
    return {"W0": torch.eye(h, dtype=F64)[None], "b0": torch.zeros(1, h, dtype=F64),
            "W1": w1[None], "b1": torch.zeros(1, h, dtype=F64),
            "W2": torch.ones(1, 1, h, dtype=F64), "b2": torch.zeros(1, 1, dtype=F64)}  # fmt: skip


@pytest.mark.parametrize("a", [0.3, 0.8, 1.5, 3.0])
def test_network_map_exponent_of_a_scaled_identity(a):
    x = 0.5 + torch.rand(5, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    lam = network_map_exponent(_params_with_w1(a * torch.eye(3, dtype=F64)), x, n_iter=400,
                               transient=800)  # fmt: skip
    if a < 1:  # stable fixed point 0: J = a I
        expected = math.log(a)
    else:  # fixed points ±h*, h* = tanh(a h*): J = a (1 − h*²) I
        h = optimize.brentq(lambda v: v - math.tanh(a * v), 1e-6, 1.0)
        expected = math.log(a * (1 - h * h))
    tol = 0.02 if a == 0.8 or a == 1.5 else 1e-6
    assert np.allclose(lam.full, expected, atol=tol)
    assert np.allclose(lam.half, expected, atol=tol)


def test_network_map_exponent_of_a_rotation_is_zero_on_its_invariant_circle():
    th, a = 0.7, 1.5  # Neimark–Sacker: a stable invariant circle, quasi-periodic, λ = 0
    w = a * torch.tensor([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]], dtype=F64)
    lam = network_map_exponent(_params_with_w1(w), torch.ones(2, 2, dtype=F64), n_iter=4000,
                               transient=2000)  # fmt: skip
    assert np.allclose(lam.full, 0.0, atol=5e-3)


def test_network_map_exponent_needs_a_square_layer():
    p = init_tanh_mlp([4, 3, 5, 2], [0])
    with pytest.raises(ValueError, match="square"):
        network_map_exponent(p, torch.zeros(2, 4))


def test_logits_shapes_and_hidden():
    p = init_tanh_mlp([4, 3, 3, 2], [0, 1])
    assert tuple(tanh_mlp_logits(p, torch.zeros(5, 4)).shape) == (2, 5, 2)
    h = tanh_mlp_logits(p, torch.zeros(5, 4), hidden=True)
    assert torch.allclose(h[0, 0], torch.tanh(p["b0"][0]))


# ----------------------------------------------------------------- grid helpers


def test_classify_and_sign_changes():
    assert classify(-math.inf, math.nan) == "ordered"
    assert classify(0.1, math.nan) == "chaotic"
    d = pd.DataFrame({"m": [0, 0, 0, 0], "lr": [1.0, 2.0, 4.0, 8.0], "v": [-1.0, 1.0, -1.0, 1.0]})
    (row,) = sign_change_rows(d, "m", "lr", "v")
    assert row["n_changes"] == 3 and row["at"] == pytest.approx(math.sqrt(2))


def test_power_law_recovers_a_simulated_exponent():
    rng = np.random.default_rng(0)
    x = np.repeat([0.01, 0.02, 0.04, 0.08, 0.16], 4)
    y = 3.0 * x**-1.0 * np.exp(rng.normal(0, 0.1, x.size))
    f = power_law(x, y)
    assert abs(f.exponent + 1.0) < 3 * f.stderr and 0 < f.stderr < 0.1
    with pytest.raises(ValueError, match="vary"):
        power_law([1, 1, 1], [1, 2, 3])


def test_run_edge_grid_smoke(monkeypatch):
    import fpt_core.dynamics.edge_grid as eg

    seen = []
    real = eg.convergence
    monkeypatch.setattr(eg, "convergence", lambda *a, **k: seen.append(k["z"]) or real(*a, **k))
    x, y = _data(n=300, d=8, c=3, dtype=torch.float32)
    data = type("D", (), dict(x_train=x[:200], y_train=y[:200], x_test=x[200:], y_test=y[200:],
                              n_classes=3))()  # fmt: skip
    g = run_edge_grid(data, [(0.05, 0.0, 0.0), (0.5, 0.5, 0.01)], [0, 1], hidden=6, batch_size=20,
                      warmup=40, n_steps=40, transient=10, renorm_every=10, d0=1e-3,
                      target=0.99, plateau_epochs=2, n_probe=10, net_iter=50,
                      net_transient=20)  # fmt: skip
    c = g.cells
    assert len(c) == 2 and len(g.replicas) == 4
    assert (c["n_censored"] == 2).all() and c["fpt"].isna().all()  # target 0.99 not reached
    for r in c.itertuples():
        assert r.phase == classify(r.lam_net, r.lam_net_se)
        assert r.lam_excess == pytest.approx(r.lam_train - r.wd_floor)
    assert c["wd_floor"].iloc[0] == 0.0 and c["wd_floor"].iloc[1] < 0
    # convergence at the 95 % t critical value for 2 seeds (1 degree of freedom: 12.71), not 2 SE
    t1 = 12.7062047
    for r in c.itertuples():
        assert r.net_converged == (
            abs(r.lam_net_half - r.lam_net) <= t1 * r.lam_net_half_se + 1e-12
        )
    assert seen == [pytest.approx(t1)]
    conv = convergence(g.run.result.per_epoch(g.steps_per_epoch), 2, z=t1)
    assert list(c["train_converged"]) == list(conv["converged"])
    with pytest.raises(ValueError, match="target"):
        run_edge_grid(data, [(0.1, 0.0, 0.0)], [0, 1], hidden=4, batch_size=20, warmup=1,
                      n_steps=10, transient=0, renorm_every=5, d0=1e-3, target=1.5,
                      plateau_epochs=1, n_probe=4, net_iter=5, net_transient=0)  # fmt: skip


# ----------------------------------------------------------------- verdict rules on synthetic tables


def _table(acc, lam, lr=(0.01, 0.02, 0.04, 0.08, 0.16), se=0.005, drift=None):
    n = len(lr)
    return pd.DataFrame({
        "lr": lr, "momentum": [0.0] * n, "weight_decay": [0.0] * n,
        "eta_eff": list(lr), "lam_net": lam, "lam_net_se": [0.01] * n,
        "phase": [classify(v, 0.01) for v in lam], "plateau_acc": acc,
        "plateau_acc_se": [se] * n, "acc_drift": drift or [0.0] * n,
        "acc_drift_se": [0.001] * n,
    })  # fmt: skip


def test_edge_optimum_rules():
    lam = [-0.5, -0.3, -0.1, 0.3, 0.5]  # boundary between 0.04 and 0.08
    assert edge_region(_table([0.5] * 5, lam)).tolist() == [False, False, True, True, False]
    assert edge_optimum(_table([0.5, 0.52, 0.6, 0.55, 0.5], lam))["verdict"] == "reproduced"
    assert edge_optimum(_table([0.5, 0.7, 0.6, 0.55, 0.5], lam))["verdict"] == "not reproduced"
    overlap = edge_optimum(_table([0.5, 0.595, 0.6, 0.55, 0.5], lam))
    assert overlap["verdict"] == "not tested at this preset"
    on_edge = edge_optimum(_table([0.7, 0.52, 0.6, 0.55, 0.5], lam))  # best at the smallest η
    assert on_edge["verdict"] == "not tested at this preset" and not on_edge["best_interior"]
    # a cell still learning is left out: here the would-be winner outside the edge region
    rising = edge_optimum(_table([0.5, 0.7, 0.6, 0.55, 0.5], lam, drift=[0, 0.05, 0, 0, 0]))
    assert rising["n_left_out"] == 1 and rising["verdict"] == "reproduced"
    # most ordered cells still learning: the edge cannot be compared with the ordered phase
    most = edge_optimum(_table([0.5, 0.52, 0.6, 0.55, 0.5], lam, drift=[0.05, 0.05, 0, 0, 0]))
    assert most["n_left_out"] == 2 and most["verdict"] == "not tested at this preset"
    assert "ordered" in most["reason"]


def test_weight_decay_effect_and_scaling_rules():
    base = _table([0.5, 0.5], [0.3, 0.4], lr=(0.1, 0.2))
    wd = base.assign(weight_decay=0.01, lam_net=[0.0, 0.5], plateau_acc=[0.5, 0.1])
    both = pd.concat([base, wd], ignore_index=True)
    eff = weight_decay_effect(both, "lam_net")
    assert (eff["n"], eff["n_down"], eff["n_up"]) == (2, 1, 1)
    assert eff["verdict"] == "not reproduced"  # as many up as down
    dead_left_out = weight_decay_effect(both, "lam_net", min_acc=0.2)  # the 0.1-accuracy cell
    assert dead_left_out["n"] == 1 and dead_left_out["verdict"] == "reproduced"
    cells = _table([0.5] * 5, [-0.5] * 5).assign(fpt=[200.0, 100.0, 50.0, 25.0, 12.5])
    fit = scaling_in_phase(cells, "ordered")  # T = 2/η exactly
    assert fit["exponent"] == pytest.approx(1.0) and fit["verdict"] == "reproduced"
    assert fit["offset"] == pytest.approx(0.0, abs=1e-9)
    shifted = scaling_in_phase(cells.assign(fpt=cells["fpt"] + 5.0), "ordered")
    assert shifted["exponent"] < 1 and shifted["offset"] == pytest.approx(5.0)
    assert scaling_absent(scaling_in_phase(cells, "chaotic")) == "not tested at this preset"


def test_block_rates_follow_a_rising_exponent_block_by_block():
    """Multiplier e^{-1 + 2t/n}: the rate over steps [a, b) is the mean of -1 + 2t/n there."""
    from fpt_core.dynamics.edge_grid import block_rates

    x0 = torch.ones(4, 1, dtype=F64)
    n = 100
    r = lyapunov_benettin(lambda x, t: x * math.exp(-1 + 2 * t / n), x0, n_steps=n,
                          renorm_every=5, d0=1e-6)  # fmt: skip
    b = block_rates(r, 4, n_groups=2)
    assert list(b["start"].unique()) == [0, 25, 50, 75]
    for blk, start in enumerate((0, 25, 50, 75)):
        want = np.mean([-1 + 2 * t / n for t in range(start, start + 25)])
        assert b[b["block"] == blk]["rate"].to_numpy() == pytest.approx([want, want], abs=1e-9)
    steady = lyapunov_benettin(lambda x, t: 0.7 * x, x0, n_steps=40, renorm_every=5, d0=1e-6)
    assert block_rates(steady, 2)["rate"].to_numpy() == pytest.approx([math.log(0.7)] * 2)
    with pytest.raises(ValueError, match="n_groups"):
        block_rates(steady, 2, n_groups=3)
    with pytest.raises(ValueError, match="n_blocks"):
        block_rates(steady, 9)
