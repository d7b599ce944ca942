"""Notebook presets: named parameter sets (``tiny`` for CI, ``default`` for a laptop, ``paper``).

Every notebook's presets live in one data file, ``notebooks/presets.yml`` (shared settings as YAML
anchors); :func:`load` reads one notebook's table ``{"tiny": {...}, "default": {...}, "paper":
{...}}`` and :func:`resolve` merges the chosen preset with the knobs the user set explicitly
(anything not ``None``), rejecting unknown names before any work starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["PRESETS_FILE", "load", "resolve"]

PRESETS_FILE = Path("notebooks") / "presets.yml"
_NAMES = ("tiny", "default", "paper")


def load(stem: str, path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    r"""The presets of notebook ``stem`` from the presets file.

    ``path`` defaults to ``notebooks/presets.yml`` in the working directory (the repository root,
    where the notebooks run), else next to this package's source checkout. Raises ``ValueError``
    naming ``stem`` if the file has no such notebook, or if a notebook's presets are not exactly
    ``tiny``, ``default`` and ``paper`` with the same knobs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "presets.yml"
    >>> _ = f.write_text(
    ...     "bases:\n  small: &small {lr: 0.1, hidden: null}\n"
    ...     "demo:\n  tiny: {<<: *small, n_runs: 4}\n  default: {<<: *small, n_runs: 64}\n"
    ...     "  paper: {lr: 0.01, hidden: [100], n_runs: 1000}\n")
    >>> load("demo", f)["tiny"]
    {'lr': 0.1, 'hidden': None, 'n_runs': 4}
    """
    import yaml  # the book extra

    if path is None:
        here = Path(__file__).resolve().parents[1] / PRESETS_FILE
        path = PRESETS_FILE if PRESETS_FILE.exists() else here
    table = yaml.safe_load(Path(path).read_text())
    if stem not in table or stem == "bases":
        known = sorted(k for k in table if k != "bases")
        raise ValueError(f"stem={stem!r} has no presets in {path}; known: {known}")
    presets = table[stem]
    if tuple(presets) != _NAMES:
        raise ValueError(f"{stem}: presets must be {list(_NAMES)}, got {list(presets)}")
    knobs = [sorted(p) for p in presets.values()]
    if any(k != knobs[0] for k in knobs):
        raise ValueError(f"{stem}: tiny, default and paper must set the same knobs")
    return {name: dict(p) for name, p in presets.items()}


def resolve(
    presets: Mapping[str, Mapping[str, Any]], preset: str, **overrides: Any
) -> dict[str, Any]:
    """Return ``presets[preset]`` updated with every override that is not ``None``.

    Raises ``ValueError`` naming ``preset`` if it is not a key of ``presets``, and naming the
    parameter if an override is not a knob of that preset.
    """
    if preset not in presets:
        raise ValueError(f"preset={preset!r} is unknown; allowed: {sorted(presets)}")
    params = dict(presets[preset])
    for name, value in overrides.items():
        if name not in params:
            raise ValueError(
                f"parameter {name!r} is not a knob of preset {preset!r}: {sorted(params)}"
            )
        if value is not None:
            params[name] = value
    params["preset"] = preset
    return params
