"""Run an experiment: train the runs the store lacks, reuse the rest, return a tidy result.

``run_ensemble(config, n_runs)`` is what notebooks call. Seeds ``0 … n_runs−1`` (or any list) are
looked up in the :class:`~fpt_core.train.store.Store` by the hash of (config, seed, engine version);
missing ones are trained in chunks of ``chunk_size`` replicas as one batched ensemble, and each
chunk's runs are written atomically as soon as the chunk finishes, so a killed notebook loses at
most one chunk and a re-execution trains only what is missing.

By default the chunks are trained one after another in this process. Given a Dask
``distributed.Client`` (argument ``client=``, or the environment variable ``FPT_DASK_SCHEDULER``
holding a scheduler address), each chunk becomes one task on the cluster instead
(:mod:`fpt_core.train.cluster`); both paths train and save a chunk with the same function,
:func:`fpt_core.train.chunk.train_chunk`, so their records are identical field by field.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from fpt_core.train.checkpoint import check_hooks
from fpt_core.train.chunk import cached_dataset, ensemble_hooks, train_chunk
from fpt_core.train.config import TrainConfig
from fpt_core.train.data import data_identity
from fpt_core.train.device import resolve_device
from fpt_core.train.engine import ENGINE_VERSION, Hook
from fpt_core.train.progress import emit as emit_progress
from fpt_core.train.store import Store, frame, run_key, to_matrix

__all__ = ["EnsembleResult", "ensemble_keys", "run_ensemble"]


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
        """Tidy table, one row per (run, evaluation); see :func:`fpt_core.train.store.frame`."""
        return frame(self.records)

    def matrix(self, value: str = "test_acc", time: str = "epoch") -> tuple[np.ndarray, np.ndarray]:
        """``(times, values)`` with values of shape (runs, evaluations); NaN after divergence."""
        return to_matrix(self.frame(), value=value, time=time)


def _seeds(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"n_runs={seeds} must be ≥ 1")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise ValueError("seeds must be a non-empty list of distinct integers")
    return out


@lru_cache(maxsize=16)
def _data_id(name: str, data_root: str | None, download: bool, num_samples: int, seed: int) -> str:
    return data_identity(cached_dataset(name, data_root, download, "cpu", num_samples, seed))


def ensemble_keys(
    config: TrainConfig,
    seeds: int | Iterable[int],
    *,
    data_root: str | os.PathLike | None = None,
    download: bool = False,
) -> list[str]:
    """The store keys of the runs ``seeds`` of ``config``: configuration, seed, engine version and
    the data set's identity (:func:`fpt_core.train.data.data_identity`, computed once per data
    set and process)."""
    droot = None if data_root is None else str(data_root)
    data = _data_id(config.dataset, droot, bool(download), config.num_samples, config.data_seed)
    cfg = config.to_dict()
    return [run_key(cfg, s, ENGINE_VERSION, data=data) for s in _seeds(seeds)]


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
    client: Any = None,
    checkpoint_every: int | None = None,
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
        Replicas trained at once as one batched computation (on a cluster: one task).
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"mps"``; default: automatic (``FPT_DEVICE`` overrides). On a
        cluster, ``None`` is resolved on each worker.
    data_root : path, optional
        Folder of on-disk data sets (e.g. CIFAR-10); on a cluster, the same path on every worker.
    download : bool
        Let torchvision download a missing data set.
    hooks : callables
        Extra per-evaluation hooks (the perturbation in ``config`` is added automatically). On a
        cluster they must be picklable and each task gets its own copy: what a hook collects stays
        on the worker.
    progress : bool
        Show progress bars (chunks; in-process also epochs).
    client : distributed.Client, str or None
        Run the missing chunks as tasks on a Dask cluster: a ``distributed.Client`` or a scheduler
        address such as ``"tcp://host:8786"``. ``None`` (default): the address in the environment
        variable ``FPT_DASK_SCHEDULER`` if it is set and ``store`` is not ``None``, else train in
        this process. A cluster needs a ``store`` on a filesystem the workers share: workers
        write the runs there and this process reads them back. See :mod:`fpt_core.train.cluster`.
    checkpoint_every : int, optional
        Checkpoint each chunk every that many epochs in the store (``checkpoints/``) and continue
        an interrupted chunk from its checkpoint, bit-identically (same thread count). Every hook
        needs ``state_dict``/``load_state_dict`` (checked before training). Not part of the runs'
        keys: it does not change what a run computes.

    Returns
    -------
    EnsembleResult
        The records in seed order. ``device`` is the device of this process (in-process) or the
        devices the records were trained on, comma-separated (cluster).
    """
    t0 = time.perf_counter()
    config.validate()
    seed_list = _seeds(seeds)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r} must be an integer ≥ 1")
    if checkpoint_every is not None:
        if not (isinstance(checkpoint_every, int) and checkpoint_every >= 1):
            raise ValueError(
                f"checkpoint_every={checkpoint_every!r} must be an integer ≥ 1 (epochs)"
            )
        if store is None:
            raise ValueError("checkpoint_every needs a store: checkpoints are written there")
        check_hooks(ensemble_hooks(config, hooks))
    on_cluster = client is not None or (
        store is not None and bool(os.environ.get("FPT_DASK_SCHEDULER"))
    )
    if on_cluster and store is None:
        raise ValueError("client= needs a store: workers write finished runs to the store")
    if store is not None and not isinstance(store, Store):
        store = Store(store)
    keys = ensemble_keys(config, seed_list, data_root=data_root, download=download)
    have = {k for k in keys if store is not None and store.has(k)}
    missing = [(s, k) for s, k in zip(seed_list, keys, strict=True) if k not in have]
    chunks = [missing[i : i + chunk_size] for i in range(0, len(missing), chunk_size)]
    if on_cluster:
        if chunks:  # connect only when there is something to train
            from fpt_core.train.cluster import check_device, resolve_client, train_on_cluster

            worker_device = check_device(device)  # before connecting
            train_on_cluster(
                resolve_client(client),
                config,
                chunks,
                store=store,  # type: ignore[arg-type]
                device=worker_device,
                data_root=data_root,
                download=download,
                hooks=list(hooks),
                progress=progress,
                checkpoint_every=checkpoint_every,
            )
        records = store.load_many(keys)  # type: ignore[union-attr]
        dev_name = ",".join(sorted({str(r.get("device")) for r in records}))
        return EnsembleResult(
            config=config,
            records=records,
            n_trained=len(missing),
            n_reused=len(keys) - len(missing),
            wall_time_s=time.perf_counter() - t0,
            device=dev_name,
        )
    dev = resolve_device(device)
    trained: dict[str, dict[str, Any]] = {}
    if missing:
        emit_progress("ensemble", to_train=len(missing), total=len(keys))
        all_hooks = ensemble_hooks(config, hooks)
        data = cached_dataset(
            config.dataset,
            None if data_root is None else str(data_root),
            bool(download),
            str(dev),
            config.num_samples,
            config.data_seed,
        )
        for chunk in tqdm(
            chunks, desc="chunks", unit="chunk", disable=not progress or len(chunks) < 2
        ):
            records = train_chunk(
                config,
                chunk,
                data,
                device=str(dev),
                hooks=all_hooks,
                store=store,
                progress=progress,
                checkpoint_every=checkpoint_every,
            )
            trained.update((rec["key"], rec) for rec in records)
            emit_progress("chunk", runs=len(chunk))
    records = [trained[k] if k in trained else store.load(k) for k in keys]  # type: ignore[union-attr]
    return EnsembleResult(
        config=config,
        records=records,
        n_trained=len(missing),
        n_reused=len(keys) - len(missing),
        wall_time_s=time.perf_counter() - t0,
        device=str(dev),
    )
