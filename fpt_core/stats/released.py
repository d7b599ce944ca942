"""Released training runs in the layout of Meir et al. (2025), read into arrays.

The authors of arXiv:2502.04121 released their runs (repository Hirshberg-Lab/OptPerturbationsNN,
folder ``Figures_data``) as one CSV per run, one row per epoch (row k = epoch k), in folders:

* ``…reg_training/`` — the unperturbed ensemble (the folder whose name ends in ``reg_training``);
* ``[testacc_list_]<protocol>_reset<τ>/`` — an ensemble perturbed by ``<protocol>`` every τ
  epochs (``s_and_p``: shrink & perturb, ``partial``: partial resetting);
* ``SR_frac_of_smallest_w/fpt<target>_reset<K>.csv`` — first-passage times only (column
  ``fpt_list``), one file per K.

:func:`discover` reads any folder in that layout (runs of any length and count; a protocol may
be absent), or the compact form written by :func:`write_compact` (``runs.npz``: scores as integer
hundredths, with a content checksum, :func:`content_checksum`), which the book vendors.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for name, rows in [("reg_training", [50.0, 71.5]), ("testacc_list_s_and_p_reset1", [50.0, 72.0])]:
...     (d / name).mkdir()
...     _ = (d / name / "seed_0.csv").write_text("test_ACC\\n" + "\\n".join(map(str, rows)) + "\\n")
>>> runs = discover(d)
>>> runs.unperturbed.acc.shape, sorted(runs.perturbed), sorted(runs.perturbed["s_and_p"])
((1, 2), ['s_and_p'], [1])
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fpt_core.stats.logs import RunLog, load_runs, natural_key

__all__ = [
    "ReleasedRuns",
    "discover",
    "write_compact",
    "read_compact",
    "content_checksum",
    "compact_checksum",
    "COMPACT_NAME",
]

COMPACT_NAME = "runs.npz"
_PERTURBED = re.compile(r"^(?:testacc_list_)?(?P<protocol>.+)_reset(?P<tau>\d+)$")
_SR_FILE = re.compile(r"^fpt(?P<target>[\d.]+)_reset(?P<k>\d+)\.csv$")
_MISSING = np.iinfo(np.int32).min  # a missing epoch (a shorter run) in the compact form


@dataclass(frozen=True)
class ReleasedRuns:
    """The ensembles found in a released folder.

    ``unperturbed`` a :class:`~fpt_core.stats.logs.RunLog` (times = epochs 1, 2, …; runs × epochs,
    NaN-padded); ``perturbed[protocol][tau]`` likewise per perturbed ensemble; ``fpt_only[K]``
    the first-passage times of ``SR_frac_of_smallest_w`` (``fpt_target`` is the target in their
    file names); ``column`` the score read; ``source`` the folder.
    """

    unperturbed: RunLog
    perturbed: dict[str, dict[int, RunLog]]
    column: str
    source: str
    fpt_only: dict[int, np.ndarray] = field(default_factory=dict)
    fpt_target: float | None = None

    @property
    def protocols(self) -> list[str]:
        return sorted(self.perturbed)


def _read_folder(folder: Path, column: str) -> RunLog:
    try:
        return load_runs(folder, accuracy=column)
    except ValueError as err:
        raise ValueError(f"column={column!r}: not a column of every run in {folder}") from err


def discover(
    data_dir: str | os.PathLike, column: str = "test_ACC", protocols: Iterable[str] | None = None
) -> ReleasedRuns:
    """Read the ensembles of ``data_dir`` (released layout, or the compact ``runs.npz``).

    Parameters
    ----------
    data_dir : a folder in the released layout (see the module docstring), or holding ``runs.npz``.
    column : the score column of the run files (``test_ACC``; larger is better).
    protocols : the protocols to read (default: every one found).

    Raises ``ValueError`` naming ``data_dir`` if there is no unperturbed ensemble, ``column`` if
    no run file has that column, ``protocols`` if one asked for is absent.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"data_dir={str(data_dir)!r} is not a folder")
    if (data_dir / COMPACT_NAME).is_file():
        runs = read_compact(data_dir / COMPACT_NAME)
        if column != runs.column:
            raise ValueError(f"column={column!r}: {data_dir} holds only {runs.column!r}")
        found = runs.perturbed
    else:
        regs = [d for d in data_dir.iterdir() if d.is_dir() and d.name.endswith("reg_training")]
        if len(regs) != 1:
            raise ValueError(
                f"data_dir={str(data_dir)!r}: expected one folder ending in 'reg_training' (the "
                f"unperturbed ensemble), found {sorted(d.name for d in regs)}"
            )
        unperturbed = _read_folder(regs[0], column)
        found = {}
        for d in sorted(data_dir.iterdir(), key=lambda p: natural_key(p.name)):
            m = _PERTURBED.match(d.name)
            if d.is_dir() and m and any(d.glob("*.csv")):
                found.setdefault(m["protocol"], {})[int(m["tau"])] = d
        fpt_only, fpt_target = {}, None
        sr = data_dir / "SR_frac_of_smallest_w"
        for f in sorted(sr.glob("*.csv"), key=lambda p: natural_key(p.name)) if sr.is_dir() else []:
            m = _SR_FILE.match(f.name)
            if m:
                fpt_only[int(m["k"])] = pd.read_csv(f).iloc[:, 0].to_numpy(float)
                fpt_target = float(m["target"])
        runs = ReleasedRuns(unperturbed, {}, column, str(data_dir), fpt_only, fpt_target)
    wanted = sorted(found) if protocols is None else list(protocols)
    missing = [p for p in wanted if p not in found]
    if missing:
        raise ValueError(
            f"protocols={wanted}: not in {data_dir} ({missing}); found {sorted(found)}"
        )
    perturbed = {
        p: {
            tau: (v if isinstance(v, RunLog) else _read_folder(v, column))
            for tau, v in sorted(found[p].items())
        }
        for p in wanted
    }
    return ReleasedRuns(
        runs.unperturbed, perturbed, column, str(data_dir), runs.fpt_only, runs.fpt_target
    )


def _to_int(log: RunLog, scale: int, name: str) -> np.ndarray:
    if not np.array_equal(log.times, np.arange(1, log.times.size + 1)):
        raise ValueError(f"{name}: times must be the epochs 1, 2, …")
    x = log.acc * scale
    ints = np.where(np.isnan(x), _MISSING, np.rint(np.nan_to_num(x))).astype(np.int32)
    if np.nanmax(np.abs(x - np.rint(x)), initial=0.0) > 1e-6:
        raise ValueError(f"{name}: scores are not multiples of 1/{scale}; raise scale")
    return ints


def _from_int(a: np.ndarray, scale: int) -> RunLog:
    acc = np.where(a == _MISSING, np.nan, a / scale)
    return RunLog(np.arange(1, a.shape[1] + 1, dtype=float), acc, [str(i) for i in range(len(a))])


def content_checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the arrays' names, dtypes, shapes and bytes, in name order (independent of the
    file's zip timestamps, so it identifies the data, not the file)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def compact_checksum(path: str | os.PathLike) -> str:
    """The :func:`content_checksum` of the arrays in a ``runs.npz`` file."""
    with np.load(path) as z:
        return content_checksum({k: z[k] for k in z.files})


def write_compact(runs: ReleasedRuns, path: str | os.PathLike, *, scale: int = 100) -> str:
    """Write ``runs`` as ``runs.npz`` (scores × ``scale`` as int32, exact) and return its
    :func:`content_checksum`. The metadata (column, scale, fpt target) is an array too."""
    arrays = {"unperturbed": _to_int(runs.unperturbed, scale, "unperturbed")}
    for p, by_tau in runs.perturbed.items():
        for tau, log in by_tau.items():
            arrays[f"perturbed/{p}/{tau}"] = _to_int(log, scale, f"{p} τ={tau}")
    for k, t in runs.fpt_only.items():
        arrays[f"fpt_only/{k}"] = np.asarray(t, float)
    meta = {"column": runs.column, "scale": scale, "fpt_target": runs.fpt_target}
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    tmp = Path(path).with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return content_checksum(arrays)


def read_compact(path: str | os.PathLike) -> ReleasedRuns:
    """Read a file written by :func:`write_compact` (all protocols)."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("meta").tobytes())
    scale = int(meta["scale"])
    perturbed: dict[str, dict[int, RunLog]] = {}
    fpt_only = {}
    for key in sorted(arrays, key=natural_key):
        parts = key.split("/")
        if parts[0] == "perturbed":
            perturbed.setdefault(parts[1], {})[int(parts[2])] = _from_int(arrays[key], scale)
        elif parts[0] == "fpt_only":
            fpt_only[int(parts[1])] = arrays[key]
    return ReleasedRuns(
        _from_int(arrays["unperturbed"], scale),
        perturbed,
        meta["column"],
        str(Path(path).parent),
        fpt_only,
        meta["fpt_target"],
    )
