"""Training logs from disk: one CSV per run, or one long/wide table, into arrays (:class:`RunLog`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fpt_core.stats.checks import check_times

__all__ = ["RunLog", "load_runs"]


@dataclass(frozen=True)
class RunLog:
    """Training logs as arrays: ``times`` (evaluations,), ``acc`` (runs, evaluations) NaN-padded,
    ``runs`` the run names (file stems or the table's run labels), in natural order."""

    times: np.ndarray
    acc: np.ndarray
    runs: list[str]


def natural_key(name: str) -> list[int | str]:
    return [int(s) if s.isdigit() else s.lower() for s in re.split(r"(\d+)", name)]


def _pick(df: pd.DataFrame, names: tuple[str, ...], param: str, where: str) -> str:
    for name in names:
        if name in df.columns:
            return name
    raise ValueError(f"{param}: none of {list(names)} is a column of {where} ({list(df.columns)})")


def load_runs(
    path: str | Path | pd.DataFrame,
    *,
    accuracy: str | None = None,
    run: str = "run",
    time: str | None = None,
    pattern: str = "*.csv",
) -> RunLog:
    """Read external training logs into ``(times, runs × evaluations)`` arrays.

    Two layouts: ``path`` a **folder** of per-run CSV files (``pattern``), one row per
    evaluation, the accuracy in column ``accuracy`` (default: ``test_ACC``, else ``test_acc``) and
    the times in column ``time`` (default: row number 1, 2, …); or ``path`` a **long table** — a
    CSV file or a pandas DataFrame (e.g. from TensorBoard or W&B exports) — with columns ``run``,
    ``time`` (default ``"time"``) and ``accuracy`` (default ``"accuracy"``, else
    ``test_ACC``/``test_acc``). Runs are sorted naturally (``seed_2`` before ``seed_10``);
    times are the union over runs, with NaN where a run has no evaluation (shorter runs).
    """
    if isinstance(path, pd.DataFrame):
        frame, where = path, "the DataFrame"
    else:
        path = Path(path)
        frame, where = (pd.read_csv(path), path.name) if path.is_file() else (None, str(path))
    if frame is not None:
        acc_names = (accuracy,) if accuracy else ("accuracy", "test_ACC", "test_acc")
        long = pd.DataFrame(
            {
                "run": frame[_pick(frame, (run,), "run", where)].astype(str),
                "time": frame[_pick(frame, (time or "time",), "time", where)],
                "acc": frame[_pick(frame, acc_names, "accuracy", where)],
            }
        )
    elif path.is_dir():
        files = sorted(path.glob(pattern), key=lambda p: natural_key(p.stem))
        if not files:
            raise ValueError(f"path: no files matching {pattern!r} in {path}")
        acc_names = (accuracy,) if accuracy else ("test_ACC", "test_acc")
        parts = []
        for f in files:
            df = pd.read_csv(f)
            col = _pick(df, acc_names, "accuracy", f.name)
            t = df[_pick(df, (time,), "time", f.name)] if time else np.arange(1, len(df) + 1)
            parts.append(pd.DataFrame({"run": f.stem, "time": t, "acc": df[col]}))
        long = pd.concat(parts, ignore_index=True)
    else:
        raise ValueError(f"path={str(path)!r} is neither a folder nor a CSV file")
    if long.duplicated(["run", "time"]).any():
        raise ValueError("time: some run has two rows with the same time")
    wide = long.pivot(index="run", columns="time", values="acc")
    names = sorted(wide.index, key=natural_key)
    wide = wide.loc[names].sort_index(axis=1)
    times = check_times(wide.columns.to_numpy(dtype=float), None)
    return RunLog(times, wide.to_numpy(dtype=float), [str(n) for n in names])
