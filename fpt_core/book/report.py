"""Provenance and the headline figures an executed notebook writes next to itself."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fpt_core.train.store import atomic_write_text

__all__ = [
    "provenance",
    "provenance_html",
    "write_summary",
    "peak_memory_mb",
    "ensemble_counts",
    "Timer",
]


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(device: str | None = None) -> dict[str, Any]:
    """Versions and machine: torch, numpy, python, platform, git commit, device, cpu count, and
    the process's peak memory so far (call it at the end of a notebook)."""
    import torch

    from fpt_core import __version__

    return {
        "fpt_core": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "git_commit": _git_commit(),
        "peak_memory_mb": peak_memory_mb(),
    }


def peak_memory_mb() -> float | None:
    """Peak resident memory of this process so far, in MiB (``getrusage``; None where absent)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, else KiB


def _clean(x: Any) -> Any:
    """Turn numpy scalars/arrays and non-finite floats into JSON (non-finite become ``None``)."""
    if isinstance(x, Mapping):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def write_summary(path: str | os.PathLike, summary: Mapping[str, Any]) -> Path:
    """Write ``summary`` as JSON atomically (non-finite numbers become ``null``)."""
    return atomic_write_text(path, json.dumps(_clean(summary), indent=2, allow_nan=False) + "\n")


def ensemble_counts(ensembles: Sequence[Any]) -> dict[str, int]:
    """Runs in, trained, reused from the store and diverged, summed over ``ensembles``
    (:class:`fpt_core.train.runner.EnsembleResult` or anything with those attributes).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> e = [NS(n_runs=4, n_trained=1, n_reused=3, n_diverged=0), NS(n_runs=2, n_trained=2,
    ...      n_reused=0, n_diverged=1)]
    >>> ensemble_counts(e)
    {'n_runs': 6, 'n_trained': 3, 'n_reused': 3, 'n_diverged': 1}
    """
    keys = ("n_runs", "n_trained", "n_reused", "n_diverged")
    return {k: int(sum(getattr(e, k) for e in ensembles)) for k in keys}


def provenance_html(summary: Mapping[str, Any]) -> str:
    """A collapsed HTML block (``<details>``) with a notebook's provenance, for its page.

    Lists the preset, the parameters, device, torch version, git commit, wall time and the
    runs trained vs reused from the results store, read from ``summary`` (the dict passed to
    :func:`write_summary`; provenance fields under ``summary["provenance"]``).
    """
    prov = dict(summary.get("provenance") or summary)  # nested, or spread at the top level
    rows = [
        ("preset", summary.get("preset")),
        ("device", summary.get("device") or prov.get("device")),
        ("torch", prov.get("torch")),
        ("fpt_core", prov.get("fpt_core")),
        ("git commit", prov.get("git_commit")),
        ("python / platform", f"{prov.get('python')} / {prov.get('platform')}"),
        ("CPU cores / torch threads", f"{prov.get('cpu_count')} / {prov.get('torch_threads')}"),
        ("wall time", f"{summary.get('wall_time_s', float('nan')):.1f} s"),
    ]
    if prov.get("peak_memory_mb") is not None:
        rows.append(("peak memory", f"{prov['peak_memory_mb']:.0f} MiB"))
    if summary.get("n_trained") is not None:
        rows.append(
            ("runs trained / reused", f"{summary['n_trained']} / {summary.get('n_reused')}")
        )
    params = json.dumps(_clean(summary.get("params", {})), sort_keys=True)
    body = "".join(f"<tr><td>{k}</td><td><code>{v}</code></td></tr>" for k, v in rows)
    return (
        '<details class="fpt-provenance"><summary>Provenance of this page</summary>'
        f"<table>{body}<tr><td>parameters</td><td><code>{params}</code></td></tr></table>"
        "</details>"
    )


class Timer:
    """Wall-clock timer: ``t = Timer(); ...; t.elapsed`` (seconds)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start
