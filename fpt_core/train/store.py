"""Results store: one JSON file per finished run, keyed by a hash of its full configuration.

A run's key is ``sha256`` of the canonical JSON of ``(config, seed, engine_version)``, so the same
configuration trained twice maps to the same file and a notebook re-executed with the same
parameters reuses finished runs. Files are written atomically (temporary file in the same folder,
``fsync``, ``os.replace``): a killed process leaves either the complete file or no file, never a
partial one that a later read could take as valid.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Store", "run_key", "atomic_write_text", "frame", "to_matrix", "TRAJECTORY_FIELDS"]

TRAJECTORY_FIELDS = ("step", "epoch", "test_acc", "test_loss", "train_loss")


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def run_key(
    config: Mapping[str, Any], seed: int, engine_version: str, data: str | None = None
) -> str:
    """Hash identifying one run: the configuration, the seed, the engine version and (``data``)
    the identity of the prepared data set (:func:`fpt_core.train.data.data_identity`), so that a
    changed data set never mixes with stored runs."""
    fields = {"config": dict(config), "seed": int(seed), "engine": engine_version}
    if data is not None:
        fields["data"] = data
    payload = _canonical(fields)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically: temp file in the same folder, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


class Store:
    """A folder of finished runs, ``<root>/runs/<key[:2]>/<key>.json``."""

    def __init__(self, root: str | os.PathLike = "results") -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / "runs" / key[:2] / f"{key}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def save(self, record: Mapping[str, Any]) -> Path:
        """Write one finished run (a dict with at least ``key``) atomically."""
        return atomic_write_text(self.path(record["key"]), json.dumps(record, default=_jsonable))

    def load(self, key: str) -> dict[str, Any]:
        with open(self.path(key)) as fh:
            return json.load(fh)

    def load_many(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        return [self.load(k) for k in keys]

    def keys(self) -> list[str]:
        """Keys of every finished run in the store (temporary files are never listed)."""
        return sorted(p.stem for p in (self.root / "runs").glob("*/*.json"))


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Tidy table, one row per (run, evaluation).

    Columns: ``run`` (index of the record), ``seed``, ``key``, ``status``, and the trajectory fields
    ``step, epoch, test_acc, test_loss, train_loss``.
    """
    parts = []
    for i, rec in enumerate(records):
        traj = pd.DataFrame({k: rec["trajectory"][k] for k in TRAJECTORY_FIELDS})
        traj.insert(0, "run", i)
        traj.insert(1, "seed", rec["seed"])
        traj.insert(2, "key", rec["key"])
        traj.insert(3, "status", rec["status"])
        parts.append(traj)
    if not parts:
        return pd.DataFrame(columns=["run", "seed", "key", "status", *TRAJECTORY_FIELDS])
    return pd.concat(parts, ignore_index=True)


def to_matrix(
    df: pd.DataFrame, value: str = "test_acc", time: str = "epoch"
) -> tuple[np.ndarray, np.ndarray]:
    """Pivot a tidy table into ``(times, values)`` with ``values`` of shape (runs, evaluations).

    Evaluations missing for a run (e.g. after it diverged) are ``NaN``.
    """
    wide = df.pivot_table(index="run", columns=time, values=value, aggfunc="first", dropna=False)
    return wide.columns.to_numpy(dtype=float), wide.to_numpy(dtype=float)
