"""Replica groups of the CPU vmap path: cache-sized groups, same gradients as one call."""

import dataclasses

import pytest
import torch
from torch import nn

from fpt_core.train.config import TrainConfig
from fpt_core.train.engine import _grads_vmap, _new_state, train_ensemble
from fpt_core.train.replica_groups import CPU_GROUP_BYTES, activation_bytes, replica_group


def test_activation_bytes_counts_every_leaf_output_and_leaves_the_model_alone():
    net = nn.Sequential(nn.Conv1d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(40, 2))
    # conv (4×10) + relu (4×10) + flatten (40) + linear (2) = 122 floats per example
    assert activation_bytes(net, (1, 10), batch_size=3) == 4 * 3 * 122
    assert next(net.parameters()).device.type == "cpu"


def test_replica_group_fits_the_budget_and_is_whole_off_the_cpu():
    net = nn.Sequential(nn.Linear(100, 1000))
    per = activation_bytes(net, (100,), 50)
    g = replica_group(net, (100,), 50, 4096, "cpu")
    assert g * per <= CPU_GROUP_BYTES < 2 * g * per and g & (g - 1) == 0
    assert replica_group(net, (100,), 50, 8, "cpu") == 8  # fewer replicas than fit: all
    assert replica_group(net, (100,), 50, 4096, "cuda") == 4096
    huge = nn.Sequential(nn.Linear(100, 10**6))
    assert replica_group(huge, (100,), 50, 64, "cpu") == 1


@pytest.mark.parametrize("group", [1, 2, 3])
def test_grouped_vmap_gradients_equal_one_call(mnist1d_small, group):
    cfg = TrainConfig(model="cnn", model_kwargs={"channels": [4, 4]}, batch_size=16)
    state = _new_state(cfg, [0, 1, 2, 3, 4], mnist1d_small)
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, mnist1d_small.n_train, (5, 16), generator=g)
    xb, yb = mnist1d_small.x_train[idx], mnist1d_small.y_train[idx]
    whole, loss_whole = _grads_vmap(dataclasses.replace(state, group=5), xb, yb)
    parts, loss_parts = _grads_vmap(dataclasses.replace(state, group=group), xb, yb)
    torch.testing.assert_close(loss_parts, loss_whole, rtol=1e-5, atol=1e-6)
    for k in whole:  # replica r's gradient stays in row r
        torch.testing.assert_close(parts[k], whole[k], rtol=1e-4, atol=1e-6)


def test_training_with_groups_matches_one_group(mnist1d_small, monkeypatch):
    cfg = TrainConfig(model="cnn", model_kwargs={"channels": [4]}, batch_size=25, epochs=2)
    one = train_ensemble(cfg, [0, 1, 2], mnist1d_small, progress=False)
    monkeypatch.setattr("fpt_core.train.engine.replica_group", lambda *a, **k: 2)
    two = train_ensemble(cfg, [0, 1, 2], mnist1d_small, progress=False)
    for a, b in zip(one, two, strict=True):
        assert a["trajectory"]["test_acc"] == pytest.approx(b["trajectory"]["test_acc"], abs=0.02)
        assert a["trajectory"]["train_loss"][1:] == pytest.approx(
            b["trajectory"]["train_loss"][1:], rel=1e-3
        )
