"""Training protocols named in a run's configuration (``TrainConfig.perturbation``).

A protocol spec is a plain dict, ``{"kind": <name>, **parameters}``, so that it is part of the
run's store key; :func:`build_protocol` turns it into a hook object. A hook is called by the
engine after every evaluation as ``hook(state)`` with the :class:`fpt_core.train.engine.EnsembleState`
and may change the state (weights, momentum, per-parameter learning-rate scales) and record
events with ``state.record(kind, replicas, **info)``.

Kinds and where they live (imported lazily, so analysis code never pulls in training code):
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["build_protocol", "PROTOCOLS"]

PROTOCOLS: dict[str, str] = {
    "shrink_perturb": "fpt_core.protocols.perturb:ShrinkPerturb",
    "reset": "fpt_core.protocols.perturb:Reset",
    "partial_reset": "fpt_core.protocols.perturb:PartialReset",
    "warm_restart": "fpt_core.protocols.warm_restart:WarmRestart",
    "tempbalance": "fpt_core.protocols.tempbalance:TempBalance",
}
__doc__ += "\n".join(f"- ``{k}``: ``{v.replace(':', '.')}``" for k, v in PROTOCOLS.items())


def build_protocol(spec: Mapping[str, Any]) -> Any:
    """Instantiate the hook for ``spec = {"kind": name, **params}`` (validates ``params``)."""
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise ValueError(f"perturbation={spec!r} must be a dict with a 'kind' key")
    kind = spec["kind"]
    if kind not in PROTOCOLS:
        raise ValueError(f"perturbation kind={kind!r} is unknown; allowed: {sorted(PROTOCOLS)}")
    module, name = PROTOCOLS[kind].split(":")
    cls = getattr(importlib.import_module(module), name)
    return cls(**{k: v for k, v in spec.items() if k != "kind"})
