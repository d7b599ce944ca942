"""Tests of fpt_core.tempbalance: TempBalance / Model Balancing factors and their parameter map."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fpt_core.htsr import layer_alphas, weight_layer_names
from fpt_core.tempbalance import (
    layer_lr_factors,
    model_balancing_factors,
    param_lr_factors,
    tempbalance_factors,
)


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
