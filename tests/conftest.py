import pytest

from fpt_core.data import load_dataset


@pytest.fixture(scope="session")
def mnist1d_small():
    """A small MNIST-1D (400 train / 100 test) on the CPU."""
    return load_dataset("mnist1d", num_samples=500, device="cpu")
