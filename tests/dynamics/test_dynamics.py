"""Tests of fpt_core.dynamics.sgd_map: the training map reproduces the engine, exponents with known answers."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fpt_core.dynamics.sgd_map import SGDMap, ensemble_metrics, lyapunov_sgd, phase_diagram
from fpt_core.train.config import TrainConfig
from fpt_core.train.engine import derive_seed, train_ensemble

pytestmark = pytest.mark.usefixtures("one_thread")


def _cfg(**kw) -> TrainConfig:
    base = dict(model_kwargs={"hidden": [16]}, batch_size=50, num_samples=500, epochs=2)
    return TrainConfig(**{**base, **kw})


def test_references_reproduce_the_engine(mnist1d_small):
    cfg = _cfg(lr=0.05, momentum=0.9, weight_decay=1e-3)
    seeds = [0, 3]
    captured = []
    train_ensemble(
        cfg,
        seeds,
        mnist1d_small,
        hooks=[lambda st: captured.append({k: v.clone() for k, v in st.params.items()})],
        progress=False,
    )
    smap = SGDMap([cfg], seeds, mnist1d_small)
    state = smap.run(smap.x0(), 0, 2 * smap.steps_per_epoch)
    for k, v in state["params"].items():
        torch.testing.assert_close(v, captured[-1][k], rtol=1e-5, atol=1e-6)
    # the data order is the engine's: one permutation per epoch from derive_seed(seed, "order")
    gen = torch.Generator().manual_seed(derive_seed(3, "order"))
    first, second = torch.randperm(400, generator=gen), torch.randperm(400, generator=gen)
    t = smap.steps_per_epoch + 2  # epoch 1, third minibatch
    assert torch.equal(smap.batch_indices(t)[1], second[100:150])
    assert not torch.equal(smap.batch_indices(2)[1], second[100:150])
    assert torch.equal(smap.batch_indices(2)[1], first[100:150])


def test_reference_and_companion_share_the_minibatch(mnist1d_small):
    """Identical copies (rows r and r + P) stay bitwise identical: same minibatch, same update."""
    smap = SGDMap([_cfg(lr=0.5, momentum=0.9), _cfg(lr=0.05)], [0, 1], mnist1d_small)
    x = smap.x0()
    z = {k: {n: torch.cat([v, v]) for n, v in d.items()} for k, d in x.items()}
    z = smap.run(z, 0, 12)
    for d in z.values():
        for v in d.values():
            assert torch.equal(v[: smap.P], v[smap.P :])
            assert not torch.equal(v[0], v[2])  # the two configs do differ
    with pytest.raises(ValueError, match="multiple of P"):
        smap({k: {n: v[:3] for n, v in d.items()} for k, d in x.items()}, 0)


def test_zero_separation_gives_minus_inf(mnist1d_small):
    """μ = 0 overwrites the momentum buffer: a perturbation of it alone vanishes exactly."""
    cfg = _cfg(lr=0.05, momentum=0.0)
    smap = SGDMap([cfg], [0], mnist1d_small)
    x0 = smap.x0()
    direction = {
        "params": {k: torch.zeros_like(v[0]) for k, v in x0["params"].items()},
        "momentum": {k: torch.ones_like(v[0]) for k, v in x0["momentum"].items()},
    }
    res = lyapunov_sgd(cfg, [0], mnist1d_small, n_steps=4, renorm_every=1, direction=direction)
    assert res.result.log_stretch[0, 0] == -math.inf
    assert np.isfinite(res.result.log_stretch[1:]).all()  # a fresh direction afterwards
    row = res.frame().iloc[0]
    assert row["lyapunov"] == -math.inf and row["n_pairs_ok"] == 1


def _null_root(eta: float, lam: float, mu: float) -> float:
    """ln of the largest root of z² − (1 + μ − ηλ) z + μ: the exponent along logit shifts."""
    tr = 1 + mu - eta * lam
    return math.log((tr + math.sqrt(tr * tr - 4 * mu)) / 2)


def test_linear_model_ordered_phase_known_exponent(mnist1d_small):
    """Softmax regression: shifting every logit by u·x + c leaves the loss unchanged, so along
    that subspace the map is linear with the exponent ``_null_root``; elsewhere it contracts
    faster. With a direction in the subspace the estimate is exact; a random one is below it."""
    eta, lam, mu = 0.05, 0.2, 0.5
    cfg = _cfg(model_kwargs={"hidden": []}, lr=eta, momentum=mu, weight_decay=lam)
    expected = _null_root(eta, lam, mu)
    gen = torch.Generator().manual_seed(0)
    u, c, v, e = (torch.randn(n, generator=gen) for n in (40, 1, 40, 1))
    direction = {
        "params": {"net.1.weight": u.expand(10, 40), "net.1.bias": c.expand(10)},
        "momentum": {"net.1.weight": v.expand(10, 40), "net.1.bias": e.expand(10)},
    }
    seeds = [0, 1]
    kw = dict(n_steps=100, transient=20, renorm_every=10, warmup_steps=20)
    exact = lyapunov_sgd(cfg, seeds, mnist1d_small, direction=direction, **kw)
    np.testing.assert_allclose(exact.result.per_pair, expected, rtol=2e-3)
    rand = lyapunov_sgd(cfg, seeds, mnist1d_small, **kw)
    assert np.all(rand.result.per_pair < expected + 1e-3)
    assert np.all(rand.result.per_pair > 10 * expected)
    assert rand.frame()["lyapunov"].iloc[0] == pytest.approx(
        rand.result.exponent * rand.steps_per_epoch
    )


def test_large_learning_rate_is_chaotic_and_divergence_is_nan(mnist1d_small):
    cfgs = [_cfg(lr=1.0, momentum=0.9), _cfg(lr=10.0, momentum=0.9)]
    res = lyapunov_sgd(
        cfgs, [0, 1, 2], mnist1d_small, n_steps=60, transient=20, renorm_every=5,
        jacobian_inputs=mnist1d_small.x_test[:20],
    )  # fmt: skip
    lam = res.result.per_pair.reshape(2, 3)
    assert np.all(lam[0] > 0.05)  # chaotic: nearby runs separate
    assert np.all(np.isnan(lam[1]))  # weights blow up: diverged, reported as NaN
    df = res.frame()
    assert df["n_pairs_ok"].tolist() == [3, 0]
    assert df["lyapunov"].iloc[0] > 0 and np.isnan(df["lyapunov"].iloc[1])
    assert df["jacobian"].iloc[0] > 0 and np.isnan(df["jacobian"].iloc[1])


def test_configs_must_share_data_and_model(mnist1d_small):
    with pytest.raises(ValueError, match="batch_size"):
        SGDMap([_cfg(), _cfg(batch_size=25)], [0], mnist1d_small)
    with pytest.raises(ValueError, match="BatchNorm"):
        SGDMap([_cfg(model="resnet18")], [0], SimpleNamespace(x_train=torch.zeros(4, 3, 8, 8),
               input_shape=(3, 8, 8), n_classes=10, n_train=4, y_train=None))  # fmt: skip


def test_ensemble_metrics_known_answer():
    acc = np.array([[0.1, 0.5, 0.6, 0.7], [0.1, 0.2, 0.3, 0.6], [0.1, 0.2, 0.3, 0.4]])
    ens = SimpleNamespace(
        matrix=lambda value: (np.arange(4.0), acc), n_diverged=0, n_trained=3, n_reused=0
    )
    m = ensemble_metrics(ens, target=0.5, plateau_epochs=2)
    assert m.plateau_acc == pytest.approx(np.mean([0.65, 0.45, 0.35]))
    assert m.fpt_times == [1.0, 3.0, 3.0] and m.fpt_observed == [True, True, False]
    assert m.n_censored == 1 and math.isnan(m.fpt_mean)
    assert m.as_dict()["n_trained"] == 3 and len(m.as_dict()) == 13
    with pytest.raises(AttributeError):  # a result, not a mutable dict
        m.fpt_mean = 1.0
    m2 = ensemble_metrics(SimpleNamespace(**{**vars(ens), "matrix": lambda v: (np.arange(4.0), acc[:2])}), 0.5, 2)  # fmt: skip
    assert m2.fpt_mean == pytest.approx(2.0) and m2.n_censored == 0


def test_phase_diagram_columns(mnist1d_small):
    base = _cfg(model_kwargs={"hidden": [8]}, epochs=2, momentum=0.5)
    df = phase_diagram(
        base, {"lr": [0.05, 0.2], "momentum": [0.0, 0.5]}, 2, target=0.2, plateau_epochs=1,
        lyapunov_pairs=2, data=mnist1d_small, run_kw={"store": None, "device": "cpu"},
        n_steps=10, renorm_every=5,
    )  # fmt: skip
    assert len(df) == 4 and df[["lr", "momentum"]].values.tolist()[1] == [0.05, 0.5]
    np.testing.assert_allclose(df["eta_eff"], df["lr"] / (1 - df["momentum"]))
    for col in ("lyapunov", "lyapunov_sd", "plateau_acc", "fpt_mean", "n_censored", "n_pairs_ok"):
        assert col in df.columns
    assert np.isfinite(df["lyapunov"]).all()
