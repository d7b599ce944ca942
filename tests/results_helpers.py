"""Helpers shared by the per-notebook result tests (``tests/test_results_*.py``)."""

import json
from pathlib import Path


def summary(root: Path, stem: str) -> dict:
    """The summary a notebook wrote at the ``tiny`` preset in the ``tiny_book`` fixture's copy."""
    return json.loads((root / "book" / "executed" / f"{stem}.summary.json").read_text())


def inside(low: float, x: float, high: float) -> bool:
    """``low ≤ x ≤ high`` up to rounding."""
    return low - 1e-12 <= x <= high + 1e-12
