"""TempBalance over optimizer.param_groups: the factors of the engine's protocol, applied."""

import pytest
import torch
from torch import nn

from fpt_core.protocols.plain_tempbalance import TempBalanceLR, per_parameter_groups
from fpt_core.protocols.tempbalance import TempBalance, param_lr_factors
from fpt_core.spectra.htsr import weight_layer_names
from fpt_core.spectra.layers import layer_alphas


def _model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 96), nn.BatchNorm1d(96),
                         nn.ReLU(), nn.Linear(96, 48), nn.ReLU(), nn.Linear(48, 10))  # fmt: skip


def test_scheduler_sets_base_times_the_engines_factor():
    model = _model()
    with torch.no_grad():
        model[2].weight.mul_(torch.rand_like(model[2].weight) ** 4)  # a heavier tail here
    opt = torch.optim.SGD(per_parameter_groups(model), lr=0.2, momentum=0.9)
    factors = TempBalanceLR(model, opt).step()
    alphas = {n: f.alpha for n, f in layer_alphas(model).items()}
    engine = TempBalance().factors(alphas, weight_layer_names(model))
    assert factors == param_lr_factors(model, engine)
    tuned = {n: engine[n] for n in ("2", "5")}  # first (0) and last (7) layers stay at 1
    assert engine["0"] == engine["7"] == 1.0 and sorted(tuned.values()) == [0.5, 1.5]
    assert (alphas["2"] < alphas["5"]) == (tuned["2"] < tuned["5"])  # heavier tail, lower rate
    assert factors["3.weight"] == factors["2.weight"]  # BatchNorm follows its layer
    for g in opt.param_groups:
        assert g["lr"] == pytest.approx(0.2 * factors[g["name"]])


def test_needs_one_group_per_parameter():
    model = _model()
    with pytest.raises(ValueError, match="one parameter group per parameter"):
        TempBalanceLR(model, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="s1=2"):
        TempBalanceLR(model, torch.optim.SGD(per_parameter_groups(model), lr=0.1), s1=2, s2=1)
