import math

import numpy as np
import pytest
import torch

from fpt_core.protocols.perturb import PartialReset, Reset, ShrinkPerturb
from fpt_core.protocols.registry import build_protocol
from fpt_core.protocols.warm_restart import WarmRestart
from fpt_core.train.config import TrainConfig
from fpt_core.train.engine import ENGINE_VERSION, _new_state, train_ensemble
from fpt_core.train.runner import run_ensemble
from fpt_core.train.store import run_key

SEEDS = [0, 1, 2]


def _cfg(**kw):
    base = dict(model_kwargs={"hidden": [16, 8]}, num_samples=500, batch_size=100, epochs=6)
    return TrainConfig(**{**base, **kw})


def _state(data, seeds=SEEDS, step=12, **kw):
    """A state whose weights and momentum differ from the initial ones (as after training)."""
    state = _new_state(_cfg(**kw), seeds, data)
    g = torch.Generator().manual_seed(123)
    for k, p in state.params.items():
        p.add_(0.3 * torch.randn(p.shape, generator=g))
        state.momentum[k].copy_(torch.randn(p.shape, generator=g))
    state.step = step
    return state


def _clone(d):
    return {k: v.clone() for k, v in d.items()}


def test_shrink_perturb_is_lam_theta_plus_sigma_fresh(mnist1d_small):
    state = _state(mnist1d_small)
    state.alive[1] = False  # a diverged replica is left alone
    before, mom = _clone(state.params), _clone(state.momentum)
    fresh = state.fresh_params(f"shrink_perturb:{state.step}")
    ShrinkPerturb(lam=0.4, sigma=0.1, tau=3)(state)  # step 12 = epoch 3
    for k, p in state.params.items():
        for r in (0, 2):
            torch.testing.assert_close(p[r], 0.4 * before[k][r] + 0.1 * fresh[k][r])
            assert torch.all(state.momentum[k][r] == 0)
        assert torch.equal(p[1], before[k][1]) and torch.equal(state.momentum[k][1], mom[k][1])
    # θ_fresh is a different draw from θ_0, per replica and per perturbation time
    w = "net.1.weight"
    assert not torch.allclose(fresh[w], state.init_params[w])
    assert not torch.allclose(fresh[w][0], fresh[w][2])
    assert not torch.allclose(state.fresh_params("shrink_perturb:16")[w], fresh[w])
    assert [e["kind"] for e in state.events[0]] == ["shrink_perturb"] and not state.events[1]


def test_shrink_perturb_momentum_reset_is_optional(mnist1d_small):
    state = _state(mnist1d_small)
    mom = _clone(state.momentum)
    ShrinkPerturb(tau=3, reset_momentum=False)(state)
    for k in mom:
        assert torch.equal(state.momentum[k], mom[k])


def test_shrink_perturb_batchnorm_statistics():
    from fpt_core.train.data import Data

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 3, 8, 8, generator=g), torch.randint(0, 10, (40,), generator=g)
    data = Data("synthetic", x[:32], y[:32], x[32:], y[32:], 10)
    cfg = TrainConfig(model="resnet18", dataset="cifar10", epochs=4, batch_size=16, lr=0.01)
    state = _new_state(cfg, [0], data)
    state.step = 2  # 2 steps per epoch: epoch 1
    for b in state.buffers.values():
        if b.is_floating_point():
            b.add_(0.5)
    before = _clone(state.buffers)
    ShrinkPerturb(tau=1, batchnorm="shrink")(state)
    for k, b in state.buffers.items():
        if b.is_floating_point():
            torch.testing.assert_close(b, 0.4 * before[k] + 0.1 * state.init_buffers[k])
        else:
            assert torch.equal(b, before[k])  # num_batches_tracked untouched
    state.step = 4
    Reset(tau=1)(state)
    for k, b in state.buffers.items():
        assert torch.equal(b, state.init_buffers[k])


def test_reset_returns_initial_weights_exactly(mnist1d_small):
    state = _state(mnist1d_small)
    Reset(tau=3)(state)
    for k, p in state.params.items():
        assert torch.equal(p, state.init_params[k])
        assert torch.all(state.momentum[k] == 0)
    fresh = _state(mnist1d_small)
    expect = fresh.fresh_params("reset:12")
    Reset(to="fresh", tau=3)(fresh)
    for k, p in fresh.params.items():
        assert torch.equal(p, expect[k]) and not torch.equal(p, fresh.init_params[k])


@pytest.mark.parametrize("f", [0.1, 0.5])
def test_partial_reset_redraws_exactly_the_smallest_fraction(mnist1d_small, f):
    state = _state(mnist1d_small)
    before, mom = _clone(state.params), _clone(state.momentum)
    fresh = state.fresh_params(f"partial_reset:{state.step}")
    hook = PartialReset(f=f, tau=3)
    names = hook.weight_names(state)
    assert names == ["net.1.weight", "net.3.weight", "net.5.weight"]
    hook(state)
    n = sum(before[k][0].numel() for k in names)
    for r in range(len(SEEDS)):
        old = torch.cat([before[k][r].flatten() for k in names])
        new = torch.cat([state.params[k][r].flatten() for k in names])
        src = torch.cat([fresh[k][r].flatten() for k in names])
        m_old = torch.cat([mom[k][r].flatten() for k in names])
        m_new = torch.cat([state.momentum[k][r].flatten() for k in names])
        changed = new != old
        assert int(changed.sum()) == round(f * n)
        assert old.abs()[changed].max() <= old.abs()[~changed].min()  # the smallest |w|
        assert torch.equal(new[changed], src[changed])  # drawn from the initial distribution
        assert torch.all(m_new[changed] == 0) and torch.equal(m_new[~changed], m_old[~changed])
    for k in state.params:
        if k not in names:  # biases untouched
            assert torch.equal(state.params[k], before[k])
            assert torch.equal(state.momentum[k], mom[k])


def test_partial_reset_redrawn_values_follow_the_default_init_bound(mnist1d_small):
    state = _state(mnist1d_small)
    PartialReset(f=1.0, tau=3)(state)
    w = state.params["net.1.weight"]  # fan_in 40: U(-1/sqrt(40), 1/sqrt(40))
    bound = 1 / math.sqrt(40)
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
    assert abs(float(w.var()) - bound**2 / 3) < 0.1 * bound**2 / 3


def _fire_epochs(hook, data, epochs=7, eval_every=None, seeds=(0,)):
    cfg = _cfg(epochs=epochs, eval_every=eval_every)
    state = _new_state(cfg, list(seeds), data)
    every = eval_every or state.steps_per_epoch
    fired = []
    total = epochs * state.steps_per_epoch
    while state.step < total:
        state.step = min(state.step + every, total)
        mask, _ = hook.due(state)
        fired.append(mask.clone())
    return state, torch.stack(fired)


def test_periodic_timing_fires_at_multiples_of_tau_only(mnist1d_small):
    cfg = _cfg(epochs=7, perturbation={"kind": "shrink_perturb", "tau": 2})
    (rec,) = train_ensemble(
        cfg, [4], mnist1d_small, hooks=[build_protocol(cfg.perturbation)], progress=False
    )
    assert [e["epoch"] for e in rec["events"]] == [2.0, 4.0, 6.0]
    assert all(e["kind"] == "shrink_perturb" and e["lam"] == 0.4 for e in rec["events"])
    # half-epoch evaluations (4 steps per epoch, eval every 2): τ = 1.5 is on the grid
    state, fired = _fire_epochs(ShrinkPerturb(tau=1.5), mnist1d_small, eval_every=2)
    times = 0.5 * (1 + np.nonzero(fired[:, 0].numpy())[0])
    np.testing.assert_equal(times, [1.5, 3.0, 4.5, 6.0])
    # not on the grid: applied at the first evaluation after each multiple
    _, fired = _fire_epochs(ShrinkPerturb(tau=2.5), mnist1d_small)
    np.testing.assert_equal(1 + np.nonzero(fired[:, 0].numpy())[0], [3, 5])
    _, fired = _fire_epochs(ShrinkPerturb(tau=3, schedule="once"), mnist1d_small)
    np.testing.assert_equal(1 + np.nonzero(fired[:, 0].numpy())[0], [3])


def test_poisson_timing_has_the_right_mean_count(mnist1d_small):
    rate, epochs, seeds = 0.3, 40, list(range(100))
    hook = ShrinkPerturb(schedule="poisson", rate=rate)
    _, fired = _fire_epochs(hook, mnist1d_small, epochs=epochs, seeds=seeds)
    counts = fired.sum(0).numpy().astype(float)
    # one perturbation per evaluation interval with ≥ 1 arrival, none at the final evaluation
    p = 1 - math.exp(-rate)
    expect, se = (epochs - 1) * p, math.sqrt((epochs - 1) * p * (1 - p) / len(seeds))
    assert abs(counts.mean() - expect) < 3.5 * se
    assert len({tuple(np.nonzero(c)[0]) for c in fired.T.numpy()}) > 90  # replicas differ
    # reproducible per seed, whatever the ensemble the replica is in
    _, alone = _fire_epochs(
        ShrinkPerturb(schedule="poisson", rate=rate), mnist1d_small, epochs=epochs, seeds=[7]
    )
    assert torch.equal(alone[:, 0], fired[:, 7])


def test_warm_restart_cycle_on_constant_schedule(mnist1d_small):
    hook = WarmRestart(cycle=3, floor=0.1, tau=4)
    state = _new_state(_cfg(epochs=12), [0, 1], mnist1d_small)
    scales = []
    for _ in range(11):
        state.step += state.steps_per_epoch
        hook(state)
        scales.append(float(state.lr_scale["net.1.bias"][0]))
    m = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (k + 0.5) / 3)) for k in range(3)]
    expect = [1, 1, 1, *m, 1, *m, 1]  # restarts after the evaluations at epochs 4 and 8
    np.testing.assert_allclose(scales, expect, rtol=1e-6)
    assert [e["epoch"] for e in state.events[0]] == [4.0, 8.0]
    for k, p in state.params.items():  # weights untouched
        assert torch.equal(p, state.init_params[k])


def test_warm_restart_resets_cosine_schedule_position(mnist1d_small):
    state = _new_state(_cfg(lr_schedule="cosine"), [0], mnist1d_small)
    state.step = 12
    WarmRestart(tau=3, reset_momentum=True)(state)
    assert state.lr_restart_step == 12
    assert state.config.lr_at(state.step - state.lr_restart_step, 24) == state.config.lr
    with pytest.raises(ValueError, match="poisson"):
        WarmRestart(schedule="poisson", rate=5.0)(state)


def test_perturbed_ensemble_end_to_end(tmp_path, mnist1d_small):
    base = _cfg(epochs=5)
    spec = {"kind": "shrink_perturb", "lam": 0.4, "sigma": 0.1, "tau": 2}
    pert = _cfg(epochs=5, perturbation=spec)
    kw = dict(store=tmp_path, progress=False, device="cpu")
    a = run_ensemble(base, 3, **kw)
    b = run_ensemble(pert, 3, **kw)
    assert b.n_trained == 3 and run_ensemble(pert, 3, **kw).n_reused == 3
    for ra, rb in zip(a.records, b.records, strict=True):
        ta, tb = ra["trajectory"]["test_loss"], rb["trajectory"]["test_loss"]
        np.testing.assert_allclose(ta[:3], tb[:3], rtol=1e-6)  # identical up to epoch 2
        assert tb[3] != ta[3]  # shrunk at epoch 2: epoch 3 differs
        assert [e["epoch"] for e in rb["events"]] == [2.0, 4.0]


def test_perturbation_is_part_of_the_store_key():
    def key(spec):
        return run_key(_cfg(perturbation=spec).to_dict(), 0, ENGINE_VERSION)

    k5 = key({"kind": "shrink_perturb", "tau": 5})
    assert k5 != key({"kind": "shrink_perturb", "tau": 10})
    assert k5 != key({"kind": "reset", "tau": 5}) != key(None)
    assert k5 == key({"kind": "shrink_perturb", "tau": 5})


@pytest.mark.parametrize(
    "spec,name",
    [
        ({"kind": "shrink_perturb"}, "tau"),
        ({"kind": "shrink_perturb", "tau": 0}, "tau"),
        ({"kind": "shrink_perturb", "tau": float("nan")}, "tau"),
        ({"kind": "shrink_perturb", "tau": "5"}, "tau"),
        ({"kind": "shrink_perturb", "tau": 5, "lam": 1.5}, "lam"),
        ({"kind": "shrink_perturb", "tau": 5, "sigma": -0.1}, "sigma"),
        ({"kind": "shrink_perturb", "tau": 5, "batchnorm": "drop"}, "batchnorm"),
        ({"kind": "shrink_perturb", "tau": 5, "reset_momentum": 1}, "reset_momentum"),
        ({"kind": "shrink_perturb", "tau": 5, "schedule": "weekly"}, "schedule"),
        ({"kind": "shrink_perturb", "schedule": "poisson"}, "rate"),
        ({"kind": "shrink_perturb", "schedule": "poisson", "rate": -1}, "rate"),
        ({"kind": "shrink_perturb", "schedule": "poisson", "rate": 1, "tau": 3}, "tau"),
        ({"kind": "shrink_perturb", "tau": 3, "rate": 1}, "rate"),
        ({"kind": "reset", "tau": 5, "to": "random"}, "to"),
        ({"kind": "partial_reset", "tau": 5, "f": 0.0}, "f"),
        ({"kind": "partial_reset", "tau": 5, "f": 1.2}, "f"),
        ({"kind": "warm_restart", "tau": 5, "cycle": 0}, "cycle"),
        ({"kind": "warm_restart", "tau": 5, "floor": -1}, "floor"),
        ({"kind": "warm_restart", "tau": 5, "peak": 0}, "peak"),
        ({"kind": "shrink_perturb", "tau": 5, "width": 3}, "width"),
    ],
)
def test_bad_parameters_fail_fast_naming_the_parameter(spec, name):
    with pytest.raises((ValueError, TypeError), match=name):
        TrainConfig(perturbation=spec)
