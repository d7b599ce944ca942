"""Datasets as tensors on the training device.

The default, MNIST-1D (Greydanus 2020), is generated locally by ``mnist1d.data.make_dataset`` —
nothing is downloaded. CIFAR-10, CIFAR-100, Fashion-MNIST and MNIST are read through torchvision
from a ``data_root`` the user provides; ``download=True`` lets torchvision fetch them for users
with network access. The whole dataset is held as tensors on the training device; inputs are
standardised with the mean and standard deviation of the *training* split only (per channel for
images). Images stay ``uint8`` on the device (a quarter of the memory and of the bandwidth of every
minibatch gather) and are standardised batch by batch by :meth:`Data.prepare`, after any
augmentation, as torchvision's ``RandomCrop → ToTensor → Normalize`` would do.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fpt_core.train.device import resolve_device

__all__ = ["data_identity", "Data", "DATASETS", "load_dataset", "mnist1d_arrays"]

DATASETS = ("mnist1d", "mnist", "fashion_mnist", "cifar10", "cifar100")
_TORCHVISION = {
    "mnist": ("MNIST", 10),
    "fashion_mnist": ("FashionMNIST", 10),
    "cifar10": ("CIFAR10", 10),
    "cifar100": ("CIFAR100", 100),
}


@dataclass(frozen=True)
class Data:
    """Train/test tensors on one device; ``y_*`` are int64.

    ``x_*`` are float32 and standardised, or, for images, ``uint8`` pixels with the training
    split's per-channel ``mean`` and ``std`` (in units of 1/255, shape (1, C, 1, 1)): the model's
    input is always ``prepare(x)``.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Model input from stored examples: ``(x/255 − mean)/std`` for uint8 images, else ``x``.

        Works on any leading batch shape, e.g. (R, B, C, H, W) minibatches of R replicas.
        """
        if x.dtype != torch.uint8:
            return x
        return (x.to(torch.float32) / 255.0 - self.mean) / self.std

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])


def data_identity(data: Data) -> str:
    """Checksum of the prepared tensors (train and test, inputs and labels, with dtypes and shapes):
    the data set's identity in the store's keys. A new version of a generator or of a file on disk
    gives a new identity, hence new keys, and never mixes with runs stored before.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.zeros(4, 3), torch.tensor([0, 1, 0, 1])
    >>> a = Data("toy", x, y, x, y, n_classes=2)
    >>> b = Data("toy", x + 1, y, x, y, n_classes=2)
    >>> data_identity(a) == data_identity(a), data_identity(a) == data_identity(b)
    (True, False)
    """
    h = hashlib.sha256()
    for t in (data.x_train, data.y_train, data.x_test, data.y_test):
        c = t.detach().to("cpu").contiguous()
        h.update(f"{c.dtype}{tuple(c.shape)}".encode())
        h.update(c.view(torch.uint8).numpy().tobytes() if c.numel() else b"")
    return h.hexdigest()[:16]


def mnist1d_arrays(num_samples: int = 5000, seed: int = 42) -> dict[str, np.ndarray]:
    """Generate MNIST-1D locally (``x`` (N, 40), ``y``, ``x_test``, ``y_test``); 80/20 split."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = int(num_samples)
    args.seed = int(seed)
    return make_dataset(args)


def _standardise(x_train: torch.Tensor, x_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # one scalar mean and std for sequences (N, L)
    mean, std = x_train.mean(), x_train.std().clamp_min(1e-8)
    return (x_train - mean) / std, (x_test - mean) / std


def _channel_stats(x_train: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images (N, C, H, W), in [0, 1] units, shape (1, C, 1, 1)."""
    x = x_train.to(torch.float64) / 255.0
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    std = x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)
    return mean.float(), std.float()


def _torchvision_split(name: str, root: Path, train: bool, download: bool):
    import torchvision

    cls_name, _ = _TORCHVISION[name]
    cls = getattr(torchvision.datasets, cls_name)
    try:
        ds = cls(root=str(root), train=train, download=download)
    except RuntimeError as err:
        raise FileNotFoundError(
            f"dataset={name!r} not found under data_root={str(root)!r} ({err}). Put the "
            f"torchvision files there (e.g. {cls_name} as torchvision.datasets.{cls_name} stores "
            f"them) or pass download=True on a machine with network access."
        ) from err
    x = torch.as_tensor(np.asarray(ds.data))
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # (N, C, H, W)
    return x.to(torch.uint8).contiguous(), y


def load_dataset(
    name: str = "mnist1d",
    *,
    data_root: str | os.PathLike | None = None,
    download: bool = False,
    device: str | torch.device | None = None,
    num_samples: int = 5000,
    data_seed: int = 42,
) -> Data:
    """Load ``name`` (one of :data:`DATASETS`) as tensors on ``device`` (see :class:`Data`).

    ``num_samples`` and ``data_seed`` apply to MNIST-1D only (its generator's sample count, 80%
    train / 20% test, and seed; the defaults give the standard 4000/1000 split).
    ``data_root`` is required for the torchvision datasets.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r} is unknown; allowed: {list(DATASETS)}")
    dev = resolve_device(device)
    if name == "mnist1d":
        if num_samples < 10:
            raise ValueError(f"num_samples={num_samples} must be ≥ 10")
        arr = mnist1d_arrays(num_samples, data_seed)
        x_tr, x_te = torch.as_tensor(arr["x"]).float(), torch.as_tensor(arr["x_test"]).float()
        y_tr = torch.as_tensor(arr["y"], dtype=torch.int64)
        y_te = torch.as_tensor(arr["y_test"], dtype=torch.int64)
        n_classes = 10
        x_tr, x_te = _standardise(x_tr, x_te)
        return Data(name, x_tr.to(dev), y_tr.to(dev), x_te.to(dev), y_te.to(dev), n_classes)
    else:
        if data_root is None:
            raise ValueError(
                f"dataset={name!r} needs data_root (a folder with the torchvision files); "
                "nothing is downloaded unless download=True"
            )
        root = Path(data_root).expanduser()
        x_tr, y_tr = _torchvision_split(name, root, True, download)
        x_te, y_te = _torchvision_split(name, root, False, download)
        n_classes = _TORCHVISION[name][1]
    mean, std = _channel_stats(x_tr)
    return Data(
        name,
        x_tr.to(dev),
        y_tr.to(dev),
        x_te.to(dev),
        y_te.to(dev),
        n_classes,
        mean.to(dev),
        std.to(dev),
    )
