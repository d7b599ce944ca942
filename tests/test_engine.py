import math

import numpy as np
import pytest
import torch

from fpt_core.config import TrainConfig
from fpt_core.engine import derive_seed, train_ensemble
from fpt_core.reference import train_solo

SEEDS = [0, 1, 5]


@pytest.mark.parametrize(
    "model,kwargs,momentum,wd,schedule",
    [
        ("mlp", {"hidden": [32, 32]}, 0.9, 0.0, "constant"),
        ("mlp", {"hidden": [16]}, 0.0, 5e-4, "cosine"),
        ("cnn", {"channels": [4, 4]}, 0.9, 1e-3, "constant"),
    ],
)
def test_ensemble_matches_solo_training(mnist1d_small, model, kwargs, momentum, wd, schedule):
    cfg = TrainConfig(
        model=model,
        model_kwargs=kwargs,
        lr=0.05,
        momentum=momentum,
        weight_decay=wd,
        batch_size=50,
        epochs=3,
        lr_schedule=schedule,
        num_samples=500,
    )
    records = train_ensemble(cfg, SEEDS, mnist1d_small, progress=False)
    for seed, rec in zip(SEEDS, records, strict=True):
        solo = train_solo(cfg, seed, mnist1d_small)
        got = rec["trajectory"]
        assert got["step"] == solo["step"]
        for key in ("test_loss", "train_loss"):
            np.testing.assert_allclose(got[key], solo[key], rtol=1e-4, atol=1e-5, equal_nan=True)
        # accuracies are counts / 100: at most one borderline test example may flip
        np.testing.assert_allclose(got["test_acc"], solo["test_acc"], atol=0.0101)


def test_replicas_differ_and_are_reproducible(mnist1d_small):
    cfg = TrainConfig(model_kwargs={"hidden": [16]}, epochs=2, num_samples=500, batch_size=50)
    a = train_ensemble(cfg, [0, 1], mnist1d_small, progress=False)
    b = train_ensemble(cfg, [1], mnist1d_small, progress=False)
    assert a[0]["trajectory"]["test_loss"] != a[1]["trajectory"]["test_loss"]
    np.testing.assert_allclose(
        a[1]["trajectory"]["test_loss"], b[0]["trajectory"]["test_loss"], rtol=1e-5
    )


def test_diverging_replica_does_not_disturb_others(mnist1d_small):
    cfg = TrainConfig(model_kwargs={"hidden": [16]}, epochs=3, num_samples=500, batch_size=50)

    def blow_up_replica_0(state):
        if state.step == state.steps_per_epoch:  # after the first epoch
            for scale in state.lr_scale.values():
                scale[0] = 1e12

    clean = train_ensemble(cfg, [0, 1, 2], mnist1d_small, progress=False)
    mixed = train_ensemble(cfg, [0, 1, 2], mnist1d_small, hooks=[blow_up_replica_0], progress=False)
    assert mixed[0]["status"] == "diverged"
    assert mixed[0]["diverged_step"] > mixed[0]["trajectory"]["step"][-1] >= 0
    assert mixed[0]["events"][-1]["kind"] == "diverged"
    assert all(math.isfinite(v) for v in mixed[0]["trajectory"]["test_loss"])
    for r in (1, 2):
        assert mixed[r]["status"] == "ok"
        np.testing.assert_equal(mixed[r]["trajectory"], clean[r]["trajectory"])


def test_eval_every_and_epoch_axis(mnist1d_small):
    cfg = TrainConfig(
        model_kwargs={"hidden": [8]}, epochs=2, num_samples=500, batch_size=100, eval_every=2
    )
    (rec,) = train_ensemble(cfg, [3], mnist1d_small, progress=False)
    # 400 training examples / batch 100 = 4 steps per epoch; evaluations at steps 0, 2, 4, 6, 8
    assert rec["trajectory"]["step"] == [0, 2, 4, 6, 8]
    assert rec["trajectory"]["epoch"] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert math.isnan(rec["trajectory"]["train_loss"][0])


def test_derive_seed_streams_are_distinct_and_stable():
    assert derive_seed(0, "order") == derive_seed(0, "order")
    assert derive_seed(0, "order") != derive_seed(0, "init") != derive_seed(1, "order")
    assert 0 <= derive_seed(2**40, "x") < 2**63


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"dataset": "imagenet"}, "dataset"),
        ({"model": "vit"}, "model"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1e-4}, "weight_decay"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 0}, "epochs"),
        ({"eval_every": 0}, "eval_every"),
        ({"lr_schedule": "step"}, "lr_schedule"),
    ],
)
def test_bad_config_fails_fast_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kwargs)


def test_cosine_schedule():
    cfg = TrainConfig(lr=0.2, lr_schedule="cosine")
    assert cfg.lr_at(0, 100) == pytest.approx(0.2)
    assert cfg.lr_at(50, 100) == pytest.approx(0.1)
    assert cfg.lr_at(100, 100) == pytest.approx(0.0, abs=1e-12)


def test_batchnorm_model_uses_per_replica_statistics():
    from fpt_core.data import Data

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, 8, 8, generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    data = Data("synthetic", x[:48], y[:48], x[48:], y[48:], 10)
    cfg = TrainConfig(model="resnet18", dataset="cifar10", epochs=1, batch_size=16, lr=0.01)
    recs = train_ensemble(cfg, [0, 1], data, progress=False)
    for seed, rec in zip([0, 1], recs, strict=True):
        solo = train_solo(cfg, seed, data)
        np.testing.assert_allclose(rec["trajectory"]["test_loss"], solo["test_loss"], rtol=1e-3)
