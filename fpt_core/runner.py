"""Run an experiment: train the runs the store lacks, reuse the rest, return a tidy result.

``run_ensemble(config, n_runs)`` is what notebooks call. Seeds ``0 … n_runs−1`` (or any list) are
looked up in the :class:`~fpt_core.store.Store` by the hash of (config, seed, engine version);
missing ones are trained in chunks of ``chunk_size`` replicas as one batched ensemble, and each
chunk's runs are written atomically as soon as the chunk finishes, so a killed notebook loses at
most one chunk and a re-execution trains only what is missing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from .config import TrainConfig
from .data import Data, load_dataset
from .device import resolve_device
from .engine import ENGINE_VERSION, Hook, train_ensemble
from .store import Store, frame, run_key, to_matrix

__all__ = ["EnsembleResult", "run_ensemble", "cached_dataset"]


@dataclass
class EnsembleResult:
    """Finished runs of one configuration, in seed order, and how they were obtained."""

    config: TrainConfig
    records: list[dict[str, Any]]
    n_trained: int
    n_reused: int
    wall_time_s: float
    device: str

    @property
    def n_runs(self) -> int:
        return len(self.records)

    @property
    def n_diverged(self) -> int:
        return sum(r["status"] == "diverged" for r in self.records)

    def frame(self) -> pd.DataFrame:
        """Tidy table, one row per (run, evaluation); see :func:`fpt_core.store.frame`."""
        return frame(self.records)

    def matrix(self, value: str = "test_acc", time: str = "epoch") -> tuple[np.ndarray, np.ndarray]:
        """``(times, values)`` with values of shape (runs, evaluations); NaN after divergence."""
        return to_matrix(self.frame(), value=value, time=time)


@lru_cache(maxsize=4)
def cached_dataset(
    name: str, data_root: str | None, download: bool, device: str, num_samples: int, data_seed: int
) -> Data:
    """:func:`fpt_core.data.load_dataset`, memoised within the process."""
    return load_dataset(
        name,
        data_root=data_root,
        download=download,
        device=device,
        num_samples=num_samples,
        data_seed=data_seed,
    )


def _seeds(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"n_runs={seeds} must be ≥ 1")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise ValueError("seeds must be a non-empty list of distinct integers")
    return out


def run_ensemble(
    config: TrainConfig,
    seeds: int | Iterable[int],
    *,
    store: Store | str | os.PathLike | None = "results",
    chunk_size: int = 128,
    device: str | torch.device | None = None,
    data_root: str | os.PathLike | None = None,
    download: bool = False,
    hooks: Iterable[Hook] = (),
    progress: bool = True,
) -> EnsembleResult:
    """Train (or reuse) one run per seed of ``config``.

    Parameters
    ----------
    config : TrainConfig
        Validated on construction, so bad values fail here before any training.
    seeds : int or list of int
        ``n`` means seeds ``0 … n−1``.
    store : Store, path or None
        Where finished runs live (default ``results/``); ``None`` trains everything, stores nothing.
    chunk_size : int
        Replicas trained at once as one batched computation.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"mps"``; default: automatic (``FPT_DEVICE`` overrides).
    hooks : callables
        Extra per-evaluation hooks (the perturbation in ``config`` is added automatically).
    """
    t0 = time.perf_counter()
    config.validate()
    seed_list = _seeds(seeds)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r} must be an integer ≥ 1")
    dev = resolve_device(device)
    if store is not None and not isinstance(store, Store):
        store = Store(store)
    cfg_dict = config.to_dict()
    keys = [run_key(cfg_dict, s, ENGINE_VERSION) for s in seed_list]
    have = {k for k in keys if store is not None and store.has(k)}
    missing = [(s, k) for s, k in zip(seed_list, keys, strict=True) if k not in have]
    all_hooks = list(hooks)
    if config.perturbation:
        from .protocols import build_protocol

        all_hooks.insert(0, build_protocol(config.perturbation))
    trained: dict[str, dict[str, Any]] = {}
    if missing:
        data = cached_dataset(
            config.dataset,
            None if data_root is None else str(data_root),
            bool(download),
            str(dev),
            config.num_samples,
            config.data_seed,
        )
        chunks = [missing[i : i + chunk_size] for i in range(0, len(missing), chunk_size)]
        for chunk in tqdm(
            chunks, desc="chunks", unit="chunk", disable=not progress or len(chunks) < 2
        ):
            records = train_ensemble(
                config, [s for s, _ in chunk], data, hooks=all_hooks, progress=progress
            )
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for (_, key), rec in zip(chunk, records, strict=True):
                rec.update(
                    key=key,
                    config=cfg_dict,
                    engine_version=ENGINE_VERSION,
                    device=str(dev),
                    torch=torch.__version__,
                    created=stamp,
                )
                if store is not None:
                    store.save(rec)
                trained[key] = rec
    records = [trained[k] if k in trained else store.load(k) for k in keys]  # type: ignore[union-attr]
    return EnsembleResult(
        config=config,
        records=records,
        n_trained=len(missing),
        n_reused=len(keys) - len(missing),
        wall_time_s=time.perf_counter() - t0,
        device=str(dev),
    )
