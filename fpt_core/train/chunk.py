"""One chunk of an ensemble: the runs trained at once as one batched computation, and their records.

The single place where a run record is made, shared by the in-process path of
:func:`fpt_core.train.runner.run_ensemble` and by the cluster task
:func:`fpt_core.train.cluster.train_task`, so both write identical records field by field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from fpt_core.train.config import TrainConfig
from fpt_core.train.data import Data, load_dataset
from fpt_core.train.engine import ENGINE_VERSION, Hook, train_ensemble
from fpt_core.train.store import Store

__all__ = ["cached_dataset", "checkpoint_path", "ensemble_hooks", "train_chunk"]


@lru_cache(maxsize=4)
def cached_dataset(
    name: str, data_root: str | None, download: bool, device: str, num_samples: int, data_seed: int
) -> Data:
    """:func:`fpt_core.train.data.load_dataset`, memoised within the process."""
    return load_dataset(
        name,
        data_root=data_root,
        download=download,
        device=device,
        num_samples=num_samples,
        data_seed=data_seed,
    )


def ensemble_hooks(config: TrainConfig, hooks: Iterable[Hook] = ()) -> list[Hook]:
    """The hooks a chunk of ``config`` is trained with.

    The protocol built from ``config.perturbation`` (if any) comes first, then ``hooks``.
    """
    out = list(hooks)
    if config.perturbation:
        from fpt_core.protocols.registry import build_protocol

        out.insert(0, build_protocol(config.perturbation))
    return out


def train_chunk(
    config: TrainConfig,
    chunk: Sequence[tuple[int, str]],
    data: Data,
    *,
    device: str,
    hooks: Sequence[Hook] = (),
    store: Store | None = None,
    progress: bool = False,
    checkpoint_every: int | None = None,
) -> list[dict[str, Any]]:
    """Train one chunk of runs as one batched ensemble, complete their records, save them.

    The single place where a run record is made, used by the in-process path of
    :func:`run_ensemble` and by the cluster task :func:`fpt_core.train.cluster.train_task`.

    Parameters
    ----------
    config : TrainConfig
        The configuration shared by the chunk.
    chunk : list of (int, str)
        ``(seed, key)`` pairs, ``key`` = :func:`fpt_core.train.store.run_key` of the run.
    data : Data
        The data set, already on the training device.
    device : str
        The training device, written into each record.
    hooks : list of callables
        Every hook, the perturbation protocol included (see :func:`ensemble_hooks`).
    store : Store, optional
        Each record is saved there (atomically) once the whole chunk has finished.
    progress : bool
        Show the per-epoch progress bar.
    checkpoint_every : int, optional
        Checkpoint the chunk every that many epochs under ``store`` (:func:`checkpoint_path`) and
        continue from a checkpoint found there; the file is removed once the chunk is saved.

    Returns
    -------
    list of dict
        One record per run, in chunk order: the fields of
        :func:`fpt_core.train.engine.train_ensemble` plus ``key``, ``config``, ``engine_version``,
        ``device``, ``torch`` and ``created`` (UTC, ISO 8601, seconds).
    """
    path = None
    if checkpoint_every is not None:
        if store is None:
            raise ValueError("checkpoint_every needs a store: checkpoints are written there")
        path = checkpoint_path(store, [k for _, k in chunk])
    records = train_ensemble(config, [s for s, _ in chunk], data, hooks=hooks, progress=progress,
                             checkpoint=path, checkpoint_every=checkpoint_every)  # fmt: skip
    cfg_dict = config.to_dict()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for (_, key), rec in zip(chunk, records, strict=True):
        rec.update(
            key=key,
            config=cfg_dict,
            engine_version=ENGINE_VERSION,
            device=str(device),
            torch=torch.__version__,
            created=stamp,
        )
        if store is not None:
            store.save(rec)
    if path is not None:
        path.unlink(missing_ok=True)
    return records


def checkpoint_path(store: Store, keys: Sequence[str]) -> Path:
    """Where the checkpoint of the chunk of runs ``keys`` lives: ``<store>/checkpoints/<id>.pt``,
    ``id`` a hash of the keys (the chunk's configuration, seeds and engine version)."""
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24]
    return Path(store.root) / "checkpoints" / f"{digest}.pt"
