import math

import numpy as np
import pytest
import torch

from fpt_core.train.config import TrainConfig
from fpt_core.train.engine import derive_seed, train_ensemble
from fpt_core.train.reference import train_solo

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


@pytest.mark.parametrize("grouped", [False, True])
def test_batchnorm_model_uses_per_replica_statistics(monkeypatch, grouped):
    """Replica by replica (CPU default) and as one grouped network (the CUDA default, forced
    here on the CPU): both equal R separate ``torch.optim.SGD`` runs."""
    import fpt_core.train.engine as engine
    from fpt_core.train.data import Data

    monkeypatch.setattr(engine, "GROUPED_ON", ("cpu",) if grouped else ())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, 8, 8, generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    data = Data("synthetic", x[:48], y[:48], x[48:], y[48:], 10)
    cfg = TrainConfig(model="resnet18", dataset="cifar10", epochs=1, batch_size=16, lr=0.01)
    recs = train_ensemble(cfg, [0, 1], data, progress=False)
    for seed, rec in zip([0, 1], recs, strict=True):
        solo = train_solo(cfg, seed, data)
        np.testing.assert_allclose(rec["trajectory"]["test_loss"], solo["test_loss"], rtol=1e-3)


def _fake_cifar_data(n_train=64, n_test=32, seed=0):
    from fpt_core.train.data import Data, _channel_stats

    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n_train + n_test, 3, 32, 32), generator=g, dtype=torch.uint8)
    y = torch.randint(0, 10, (n_train + n_test,), generator=g)
    mean, std = _channel_stats(x[:n_train])
    return Data("cifar10", x[:n_train], y[:n_train], x[n_train:], y[n_train:], 10, mean, std)


def test_augmentation_is_per_run_and_reproducible():
    data = _fake_cifar_data()
    kw = dict(dataset="cifar10", model="cnn", model_kwargs={"channels": [4]}, batch_size=16)
    cfg = TrainConfig(**kw, epochs=2, augment="crop_flip")
    both = train_ensemble(cfg, [0, 1], data, progress=False)
    alone = train_ensemble(cfg, [1], data, progress=False)
    plain = train_ensemble(TrainConfig(**kw, epochs=2), [1], data, progress=False)
    # replica 1's crops and flips come from its own seed, whatever else trains beside it
    np.testing.assert_allclose(
        both[1]["trajectory"]["train_loss"], alone[0]["trajectory"]["train_loss"], rtol=1e-5
    )
    assert both[0]["trajectory"]["train_loss"] != both[1]["trajectory"]["train_loss"]
    assert plain[0]["trajectory"]["train_loss"][1:] != alone[0]["trajectory"]["train_loss"][1:]


def test_bf16_autocast_trains_close_to_fp32():
    data = _fake_cifar_data()
    kw = dict(dataset="cifar10", model="cnn", model_kwargs={"channels": [4]}, batch_size=16)
    fp32 = train_ensemble(TrainConfig(**kw, epochs=1), [0], data, progress=False)
    bf16 = train_ensemble(TrainConfig(**kw, epochs=1, precision="bf16"), [0], data, progress=False)
    a, b = fp32[0]["trajectory"]["train_loss"][1], bf16[0]["trajectory"]["train_loss"][1]
    assert a != b and abs(a - b) < 0.05 * a  # bf16 has an 8-bit mantissa: close, not equal


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"augment": "crop_flip"}, "augment"),  # MNIST-1D is not an image data set
        ({"dataset": "cifar10", "augment": "mixup"}, "augment"),
        ({"precision": "fp16"}, "precision"),
    ],
)
def test_gpu_path_options_fail_fast(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_test_accuracy_is_the_exact_fraction(mnist1d_small):
    """k/n in float64, so that a target of 0.57 compares as "≥ 57 %" (float32's 0.57 is
    0.5699999928 < 0.57, which would silently raise every round target by one example)."""
    cfg = TrainConfig(model_kwargs={"hidden": [16]}, epochs=2, num_samples=500, batch_size=50)
    n = mnist1d_small.y_test.numel()
    for rec in train_ensemble(cfg, [0, 1, 2], mnist1d_small, progress=False):
        for v in rec["trajectory"]["test_acc"]:
            assert v == round(v * n) / n, v
    solo = train_solo(cfg, 0, mnist1d_small)
    assert all(v == round(v * n) / n for v in solo["test_acc"])
