"""Notebook presets: named parameter sets (``tiny`` for CI, ``default`` for a laptop, ``paper``).

Each notebook keeps its own table ``PRESETS = {"tiny": {...}, "default": {...}, "paper": {...}}``
next to its ``parameters`` cell; :func:`resolve` merges the chosen preset with the knobs the user
set explicitly (anything not ``None``) and rejects unknown names before any work starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["resolve"]


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
