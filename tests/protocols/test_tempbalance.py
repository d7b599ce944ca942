"""Tests of fpt_core.protocols.tempbalance: TempBalance / Model Balancing factors and their parameter map."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fpt_core.protocols.tempbalance import (
    layer_lr_factors,
    model_balancing_factors,
    param_lr_factors,
    tempbalance_factors,
)
from fpt_core.spectra.htsr import weight_layer_names
from fpt_core.spectra.layers import layer_alphas


def test_tempbalance_linear_map_by_hand():
    # α = 2, 3, 4, 6: α_min = 2, α_max = 6, f = 0.5 + 1.0 · (α − 2)/4
    f = tempbalance_factors([2.0, 3.0, 4.0, 6.0])
    np.testing.assert_allclose(f, [0.5, 0.75, 1.0, 1.5], rtol=1e-15)
    # with η_t = 0.1 the per-layer rates are 0.05, 0.075, 0.1, 0.15
    np.testing.assert_allclose(0.1 * f, [0.05, 0.075, 0.1, 0.15], rtol=1e-15)
    # s1 = 0.2, s2 = 1.8: f = 0.2 + 1.6 · (α − 2)/4 = 0.2, 0.6, 1.0, 1.8
    f = tempbalance_factors([2.0, 3.0, 4.0, 6.0], s1=0.2, s2=1.8)
    np.testing.assert_allclose(f, [0.2, 0.6, 1.0, 1.8], rtol=1e-15)
    # all equal (or one layer): the midpoint (s1 + s2)/2
    np.testing.assert_array_equal(tempbalance_factors([3.0, 3.0]), [1.0, 1.0])
    np.testing.assert_array_equal(tempbalance_factors([3.0], s1=0.2, s2=1.0), [0.6])


def test_model_balancing_sigmoid_by_hand():
    # α = 2, 4: ᾱ = 3; s = 1, τ = 1: φ = σ(∓1) − 0.5 = ∓0.2310585786 (σ(1) = 0.7310585786)
    # 10^±0.2310585786 = e^±(0.2310585786 · ln 10) = e^±0.5320321 = 1.7023881, 0.5874101
    f = model_balancing_factors([2.0, 4.0], s=1.0, tau=1.0)
    np.testing.assert_allclose(f, [0.5874101, 1.7023881], rtol=1e-6)
    # α = ᾱ gives factor 1; s = 2, τ = 10, α − ᾱ = ±1: φ ≈ ±2 (0.5 − 4.54e-5) → 10^±0.99991
    f = model_balancing_factors([1.0, 2.0, 3.0], s=2.0, tau=10.0)
    assert f[1] == 1.0
    np.testing.assert_allclose(f[[0, 2]], [10**-0.9999092, 10**0.9999092], rtol=1e-6)


def test_layer_lr_factors_excludes_first_and_last():
    alphas = {"a": 9.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 6.0, "f": 0.5}
    f = layer_lr_factors(alphas)  # a and f keep 1 and do not set the α range
    assert f == {"a": 1.0, "b": 0.5, "c": 0.75, "d": 1.0, "e": 1.5, "f": 1.0}
    f = layer_lr_factors(alphas, exclude_first_last=False, exclude=["a", "f"])
    assert f == {"a": 1.0, "b": 0.5, "c": 0.75, "d": 1.0, "e": 1.5, "f": 1.0}
    # first/last of the model's layer list; 'z' (skipped as too small) is the true last layer
    f = layer_lr_factors({"b": 2.0, "c": 3.0, "e": 6.0}, layers=["a", "b", "c", "e", "z"])
    assert f == {"b": 0.5, "c": 0.75, "e": 1.5}
    f = layer_lr_factors({"b": 2.0, "d": 4.0}, "model_balancing", exclude_first_last=False, s=1.0)
    assert f["b"] == pytest.approx(10 ** (1 / (1 + np.exp(10.0)) - 0.5))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.block = nn.Sequential(nn.Conv2d(8, 8, 3), nn.ReLU(), nn.BatchNorm2d(8))
        self.bn_extra = nn.BatchNorm2d(8)  # second BN in a row: follows no weight layer
        self.fc = nn.Linear(8, 4)


def test_param_lr_factors_follow_layer_and_batchnorm():
    model = Net()
    pf = param_lr_factors(model, {"block.0": 0.5, "fc": 1.5})
    assert list(pf) == [n for n, _ in model.named_parameters()]
    assert pf == {
        "conv1.weight": 1.0,
        "conv1.bias": 1.0,
        "bn1.weight": 1.0,  # follows conv1, which has no factor
        "bn1.bias": 1.0,
        "block.0.weight": 0.5,
        "block.0.bias": 0.5,
        "block.2.weight": 0.5,  # BN after block.0 (ReLU in between has no parameters)
        "block.2.bias": 0.5,
        "bn_extra.weight": 1.0,
        "bn_extra.bias": 1.0,
        "fc.weight": 1.5,
        "fc.bias": 1.5,
    }
    off = param_lr_factors(model, {"block.0": 0.5}, batchnorm=False)
    assert off["block.2.weight"] == 1.0 and off["block.0.weight"] == 0.5


def test_end_to_end_epoch_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(30, 40), nn.Linear(40, 40), nn.Linear(40, 30), nn.Linear(30, 3))
    alphas = layer_alphas(model)  # the 30 → 3 head has 3 eigenvalues: skipped
    assert list(alphas) == ["0", "1", "2"]
    lf = layer_lr_factors(alphas, layers=weight_layer_names(model))
    assert lf["0"] == 1.0 and set(lf) == {"0", "1", "2"}
    assert sorted([lf["1"], lf["2"]]) == [0.5, 1.5]  # two tuned layers: the ends of the map
    pf = param_lr_factors(model, lf)
    assert pf["3.weight"] == 1.0 and pf["1.bias"] == lf["1"]


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="s1"):
        tempbalance_factors([1.0, 2.0], s1=1.5, s2=0.5)
    with pytest.raises(ValueError, match="alphas"):
        tempbalance_factors([])
    with pytest.raises(ValueError, match="alphas"):
        tempbalance_factors([2.0, np.inf])
    with pytest.raises(ValueError, match="tau"):
        model_balancing_factors([1.0, 2.0], s=1.0, tau=0.0)
    with pytest.raises(ValueError, match="s="):
        model_balancing_factors([1.0, 2.0], s=-1.0)
    with pytest.raises(ValueError, match="method"):
        layer_lr_factors({"a": 2.0}, "linear")
    with pytest.raises(ValueError, match="exclude"):
        layer_lr_factors({"a": 2.0}, exclude=["b"])
    with pytest.raises(ValueError, match="s must"):
        layer_lr_factors({"a": 2.0, "b": 3.0}, "model_balancing", exclude_first_last=False)
    with pytest.raises(ValueError, match="layer_factors"):
        param_lr_factors(Net(), {"bn1": 0.5})
    with pytest.raises(ValueError, match="layer_factors"):
        param_lr_factors(Net(), {"fc": -1.0})


# ----------------------------------------------------------------- the engine hook (TempBalance)

from types import SimpleNamespace  # noqa: E402

from torch.func import stack_module_state  # noqa: E402

from fpt_core.protocols.registry import build_protocol  # noqa: E402
from fpt_core.protocols.tempbalance import (  # noqa: E402
    TempBalance,
    WeightSnapshot,
    alpha_history,
    estimator_table,
    stacked_esd,
    stacked_layer_alphas,
)
from fpt_core.spectra.htsr import esd, hill_alpha  # noqa: E402
from fpt_core.train.config import TrainConfig  # noqa: E402
from fpt_core.train.runner import run_ensemble  # noqa: E402


class FakeState:
    """The part of fpt_core.train.engine.EnsembleState a hook reads (duck typing, as in the engine)."""

    def __init__(self, make, seeds, steps_per_epoch=10, epochs=5, step=10):
        models = []
        for s in seeds:
            torch.manual_seed(s)
            m = make()
            with torch.no_grad():  # a replica-specific heavy tail: scale one direction up
                for p in m.parameters():
                    if p.ndim >= 2:
                        p[0].mul_(2.0 + s)
            models.append(m)
        params, buffers = stack_module_state(models)
        self.params = {k: v.detach() for k, v in params.items()}
        self.buffers = buffers
        self.base = make().to("meta")
        self.seeds = list(seeds)
        self.lr_scale = {k: torch.ones(len(seeds)) for k in self.params}
        self.alive = torch.ones(len(seeds), dtype=torch.bool)
        self.steps_per_epoch = steps_per_epoch
        self.step = step
        self.config = SimpleNamespace(epochs=epochs)
        self.events = [[] for _ in seeds]

    def record(self, kind, replicas=None, **info):
        for r in range(len(self.seeds)) if replicas is None else replicas:
            if self.alive[r]:
                ev = {"step": self.step, "epoch": self.step / self.steps_per_epoch}
                self.events[r].append({**ev, "kind": kind, **info})


def mlp5():
    return nn.Sequential(
        nn.Linear(20, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 40),
        nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 3),
    )  # fmt: skip


def hand_alpha(state, layer, r):
    return hill_alpha(esd(state.params[f"{layer}.weight"][r])).alpha


def test_stacked_esd_equals_per_replica_esd():
    torch.manual_seed(1)
    for shape in [(3, 30, 20), (3, 8, 5, 3), (2, 6, 4, 3, 3)]:
        w = torch.randn(shape)
        got = stacked_esd(w)
        assert got.shape[0] == shape[0]
        for r in range(shape[0]):
            np.testing.assert_allclose(got[r], esd(w[r]), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="stacked"):
        stacked_esd(torch.randn(4, 5))


def test_hook_sets_hand_computed_factors_per_replica():
    state = FakeState(mlp5, seeds=[0, 1, 2])
    layers = ["0", "2", "4", "6", "8"]  # 40 → 3 head: 3 eigenvalues, no α
    al = stacked_layer_alphas(state.params, state.base)
    assert list(al) == layers[:4]
    hook = TempBalance()
    hook(state)
    for r in range(3):
        a = {n: hand_alpha(state, n, r) for n in ["2", "4", "6"]}  # first/last excluded
        lo, hi = min(a.values()), max(a.values())
        assert hi - lo > 0.05  # the layers differ, so the map is not degenerate
        for n in layers:
            want = 1.0 if n not in a else 0.5 + 1.0 * (a[n] - lo) / (hi - lo)
            for p in ("weight", "bias"):
                assert state.lr_scale[f"{n}.{p}"][r].item() == pytest.approx(want, abs=1e-6)
            if n in al:
                assert al[n][r] == pytest.approx(hand_alpha(state, n, r), rel=1e-10)
        (ev,) = state.events[r]
        assert ev["kind"] == "tempbalance" and ev["layers"] == layers and ev["epoch"] == 1.0
        assert ev["alpha"][4] is None and ev["factor"][0] == ev["factor"][4] == 1.0
        assert ev["alpha"][1] == round(a["2"], 4)
        assert sorted(ev["factor"][1:4])[0] == 0.5 and sorted(ev["factor"][1:4])[2] == 1.5
    # the replicas have different α, hence different factors
    assert not torch.equal(
        state.lr_scale["2.weight"], torch.full((3,), state.lr_scale["2.weight"][0])
    )


def test_hook_first_last_inclusion_and_model_balancing():
    state = FakeState(mlp5, seeds=[3])
    TempBalance(exclude_first_last=False)(state)
    a = {n: hand_alpha(state, n, 0) for n in ["0", "2", "4", "6"]}  # "8" has no α
    f = tempbalance_factors(list(a.values()))
    for n, fn in zip(a, f, strict=True):
        assert state.lr_scale[f"{n}.weight"][0].item() == pytest.approx(fn, abs=1e-6)
    assert state.lr_scale["8.weight"][0].item() == 1.0
    state = FakeState(mlp5, seeds=[3])
    TempBalance("model_balancing", s=1.0, tau=2.0)(state)
    a = {n: hand_alpha(state, n, 0) for n in ["2", "4", "6"]}
    f = model_balancing_factors(list(a.values()), s=1.0, tau=2.0)
    for n, fn in zip(a, f, strict=True):
        assert state.lr_scale[f"{n}.bias"][0].item() == pytest.approx(fn, abs=1e-6)
    assert state.lr_scale["0.weight"][0].item() == 1.0


def cnn_bn():
    return nn.Sequential(
        nn.Conv1d(2, 12, 3), nn.BatchNorm1d(12), nn.ReLU(),
        nn.Conv1d(12, 12, 3), nn.BatchNorm1d(12), nn.ReLU(),
        nn.Conv1d(12, 12, 3), nn.BatchNorm1d(12), nn.ReLU(),
        nn.Conv1d(12, 12, 3), nn.BatchNorm1d(12), nn.Flatten(), nn.Linear(12 * 2, 4),
    )  # fmt: skip


def test_batchnorm_follows_its_convolution():
    state = FakeState(cnn_bn, seeds=[0, 1])
    TempBalance()(state)  # tuned: convs 3, 6, 9 (conv 0 is the first layer, 11 the last)
    for r in range(2):
        a = {n: hand_alpha(state, n, r) for n in ["3", "6", "9"]}
        f = dict(zip(a, tempbalance_factors(list(a.values())), strict=True))
        for conv, bn in [("3", "4"), ("6", "7"), ("9", "10")]:
            for p in (f"{conv}.weight", f"{conv}.bias", f"{bn}.weight", f"{bn}.bias"):
                assert state.lr_scale[p][r].item() == pytest.approx(f[conv], abs=1e-6)
        for p in ("0.weight", "1.weight", "1.bias", "12.weight"):
            assert state.lr_scale[p][r].item() == 1.0
    state = FakeState(cnn_bn, seeds=[0])
    TempBalance(batchnorm=False)(state)
    assert state.lr_scale["4.weight"][0].item() == 1.0 != state.lr_scale["3.weight"][0].item()


def test_hook_schedule_every_epoch_new_ensemble_and_measure_only():
    hook = TempBalance(every=2)
    state = FakeState(mlp5, seeds=[0], step=10)  # epoch 1 < every: nothing
    hook(state)
    assert state.events[0] == [] and state.lr_scale["2.weight"][0].item() == 1.0
    state.step = 25  # past epoch 2 (mid-epoch evaluation): recompute once
    hook(state)
    hook(state)
    assert len(state.events[0]) == 1 and "layers" in state.events[0][0]
    state.step = 40
    hook(state)
    assert len(state.events[0]) == 2 and "layers" not in state.events[0][1]
    fresh = FakeState(mlp5, seeds=[0], step=20)  # a new chunk: the schedule restarts
    hook(fresh)
    assert len(fresh.events[0]) == 1 and "layers" in fresh.events[0][0]
    probe = FakeState(mlp5, seeds=[0, 1])
    probe.alive[1] = False
    TempBalance(apply=False)(probe)
    assert all(bool((v == 1).all()) for v in probe.lr_scale.values())
    (ev,) = probe.events[0]
    assert ev["kind"] == "layer_alpha" and "factor" not in ev and probe.events[1] == []
    df = alpha_history([{"seed": 0, "events": probe.events[0]}])
    assert list(df["layer"]) == ["0", "2", "4", "6", "8"] and df["factor"].isna().all()
    assert df["alpha"].iloc[2] == round(hand_alpha(probe, "4", 0), 4)


def test_snapshot_and_estimator_table():
    state = FakeState(mlp5, seeds=[4, 5], epochs=3, step=20)
    snap = WeightSnapshot(seeds=[5])
    snap(state)  # not the last step
    assert snap.weights == {} and snap.missing([5]) == [5]
    state.step = 30
    snap(state)
    assert list(snap.weights) == [5] and snap.missing([4, 5]) == [4]
    assert torch.equal(snap.weights[5]["2.weight"], state.params["2.weight"][1])
    tab = estimator_table(snap.weights[5], state.base)
    assert list(tab["layer"]) == ["0", "2", "4", "6"]
    assert tab["hill"].iloc[1] == pytest.approx(hand_alpha(state, "2", 1), rel=1e-12)
    assert tab["farms"].iloc[1] == pytest.approx(tab["hill"].iloc[1], rel=1e-12)  # square: 1 window
    assert np.all(np.isfinite(tab[["hill", "clauset", "farms"]].to_numpy()))


def test_run_ensemble_with_tempbalance_protocol():
    base = dict(
        model="mlp",
        model_kwargs={"hidden": [24, 24, 24, 24]},
        num_samples=500,
        lr=0.1,
        momentum=0.9,
        batch_size=100,
        epochs=3,
        lr_schedule="cosine",
    )
    plain = run_ensemble(TrainConfig(**base), 2, store=None, progress=False, device="cpu")
    tb = run_ensemble(
        TrainConfig(**base, perturbation={"kind": "tempbalance"}),
        2,
        store=None,
        progress=False,
        device="cpu",
    )
    probe = run_ensemble(
        TrainConfig(**base, perturbation={"kind": "tempbalance", "apply": False}),
        2,
        store=None,
        progress=False,
        device="cpu",
    )
    _, acc_plain = plain.matrix()
    _, acc_tb = tb.matrix()
    _, acc_probe = probe.matrix()
    np.testing.assert_array_equal(acc_probe, acc_plain)  # measuring changes nothing
    np.testing.assert_array_equal(acc_tb[:, :1], acc_plain[:, :1])  # the initial evaluation
    # factors are assigned from the initial weights, so epoch 1 already differs (as in the
    # reference implementation)
    loss_tb, loss_plain = tb.matrix("test_loss")[1], plain.matrix("test_loss")[1]
    assert not np.array_equal(loss_tb[:, 1], loss_plain[:, 1])
    for rec in tb.records:
        kinds = [e["kind"] for e in rec["events"]]
        assert kinds == ["tempbalance"] * 4
        assert rec["events"][0]["layers"] == ["net.1", "net.3", "net.5", "net.7", "net.9"]
        assert rec["events"][0]["step"] == 0
    df = alpha_history(tb.records)
    assert len(df) == 2 * 4 * 5 and set(df["epoch"]) == {0.0, 1.0, 2.0, 3.0}
    tuned = df[df["layer"].isin(["net.3", "net.5", "net.7"])]
    assert tuned.groupby(["run", "epoch"])["factor"].agg(["min", "max"]).eq([0.5, 1.5]).all().all()
    assert (df[df["layer"].isin(["net.1", "net.9"])]["factor"] == 1.0).all()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"s1": 1.5, "s2": 0.5}, "s1"),
        ({"s1": -0.1}, "s1"),
        ({"s2": float("nan")}, "s2"),
        ({"assignment": "linear"}, "assignment"),
        ({"assignment": "model_balancing"}, "s must"),
        ({"s": 1.0}, "s=1.0"),
        ({"assignment": "model_balancing", "s": 1.0, "tau": 0}, "tau"),
        ({"method": "clauset"}, "method"),
        ({"every": 0}, "every"),
        ({"every": 1.5}, "every"),
        ({"apply": "yes"}, "apply"),
        ({"exclude_first_last": 1}, "exclude_first_last"),
        ({"min_eigs": 1}, "min_eigs"),
        ({"xmin_pos": 1}, "xmin_pos"),
        ({"decimals": 20}, "decimals"),
    ],
)
def test_bad_protocol_params_fail_fast(params, match):
    with pytest.raises(ValueError, match=match):
        build_protocol({"kind": "tempbalance", **params})
    with pytest.raises(ValueError, match=match):
        TrainConfig(perturbation={"kind": "tempbalance", **params})
    with pytest.raises(TypeError, match="bogus"):
        TempBalance(bogus=1)
