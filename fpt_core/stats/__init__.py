"""Statistics of first passage that work on any training log: NumPy/SciPy only, no PyTorch."""
