"""Data loaders: MNIST-1D generated locally; torchvision data sets from small files written here
in their real on-disk formats (idx for MNIST/Fashion-MNIST, pickled batches for CIFAR)."""

import os
import pickle
import struct

import numpy as np
import pytest
import torch

from fpt_core.train.data import load_dataset
from fpt_core.train.models import build_model, has_batchnorm


def test_mnist1d_is_generated_locally_and_standardised_on_train_split():
    d = load_dataset("mnist1d", num_samples=500, device="cpu")
    assert d.x_train.shape == (400, 40) and d.x_test.shape == (100, 40)
    assert d.n_classes == 10 and d.y_train.dtype == torch.int64
    assert abs(float(d.x_train.mean())) < 1e-5 and abs(float(d.x_train.std()) - 1) < 1e-4
    assert abs(float(d.x_test.mean())) > 1e-6  # the test split is not re-standardised
    again = load_dataset("mnist1d", num_samples=500, device="cpu")
    assert torch.equal(d.x_train, again.x_train)


def _write_idx(path, array):
    dtype_code = 0x08  # unsigned byte
    with open(path, "wb") as fh:
        fh.write(struct.pack(">HBB", 0, dtype_code, array.ndim))
        fh.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        fh.write(array.astype(np.uint8).tobytes())


def _fake_mnist(root, folder, n_train=30, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_formats_from_data_root(tmp_path, name, folder):
    _fake_mnist(tmp_path, folder)
    d = load_dataset(name, data_root=tmp_path, device="cpu")
    assert d.x_train.shape == (30, 1, 28, 28) and d.x_test.shape == (10, 1, 28, 28)
    assert d.x_train.dtype == torch.uint8  # pixels as stored, standardised per batch
    raw = np.random.default_rng(0).integers(0, 256, (30, 28, 28)).astype(np.uint8)
    assert torch.equal(d.x_train[:, 0], torch.from_numpy(raw))
    assert d.y_train.tolist() == [i % 10 for i in range(30)]
    x = d.prepare(d.x_train)
    assert x.dtype == torch.float32
    assert abs(float(x.mean())) < 1e-5 and abs(float(x.std()) - 1) < 1e-4


def _fake_cifar(root, hundred: bool, per_batch=8, seed=0):
    rng = np.random.default_rng(seed)
    label_key = "fine_labels" if hundred else "labels"
    n_classes = 100 if hundred else 10
    folder = root / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    folder.mkdir(parents=True)
    names = (
        ["train", "test"] if hundred else [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]
    )
    for name in names:
        batch = {
            "data": rng.integers(0, 256, (per_batch, 3 * 32 * 32)).astype(np.uint8),
            label_key: list(rng.integers(0, n_classes, per_batch)),
        }
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh)
    meta_name, meta_key = (
        ("meta", "fine_label_names") if hundred else ("batches.meta", "label_names")
    )
    with open(folder / meta_name, "wb") as fh:
        pickle.dump({meta_key: [f"c{i}" for i in range(n_classes)]}, fh)
    return names


def folder_of(hundred: bool) -> str:
    return "cifar-100-python" if hundred else "cifar-10-batches-py"


@pytest.mark.parametrize("name,hundred", [("cifar10", False), ("cifar100", True)])
def test_cifar_formats_from_data_root(tmp_path, monkeypatch, name, hundred):
    import torchvision.datasets.cifar as cifar

    # the only thing bypassed: md5 sums of the real archive, which these small files cannot match
    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    names = _fake_cifar(tmp_path, hundred)
    d = load_dataset(name, data_root=tmp_path, device="cpu")
    n_train = 8 * (len(names) - 1)
    assert d.x_train.shape == (n_train, 3, 32, 32) and d.x_test.shape == (8, 3, 32, 32)
    assert d.n_classes == (100 if hundred else 10)
    first = pickle.load(open(tmp_path / folder_of(hundred) / names[0], "rb"))["data"]
    assert torch.equal(d.x_train[:8], torch.from_numpy(first.reshape(8, 3, 32, 32)))
    x = d.prepare(d.x_train)
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-4)
    # (x/255 − μ)/σ with μ, σ of the training pixels in [0, 1] units (torchvision's Normalize)
    px = d.x_train.double() / 255
    mu, sd = px.mean(dim=(0, 2, 3)), px.std(dim=(0, 2, 3))
    torch.testing.assert_close(
        d.prepare(d.x_test[:1]).double(),
        (d.x_test[:1].double() / 255 - mu.view(1, 3, 1, 1)) / sd.view(1, 3, 1, 1),
        rtol=1e-5,
        atol=1e-5,
    )
    net = build_model("resnet18", d.input_shape, d.n_classes)
    assert net(d.prepare(d.x_train[:2])).shape == (2, d.n_classes) and has_batchnorm(net)


def test_missing_files_name_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_root"):
        load_dataset("cifar10", data_root=tmp_path / "nowhere", device="cpu")


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"name": "imagenet"}, "dataset"),
        ({"name": "cifar10"}, "data_root"),
        ({"name": "mnist1d", "num_samples": 3}, "num_samples"),
    ],
)
def test_bad_arguments_fail_fast(kwargs, name):
    with pytest.raises(ValueError, match=name):
        load_dataset(**kwargs, device="cpu")


def test_models():
    x1 = torch.randn(4, 40)
    assert build_model("mlp", (40,), 10, hidden=[7, 5])(x1).shape == (4, 10)
    assert build_model("cnn", (40,), 10)(x1).shape == (4, 10)
    assert build_model("cnn", (1, 28, 28), 10)(torch.randn(4, 1, 28, 28)).shape == (4, 10)
    net = build_model("resnet18", (3, 32, 32), 100)
    assert net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1)
    assert isinstance(net.maxpool, torch.nn.Identity)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 100)
    assert (
        sum(p.numel() for p in net.parameters()) == 11_220_132
    )  # ResNet-18, CIFAR stem, 100 classes
    with pytest.raises(ValueError, match="model"):
        build_model("vit", (40,), 10)
    with pytest.raises(ValueError, match="resnet18"):
        build_model("resnet18", (40,), 10)


def test_device_resolution(monkeypatch):
    from fpt_core.train.device import resolve_device

    assert resolve_device("cpu").type == "cpu"
    monkeypatch.setenv("FPT_DEVICE", "cpu")
    assert resolve_device().type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device"):
            resolve_device("cuda")
    with pytest.raises((ValueError, RuntimeError)):
        resolve_device("tpu")
