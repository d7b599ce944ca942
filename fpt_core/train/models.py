"""Models: an MLP and a small CNN for CPU-scale runs, ResNet-18 with the CIFAR stem for the paper.

All are plain ``nn.Module``s with PyTorch's default initialisation, so a run seeded with
``torch.manual_seed(seed)`` draws the same weights as any other code that does the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["MLP", "SmallCNN", "resnet18_cifar", "build_model", "MODELS", "has_batchnorm"]

MODELS = ("mlp", "cnn", "resnet18")


class MLP(nn.Module):
    """Fully connected ReLU network on the flattened input: in → hidden[0] → … → n_classes."""

    def __init__(self, in_features: int, n_classes: int, hidden: Sequence[int] = (100, 100)):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """Conv–ReLU blocks (stride 2 after the first) and a linear head; 1-D or 2-D by input rank.

    ``input_shape`` is ``(L,)`` or ``(C, L)`` for sequences (MNIST-1D) and ``(C, H, W)`` for images.
    """

    def __init__(
        self, input_shape: Sequence[int], n_classes: int, channels: Sequence[int] = (25, 25, 25)
    ):
        super().__init__()
        shape = tuple(input_shape)
        self.unsqueeze = len(shape) == 1
        if self.unsqueeze:
            shape = (1, *shape)
        conv = nn.Conv1d if len(shape) == 2 else nn.Conv2d
        layers: list[nn.Module] = []
        c_in, spatial = shape[0], list(shape[1:])
        for i, c in enumerate(channels):
            stride = 1 if i == 0 else 2
            layers += [conv(c_in, int(c), 3, stride=stride, padding=1), nn.ReLU()]
            c_in = int(c)
            spatial = [math.floor((s + 2 - 3) / stride) + 1 for s in spatial]
        layers += [nn.Flatten(), nn.Linear(c_in * math.prod(spatial), n_classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.unsqueeze(-2) if self.unsqueeze else x)


def resnet18_cifar(n_classes: int = 10) -> nn.Module:
    """torchvision ResNet-18 (BasicBlock [2, 2, 2, 2]) with the CIFAR stem: 3×3 conv, stride 1,
    no max-pool (He et al. 2016; as in the released code of Meir et al. 2025)."""
    from torchvision.models import resnet18

    net = resnet18(num_classes=n_classes)
    net.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


def build_model(
    name: str, input_shape: Sequence[int], n_classes: int, **kwargs: object
) -> nn.Module:
    """Construct model ``name`` (one of :data:`MODELS`) for inputs of ``input_shape``."""
    if name == "mlp":
        return MLP(math.prod(input_shape), n_classes, **kwargs)  # type: ignore[arg-type]
    if name == "cnn":
        return SmallCNN(input_shape, n_classes, **kwargs)  # type: ignore[arg-type]
    if name == "resnet18":
        if tuple(input_shape)[0] != 3:
            raise ValueError(f"model='resnet18' needs 3-channel images, got input {input_shape}")
        return resnet18_cifar(n_classes)
    raise ValueError(f"model={name!r} is unknown; allowed: {list(MODELS)}")


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
