"""Perturbations on a plain model: exact arithmetic, and the same runs as the engine."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from fpt_core.protocols.plain import Perturber, fresh_copy, partial_reset_, reset_, shrink_perturb_
from fpt_core.train.chunk import ensemble_hooks
from fpt_core.train.config import TrainConfig
from fpt_core.train.engine import train_ensemble
from fpt_core.train.reference import train_solo


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _momentum(model, steps=2):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        model(torch.randn(16, 6)).pow(2).mean().backward()
        opt.step()
    return opt


def test_shrink_perturb_is_exactly_the_formula_and_clears_momentum():
    model, fresh = _net(), fresh_copy(_net(), 5)
    opt = _momentum(model)
    model.train(), model(torch.randn(32, 6))  # moves the running statistics
    before = copy.deepcopy(model.state_dict())
    shrink_perturb_(model, 0.4, 0.1, fresh=fresh, optimizer=opt)
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            assert torch.equal(v, before[k])
        else:
            assert torch.equal(v, 0.4 * before[k] + 0.1 * fresh.state_dict()[k]), k
    assert all(not s["momentum_buffer"].any() for s in opt.state.values())
    with pytest.raises(ValueError, match="lam=1.5"):
        shrink_perturb_(model, 1.5, 0.1)
    with pytest.raises(ValueError, match="same architecture"):
        shrink_perturb_(model, 0.4, 0.1, fresh=nn.Linear(6, 3))


def test_partial_reset_changes_exactly_the_smallest_fraction_within_the_bound():
    model = _net()
    opt = _momentum(model)
    weights = {k: p.detach().clone() for k, p in model.named_parameters() if p.ndim >= 2}
    others = {k: p.detach().clone() for k, p in model.named_parameters() if p.ndim < 2}
    flat = torch.cat([w.flatten() for w in weights.values()])
    n = int(round(0.25 * flat.numel()))
    cut = flat.abs().sort().values[n - 1]
    g = torch.Generator().manual_seed(3)
    assert partial_reset_(model, 0.25, generator=g, optimizer=opt) == n
    changed = 0
    for k, p in model.named_parameters():
        if k in weights:
            diff = p.detach() != weights[k]
            changed += int(diff.sum())
            assert (weights[k][diff].abs() <= cut).all()  # only small weights were re-drawn
            bound = 1 / np.sqrt(p.shape[1])
            assert (p.detach()[diff].abs() <= bound).all()  # U(−1/√fan_in, 1/√fan_in)
            assert not opt.state[p]["momentum_buffer"][diff].any()
            assert opt.state[p]["momentum_buffer"][~diff].abs().sum() > 0
        else:
            assert torch.equal(p.detach(), others[k])
    assert changed == n  # a fresh value never equals the old one here


def test_reset_to_the_initial_state_or_to_a_fresh_one():
    model = _net()
    initial = copy.deepcopy(model.state_dict())
    opt = _momentum(model)
    reset_(model, state_dict=initial, optimizer=opt)
    assert all(torch.equal(v, initial[k]) for k, v in model.state_dict().items())
    assert all(not s["momentum_buffer"].any() for s in opt.state.values())
    reset_(model, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(model[0].weight, initial["0.weight"])


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "shrink_perturb", "lam": 0.4, "sigma": 0.1, "tau": 1},
        {"kind": "partial_reset", "f": 0.2, "tau": 1},
        {"kind": "reset", "tau": 2},
        {"kind": "reset", "to": "fresh", "schedule": "once", "tau": 1},
        {"kind": "warm_restart", "cycle": 2, "peak": 1.0, "floor": 0.1, "tau": 1},
        {"kind": "shrink_perturb", "lam": 0.5, "sigma": 0.2, "schedule": "poisson", "rate": 1.5},
    ],
)
def test_train_solo_with_perturber_matches_the_engine(mnist1d_small, spec):
    cfg = TrainConfig(model_kwargs={"hidden": [16]}, lr=0.05, momentum=0.9, batch_size=50,
                      epochs=4, num_samples=500, perturbation=spec)  # fmt: skip
    seeds = [0, 1]
    hooks = ensemble_hooks(cfg, ())  # the engine's hook for the spec, as run_ensemble builds it
    records = train_ensemble(cfg, seeds, mnist1d_small, hooks=hooks, progress=False)
    for seed, rec in zip(seeds, records, strict=True):
        solo = train_solo(cfg, seed, mnist1d_small)
        got = rec["trajectory"]
        np.testing.assert_allclose(got["test_loss"], solo["test_loss"], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(got["train_loss"], solo["train_loss"], rtol=1e-4, atol=1e-5)
    # and it is not the unperturbed run
    plain = train_solo(TrainConfig(**{**cfg.to_dict(), "perturbation": None}), 0, mnist1d_small)
    assert not np.allclose(plain["test_loss"], train_solo(cfg, 0, mnist1d_small)["test_loss"])


def test_perturber_fires_on_the_engines_schedule():
    model = _net()
    p = Perturber(model, None, {"kind": "reset", "tau": 2.5}, seed=0)
    fired = [e for e in range(1, 11) if p.step(e)]
    assert fired == [3, 5, 8, 10]  # the first evaluation at or after 2.5, 5, 7.5, 10
    once = Perturber(model, None, {"kind": "reset", "schedule": "once", "tau": 3}, seed=0)
    assert [e for e in range(1, 11) if once.step(e)] == [3]
    with pytest.raises(ValueError, match="tempbalance"):
        Perturber(model, None, {"kind": "tempbalance"}, seed=0)
